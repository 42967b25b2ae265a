"""System alerts for admins, through the same notices as rules (in-app + email via the
outbox), each event once by its key: an invalid or exhausted VK token, collection failing
for many sources or not running, outbox messages failing, a report failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from socstat.models import (
    ApiToken,
    CollectionRun,
    Outbox,
    OutboxStatus,
    Report,
    Role,
    RunStatus,
    Subscription,
    User,
)
from socstat.services.collection import collect_interval
from socstat.settings import get_settings

from .notices import Message, add_notification, queue_external

QUOTA_ERROR = "29"
MANY_FAILED_SHARE = 0.2
MANY_FAILED_MIN = 3


@dataclass(frozen=True)
class SystemAlert:
    key: str
    message: Message


def _token_alerts(session: Session) -> list[SystemAlert]:
    rows = session.exec(select(ApiToken).where(col(ApiToken.invalid_at).is_not(None))).all()
    return [
        SystemAlert(
            key=f"vk-token:{t.id}:{t.invalid_at:%Y%m%d%H%M}",
            message=Message(
                title=f"Токен VK недействителен: {t.label or t.token_hint}",
                body=f"{t.invalid_reason or 'VK отверг токен'}. Замените токен в настройках.",
                link="/admin/settings",
            ),
        )
        for t in rows
    ]


def _run_alerts(session: Session) -> list[SystemAlert]:
    run = session.exec(
        select(CollectionRun)
        .where(CollectionRun.status != RunStatus.RUNNING)
        .order_by(col(CollectionRun.started_at).desc())
    ).first()
    if run is None:
        return []
    out = []
    if (run.errors_by_code or {}).get(QUOTA_ERROR):
        out.append(
            SystemAlert(
                key=f"vk-quota:{run.id}",
                message=Message(
                    title="Исчерпан дневной лимит запросов VK",
                    body=f"Сбор №{run.id}: VK ответил «слишком много запросов» (код 29). "
                    "Добавьте токены или увеличьте интервал сбора.",
                    link="/admin/settings",
                ),
            )
        )
    total = run.sources_ok + run.sources_partial + run.sources_failed
    if run.sources_failed >= max(MANY_FAILED_MIN, MANY_FAILED_SHARE * total):
        out.append(
            SystemAlert(
                key=f"collection-failing:{run.id}",
                message=Message(
                    title=f"Сбор не удался для {run.sources_failed} из {total} источников",
                    body=f"Сбор №{run.id}. {run.error}".strip(),
                    link="/admin",
                ),
            )
        )
    return out


def _stale_alert(session: Session, now: datetime) -> list[SystemAlert]:
    tracked = session.exec(select(func.min(Subscription.created_at))).one()
    if tracked is None:
        return []
    last = session.exec(select(func.max(CollectionRun.started_at))).one()
    since = last or tracked
    interval = collect_interval(session)
    if now - since <= 2 * interval:
        return []
    day = now.astimezone(get_settings().tz).date()
    return [
        SystemAlert(
            key=f"collection-stale:{day.isoformat()}",
            message=Message(
                title="Сбор статистики давно не запускался",
                body=f"Последний запуск: {since.astimezone(get_settings().tz):%d.%m.%Y %H:%M}; "
                f"интервал — {interval}. Проверьте, что планировщик или worker работает.",
                link="/admin",
            ),
        )
    ]


def _outbox_alert(session: Session, now: datetime) -> list[SystemAlert]:
    failed = session.exec(
        select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.FAILED)
    ).one()
    if not failed:
        return []
    day = now.astimezone(get_settings().tz).date()
    return [
        SystemAlert(
            key=f"outbox-failed:{day.isoformat()}",
            message=Message(
                title=f"Не доставлено сообщений: {failed}",
                body="Сообщения исчерпали попытки доставки; последняя ошибка — в списке исходящих.",
                link="/admin",
            ),
        )
    ]


def _report_alerts(session: Session) -> list[SystemAlert]:
    rows = session.exec(select(Report).where(Report.status == "failed")).all()
    return [
        SystemAlert(
            key=f"report-failed:{r.id}",
            message=Message(
                title=f"Отчёт №{r.id} не сформирован",
                body=(r.error or "ошибка при построении отчёта")[:500],
                link="/reports",
            ),
        )
        for r in rows
    ]


def check_system(session: Session, *, now: datetime) -> list[str]:
    """Raise every current system alert to every active admin (once per key); returns
    the keys raised in this pass. The caller commits."""
    admins = session.exec(
        select(User).where(User.role == Role.ADMIN, col(User.blocked_at).is_(None))
    ).all()
    found = [
        *_token_alerts(session),
        *_run_alerts(session),
        *_stale_alert(session, now),
        *_outbox_alert(session, now),
        *_report_alerts(session),
    ]
    raised = []
    for alert in found:
        for admin in admins:
            dedup = f"system:{alert.key}:{admin.id}"
            if session.exec(select(func.count()).where(Outbox.dedup_key == f"{dedup}:email")).one():
                continue
            add_notification(
                session,
                user_id=admin.id or 0,
                kind="system",
                message=alert.message,
                dedup_key=dedup,
            )
            queue_external(
                session,
                user=admin,
                channel="email",
                message=alert.message,
                dedup_key=dedup,
                now=now,
            )
            raised.append(alert.key)
    return sorted(set(raised))
