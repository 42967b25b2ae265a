"""The «Система» page's service: admins only, figures from the database, Redis and the
backup folder, and «Собрать сейчас» through the collection coordinator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from socstat.collectors.base import mask_token
from socstat.models import ApiToken, JobRun, Outbox, Role, Source, utcnow
from socstat.services.authz import PermissionDenied
from socstat.services.backup import create_backup
from socstat.services.locks import ProcessLock
from socstat.services.system_status import collect_everything_now, system_status
from socstat.settings import reset_settings_cache
from tests.services.accounts_fixtures import make_user
from tests.services.conftest import (
    SANDBOX_TOKEN,
    SANDBOX_TOKENS,
    add_sources,
    open_communities,
)


@pytest.fixture
def env(monkeypatch):
    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()

    yield apply
    monkeypatch.undo()
    reset_settings_cache()


def test_only_admins_see_the_system(session) -> None:
    for role in (Role.ANALYST, Role.DIRECTOR):
        user = make_user(session, f"{role}@example.com", role)
        with pytest.raises(PermissionDenied):
            system_status(session, actor=user)
    with pytest.raises(PermissionDenied):
        system_status(session, actor=None)


def test_status_reflects_tokens_jobs_outbox_and_backups(session, env, tmp_path) -> None:
    env(SOCSTAT_BACKUP_DIR=str(tmp_path / "b"), REFLEX_REDIS_URL="")
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    now = utcnow()
    session.add(ApiToken(token_enc="x", token_hint="vk…1111", label="основной"))
    session.add(ApiToken(token_enc="y", token_hint="vk…2222", invalid_at=now, invalid_reason="5"))
    session.add(
        JobRun(job="backup", status="ok", started_at=now - timedelta(seconds=75), finished_at=now)
    )
    session.add(JobRun(job="retention", status="failed", error="boom", started_at=now))
    session.add(Outbox(channel="email", recipient="a@x.ru", status="failed", last_error="550"))
    session.add(Outbox(channel="email", recipient="b@x.ru"))
    session.commit()
    made = create_backup()

    status = system_status(session, actor=admin)

    assert status.database.state == "ok" and status.redis.state == "off"
    assert status.smtp.state == "off"
    assert [(t.masked, t.valid) for t in status.tokens] == [("vk…1111", True), ("vk…2222", False)]
    assert [(j.job, j.status) for j in status.jobs] == [("retention", "failed"), ("backup", "ok")]
    assert status.jobs[1].duration_seconds == pytest.approx(75)
    assert "backup" in status.last_success and "retention" not in status.last_success
    assert (status.outbox_pending, status.outbox_failed) == (1, 1)
    assert [m.recipient for m in status.failed_messages] == ["a@x.ru"]
    assert status.backup.last_path == str(made.path) and status.backup.count == 1
    assert status.backup.size_bytes == made.path.stat().st_size
    assert status.backup.restore_command == f"socstat restore {made.path}"


def test_redis_is_checked_when_configured(session, env) -> None:
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    env(REFLEX_REDIS_URL="redis://127.0.0.1:6379/13")
    assert system_status(session, actor=admin).redis.state == "ok"
    env(REFLEX_REDIS_URL="redis://127.0.0.1:1/13")
    assert system_status(session, actor=admin).redis.state == "error"


def test_the_leader_is_named_on_postgresql(session) -> None:
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    if session.get_bind().dialect.name != "postgresql":
        assert system_status(session, actor=admin).leader == ""
        return
    assert system_status(session, actor=admin).leader == ""
    lock = ProcessLock()
    assert lock.acquire()
    try:
        assert "процесс с соединением" in system_status(session, actor=admin).leader
    finally:
        lock.release()


async def test_collect_now_collects_every_tracked_source(session, vk_sandbox, vk_collector, env):
    env(SOCSTAT_VK_API_URL=vk_sandbox.url, SOCSTAT_VK_TOKENS=SANDBOX_TOKENS)
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    analyst = make_user(session, "analyst@example.com")
    links = [f"https://vk.com/{c['screen_name']}" for c in open_communities(vk_sandbox)[:3]]
    await add_sources(session, actor=analyst, links=links, collector=vk_collector)
    with pytest.raises(PermissionDenied):
        await collect_everything_now(actor=analyst)
    vk_sandbox.reset_quotas()  # adding resolved the links with wall.get too
    summary = await collect_everything_now(actor=admin)
    assert summary.sources_ok + summary.sources_partial == 3 and summary.sources_failed == 0
    session.expire_all()
    assert all(s.last_collected_at is not None for s in session.exec(select(Source)).all())
    quotas = {(q.masked, q.method): q for q in system_status(session, actor=admin).quotas}
    assert {masked for masked, _method in quotas} == {mask_token(SANDBOX_TOKEN)}
    quota = quotas[(mask_token(SANDBOX_TOKEN), "wall.get")]
    wall_calls = vk_sandbox.stats()["quota_used"][SANDBOX_TOKEN]["wall.get"]
    assert (quota.used, quota.left) == (wall_calls, quota.limit - wall_calls) and wall_calls > 0
