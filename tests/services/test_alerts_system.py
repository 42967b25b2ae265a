"""System alerts reach every admin once, in-app and by email (through the outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from socstat.settings import get_settings, reset_settings_cache
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
    # links to the pages where an admin acts on them (routes that exist)
    assert {n.link for n in notes} == {"/admin?tab=settings", "/admin/system", "/admin?tab=outbox"}
    [stale] = [n for n in notes if n.title.startswith("Сбор статистики давно")]
    assert "интервал — 24 ч." in stale.body
    emails = session.exec(select(Outbox).where(Outbox.recipient == admin.email)).all()
    assert len(emails) == 5


def _backup_file(folder: Path, at: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"socstat-{at.astimezone(UTC):%Y%m%d-%H%M%S}.tar"  # the backup's naming
    path.write_bytes(b"backup")
    return path


def test_backup_too_old_once_a_day(db, session, monkeypatch, tmp_path) -> None:
    folder = tmp_path / "backups"
    monkeypatch.setenv("SOCSTAT_BACKUP_DIR", str(folder))
    reset_settings_cache()
    try:
        now = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)  # noon in Moscow: days are clear-cut
        admin = make_user(session, "admin@example.com", "admin")
        admin.created_at = now - timedelta(days=3)
        session.add(admin)
        session.commit()
        assert check_system(session, now=now) == [f"backup-old:{_local_day(now)}"]  # none yet
        assert check_system(session, now=now + timedelta(minutes=5)) == []
        session.commit()
        _backup_file(folder, now - timedelta(hours=25))
        assert check_system(session, now=now + timedelta(minutes=10)) == []  # recent enough
        later = now + timedelta(days=1)
        assert check_system(session, now=later) == [f"backup-old:{_local_day(later)}"]
        session.commit()
        note = session.exec(select(Notification).order_by(Notification.id.desc())).first()
        assert note.title == "Резервная копия устарела" and note.link == "/admin/system"
        _backup_file(folder, later - timedelta(hours=1))
        assert check_system(session, now=later + timedelta(days=1)) == []
        session.commit()
        assert len(session.exec(select(Outbox).where(Outbox.recipient == admin.email)).all()) == 2
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def _local_day(at: datetime) -> str:
    return at.astimezone(get_settings().tz).date().isoformat()
