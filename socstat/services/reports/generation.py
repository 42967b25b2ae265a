"""Creating reports and generating them in the background.

A report is written ``pending``; a worker claims it (PostgreSQL: ``FOR UPDATE SKIP LOCKED``;
both databases: a compare-and-set update, so two processes never both win), marks it
``running`` with a lease, builds the data (``services/analytics``), renders each format,
stores the files under ``data_dir/reports/<id>/`` and finishes it ``done`` — or ``failed``
with the reason. A report whose lease expired (its process died) is claimable again and
after ``MAX_ATTEMPTS`` it is failed with that reason: nothing stays ``running``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from socstat.db import session_scope
from socstat.models import Report, ReportKind, ReportStatus, User, utcnow
from socstat.services import audit
from socstat.services.authz import PermissionDenied, ensure_can_write_user_data, require_active
from socstat.services.processes import process_name
from socstat.services.reports.data import REPORT_KIND_LABELS, ReportData
from socstat.services.reports.periods import ReportPeriodError, period_for
from socstat.settings import get_settings

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "pdf")
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
MAX_DAYS = 366
INTERRUPTED = "Генерация прервалась (процесс остановился) {n} раз(а); повторите позже."

Progress = Callable[[int], None]


class ReportError(ValueError):
    """A bad report request; the message is for the user (Russian)."""


@dataclass(frozen=True)
class ReportFile:
    format: str
    name: str
    size: int


@dataclass(frozen=True)
class ReportInfo:
    id: int
    owner_id: int
    owner_email: str
    author_email: str
    kind: str
    kind_label: str
    period_start: date
    period_end: date
    scope: dict[str, Any]
    formats: list[str]
    files: list[ReportFile]
    status: str
    error: str
    progress: int
    size_bytes: int | None
    scheduled: bool
    created_at: datetime
    generated_at: datetime | None


def validate_formats(formats: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    if not wanted:
        raise ReportError("Выберите хотя бы один формат.")
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ReportError(f"Неизвестный формат: {', '.join(unknown)} (есть xlsx, csv, pdf).")
    return wanted


def resolve_period(
    kind: str, *, start: date | None, end: date | None, today: date
) -> tuple[date, date]:
    """The period of a report: given dates for custom, else the kind's last whole period."""
    if kind not in ReportKind.ALL:
        raise ReportError(f"Неизвестный вид отчёта: {kind} (daily, weekly, monthly, custom).")
    if kind != ReportKind.CUSTOM:
        if start is not None or end is not None:
            raise ReportError("Даты задаются только для отчёта за произвольный период.")
        try:
            return period_for(kind, today=today)
        except ReportPeriodError as exc:
            raise ReportError(str(exc)) from None
    if start is None or end is None:
        raise ReportError("Для отчёта за период укажите обе даты: начало и конец.")
    if start > end:
        raise ReportError("Начало периода позже его конца.")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError("Период отчёта не может быть длиннее года.")
    return start, end


def make_scope(
    *,
    source_ids: Sequence[int] | None = None,
    tags: Sequence[str] = (),
    team_id: int | None = None,
) -> dict[str, Any]:
    return {
        "source_ids": sorted(set(source_ids)) if source_ids else None,
        "tags": sorted({t.strip() for t in tags if t.strip()}),
        "team_id": team_id,
    }


def create_report(
    session: Session,
    *,
    actor: User | None,
    kind: str,
    start: date | None = None,
    end: date | None = None,
    source_ids: Sequence[int] | None = None,
    tags: Sequence[str] = (),
    team_id: int | None = None,
    formats: Sequence[str] = ("xlsx",),
    today: date | None = None,
) -> ReportInfo:
    """A pending on-demand report of the actor's (caller commits; a worker generates it).
    The scope is checked now (and again when generated)."""
    from socstat.services.reports.builder import check_scope

    user = require_active(actor)
    today = today or datetime.now(get_settings().tz).date()
    period = resolve_period(kind, start=start, end=end, today=today)
    scope = make_scope(source_ids=source_ids, tags=tags, team_id=team_id)
    check_scope(session, actor=user, scope=scope)
    report = Report(
        owner_id=user.id or 0,
        author_id=user.id,
        kind=kind,
        period_start=period[0],
        period_end=period[1],
        scope=scope,
        formats=validate_formats(formats),
    )
    session.add(report)
    session.flush()
    audit.record(
        session, actor=user, action="report.created", target_type="report", target_id=report.id
    )
    return to_info(session, report)


