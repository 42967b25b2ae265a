"""Scheduled reports: each user's daily at their 10:00 (Moscow = 07:00 UTC), weekly on
Monday, monthly on the 1st; exactly once per user × kind × period, caught up after downtime."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from socstat.models import Report, ReportSchedule, Role, Source, Subscription, User
from socstat.services.reports.schedule import create_due

CREATED = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


def _user(session: Session, email: str, *, tz: str | None = None, sources: int = 1, **kw) -> User:  # type: ignore[no-untyped-def]
    user = User(email=email, role=Role.ANALYST, timezone=tz, created_at=CREATED, **kw)
    session.add(user)
    session.flush()
    for index in range(sources):
        source = Source(external_id=f"{email}-{index}", name=f"{email} {index}")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    return user


def _reports(session: Session) -> list[tuple[str, str, date, date]]:
    session.expire_all()
    rows = session.exec(select(Report, User.email).join(User, User.id == Report.owner_id)).all()
    return sorted((email, r.kind, r.period_start, r.period_end) for r, email in rows)


def _due(session: Session, at: datetime, **kw) -> list[int]:  # type: ignore[no-untyped-def]
    created = create_due(session, now=at, **kw)
    session.commit()
    return created


def test_daily_at_ten_in_each_users_zone_once(session: Session) -> None:
    _user(session, "ann@example.org")  # installation zone: Europe/Moscow
    _user(session, "bob@example.org", tz="Asia/Yekaterinburg")  # UTC+5: 10:00 = 05:00 UTC
    _user(session, "idle@example.org", sources=0)  # tracks nothing: no report
    _user(session, "gone@example.org", blocked_at=CREATED)  # blocked: no report
    assert _due(session, datetime(2026, 11, 10, 4, 59, tzinfo=UTC)) == []
    assert len(_due(session, datetime(2026, 11, 10, 5, 0, tzinfo=UTC))) == 1
    assert _reports(session) == [("bob@example.org", "daily", date(2026, 11, 9), date(2026, 11, 9))]
    assert _due(session, datetime(2026, 11, 10, 6, 59, tzinfo=UTC)) == []
    assert len(_due(session, datetime(2026, 11, 10, 7, 0, tzinfo=UTC))) == 1
    assert _due(session, datetime(2026, 11, 10, 7, 0, tzinfo=UTC)) == []  # a second run
    assert _due(session, datetime(2026, 11, 10, 9, 0, tzinfo=UTC)) == []
    day = date(2026, 11, 9)
    assert _reports(session) == [
        ("ann@example.org", "daily", day, day),
        ("bob@example.org", "daily", day, day),
    ]
    report = session.exec(select(Report).where(Report.kind == "daily")).first()
    assert report is not None and report.send_email and report.formats == ["xlsx"]
    assert report.status == "pending"


def test_weekly_and_monthly_when_switched_on_paused_gets_nothing(session: Session) -> None:
    ann = _user(session, "ann@example.org")
    paused = _user(session, "paused@example.org")
    session.add(
        ReportSchedule(user_id=ann.id, daily=False, weekly=True, monthly=True, formats=["pdf"])
    )
    session.add(ReportSchedule(user_id=paused.id, weekly=True, paused=True))
    session.commit()
    assert _due(session, datetime(2026, 11, 16, 6, 59, tzinfo=UTC)) == []
    _due(session, datetime(2026, 11, 16, 7, 0, tzinfo=UTC))  # Monday 10:00 MSK
    assert _reports(session) == [
        ("ann@example.org", "weekly", date(2026, 11, 9), date(2026, 11, 15))
    ]
    # the 1st, 10:00 MSK; Monday 30.11 is within the catch-up window, Monday 23.11 is not
    _due(session, datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert _reports(session) == [
        ("ann@example.org", "monthly", date(2026, 11, 1), date(2026, 11, 30)),
        ("ann@example.org", "weekly", date(2026, 11, 9), date(2026, 11, 15)),
        ("ann@example.org", "weekly", date(2026, 11, 23), date(2026, 11, 29)),
    ]
    assert _due(session, datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == []


def test_downtime_is_caught_up_within_the_window_once(session: Session) -> None:
    ann = _user(session, "ann@example.org")
    ann.created_at = datetime(2026, 11, 1, tzinfo=UTC)
    session.add(ann)
    session.commit()
    at = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
    assert len(_due(session, at)) == 3  # due 08.11, 09.11, 10.11 at 10:00 MSK; older: too old
    assert [r[2] for r in _reports(session)] == [
        date(2026, 11, 7),
        date(2026, 11, 8),
        date(2026, 11, 9),
    ]
    assert _due(session, at + timedelta(minutes=5)) == []
    assert len(_due(session, at + timedelta(days=5), window=timedelta(days=6))) == 5


def test_two_processes_at_once_make_each_report_once(session: Session, db) -> None:  # type: ignore[no-untyped-def]
    for index in range(5):
        _user(session, f"user{index}@example.org")
    at = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(db) as own:
                barrier.wait()
                create_due(own, now=at)
                own.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(_reports(session)) == 5
