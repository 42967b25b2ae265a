"""Token parsing, masking, the rate limiter and the quota ledger (no network)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from socstat.collectors.vk.client import build_execute_code
from socstat.collectors.vk.limits import QuotaLedger, RateLimiter, mask_token, parse_tokens


def test_parse_tokens_kinds_and_rates() -> None:
    specs = parse_tokens(" usertok1 , community:comtok2;video:vidtok3\nservice:svc4,usertok1, ")
    assert [(s.token, s.kind, s.rps) for s in specs] == [
        ("usertok1", "user", 3),
        ("comtok2", "community", 20),
        ("vidtok3", "video", 3),
        ("svc4", "service", 3),
    ]
    assert [s.video_right for s in specs] == [False, False, True, False]
    assert parse_tokens("") == []


def test_mask_never_shows_the_token() -> None:
    token = "vk1.a.abcdefghijklmnopqrstuvwxyz0123456789"
    masked = mask_token(token)
    assert token not in masked and len(masked) < 10 and masked.endswith("6789")
    assert mask_token("short") == "***"


async def test_rate_limiter_n_acquisitions_take_at_least_n_over_rate_minus_one() -> None:
    limiter = RateLimiter(3)
    started = time.monotonic()
    for _ in range(7):
        await limiter.acquire()
    elapsed = time.monotonic() - started
    assert elapsed >= 7 / 3 - 1


async def test_rate_limiter_never_allows_more_than_rate_in_any_window() -> None:
    limiter = RateLimiter(5, period=0.2)
    stamps = []
    for _ in range(12):
        await limiter.acquire()
        stamps.append(time.monotonic())
    for index in range(len(stamps) - 5):
        assert stamps[index + 5] - stamps[index] >= 0.2 - 1e-3


def test_rate_limiter_sliding_window_with_fake_clock() -> None:
    now = [100.0]
    limiter = RateLimiter(3, clock=lambda: now[0], spread=False)
    assert limiter.delay() == 0
    for _ in range(3):
        limiter._stamps.append(now[0])
    assert limiter.delay() == pytest.approx(1.0)
    now[0] += 0.4
    assert limiter.delay() == pytest.approx(0.6)
    limiter.refund()
    assert limiter.delay() == 0
    limiter.penalize(0.05)
    assert limiter.window == pytest.approx(1.05)


def test_rate_limiter_spreads_requests_evenly() -> None:
    now = [0.0]
    limiter = RateLimiter(4, clock=lambda: now[0])
    limiter._stamps.append(0.0)
    assert limiter.delay() == pytest.approx(0.25)


def test_quota_ledger_counts_parks_and_resets_at_day_change() -> None:
    today = [date(2025, 1, 1)]
    ledger = QuotaLedger({"wall.get": 2}, today=lambda: today[0])
    assert ledger.available("t", "wall.get")
    ledger.charge("t", "wall.get")
    ledger.charge("t", "groups.getById")  # no quota: never limited
    assert ledger.remaining("t", "wall.get") == 1
    assert ledger.remaining("t", "groups.getById") is None
    ledger.charge("t", "wall.get")
    assert not ledger.available("t", "wall.get")
    assert ledger.available("other", "wall.get")
    ledger.park("other", "wall.get")
    assert not ledger.available("other", "wall.get")
    today[0] = date(2025, 1, 2)
    assert ledger.available("t", "wall.get") and ledger.available("other", "wall.get")
    assert ledger.used("t", "wall.get") == 0


def test_execute_code_serialises_params_as_json() -> None:
    code = build_execute_code(
        [("wall.get", {"owner_id": -1, "count": 100}), ("groups.getById", {"group_ids": [1, 2]})]
    )
    assert code == (
        'return [API.wall.get({"owner_id": -1, "count": 100}),'
        'API.groups.getById({"group_ids": "1,2"})];'
    )
    with pytest.raises(ValueError):
        build_execute_code([("wall.get({}); API.x", {})])


def test_rate_limiter_touch_moves_a_slot_to_the_real_send_time() -> None:
    now = [10.0]
    limiter = RateLimiter(2, clock=lambda: now[0], spread=False)
    limiter._stamps.extend([10.0, 10.1])
    now[0] = 10.3
    limiter.touch(10.0)  # the first request actually left at 10.3
    assert list(limiter._stamps) == [10.1, 10.3]
    assert limiter.delay() == pytest.approx(0.8)


def test_rate_limiter_touch_returns_the_new_stamp_for_a_later_touch() -> None:
    now = [10.0]
    limiter = RateLimiter(3, clock=lambda: now[0], spread=False)
    limiter._stamps.append(10.0)
    now[0] = 10.2
    moved = limiter.touch(10.0)  # the send began
    now[0] = 10.25
    assert limiter.touch(moved) == 10.25  # the body is on the wire
    assert list(limiter._stamps) == [10.25]
    assert limiter.touch(9.0) == 9.0  # not a taken slot: nothing moves
    assert list(limiter._stamps) == [10.25]
