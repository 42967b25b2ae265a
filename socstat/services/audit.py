"""The audit trail: record who did what, and let admins browse it in words.

Every action a service records is a key of :data:`ACTION_LABELS` (its Russian label);
``list_events`` returns typed rows carrying both the raw codes (for filters and tooltips)
and the labels: the action, the subject («Пользователь ivan@example.org», «Источник City
Music») and the details («роль: Аналитик → Руководитель»).
Details never contain secrets (passwords, tokens, codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from socstat import formatting
from socstat.models.accounts import Role, Team, User
from socstat.models.alerts import AlertRule
from socstat.models.audit import AuditEvent
from socstat.models.sources import Source
from socstat.services.authz import require_admin

_SECRET_KEYS = ("password", "token", "secret", "code")

ACTION_LABELS: dict[str, str] = {
    "auth.sign_in": "Вход в систему",
    "auth.sign_in_failed": "Неудачная попытка входа",
    "auth.sign_out": "Выход из системы",
    "auth.sign_out_all": "Выход на всех устройствах",
    "auth.lockout": "Вход временно заблокирован",
    "auth.password_changed": "Смена пароля",
    "auth.password_reset_requested": "Запрос сброса пароля",
    "auth.password_reset": "Сброс пароля",
    "auth.registered": "Регистрация",
    "auth.confirmed": "Подтверждение адреса",
    "auth.invitation_accepted": "Приглашение принято",
    "auth.2fa_enabled": "Двухфакторная защита включена",
    "auth.2fa_disabled": "Двухфакторная защита отключена",
    "auth.2fa_reset": "Двухфакторная защита сброшена",
    "auth.recovery_codes_regenerated": "Новые резервные коды",
    "auth.session_revoked": "Сеанс завершён",
    "user.created": "Пользователь создан",
    "user.invited": "Приглашение отправлено",
    "user.role_changed": "Смена роли",
    "user.blocked": "Пользователь заблокирован",
    "user.unblocked": "Пользователь разблокирован",
    "user.teams_changed": "Смена команд пользователя",
    "user.sessions_revoked": "Сеансы пользователя завершены",
    "user.email_change_requested": "Запрос смены адреса",
    "user.email_change_cancelled": "Смена адреса отменена",
    "user.email_changed": "Адрес почты изменён",
    "team.created": "Команда создана",
    "team.renamed": "Команда переименована",
    "team.director_changed": "Смена руководителя команды",
    "team.members_changed": "Смена состава команды",
    "team.deleted": "Команда удалена",
    "settings.changed": "Изменение настройки",
    "token.added": "Токен ВКонтакте добавлен",
    "token.removed": "Токен ВКонтакте удалён",
    "email.test": "Тестовое письмо",
    "source.add": "Источник добавлен",
    "source.remove": "Источник удалён из списка",
    "source.tag_add": "Тег источника добавлен",
    "source.tag_remove": "Тег источника удалён",
    "source.kinds": "Изменены учитываемые типы публикаций источника",
    "alert.create": "Оповещение создано",
    "alert.enable": "Оповещение включено",
    "alert.delete": "Оповещение удалено",
    "alert.update": "Оповещение изменено",
    "outbox.retried": "Сообщение отправлено повторно",
    "phone.set": "Телефон для SMS указан",
    "report.download": "Отчёт скачан",
    "report.delete": "Отчёт удалён",
    "report.created": "Отчёт заказан",
    "secret.unreadable": "Секрет не расшифровывается",
    "secrets.rotated": "Ключ шифрования сменён",
}
ACTION_GROUPS: dict[str, str] = {
    "auth.": "Вход и безопасность",
    "user.": "Пользователи",
    "team.": "Команды",
    "settings.": "Настройки",
    "token.": "Токены",
    "email.": "Почта",
    "source.": "Источники",
    "alert.": "Оповещения",
    "report.": "Отчёты",
    "outbox.": "Исходящие сообщения",
    "phone.": "Телефон",
    "secret.": "Нерасшифровываемые секреты",
    "secrets.": "Смена ключа шифрования",
}
_SUBJECT_LABELS = {
    "user": "Пользователь",
    "team": "Команда",
    "source": "Источник",
    "alert": "Оповещение",
    "report": "Отчёт",
    "api_token": "Токен",
    "session": "Сеанс",
    "setting": "Настройка",
    "email": "Адрес",
    "vk_token": "Токен",
    "smtp_password": "Пароль SMTP",
    "sms_api_key": "API-ключ SMS-шлюза",
    "telegram_token": "Токен Telegram-бота",
    "totp_secret": "Секрет двухфакторной защиты пользователя",
}
_SETTING_LABELS = {
    "collect_interval_hours": "интервал сбора, ч",
    "self_registration": "самостоятельная регистрация",
    "require_2fa_admins": "двухфакторная защита для администраторов",
    "smtp": "почтовый сервер (SMTP)",
    "sms_gateway": "SMS-шлюз",
    "telegram_bot": "Telegram-бот",
}
_DETAIL_LABELS = {
    "email": "адрес",
    "role": "роль",
    "old_email": "старый адрес",
    "new_email": "новый адрес",
    "name": "название",
    "kind": "тип",
    "label": "подпись",
    "key": "настройка",
    "method": "способ",
    "reason": "причина",
    "until": "до",
    "sessions": "сеансов",
    "sessions_revoked": "завершено сеансов",
    "link": "ссылка",
    "external_id": "id ВКонтакте",
    "team_ids": "команды",
    "member_ids": "участники",
    "director_id": "руководитель",
    "user_id": "пользователь",
    "resend": "повторно",
    "demo": "демо",
    "cleared": "очищено",
    "during": "при",
    "base_url": "адрес",
    "sender": "отправитель",
    "daily_cap": "SMS в сутки",
    "username": "имя бота",
    "new_credential": "новый ключ",
    "webhook": "вебхук",
}
_VALUE_LABELS = {  # how one signed in / failed: details "method" and "reason"
    "password": "пароль",
    "2fa": "пароль и код двухфакторной защиты",
}
_MODELS: dict[str, tuple[type[Any], str]] = {
    "user": (User, "email"),
    "team": (Team, "name"),
    "source": (Source, "name"),
    "alert": (AlertRule, "name"),
}


@dataclass(frozen=True)
class AuditRow:
    """One audit event: the raw codes and their labels."""

    id: int
    created_at: datetime
    user_id: int | None
    actor_email: str
    action: str
    action_label: str
    target_type: str
    target_id: str
    target_label: str
    ip: str
    details: dict[str, Any]
    details_label: str


@dataclass(frozen=True)
class AuditPage:
    """One page of audit events and the total matching count."""

    items: list[AuditRow]
    total: int


def action_label(action: str) -> str:
    """«Вход в систему» for ``auth.sign_in``; an unknown action stays as it is."""
    return ACTION_LABELS.get(action, action)


def action_choices() -> list[tuple[str, str]]:
    """``(filter, label)`` for the action filter: the groups (prefix filters), then every
    action by label."""
    groups = list(ACTION_GROUPS.items())
    actions = sorted(ACTION_LABELS.items(), key=lambda item: item[1])
    return groups + actions


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    return {
        key: ("***" if any(s in key.lower() for s in _SECRET_KEYS) else value)
        for key, value in details.items()
    }


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's transaction)."""
    event = AuditEvent(
        user_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        action=action[:64],
        target_type=target_type[:32],
        target_id=str(target_id)[:64],
        details=_clean(details),
        ip=(ip or "")[:64],
    )
    session.add(event)
    return event


