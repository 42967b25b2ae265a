"""Reading daily aggregates: validation and authorization."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from socstat.models import DailyStat, Role, Source, Subscription, User
from socstat.services.authz import PermissionDenied
from socstat.services.stats import StatsQueryError, daily_stats


def _setup(session: Session) -> tuple[User, User, Source, Source]:
    ann = User(email="ann@example.com")
    admin = User(email="admin@example.com", role=Role.ADMIN)
    one = Source(external_id="1", screen_name="one")
    two = Source(external_id="2", screen_name="two")
    session.add_all([ann, admin, one, two])
    session.commit()
    session.add(Subscription(user_id=ann.id, source_id=one.id))
    for source in (one, two):
        for day in (1, 2, 3):
            session.add(
                DailyStat(
                    source_id=source.id,
                    local_date=date(2026, 3, day),
                    kind="post",
                    count=day,
                    likes=day * 10,
                    views=None,
                    views_unknown=day,
                )
            )
    session.add(DailyStat(source_id=one.id, local_date=date(2026, 3, 2), kind="clip", count=1))
    session.commit()
    return ann, admin, one, two


def test_rows_are_filtered_by_visibility_period_and_kind(session) -> None:
    ann, admin, one, two = _setup(session)
    rows = daily_stats(session, actor=ann, date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))
    assert [(r.source_id, r.date.day, r.kind) for r in rows] == [
        (one.id, 2, "clip"),
        (one.id, 2, "post"),
        (one.id, 3, "post"),
    ]
    assert rows[1].likes == 20 and rows[1].views is None and rows[1].views_unknown == 2
    assert rows[1].screen_name == "one"
    # another user's source asked for explicitly is simply not there
    assert (
        daily_stats(
            session,
            actor=ann,
            date_from=date(2026, 3, 1),
            date_to=date(2026, 3, 3),
            source_ids=[two.id],
        )
        == []
    )
    everything = daily_stats(
        session,
        actor=admin,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 3),
        kinds=["post"],
    )
    assert len(everything) == 6


def test_bad_queries_are_explained(session) -> None:
    ann, *_ = _setup(session)
    with pytest.raises(StatsQueryError, match="позже"):
        daily_stats(session, actor=ann, date_from=date(2026, 3, 3), date_to=date(2026, 3, 1))
    with pytest.raises(StatsQueryError, match="года"):
        daily_stats(session, actor=ann, date_from=date(2024, 1, 1), date_to=date(2026, 1, 1))
    with pytest.raises(StatsQueryError, match="story"):
        daily_stats(
            session,
            actor=ann,
            date_from=date(2026, 3, 1),
            date_to=date(2026, 3, 1),
            kinds=["story"],
        )
    with pytest.raises(PermissionDenied):
        daily_stats(session, actor=None, date_from=date(2026, 3, 1), date_to=date(2026, 3, 1))
