"""Alert rules and notifications belong to their owner."""

from __future__ import annotations

import pytest
from sqlmodel import select

from socstat.models import AlertRule, Notification, Source, Subscription
from socstat.services import alerts
from socstat.services.authz import PermissionDenied
from tests.services.accounts_fixtures import make_user

FIELDS = {"name": "r", "metric": "views", "threshold": 100, "channels": ["inapp"]}


@pytest.fixture
def people(db, session):
    a = make_user(session, "a@example.com")
    b = make_user(session, "b@example.com")
    source = Source(external_id="1", screen_name="club1")
    session.add(source)
    session.flush()
    session.add(Subscription(user_id=a.id, source_id=source.id, tags="клиент А, конкуренты"))
    session.commit()
    return a, b, source


def test_another_users_rule_is_invisible_and_unchangeable(session, people) -> None:
    a, b, _ = people
    rule = alerts.create_alert_rule(session, actor=a, **FIELDS)
    session.commit()
    assert alerts.list_alert_rules(session, actor=b, own_only=True) == []
    for call in (
        lambda: alerts.get_alert_rule(session, actor=b, rule_id=rule.id),
        lambda: alerts.rule_history(session, actor=b, rule_id=rule.id),
        lambda: alerts.update_alert_rule(session, actor=b, rule_id=rule.id, **FIELDS),
        lambda: alerts.delete_alert_rule(session, actor=b, rule_id=rule.id),
    ):
        with pytest.raises(LookupError):
            call()
    session.rollback()
    assert session.get(AlertRule, rule.id).name == "r"


def test_notifications_are_the_owners_only(session, people) -> None:
    a, b, _ = people
    session.add(Notification(user_id=a.id, kind="alert", title="для A", link="/sources/1"))
    session.commit()
    note = session.exec(select(Notification)).one()
    assert alerts.list_notifications(session, actor=b) == []
    assert alerts.unread_count(session, actor=b) == 0
    assert alerts.mark_read(session, actor=b, notification_id=note.id) is False
    assert alerts.mark_all_read(session, actor=b) == 0
    session.commit()
    session.refresh(note)
    assert note.read_at is None
    assert alerts.unread_count(session, actor=a) == 1
    assert alerts.mark_read(session, actor=a, notification_id=note.id) is True
    session.commit()
    assert alerts.unread_count(session, actor=a) == 0
    assert [n.read for n in alerts.list_notifications(session, actor=a)] == [True]


def test_scope_checks(session, people) -> None:
    a, b, source = people
    with pytest.raises(PermissionDenied):
        alerts.create_alert_rule(session, actor=b, scope="source", source_id=source.id, **FIELDS)
    with pytest.raises(alerts.AlertRuleError):
        alerts.create_alert_rule(session, actor=b, scope="tag", tag="конкуренты", **FIELDS)
    with pytest.raises(alerts.AlertRuleError):
        alerts.create_alert_rule(session, actor=a, scope="team", **FIELDS)
    rule = alerts.create_alert_rule(session, actor=a, scope="tag", tag="конкуренты", **FIELDS)
    assert rule.tag == "конкуренты"
    assert alerts.user_tags(session, user_id=a.id) == ["клиент А", "конкуренты"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"comparison": "fall_pct", "threshold": 150}, "Падение"),
        ({"comparison": "rise_pct", "threshold": 0}, "Рост"),
        ({"metric": "er_post", "threshold": 5000}, "ER"),
        ({"metric": "posts", "threshold": 2.5}, "целое"),
        ({"threshold": "много"}, "числом"),
        ({"quiet_from": "25:00", "quiet_to": "08:00"}, "Тихие часы"),
        ({"quiet_from": "08:00", "quiet_to": "08:00"}, "совпадают"),
        (
            {"rule_type": "baseline", "metric": "reposts", "kind": "post", "threshold": 3},
            "просмотры",
        ),
        ({"rule_type": "baseline", "metric": "views", "kind": "video", "threshold": 3}, "клипы"),
        ({"rule_type": "baseline", "metric": "views", "kind": "post", "threshold": 1}, "медианы"),
        ({"channels": ["telegram"]}, "Telegram"),
    ],
)
def test_validation_messages(session, people, changes, message) -> None:
    a, _, _ = people
    with pytest.raises(alerts.AlertRuleError, match=message):
        alerts.create_alert_rule(session, actor=a, **{**FIELDS, **changes})
