"""System alerts reach every admin once, in-app and by email (through the outbox)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from socstat.models import (
    ApiToken,
    CollectionRun,
    Notification,
    Outbox,
    OutboxStatus,
    RunStatus,
    Source,
    Subscription,
    utcnow,
)
from socstat.services.alerts.system import check_system
from tests.services.accounts_fixtures import make_user


def test_system_alerts_once_per_event(db, session) -> None:
    admin = make_user(session, "admin@example.com", "admin")
    analyst = make_user(session, "a@example.com")
    now = utcnow()
    source = Source(external_id="1", screen_name="club1")
    session.add(source)
    session.flush()
    session.add(
        Subscription(user_id=analyst.id, source_id=source.id, created_at=now - timedelta(days=5))
    )
    session.add(ApiToken(label="основной", token_enc="x", invalid_at=now, invalid_reason="код 5"))
    session.add(
        CollectionRun(
            started_at=now - timedelta(days=4),
            status=RunStatus.FAILED,
            sources_ok=1,
            sources_failed=4,
            errors_by_code={"29": 3},
        )
    )
    session.add(Outbox(channel="email", recipient="x@example.com", status=OutboxStatus.FAILED))
    session.commit()
    keys = check_system(session, now=now)
    session.commit()
    assert [k.split(":")[0] for k in keys] == [
        "collection-failing",
        "collection-stale",
        "outbox-failed",
        "vk-quota",
        "vk-token",
    ]
    assert check_system(session, now=now) == []
    session.commit()
    notes = session.exec(select(Notification)).all()
    assert {n.user_id for n in notes} == {admin.id} and len(notes) == 5
    assert all(n.kind == "system" for n in notes)
    emails = session.exec(select(Outbox).where(Outbox.recipient == admin.email)).all()
    assert len(emails) == 5