def retry_report(session: Session, *, actor: User | None, report_id: int) -> ReportInfo:
    """Generate a report again (failed or done): back to pending, files kept until then."""
    from socstat.services.reports.access import readable_report

    report = readable_report(session, actor, report_id)
    ensure_can_write_user_data(session, actor, report.owner_id)
    if report.status in (ReportStatus.PENDING, ReportStatus.RUNNING) and not _lease_expired(
        report, utcnow()
    ):
        raise ReportError("Отчёт уже формируется.")
    report.status = ReportStatus.PENDING
    report.error = ""
    report.progress = 0
    report.attempts = 0
    report.lease_until = None
    session.add(report)
    session.flush()
    return to_info(session, report)


def _lease_expired(report: Report, now: datetime) -> bool:
    return report.lease_until is None or report.lease_until <= now


# --- claiming and generating -----------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        col(Report.status) == ReportStatus.PENDING,
        (col(Report.status) == ReportStatus.RUNNING) & (col(Report.lease_until) <= now),
    )


def claim(
    session: Session, *, now: datetime, worker: str, report_id: int | None = None
) -> int | None:
    """Claim one claimable report (the given one, or the oldest); its id, or None.
    Caller commits. Expired leases past ``MAX_ATTEMPTS`` are failed on the way."""
    query = select(Report).where(_claimable(now)).order_by(col(Report.id))
    if report_id is not None:
        query = query.where(col(Report.id) == report_id)
    for report in session.exec(query.limit(20).with_for_update(skip_locked=True)).all():
        if report.status == ReportStatus.RUNNING and report.attempts >= MAX_ATTEMPTS:
            _fail(report, INTERRUPTED.format(n=report.attempts), now)
            session.add(report)
            continue
        won = session.execute(
            update(Report)
            .where(
                col(Report.id) == report.id,
                col(Report.status) == report.status,
                col(Report.attempts) == report.attempts,
            )
            .values(
                status=ReportStatus.RUNNING,
                attempts=report.attempts + 1,
                worker=worker,
                lease_until=now + LEASE,
                heartbeat_at=now,
                started_at=now,
                progress=0,
                error="",
            )
        )
        if won.rowcount == 1:
            return report.id
    return None


def _fail(report: Report, reason: str, now: datetime) -> None:
    report.status = ReportStatus.FAILED
    report.error = reason[:2000]
    report.lease_until = None
    report.heartbeat_at = now


def _heartbeat(report_id: int, worker: str, progress: int) -> None:
    """Progress for the UI and a longer lease, in its own short transaction."""
    now = utcnow()
    with session_scope() as session:
        session.execute(
            update(Report)
            .where(col(Report.id) == report_id, col(Report.worker) == worker)
            .values(progress=progress, heartbeat_at=now, lease_until=now + LEASE)
        )


def generate_claimed(report_id: int, *, worker: str, now: datetime | None = None) -> str:
    """Build and store a claimed report; returns its final status. Never raises for a
    failure of the report itself: that is recorded as ``failed`` with the reason."""
    from socstat.services.reports.builder import build_report_data
    from socstat.services.reports.email import queue_report_emails

    def progress(value: int) -> None:
        _heartbeat(report_id, worker, value)

    try:
        with session_scope() as session:
            report = session.get(Report, report_id)
            if report is None:
                return ReportStatus.FAILED
            owner = session.get(User, report.owner_id)
            data = build_report_data(session, report=report, owner=owner, now=now)
        progress(40)
        files = _write_files(report_id, data, report.formats, progress)
    except (PermissionDenied, ReportError, ValueError, LookupError) as exc:
        return _finish_failed(report_id, worker, str(exc))
    except Exception as exc:  # a bug or I/O error: recorded for the user, logged in full
        log.exception("report %s failed", report_id)
        return _finish_failed(report_id, worker, f"Внутренняя ошибка: {type(exc).__name__}")
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None or report.worker != worker or report.status != ReportStatus.RUNNING:
            return report.status if report else ReportStatus.FAILED  # lost the lease
        report.status = ReportStatus.DONE
        report.files = files
        report.size_bytes = sum(f["size"] for f in files)
        report.generated_at = utcnow()
        report.progress = 100
        report.lease_until = None
        if report.send_email and report.email_queued_at is None:
            queue_report_emails(session, report=report, data=data)
            report.email_queued_at = utcnow()
        session.add(report)
    return ReportStatus.DONE


