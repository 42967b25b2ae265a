"""Report emails, through the outbox only: the key numbers and their change, one inline
chart (PNG), a link to the report in socstat, the report's files attached. One message per
recipient and report (dedup key), so a retry or a second worker never sends twice."""

from __future__ import annotations

from sqlmodel import Session

from socstat.models import Report, User
from socstat.services.delivery import links
from socstat.services.delivery.channels import Attachment, save_attachment
from socstat.services.delivery.outbox import enqueue_email
from socstat.services.reports.charts import chart_png
from socstat.services.reports.data import ReportData
from socstat.services.reports.generation import report_dir
from socstat.services.reports.html import CHART_CID, fmt_change, fmt_number, render_html

REPORT_TEMPLATE = "report"
CONFIRM_TEMPLATE = "report_recipient_confirm"


def report_link(report_id: int) -> str:
    return links.url("/reports", report=str(report_id))


def queue_report_emails(session: Session, *, report: Report, data: ReportData) -> list[int]:
    """Queue the report's email to its owner and their confirmed extra addresses."""
    from socstat.services.reports.access import CONTENT_TYPES
    from socstat.services.reports.schedule import confirmed_recipients

    owner = session.get(User, report.owner_id)
    if owner is None:
        return []
    link = report_link(report.id or 0)
    attachments = [
        Attachment(
            path=report_dir(report.id or 0) / item["name"],
            filename=item["name"],
            content_type=CONTENT_TYPES[item["format"]],
        )
        for item in report.files
    ]
    chart = save_attachment(chart_png(data.chart), filename="chart.png", content_type="image/png")
    context = {
        "user": {"name": owner.name},
        "title": data.title,
        "period": data.period_label,
        "scope": data.scope_label,
        "report_html": render_html(data, pdf=False, link=link),
        "summary": [
            {
                "label": row.label,
                "value": fmt_number(row.value, ratio=row.is_ratio),
                "change": fmt_change(row)[0],
            }
            for row in data.summary
        ],
        "notes": data.notes,
        "link": link,
    }
    ids = []
    for address in [owner.email, *confirmed_recipients(session, owner.id or 0)]:
        ids.append(
            enqueue_email(
                session,
                to=address,
                template=REPORT_TEMPLATE,
                context=context,
                dedup_key=f"report:{report.id}:{address}",
                attachments=attachments,
                inline_images={CHART_CID: chart},
            )
        )
    return ids


def queue_recipient_confirmation(session: Session, *, owner: User, address: str, token: str) -> int:
    return enqueue_email(
        session,
        to=address,
        template=CONFIRM_TEMPLATE,
        context={
            "user": {"name": ""},
            "owner": owner.name or owner.email,
            "link": links.url("/api/reports/recipients/confirm", token=token),
        },
    )
