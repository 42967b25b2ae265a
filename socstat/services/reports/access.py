"""Who may see, download and delete which report.

Owners and admins write (delete, regenerate); directors also read their team's reports.
A report the actor may not read is "not found" (no existence leak). Files are served
only through the download route with a short-lived token signed for one user, report
and format, and the route checks the reader again.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from socstat.crypto import current_secret_key
from socstat.models import Report, ReportStatus, User
from socstat.services import audit
from socstat.services.authz import (
    PermissionDenied,
    ensure_can_read_user_data,
    ensure_can_write_user_data,
    visible_user_ids,
)
from socstat.services.reports.generation import ReportInfo, report_dir, to_info

TOKEN_LIFETIME_SECONDS = 300
NOT_FOUND = "Отчёт не найден."


@dataclass(frozen=True)
class ReportDownload:
    path: Path
    filename: str
    content_type: str


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "pdf": "application/pdf",
}


def list_reports(session: Session, *, actor: User | None, limit: int = 200) -> list[ReportInfo]:
    """Reports the actor may read, newest first."""
    owners = visible_user_ids(session, actor)
    query = select(Report).order_by(col(Report.created_at).desc(), col(Report.id).desc())
    if owners is not None:
        query = query.where(col(Report.owner_id).in_(sorted(owners)))
    return [to_info(session, r) for r in session.exec(query.limit(limit)).all()]


def readable_report(session: Session, actor: User | None, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise LookupError(NOT_FOUND)
    try:
        ensure_can_read_user_data(session, actor, report.owner_id)
    except PermissionDenied:
        raise LookupError(NOT_FOUND) from None
    return report


def get_report(session: Session, *, actor: User | None, report_id: int) -> ReportInfo:
    return to_info(session, readable_report(session, actor, report_id))


def delete_report(session: Session, *, actor: User | None, report_id: int, ip: str = "") -> None:
    report = readable_report(session, actor, report_id)
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
    shutil.rmtree(report_dir(report_id), ignore_errors=True)


def _sign(payload: str) -> str:
    key = current_secret_key().encode()
    return hmac.new(key, f"report-download:{payload}".encode(), hashlib.sha256).hexdigest()


def download_token(
    session: Session, *, actor: User | None, report_id: int, fmt: str, now: float | None = None
) -> str:
    """A token letting the actor fetch one file of a readable, finished report for a few
    minutes."""
    report = readable_report(session, actor, report_id)
    _file_entry(report, fmt)
    expires = int((time.time() if now is None else now) + TOKEN_LIFETIME_SECONDS)
    payload = f"{report_id}.{fmt}.{actor.id if actor else 0}.{expires}"
    return f"{payload}.{_sign(payload)}"


def _file_entry(report: Report, fmt: str) -> dict:
    if report.status != ReportStatus.DONE:
        raise LookupError("Отчёт ещё не готов.")
    entry = next((f for f in report.files or [] if f["format"] == fmt), None)
    if entry is None:
        raise LookupError("Такого файла в отчёте нет.")
    return entry


def open_download(
    session: Session,
    *,
    actor: User | None,
    report_id: int,
    fmt: str,
    token: str,
    ip: str = "",
    now: float | None = None,
) -> ReportDownload:
    """The file a valid token names, for the signed-in actor it was issued to; LookupError
    otherwise (bad, expired or someone else's token; report gone or no longer readable)."""
    parts = token.split(".")
    if len(parts) != 5:
        raise LookupError(NOT_FOUND)
    payload, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(signature, _sign(payload)):
        raise LookupError(NOT_FOUND)
    token_report, token_fmt, token_user, expires = parts[:4]
    if (
        token_report != str(report_id)
        or token_fmt != fmt
        or actor is None
        or token_user != str(actor.id)
        or int(expires) < (time.time() if now is None else now)
    ):
        raise LookupError(NOT_FOUND)
    report = readable_report(session, actor, report_id)
    entry = _file_entry(report, fmt)
    path = report_dir(report_id) / entry["name"]
    if not path.is_file():
        raise LookupError("Файл отчёта не найден; сформируйте отчёт заново.")
    audit.record(
        session,
        actor=actor,
        action="report.download",
        target_type="report",
        target_id=report_id,
        ip=ip,
        details={"format": fmt},
    )
    return ReportDownload(path=path, filename=entry["name"], content_type=CONTENT_TYPES[fmt])
