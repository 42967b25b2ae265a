"""Reports: who may see, download and delete which report.

Generating and scheduling reports builds on these functions; every one takes the acting
user and checks it (owners and admins write; directors read their team's reports).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from socstat.models import Report, User
from socstat.services import audit
from socstat.services.authz import (
    PermissionDenied,
    ensure_can_read_user_data,
    ensure_can_write_user_data,
    visible_user_ids,
)


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "owner_id": report.owner_id,
        "kind": report.kind,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "format": report.format,
        "status": report.status,
        "size_bytes": report.size_bytes,
        "created_at": report.created_at.isoformat(),
        "error": report.error,
    }


def list_reports(session: Session, *, actor: User | None) -> list[dict[str, Any]]:
    """Reports the actor may read, newest first."""
    owners = visible_user_ids(session, actor)
    query = select(Report).order_by(col(Report.created_at).desc())
    if owners is not None:
        query = query.where(col(Report.owner_id).in_(sorted(owners)))
    return [report_to_dict(r) for r in session.exec(query).all()]


def _readable(session: Session, actor: User | None, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise LookupError("Отчёт не найден.")
    try:
        ensure_can_read_user_data(session, actor, report.owner_id)
    except PermissionDenied:
        raise LookupError("Отчёт не найден.") from None  # do not reveal that it exists
    return report


def get_report(session: Session, *, actor: User | None, report_id: int) -> dict[str, Any]:
    return report_to_dict(_readable(session, actor, report_id))


def report_for_download(
    session: Session, *, actor: User | None, report_id: int, ip: str = ""
) -> Report:
    """The report row whose file the actor may download; the download is audited."""
    report = _readable(session, actor, report_id)
    if report.status != "ready" or not report.file_path:
        raise LookupError("Отчёт ещё не готов.")
    audit.record(
        session,
        actor=actor,
        action="report.download",
        target_type="report",
        target_id=report.id or "",
        ip=ip,
    )
    return report


def delete_report(session: Session, *, actor: User | None, report_id: int, ip: str = "") -> None:
    report = _readable(session, actor, report_id)
    ensure_can_write_user_data(session, actor, report.owner_id)
    audit.record(
        session,
        actor=actor,
        action="report.delete",
        target_type="report",
        target_id=report_id,
        ip=ip,
    )
    session.delete(report)
    session.flush()
