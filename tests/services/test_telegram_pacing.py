"""Telegram's limits (one message a second to a chat, 30 a second overall) hold for all
deliverers together: two worker processes drain one outbox into a loopback Bot API, which
records when each message arrived. Counted in the database, or in Redis when
REFLEX_REDIS_URL is set."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
import redis
from sqlmodel import select

from socstat.models import Outbox, OutboxStatus
from socstat.services import delivery
from socstat.services.delivery import telegram, telegram_pacing
from socstat.settings import PROJECT_ROOT
from tests.fake_gateways import TelegramApi
from tests.services.accounts_fixtures import make_user

BOT_TOKEN = "123456:" + "A" * 35
REDIS_URL = "redis://127.0.0.1:6379/0"
BUSY_CHAT_MESSAGES = 4
OTHER_CHATS = 36

WORKER = textwrap.dedent(
    """
    import sys, time
    from sqlmodel import func, select
    from socstat.db import session_scope
    from socstat.models import Outbox, OutboxStatus
    from socstat.services.delivery import deliver_due

    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # start together
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        deliver_due()
        with session_scope() as session:
            left = session.exec(
                select(func.count()).select_from(Outbox).where(Outbox.status != OutboxStatus.SENT)
            ).one()
        if not left:
            break
        time.sleep(0.05)
    """
)


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def bot_api():
    server = TelegramApi(BOT_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(params=["database", "redis"])
def storage(request, monkeypatch) -> str:
    from socstat.services import ratelimit

    if request.param == "redis":
        if not _redis_answers():
            pytest.skip("Redis does not answer at 127.0.0.1:6379")
        monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    else:
        monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    ratelimit.reset()
    yield request.param
    ratelimit.reset()


def test_two_worker_processes_share_the_limits(db, session, bot_api, storage) -> None:
    admin = make_user(session, "admin@example.com", "admin")
    telegram.set_bot(
        session, actor=admin, token=BOT_TOKEN, username="socstat_bot", base_url=bot_api.url
    )
    run = uuid.uuid4().int % 10**9  # chat ids of this run only (Redis keeps counts by chat)
    busy = str(run)
    for index in range(BUSY_CHAT_MESSAGES):
        delivery.enqueue(session, channel="telegram", to=busy, subject="", body=f"busy {index}")
    for index in range(OTHER_CHATS):
        delivery.enqueue(
            session, channel="telegram", to=str(run + 1 + index), subject="", body=f"other {index}"
        )
    session.commit()

    start_at = f"{time.time() + 4:.3f}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, start_at],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=150)
        assert worker.returncode == 0, errors

    session.expire_all()
    rows = session.exec(select(Outbox)).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert sorted(text for _, text in bot_api.sent()) == sorted(r.body for r in rows)
    arrivals = sorted(bot_api.arrivals)
    busy_times = [moment for moment, chat in arrivals if chat == busy]
    assert len(busy_times) == BUSY_CHAT_MESSAGES
    gaps = [later - earlier for earlier, later in itertools.pairwise(busy_times)]
    assert min(gaps) > 0.8, gaps  # one a second to a chat (minus the HTTP round trip's jitter)
    moments = [moment for moment, _ in arrivals]
    busiest = max(sum(1 for other in moments if start <= other < start + 0.8) for start in moments)
    assert busiest <= telegram_pacing.OVERALL.amount, busiest
    # without the shared count each worker would allow its own 30 in the first second
    assert len(moments) > telegram_pacing.OVERALL.amount


def test_database_count_refuses_the_31st_send_and_a_second_to_one_chat(db, session) -> None:
    acquire = telegram_pacing._acquire_in_database
    now = 1_000_000.0
    assert all(acquire(session, str(chat), now) for chat in range(30))
    assert not acquire(session, "new-chat", now + 0.5)  # 30 a second overall
    assert acquire(session, "0", now + 1.5)  # a second later: allowed again
    assert not acquire(session, "0", now + 1.6)  # but not twice within a second to one chat
    assert acquire(session, "new-chat", now + 1.6)
    session.commit()
