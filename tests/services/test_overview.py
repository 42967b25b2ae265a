"""Обзор figures: only the actor's visible sources; unknown stays None."""

from datetime import UTC, date, datetime

from socstat.models import DailyStat, Role, Source, Subscription
from socstat.services.overview import overview
from tests.services.accounts_fixtures import make_user

TODAY = date(2026, 11, 22)


def _source(session, owner, external_id, **fields):
    source = Source(external_id=external_id, **fields)
    session.add(source)
    session.flush()
    session.add(Subscription(user_id=owner.id, source_id=source.id))
    return source


def test_overview_counts_only_visible_sources(session):
    a = make_user(session, "a@example.com")
    b = make_user(session, "b@example.com")
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    collected = datetime(2026, 11, 21, 9, tzinfo=UTC)
    mine = _source(session, a, "1", last_collected_at=collected)
    _source(session, a, "2", status="banned")
    _source(session, a, "3", stale=True)
    other = _source(session, b, "4", last_collected_at=collected)
    session.add(DailyStat(source_id=mine.id, local_date=TODAY, kind="post", count=4, views=100))
    session.add(DailyStat(source_id=mine.id, local_date=TODAY, kind="clip", count=9, views=9))
    session.add(DailyStat(source_id=other.id, local_date=TODAY, kind="post", count=50))
    session.commit()

    mine_view = overview(session, actor=a, today=TODAY)
    assert (mine_view.sources, mine_view.active, mine_view.needs_attention) == (3, 2, 2)
    assert (mine_view.recent_posts, mine_view.recent_views) == (4, 100)
    assert mine_view.last_collected_at == collected

    everything = overview(session, actor=admin, today=TODAY)
    assert everything.sources == 4
    assert everything.recent_posts == 54


def test_unknown_stays_unknown(session):
    a = make_user(session, "a@example.com")
    never = overview(session, actor=a, today=TODAY)
    assert (never.sources, never.recent_posts, never.recent_views, never.last_collected_at) == (
        0,
        None,
        None,
        None,
    )
    source = _source(session, a, "1", last_collected_at=datetime(2026, 11, 22, 7, tzinfo=UTC))
    session.add(
        DailyStat(
            source_id=source.id, local_date=TODAY, kind="post", count=2, views=None, views_unknown=2
        )
    )
    session.commit()
    quiet = overview(session, actor=a, today=TODAY)
    assert quiet.recent_posts == 2 and quiet.recent_views is None


def test_collected_but_quiet_period_is_zero_posts(session):
    a = make_user(session, "a@example.com")
    _source(session, a, "1", last_collected_at=datetime(2026, 11, 22, 7, tzinfo=UTC))
    session.commit()
    assert overview(session, actor=a, today=TODAY).recent_posts == 0
