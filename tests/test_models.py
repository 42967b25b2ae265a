from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from socstat.models import ContentItem, Source, User


def test_timestamps_round_trip_as_utc(session):
    moscow = timezone(timedelta(hours=3))
    user = User(email="a@example.com", created_at=datetime(2026, 1, 1, 12, 0, tzinfo=moscow))
    session.add(user)
    session.commit()
    session.expire_all()
    loaded = session.exec(select(User)).one()
    assert loaded.created_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetime_is_refused(session):
    session.add(User(email="b@example.com", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        session.commit()


def test_unknown_engagement_stays_null(session):
    source = Source(external_id="1", screen_name="club1")
    session.add(source)
    session.commit()
    item = ContentItem(
        source_id=source.id,
        kind="post",
        external_id="10",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        local_date=date(2026, 1, 1),
        likes=5,
    )
    session.add(item)
    session.commit()
    session.expire_all()
    loaded = session.exec(select(ContentItem)).one()
    assert loaded.likes == 5
    assert loaded.views is None


def test_source_unique_per_platform(session):
    session.add(Source(platform="vk", external_id="42"))
    session.commit()
    session.add(Source(platform="vk", external_id="42"))
    with pytest.raises(IntegrityError):
        session.commit()
