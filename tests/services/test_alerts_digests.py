"""Quiet hours: in-app notifications at once and nothing external; held messages go out
as digests, each held firing in exactly one digest — also with two digest senders at
once while a new firing lands between their reads."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from socstat import formatting
from socstat.models import AlertFiring, AlertRule, FiringState, Notification, Outbox, User
from socstat.services import alerts
from socstat.services.alerts.notices import announce, send_digests
from tests.services.accounts_fixtures import make_user

QUIET = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 03:00 in Moscow, inside 00:00–08:00
AFTER = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 09:00 in Moscow: quiet hours are over
THREE_DAYS = [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]


@pytest.fixture
def owner(db, session) -> User:
    user = make_user(session, "analyst@example.com")
    user.timezone = "Europe/Moscow"
    session.add(user)
    session.commit()
    return user


def _rule(session: Session, user: User, channels: list[str], **fields) -> AlertRule:
    view = alerts.create_alert_rule(
        session,
        actor=user,
        name="Посты",
        scope="mine",
        metric="posts",
        threshold=1,
        channels=channels,
        quiet_from="00:00",
        quiet_to="08:00",
        **fields,
    )
    session.commit()
    rule = session.get(AlertRule, view.id)
    assert rule is not None
    return rule


def _fire(session: Session, rule: AlertRule, day: date, now: datetime = QUIET) -> AlertFiring:
    """A firing as the evaluator records it, announced at ``now``."""
    firing = AlertFiring(
        rule_id=rule.id or 0,
        key=f"{day.isoformat()}:1",
        state=FiringState.FIRED,
        window_start=day,
        window_end=day,
        value=7,
        created_at=now,
    )
    session.add(firing)
    session.flush()
    announce(session, rule, firing, now)
    session.commit()
    return firing


def _digests(session: Session) -> list[Outbox]:
    session.expire_all()
    rows = session.exec(select(Outbox)).all()
    return [m for m in rows if (m.dedup_key or "").startswith("alert-digest:")]


def test_in_app_appears_in_quiet_hours_and_nothing_goes_out(session, owner) -> None:
    quiet_inapp = _rule(session, owner, ["inapp"])
    held = _rule(session, owner, ["inapp", "email"])
    only_inapp = _fire(session, quiet_inapp, date(2026, 3, 10))
    with_email = _fire(session, held, date(2026, 3, 10))

    notes = session.exec(select(Notification).order_by(Notification.id)).all()
    assert [n.dedup_key for n in notes] == [
        f"alert:{only_inapp.id}:fired",
        f"alert:{with_email.id}:fired",
    ]
    assert all(n.read_at is None for n in notes)  # in the centre, unread: the bell counts them
    assert session.exec(select(Outbox)).all() == []  # no email, SMS or Telegram in quiet hours
    assert only_inapp.pending == ""  # an in-app-only rule holds nothing for a digest
    assert with_email.pending == FiringState.FIRED

    assert send_digests(session, now=QUIET) == 0  # still quiet
    assert send_digests(session, now=AFTER) == 1
    session.commit()
    [digest] = _digests(session)
    assert digest.channel == "email" and digest.recipient == owner.email
    assert formatting.day(date(2026, 3, 10)) in digest.body
    # the in-app notification was not repeated by the digest
    assert len(session.exec(select(Notification)).all()) == 2


def test_a_digest_tells_the_state_that_was_held(session, owner) -> None:
    rule = _rule(session, owner, ["email"])  # no "back to normal" messages
    firing = _fire(session, rule, date(2026, 3, 9))
    firing.state, firing.resolved_at = FiringState.RESOLVED, QUIET  # resolved meanwhile
    session.add(firing)
    session.commit()
    send_digests(session, now=AFTER)
    session.commit()
    [digest] = _digests(session)
    assert "Снова в норме" not in digest.body
    assert f"за {formatting.day(date(2026, 3, 9))}: 7" in digest.body


class _HoldAfterFirstRead:
    """Each registered thread stops right after its first statement on held firings
    (``alertfiring.pending``), signals that, and waits (at most ``patience`` seconds) for
    ``go`` — long enough for another sender to read too, never forever (a correct sender
    may be waiting for this one's locks)."""

    def __init__(self, engine: Engine, patience: float = 2.0) -> None:
        self.engine = engine
        self.patience = patience
        self.read: dict[str, threading.Event] = {}
        self.go: dict[str, threading.Event] = {}

    def register(self, name: str) -> None:
        self.read[name], self.go[name] = threading.Event(), threading.Event()

    def __call__(self, conn, cursor, statement: str, *args) -> None:
        name = threading.current_thread().name
        text = statement.lower()
        if name in self.read and not self.read[name].is_set() and "alertfiring.pending" in text:
            self.read[name].set()
            self.go[name].wait(self.patience)

    def __enter__(self) -> _HoldAfterFirstRead:
        event.listen(self.engine, "after_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "after_cursor_execute", self)


def _send_in_thread(engine: Engine, name: str, results: dict[str, int]) -> threading.Thread:
    def run() -> None:
        with Session(engine, expire_on_commit=False) as s:
            results[name] = send_digests(s, now=AFTER)
            s.commit()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_two_digest_senders_at_once_put_each_held_message_in_exactly_one_digest(
    db, session, owner
) -> None:
    """Sender A reads the held firings, a new held firing is committed, sender B reads:
    between them every held firing is sent once, none twice."""
    rule = _rule(session, owner, ["inapp", "email"])
    for day in THREE_DAYS[:2]:
        _fire(session, rule, day)
    results: dict[str, int] = {}
    with _HoldAfterFirstRead(db) as hold:
        hold.register("sender-a")
        hold.register("sender-b")
        first = _send_in_thread(db, "sender-a", results)
        assert hold.read["sender-a"].wait(30), "sender A never read the held firings"
        with Session(db, expire_on_commit=False) as other:  # an evaluator still in quiet time
            late = other.get(AlertRule, rule.id)
            assert late is not None
            _fire(other, late, THREE_DAYS[2])
        second = _send_in_thread(db, "sender-b", results)
        assert hold.read["sender-b"].wait(30), "sender B never read the held firings"
        hold.go["sender-a"].set()
        hold.go["sender-b"].set()
        first.join(60)
        second.join(60)
    assert not first.is_alive() and not second.is_alive()

    digests = _digests(session)
    assert digests and sum(results.values()) == len(digests)
    for day in THREE_DAYS:
        label = f"за {formatting.day(day)}:"
        assert sum(d.body.count(label) for d in digests) == 1, (day, [d.body for d in digests])
    assert sum(d.body.count("• ") for d in digests) == len(THREE_DAYS)
    session.expire_all()
    assert all(f.pending == "" for f in session.exec(select(AlertFiring)).all())
    # a later pass finds nothing left to send
    assert send_digests(session, now=AFTER) == 0
