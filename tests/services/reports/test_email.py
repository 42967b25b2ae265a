"""Report emails through the outbox, received by aiosmtpd on loopback: the attachment, one
inline chart, the link; extra addresses only after confirming; with the SMTP server down
and then up every pending report arrives exactly once."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from socstat.api.routes import build_api
from socstat.models import Outbox, Report, Source, Subscription, User
from socstat.services.delivery import deliver_due
from socstat.services.delivery.outbox import retry_delay
from socstat.services.reports.data import SHEET_SUMMARY
from socstat.services.reports.schedule import add_recipient, run_due
from tests import smtp
from tests.smtp import SmtpServer, SmtpSink

smtp_server = smtp.smtp_server
smtp_controller = smtp.smtp_controller
CREATED = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)  # 10:00 Moscow


def _tracking_user(session: Session, make_user, email: str) -> User:  # type: ignore[no-untyped-def]
    user = make_user(email, name=email.split("@")[0].title(), created_at=CREATED)
    source = Source(external_id=f"{len(email)}{user.id}", name=f"Клуб {user.id}")
    session.add(source)
    session.flush()
    session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    return user


def test_the_daily_email_has_the_attachment_chart_and_link(
    session: Session, make_user, smtp_server: SmtpSink
) -> None:  # type: ignore[no-untyped-def]
    ann = _tracking_user(session, make_user, "ann@example.org")
    result = run_due(now=DUE)
    assert len(result.created) == 1 and result.generated == result.created
    [message] = smtp_server.wait_for(1)
    assert message["To"] == ann.email
    assert "Ежедневный отчёт за 09.11.2026" in message["Subject"]
    text = SmtpSink.body(message)
    assert "Лайки:" in text and "/reports?report=" in text
    html = message.get_body(preferencelist=("html",))
    assert html is not None and 'src="cid:report-chart"' in html.get_content()
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<report-chart>" and image.get_content()[:4] == b"\x89PNG"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "socstat_daily_2026-11-09.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()))
    assert SHEET_SUMMARY in book.sheetnames
    report = session.exec(select(Report)).one()
    assert f"/reports?report={report.id}" in text
    assert report.email_queued_at is not None
    assert run_due(now=DUE + timedelta(minutes=5)).created == []
    assert smtp_server.wait_for(2, timeout=0.5) == [message]  # nothing sent twice


def test_extra_address_receives_only_after_confirming(
    session: Session, make_user, smtp_server: SmtpSink
) -> None:  # type: ignore[no-untyped-def]
    ann = _tracking_user(session, make_user, "ann@example.org")
    add_recipient(session, actor=ann, email="Boss@Example.org")
    session.commit()
    [confirmation] = smtp_server.wait_for(1)
    assert confirmation["To"] == "boss@example.org"
    run_due(now=DUE)
    messages = smtp_server.wait_for(2)
    assert [m["To"] for m in messages] == ["boss@example.org", ann.email]
    link = smtp_server.link(confirmation, "/api/reports/recipients/confirm")
    parts = urlsplit(link)
    response = TestClient(build_api()).get(parts.path + "?" + parts.query)
    assert response.status_code == 200 and "boss@example.org" in response.text
    assert TestClient(build_api()).get(parts.path + "?token=forged").status_code == 404
    run_due(now=DUE + timedelta(days=1))
    later = smtp_server.wait_for(4)[2:]
    assert sorted(m["To"] for m in later) == sorted([ann.email, "boss@example.org"])
    assert all("10.11.2026" in m["Subject"] for m in later)


def test_smtp_down_then_up_every_report_arrives_once(
    session: Session, make_user, smtp_controller: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    users = [_tracking_user(session, make_user, f"user{i}@example.org") for i in range(3)]
    assert len(run_due(now=DUE).generated) == 3
    moment = datetime.now(UTC)
    for attempt in range(1, 3):
        report = deliver_due(now=moment)
        assert len(report.retrying) == 3 and not report.sent
        assert run_due(now=DUE + timedelta(minutes=attempt)).created == []
        moment += retry_delay(attempt) + timedelta(seconds=1)
    smtp_controller.start()
    assert len(deliver_due(now=moment).sent) == 3
    assert deliver_due(now=moment + timedelta(days=1)).sent == []
    received = Counter(str(m["To"]) for m in smtp_controller.sink.wait_for(3, deliver=False))
    assert received == Counter(u.email for u in users)
    assert len(session.exec(select(Outbox)).all()) == 3


@pytest.mark.parametrize("address", ["not-an-address", "a@b", ""])
def test_bad_extra_address_is_refused(session: Session, make_user, address: str) -> None:  # type: ignore[no-untyped-def]
    from socstat.services.reports.generation import ReportError

    ann = _tracking_user(session, make_user, "ann@example.org")
    with pytest.raises(ReportError):
        add_recipient(session, actor=ann, email=address)
