"""System alerts for admins, through the same notices as rules (in-app; email, and
Telegram and SMS where the admin has set them up, via the outbox), each event once by its
key: an invalid or exhausted VK token, collection failing for many sources or not
running, outbox messages failing, a report failing, the daily backup failing (once a day
however many attempts fail) or the newest backup too old."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from socstat.formatting import moment, number
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
from socstat.services.backup import latest_backup
from socstat.services.collection import collect_interval
from socstat.settings import get_settings

from .notices import EXTERNAL, Message, add_notification, queue_external

QUOTA_ERROR = "29"
MANY_FAILED_SHARE = 0.2
MANY_FAILED_MIN = 3
BACKUP_MAX_AGE = timedelta(hours=26)  # a daily backup with slack (as docs/monitoring)
BACKUP_FAILED_TITLE = "Резервная копия не создана"


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
                link="/admin?tab=settings",
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
                    link="/admin?tab=settings",
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
                    link="/admin/system",
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
                body=f"Последний запуск: {moment(since, None)}; интервал — "
                f"{number(interval.total_seconds() / 3600)} ч. Проверьте, что планировщик или "
                "worker работает.",
                link="/admin/system",
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
                link="/admin?tab=outbox",
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


def _backup_alert(session: Session, now: datetime) -> list[SystemAlert]:
    """The newest backup is older than a day and a bit (or there is none a day and a bit
    after the first account was made): once per installation day."""
    tz = get_settings().tz
    latest = latest_backup()
    if latest is None:
        since = session.exec(select(func.min(User.created_at))).one()
        last = "резервных копий ещё нет"
    else:
        since = latest[0].replace(tzinfo=UTC)
        last = f"последняя копия — {moment(since, None)} ({latest[1].name})"
    if since is None or now - since <= BACKUP_MAX_AGE:
        return []
    return [
        SystemAlert(
            key=f"backup-old:{now.astimezone(tz).date().isoformat()}",
            message=Message(
                title="Резервная копия устарела",
                body=f"Больше суток нет новой резервной копии: {last}. Проверьте задание "
                "backup на странице «Система» и выполните «socstat backup».",
                link="/admin/system",
            ),
        )
    ]


def raise_alert(session: Session, alert: SystemAlert, *, now: datetime) -> bool:
    """Tell every active admin about ``alert`` — in-app, and through the outbox by email
    and on the Telegram chat and SMS number the admin has set up — unless its key was
    raised before (also by another process at the same moment: the notification's unique
    key decides). True when raised now. The caller commits."""
    admins = session.exec(
        select(User).where(User.role == Role.ADMIN, col(User.blocked_at).is_(None))
    ).all()
    raised = False
    for admin in admins:
        dedup = f"system:{alert.key}:{admin.id}"
        if not add_notification(
            session, user_id=admin.id or 0, kind="system", message=alert.message, dedup_key=dedup
        ):
            continue
        for channel in EXTERNAL:  # a channel not set up says why and queues nothing
            queue_external(
                session,
                user=admin,
                channel=channel,
                message=alert.message,
                dedup_key=dedup,
                now=now,
            )
        raised = True
    return raised


def backup_failed(session: Session, *, reason: str, now: datetime) -> bool:
    """The scheduled backup failed: one alert per installation day, however many attempts
    fail that day. The caller commits."""
    day = now.astimezone(get_settings().tz).date()
    return raise_alert(
        session,
        SystemAlert(
            key=f"backup-failed:{day.isoformat()}",
            message=Message(
                title=BACKUP_FAILED_TITLE,
                body=f"Ежедневное резервное копирование завершилось ошибкой: {reason}. "
                "Проверьте место на диске и доступ к базе, затем выполните «socstat backup».",
                link="/admin/system",
            ),
        ),
        now=now,
    )


def check_system(session: Session, *, now: datetime) -> list[str]:
    """Raise every current system alert to every active admin (once per key); returns
    the keys raised in this pass. The caller commits."""
    found = [
        *_token_alerts(session),
        *_run_alerts(session),
        *_stale_alert(session, now),
        *_outbox_alert(session, now),
        *_report_alerts(session),
        *_backup_alert(session, now),
    ]
    return sorted({alert.key for alert in found if raise_alert(session, alert, now=now)})