def record_own(
    session: Session,
    *,
    user: User,
    action: str,
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """:func:`record` of something ``user`` did to their own account."""
    return record(
        session,
        actor=user,
        action=action,
        target_type="user",
        target_id=user.id or "",
        details=details,
        ip=ip,
    )


def _user_ids_in_details(event: AuditEvent) -> list[int]:
    """Users a detail names by id: a subscriber, a team's (old and new) director."""
    details = event.details or {}
    keys = ["user_id", "director_id"]
    if event.action == "team.director_changed":
        keys += ["old", "new"]
    return [details[k] for k in keys if isinstance(details.get(k), int)]


def _names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """What each (target type, id) of ``events`` is called now, one query per type."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_type in _MODELS and event.target_id.isdigit():
            wanted.setdefault(event.target_type, set()).add(int(event.target_id))
        for value in _user_ids_in_details(event):
            wanted.setdefault("user", set()).add(value)
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        model, attribute = _MODELS[kind]
        rows = session.exec(select(model).where(col(model.id).in_(ids))).all()
        names.update({(kind, str(row.id)): getattr(row, attribute) or "" for row in rows})
    return names


def _value(key: str, value: Any, names: dict[tuple[str, str], str], *, user: bool = False) -> str:
    if isinstance(value, str) and (key == "role" or key in ("old", "new")):
        return Role.LABELS.get(value, value) if value else "—"
    if (user or key in ("user_id", "director_id")) and isinstance(value, int):
        return names.get(("user", str(value)), f"#{value}")
    if key == "key":
        return _SETTING_LABELS.get(str(value), str(value))
    if key in ("method", "reason"):
        return _VALUE_LABELS.get(str(value), str(value))
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        return formatting.number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)


def _details_label(event: AuditEvent, names: dict[tuple[str, str], str]) -> str:
    """«Аналитик → Руководитель», «адрес: ivan@example.org, роль: Аналитик»."""
    details = dict(event.details or {})
    parts = []
    if "old" in details or "new" in details:
        user = event.action == "team.director_changed"
        old = _value("old", details.pop("old", None), names, user=user)
        new = _value("new", details.pop("new", None), names, user=user)
        parts.append(f"{old} → {new}")
    parts += [f"{_DETAIL_LABELS.get(k, k)}: {_value(k, v, names)}" for k, v in details.items()]
    return ", ".join(parts)


def _target_label(event: AuditEvent, names: dict[tuple[str, str], str]) -> str:
    kind, ident = event.target_type, event.target_id
    if not kind:
        return "—"
    noun = _SUBJECT_LABELS.get(kind, kind)
    if kind == "setting":
        return f"{noun} «{_SETTING_LABELS.get(ident, ident)}»"
    name = names.get((kind, ident))
    if name:
        return f"{noun} {name}"
    if kind in _MODELS:
        return f"{noun} #{ident} (удалён)" if ident else noun
    return f"{noun} {ident}".strip() if kind == "email" else f"{noun} #{ident}".rstrip(" #")


def _row(event: AuditEvent, names: dict[tuple[str, str], str]) -> AuditRow:
    details = dict(event.details or {})
    return AuditRow(
        id=event.id or 0,
        created_at=event.created_at,
        user_id=event.user_id,
        actor_email=event.actor_email,
        action=event.action,
        action_label=action_label(event.action),
        target_type=event.target_type,
        target_id=event.target_id,
        target_label=_target_label(event, names),
        ip=event.ip,
        details=details,
        details_label=_details_label(event, names),
    )


def list_events(
    session: Session,
    *,
    actor: User | None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Admin only: events newest first, filtered by acting user, action (exact, or prefix
    when it ends with '.' or '*'), and a [date_from, date_to) range of aware datetimes."""
    require_admin(actor)
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if action:
        if action.endswith(("*", ".")):
            query = query.where(col(AuditEvent.action).startswith(action.rstrip("*")))
        else:
            query = query.where(AuditEvent.action == action)
    if date_from is not None:
        query = query.where(AuditEvent.created_at >= date_from)
    if date_to is not None:
        query = query.where(AuditEvent.created_at < date_to)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    limit = max(1, min(int(limit), 500))
    rows = session.exec(
        query.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(max(0, int(offset)))
    ).all()
    events = list(rows)
    names = _names(session, events)
    return AuditPage(items=[_row(event, names) for event in events], total=int(total))
