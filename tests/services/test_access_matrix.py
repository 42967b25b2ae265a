"""The access matrix over the data resources: source, subscription, analytics, report,
alert rule. (Users, teams, settings and audit: tests/services/test_authz.py.)

Cast: admin; director of team 1 (a, b); analysts a, b (team 1) and c (team 2, another
director). Every resource is owned by b (inside the director's team) or c (outside it).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from socstat.models import AlertRule, AuditEvent, DailyStat, Report, Role, Source, Subscription
from socstat.services import alerts, analytics, sources
from socstat.services.authz import PermissionDenied
from socstat.services.reports import access as reports
from socstat.services.sources import listing, tags
from tests.services.accounts_fixtures import make_team, make_user

DAY = date(2026, 11, 20)
REFUSED = (PermissionDenied, LookupError)


@pytest.fixture
def world(session):
    people = {
        "admin": make_user(session, "admin@example.com", Role.ADMIN),
        "director": make_user(session, "director@example.com", Role.DIRECTOR),
        "a": make_user(session, "a@example.com"),
        "b": make_user(session, "b@example.com"),
        "c": make_user(session, "c@example.com"),
        "director2": make_user(session, "director2@example.com", Role.DIRECTOR),
    }
    make_team(session, "Команда 1", people["director"], people["a"], people["b"])
    make_team(session, "Команда 2", people["director2"], people["c"])
    owned = {}
    for owner in ("b", "c"):
        user = people[owner]
        source = Source(external_id=f"ext-{owner}", screen_name=f"club_{owner}")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=user.id, source_id=source.id))
        session.add(DailyStat(source_id=source.id, local_date=DAY, kind="post", count=3))
        report = Report(owner_id=user.id, kind="daily", period_start=DAY, period_end=DAY)
        rule = AlertRule(owner_id=user.id, metric="likes", threshold=10, channels=["inapp"])
        session.add_all([report, rule])
        session.flush()
        owned[owner] = {"source": source.id, "report": report.id, "alert": rule.id, "user": user.id}
    session.commit()
    return people, owned


READS = {
    "source": lambda s, actor, ids: sources.get_source(s, actor=actor, source_id=ids["source"]),
    "report": lambda s, actor, ids: reports.get_report(s, actor=actor, report_id=ids["report"]),
    "alert": lambda s, actor, ids: alerts.get_alert_rule(s, actor=actor, rule_id=ids["alert"]),
}
WRITES = {
    "subscription": lambda s, actor, ids: sources.remove_subscription(
        s, actor=actor, source_id=ids["source"], user_id=ids["user"]
    ),
    "report": lambda s, actor, ids: reports.delete_report(s, actor=actor, report_id=ids["report"]),
    "alert": lambda s, actor, ids: alerts.set_alert_rule_enabled(
        s, actor=actor, rule_id=ids["alert"], enabled=False
    ),
    "alert-delete": lambda s, actor, ids: alerts.delete_alert_rule(
        s, actor=actor, rule_id=ids["alert"]
    ),
}
# (actor, owner) → may read / may write
READ_ALLOWED = {("admin", "b"), ("admin", "c"), ("director", "b"), ("director2", "c")}
WRITE_ALLOWED = {("admin", "b"), ("admin", "c")}
ACTORS = ["a", "director", "director2", "admin"]


@pytest.mark.parametrize("resource", sorted(READS))
@pytest.mark.parametrize("owner", ["b", "c"])
@pytest.mark.parametrize("who", ACTORS)
def test_read(session, world, resource, owner, who):
    people, owned = world
    call = READS[resource]
    if (who, owner) in READ_ALLOWED:
        assert call(session, people[who], owned[owner])
    else:
        with pytest.raises(REFUSED):
            call(session, people[who], owned[owner])


def _snapshot(session, ids: dict) -> tuple:
    session.expire_all()
    subscription = session.exec(
        select(Subscription).where(
            Subscription.user_id == ids["user"], Subscription.source_id == ids["source"]
        )
    ).first()
    rule = session.get(AlertRule, ids["alert"])
    return (
        subscription is not None,
        session.get(Report, ids["report"]) is not None,
        None if rule is None else rule.enabled,
    )


@pytest.mark.parametrize("resource", sorted(WRITES))
@pytest.mark.parametrize("owner", ["b", "c"])
@pytest.mark.parametrize("who", ACTORS)
def test_write(session, world, resource, owner, who):
    people, owned = world
    call = WRITES[resource]
    before = _snapshot(session, owned[owner])
    if (who, owner) in WRITE_ALLOWED:
        call(session, people[who], owned[owner])
        session.commit()
        assert _snapshot(session, owned[owner]) != before
    else:
        with pytest.raises(REFUSED):
            call(session, people[who], owned[owner])
        session.rollback()
        assert _snapshot(session, owned[owner]) == before


@pytest.mark.parametrize("who", ACTORS)
def test_lists_and_stats_show_only_what_may_be_read(session, world, who):
    people, owned = world
    actor = people[who]
    readable = {owner for owner in ("b", "c") if (who, owner) in READ_ALLOWED}
    expect = lambda kind: {owned[o][kind] for o in readable}  # noqa: E731
    assert {r.id for r in sources.list_sources(session, actor=actor)} == expect("source")
    assert {r.id for r in reports.list_reports(session, actor=actor)} == expect("report")
    assert {r.id for r in alerts.list_alert_rules(session, actor=actor)} == expect("alert")
    period = analytics.Period.day(DAY)
    everything = analytics.totals_by_source(
        session, actor=actor, scope=analytics.Scope(), period=period
    )
    assert {r.source.id for r in everything} == expect("source")
    for owner in ("b", "c"):  # asking for a source by id: answered or refused, never mixed
        scope = analytics.Scope(source_ids=(owned[owner]["source"],))
        if owner in readable:
            assert analytics.totals(session, actor=actor, scope=scope, period=period)
        else:
            with pytest.raises(PermissionDenied):
                analytics.totals(session, actor=actor, scope=scope, period=period)


def test_alert_rule_for_an_invisible_source_is_refused(session, world):
    people, owned = world
    with pytest.raises(PermissionDenied):
        alerts.create_alert_rule(
            session,
            actor=people["a"],
            name="чужой",
            metric="likes",
            comparison="ge",
            threshold=5,
            window="day",
            channels=["inapp"],
            kind=None,
            source_id=owned["c"]["source"],
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metric", "money"),
        ("comparison", "eq"),
        ("threshold", -1),
        ("threshold", float("nan")),
        ("window", "year"),
        ("channels", []),
        ("channels", ["pigeon"]),
        ("channels", ["sms"]),
        ("threshold", 2.5),
        ("kind", "story"),
    ],
)
def test_alert_rule_validation(session, world, field, value):
    people, _ = world
    fields = {
        "name": "x",
        "metric": "likes",
        "comparison": "ge",
        "threshold": 5,
        "window": "day",
        "channels": ["inapp"],
        "kind": None,
        "source_id": None,
    }
    fields[field] = value
    with pytest.raises(alerts.AlertRuleError):
        alerts.create_alert_rule(session, actor=people["a"], **fields)


def test_own_alert_rule_round_trip_is_audited(session, world):
    people, _ = world
    rule = alerts.create_alert_rule(
        session,
        actor=people["a"],
        name="Много лайков",
        metric="likes",
        comparison="ge",
        threshold=100,
        window="day",
        channels=["inapp", "email", "inapp"],
        kind="post",
        source_id=None,
    )
    assert rule.channels == ["inapp", "email"]
    alerts.delete_alert_rule(session, actor=people["a"], rule_id=rule.id)
    session.commit()
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions == ["alert.create", "alert.delete"]


@pytest.mark.parametrize("owner", ["b", "c"])
@pytest.mark.parametrize("who", ACTORS)
def test_tags_are_the_subscribers_own_and_cards_what_may_be_read(session, world, owner, who):
    """Tags belong to one user's subscription: nobody else tags it, an admin neither; the
    list page's cards show exactly the readable sources."""
    people, owned = world
    with pytest.raises(LookupError):
        tags.add_tag(session, actor=people[who], source_id=owned[owner]["source"], tag="x")
    session.rollback()
    assert session.exec(select(Subscription.tags).where(Subscription.tags != "")).all() == []
    cards = listing.source_cards(session, actor=people[who])
    readable = {owned[o]["source"] for o in ("b", "c") if (who, o) in READ_ALLOWED}
    assert {c.row.id for c in (*cards.own, *cards.others)} == readable