def _finish_failed(report_id: int, worker: str, reason: str) -> str:
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is not None and report.worker == worker:
            _fail(report, reason, utcnow())
            session.add(report)
    return ReportStatus.FAILED


def report_dir(report_id: int) -> Path:
    return Path(get_settings().data_dir) / "reports" / str(report_id)


def file_name(data: ReportData, fmt: str) -> str:
    stamp = (
        f"{data.period_start:%Y-%m-%d}"
        if data.period_start == data.period_end
        else f"{data.period_start:%Y-%m-%d}_{data.period_end:%Y-%m-%d}"
    )
    extension = "zip" if fmt == "csv" else fmt
    return f"socstat_{data.kind}_{stamp}.{extension}"


def render(data: ReportData, fmt: str) -> bytes:
    from socstat.services.reports.csv_export import write_csv_zip
    from socstat.services.reports.html import write_pdf
    from socstat.services.reports.xlsx import write_xlsx

    writers = {"xlsx": write_xlsx, "csv": write_csv_zip, "pdf": write_pdf}
    return writers[fmt](data)


def _write_files(
    report_id: int, data: ReportData, formats: Sequence[str], progress: Progress
) -> list[dict[str, Any]]:
    folder = report_dir(report_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, fmt in enumerate(formats, start=1):
        name = file_name(data, fmt)
        content = render(data, fmt)
        (folder / name).write_bytes(content)
        files.append({"format": fmt, "name": name, "size": len(content)})
        progress(40 + 60 * index // len(formats) - 1)
    return files


def process_pending(
    *, now: datetime | None = None, limit: int = 50, worker: str | None = None
) -> list[int]:
    """Generate claimable reports one at a time until none is left (or ``limit``)."""
    worker = worker or process_name()
    done = []
    for _ in range(limit):
        moment = now or utcnow()
        with session_scope() as session:
            report_id = claim(session, now=moment, worker=worker)
        if report_id is None:
            break
        generate_claimed(report_id, worker=worker, now=now)
        done.append(report_id)
    return done


def generate_now(report_id: int, *, now: datetime | None = None) -> str | None:
    """Claim and generate one report in this process (the UI's background task); None when
    another worker holds it."""
    worker = process_name()
    with session_scope() as session:
        claimed = claim(session, now=now or utcnow(), worker=worker, report_id=report_id)
    if claimed is None:
        return None
    return generate_claimed(claimed, worker=worker, now=now)


# --- reading ---------------------------------------------------------------------------


def _email(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.email if user else ""


def to_info(session: Session, report: Report) -> ReportInfo:
    return ReportInfo(
        id=report.id or 0,
        owner_id=report.owner_id,
        owner_email=_email(session, report.owner_id),
        author_email=_email(session, report.author_id) or "по расписанию",
        kind=report.kind,
        kind_label=REPORT_KIND_LABELS.get(report.kind, report.kind),
        period_start=report.period_start,
        period_end=report.period_end,
        scope=dict(report.scope or {}),
        formats=list(report.formats or []),
        files=[ReportFile(f["format"], f["name"], f["size"]) for f in report.files or []],
        status=report.status,
        error=report.error,
        progress=report.progress,
        size_bytes=report.size_bytes,
        scheduled=report.schedule_key is not None,
        created_at=report.created_at,
        generated_at=report.generated_at,
    )
