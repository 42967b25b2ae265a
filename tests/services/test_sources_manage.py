"""Managing sources: tags, the list page's cards (numbers, search, filters, sort, groups),
deactivated communities, and the first collection of newly added sources.

The first collection runs the real VK collector (built from the settings, as the app
does) against the project's VK sandbox over HTTP.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from socstat.collectors.base import CommunityInfo, CounterReading
from socstat.models import (
    AuditEvent,
    CollectionRun,
    CounterSnapshot,
    DailyStat,
    Role,
    Source,
    SourceStatus,
    Subscription,
    Team,
    TeamMember,
    User,
)
from socstat.sandbox import SandboxServer
from socstat.services import analytics, audit
from socstat.services.errors import FieldError
from socstat.services.sources import AddOutcome, apply_info, get_source
from socstat.services.sources.first_collection import (
    FIRST_COLLECTION,
    collect_first,
    needing_first_collection,
)
from socstat.services.sources.kinds import set_tracked_kinds
from socstat.services.sources.listing import (
    ListQuery,
    ListSort,
    StatusFilter,
    parse_list_query,
    source_cards,
)
from socstat.services.sources.tags import MAX_TAGS, add_tag, remove_tag
from socstat.settings import reset_settings_cache
from tests.services.conftest import SANDBOX_TOKENS, add_sources, open_communities, world_now

TODAY = date(2026, 3, 10)


def _user(session: Session, email: str, role: str = Role.ANALYST) -> User:
    user = User(email=email, role=role, name=email.split("@")[0].title())
    session.add(user)
    session.commit()
    return user


def _source(session: Session, name: str, *owners: User, tags: str = "", **values) -> Source:
    source = Source(external_id=name, screen_name=name.lower(), name=name, **values)
    session.add(source)
    session.commit()
    for owner in owners:
        session.add(Subscription(user_id=owner.id, source_id=source.id, tags=tags))
    session.commit()
    return source


def _day(session: Session, source: Source, day: date, *, posts: int, likes: int, members):
    session.add(
        DailyStat(
            source_id=source.id,
            local_date=day,
            kind="post",
            count=posts,
            likes=likes,
            reposts=0,
            comments=0,
            views=100 * posts,
        )
    )
    session.add(CounterSnapshot(source_id=source.id, local_date=day, members=members))


@pytest.fixture
def world(session: Session) -> dict:
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    dora = _user(session, "dora@example.com", Role.DIRECTOR)
    admin = _user(session, "admin@example.com", Role.ADMIN)
    team = Team(name="SMM", director_id=dora.id)
    session.add(team)
    session.commit()
    session.add(TeamMember(team_id=team.id, user_id=ann.id))
    collected = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    alpha = _source(
        session,
        "Альфа",
        ann,
        tags="Конкуренты",
        members_count=1000,
        history_start=date(2026, 2, 1),
        last_collected_at=collected,
        last_attempt_at=collected,
    )
    beta = _source(
        session,
        "Бета",
        ann,
        members_count=5000,
        history_start=date(2026, 2, 1),
        last_collected_at=collected - timedelta(hours=5),
        last_attempt_at=collected - timedelta(hours=5),
    )
    gone = _source(
        session,
        "Гамма",
        ann,
        status=SourceStatus.DELETED,
        last_collected_at=collected,
        last_attempt_at=collected,
    )
    fresh = _source(session, "Дельта", ann)  # just added: never collected
    bobs = _source(session, "Бобовый", bob, tags="клиент А")
    doras = _source(session, "Дорин", dora, last_collected_at=collected)
    session.add(Subscription(user_id=bob.id, source_id=alpha.id, tags="секрет Боба"))
    # Alpha: 3 posts over the last 7 days at 1 000 members (ERpost (10+20+30)/1000/3);
    # members 900 a week before. Beta: 1 post, members unknown in the period.
    for offset, likes in ((0, 10), (1, 20), (2, 30)):
        _day(session, alpha, TODAY - timedelta(days=offset), posts=1, likes=likes, members=1000)
    session.add(CounterSnapshot(source_id=alpha.id, local_date=TODAY - timedelta(7), members=900))
    session.add(DailyStat(source_id=beta.id, local_date=TODAY, kind="post", count=1, likes=5))
    session.commit()
    return {
        "ann": ann,
        "bob": bob,
        "dora": dora,
        "admin": admin,
        "alpha": alpha,
        "beta": beta,
        "gone": gone,
        "fresh": fresh,
        "bobs": bobs,
        "doras": doras,
    }


def _names(cards) -> list[str]:
    return [c.name for c in cards]


# --- tags ------------------------------------------------------------------------------


def test_tags_added_validated_case_insensitively_and_audited(session, world) -> None:
    ann, beta = world["ann"], world["beta"]
    result = add_tag(session, actor=ann, source_id=beta.id, tag="  клиент   А ")
    assert result.tags == ("клиент А",)
    assert add_tag(session, actor=ann, source_id=beta.id, tag="Конкуренты").tags == (
        "клиент А",
        "Конкуренты",
    )
    for bad, message in (
        ("КЛИЕНТ а", "уже есть"),
        ("", "Введите тег"),
        ("   ", "Введите тег"),
        ("a" * 41, "длиннее"),
        ("один,два", "Запятая"),
        ("bell\x07", "недопустимые"),
        (None, "Введите тег"),
        (["x"], "Введите тег"),
    ):
        with pytest.raises(FieldError, match=message) as caught:
            add_tag(session, actor=ann, source_id=beta.id, tag=bad)
        assert caught.value.field == "tag"
    session.commit()
    stored = session.exec(
        select(Subscription).where(
            Subscription.user_id == ann.id, Subscription.source_id == beta.id
        )
    ).one()
    assert stored.tags == "клиент А,Конкуренты"
    assert remove_tag(session, actor=ann, source_id=beta.id, tag="конкуренты").tags == ("клиент А",)
    with pytest.raises(LookupError):
        remove_tag(session, actor=ann, source_id=beta.id, tag="конкуренты")
    session.commit()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action.startswith("source.tag")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.details["tag"], e.target_id) for e in events] == [
        ("source.tag_add", "клиент А", str(beta.id)),
        ("source.tag_add", "Конкуренты", str(beta.id)),
        ("source.tag_remove", "Конкуренты", str(beta.id)),
    ]
    assert all(e.action in audit.ACTION_LABELS for e in events)


def test_tag_limit(session, world) -> None:
    ann, beta = world["ann"], world["beta"]
    for i in range(MAX_TAGS):
        add_tag(session, actor=ann, source_id=beta.id, tag=f"тег {i}")
    with pytest.raises(FieldError, match="не больше"):
        add_tag(session, actor=ann, source_id=beta.id, tag="лишний")


def _foreign(world: dict) -> tuple[tuple[User, Source], ...]:
    """Someone else's subscription: another analyst's, a team member's (for the director),
    any for an admin who does not track it."""
    return (
        (world["bob"], world["beta"]),
        (world["dora"], world["beta"]),
        (world["admin"], world["beta"]),
        (world["ann"], world["bobs"]),
    )


def test_only_own_subscriptions_are_tagged(session, world) -> None:
    """Another analyst's, a team member's (for the director) or an admin's foreign source:
    refused as if it did not exist, and nothing changes."""
    for actor, source in _foreign(world):
        with pytest.raises(LookupError):
            add_tag(session, actor=actor, source_id=source.id, tag="чужое")
        with pytest.raises(LookupError):
            remove_tag(session, actor=actor, source_id=source.id, tag="клиент А")
    with pytest.raises(LookupError):
        add_tag(session, actor=world["ann"], source_id=999_999, tag="x")
    session.commit()
    tags = {s.tags for s in session.exec(select(Subscription)).all()}
    assert tags == {"", "Конкуренты", "клиент А", "секрет Боба"}
    assert session.exec(select(AuditEvent)).all() == []


# --- the content kinds a subscription counts ------------------------------------------


def _flags(session: Session, user: User, source: Source) -> tuple[bool, bool, bool]:
    session.expire_all()
    sub = session.exec(
        select(Subscription).where(
            Subscription.user_id == user.id, Subscription.source_id == source.id
        )
    ).one()
    return sub.track_posts, sub.track_videos, sub.track_clips


def test_tracked_kinds_validated_stored_and_audited(session, world) -> None:
    ann, alpha = world["ann"], world["alpha"]
    result = set_tracked_kinds(
        session, actor=ann, source_id=alpha.id, kinds=["clip", "post"], ip="10.0.0.1"
    )
    assert result.kinds == ("post", "clip") and result.changed
    assert set_tracked_kinds(session, actor=ann, source_id=alpha.id, kinds=("post", "clip")) == (
        type(result)(alpha.id, ("post", "clip"), changed=False)
    )
    for bad, message in (
        ([], "хотя бы один"),
        (set(), "хотя бы один"),
        (["stories"], "Неизвестный"),
        (["post", 1], "Неизвестный"),
        ([["post"]], "Неизвестный"),
        ("post", "Неверный"),
        (None, "Неверный"),
        ({"post": True}, "Неверный"),
    ):
        with pytest.raises(FieldError, match=message) as caught:
            set_tracked_kinds(session, actor=ann, source_id=alpha.id, kinds=bad)
        assert caught.value.field == "kinds"
    session.commit()
    assert _flags(session, ann, alpha) == (True, False, True)
    assert _flags(session, world["bob"], alpha) == (True, True, True)  # Bob's own choice
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "source.kinds")).all()
    assert [(e.target_id, e.details, e.user_id, e.ip) for e in events] == [
        (
            str(alpha.id),
            {"kinds": ["post", "clip"], "before": ["post", "video", "clip"]},
            ann.id,
            "10.0.0.1",
        )
    ]
    assert "source.kinds" in audit.ACTION_LABELS


def test_only_own_subscriptions_change_their_kinds(session, world) -> None:
    """Someone else's subscription (analyst, director of the team, admin) or a source that
    does not exist: refused as if it did not exist, nothing stored, nothing audited."""
    for actor, source in _foreign(world):
        with pytest.raises(LookupError, match="не отслеживаете"):
            set_tracked_kinds(session, actor=actor, source_id=source.id, kinds=["clip"])
    with pytest.raises(LookupError):
        set_tracked_kinds(session, actor=world["ann"], source_id=999_999, kinds=["clip"])
    session.commit()
    flags = {
        (s.track_posts, s.track_videos, s.track_clips) for s in session.exec(select(Subscription))
    }
    assert flags == {(True, True, True)}
    assert session.exec(select(AuditEvent)).all() == []


def test_a_source_tracking_only_clips_counts_no_posts(session, world) -> None:
    """Alpha has 3 posts in the last 7 days and no clips: tracking only clips, Ann's card
    and dashboard count 0 publications (collected days: known zero, not unknown); Bob,
    who tracks everything on the same source, still sees the 3 posts."""
    ann, bob, alpha = world["ann"], world["bob"], world["alpha"]
    period = analytics.preset_period("7d", TODAY)

    def dashboard_posts(actor: User) -> tuple[int | None, int | None]:
        current = analytics.totals(
            session, actor=actor, scope=analytics.Scope(source_ids=(alpha.id,)), period=period
        ).current
        return current.posts, current.publications

    def card(actor: User):
        return next(
            c for c in source_cards(session, actor=actor, today=TODAY).own if c.row.id == alpha.id
        )

    assert card(ann).publications == 3 and card(ann).kinds == ("post", "video", "clip")
    assert dashboard_posts(ann) == (3, 3)
    set_tracked_kinds(session, actor=ann, source_id=alpha.id, kinds=["clip"])
    session.commit()
    assert card(ann).publications == 0 and card(ann).kinds == ("clip",)
    assert dashboard_posts(ann) == (None, 0)  # posts are not counted at all
    assert card(bob).publications == 3 and card(bob).kinds == ("post", "video", "clip")
    assert dashboard_posts(bob) == (3, 3)
    set_tracked_kinds(session, actor=ann, source_id=alpha.id, kinds=["post", "video", "clip"])
    session.commit()
    assert card(ann).publications == 3 and dashboard_posts(ann) == (3, 3)


# --- the cards -------------------------------------------------------------------------


def test_cards_numbers_from_analytics_unknown_stays_none(session, world) -> None:
    cards = source_cards(session, actor=world["ann"], today=TODAY)
    by_name = {c.name: c for c in cards.own}
    alpha = by_name["Альфа"]
    assert alpha.publications == 3
    assert alpha.er_post == pytest.approx((10 + 20 + 30) / 1000 / 3)
    assert alpha.members_delta == 100
    beta = by_name["Бета"]
    assert beta.publications == 1 and beta.er_post is None and beta.members_delta is None
    fresh = by_name["Дельта"]
    assert fresh.publications is None and fresh.er_post is None
    assert fresh.row.collecting and not alpha.row.collecting
    # Ann sees her own tags only, never Bob's on the same source
    assert alpha.tags == ("Конкуренты",) and cards.tags == ("Конкуренты",)
    assert alpha.owners == () and alpha.row.subscribers == 2
    assert cards.others == () and cards.total == 4


def test_search_filters_and_sort(session, world) -> None:
    ann = world["ann"]

    def names(**query) -> list[str]:
        return _names(source_cards(session, actor=ann, query=ListQuery(**query), today=TODAY).own)

    assert names() == ["Альфа", "Бета", "Гамма", "Дельта"]
    assert names(desc=True) == ["Дельта", "Гамма", "Бета", "Альфа"]
    assert names(search="ЛЬФ") == ["Альфа"]
    assert names(search="бета") == ["Бета"]
    assert names(search="нет такого") == []
    assert names(tag="конкуренты") == ["Альфа"]
    assert names(tag="секрет Боба") == []
    assert names(status=StatusFilter.UNAVAILABLE) == ["Гамма"]
    assert names(status=StatusFilter.COLLECTING) == ["Дельта"]
    assert names(status=StatusFilter.ACTIVE) == ["Альфа", "Бета", "Дельта"]
    # numbers: unknown last in both directions
    assert names(sort=ListSort.MEMBERS, desc=True) == ["Бета", "Альфа", "Гамма", "Дельта"]
    assert names(sort=ListSort.MEMBERS) == ["Альфа", "Бета", "Гамма", "Дельта"]
    assert names(sort=ListSort.POSTS, desc=True)[:2] == ["Альфа", "Бета"]
    assert names(sort=ListSort.ER, desc=True)[0] == "Альфа"
    assert names(sort=ListSort.COLLECTED, desc=True) == ["Альфа", "Гамма", "Бета", "Дельта"]


def test_url_query_round_trip_and_bad_values() -> None:
    query = ListQuery(search="альфа", status="active", tag="клиент А", sort="er", desc=True)
    assert parse_list_query(query.params()) == (query, ())
    assert ListQuery().params() == {}
    parsed, problems = parse_list_query(
        {"sort": "drop table", "status": "weird", "q": "x" * 500, "desc": ["1"]}
    )
    assert parsed.sort == ListSort.NAME and parsed.status == "" and not parsed.desc
    assert len(parsed.search) == 100 and len(problems) == 2


def test_director_groups_own_and_team(session, world) -> None:
    cards = source_cards(session, actor=world["dora"], today=TODAY)
    assert _names(cards.own) == ["Дорин"]
    assert _names(cards.others) == ["Альфа", "Бета", "Гамма", "Дельта"]
    alpha = cards.others[0]
    assert alpha.owners == ("Ann",)  # Bob is not in Dora's team
    assert alpha.tags == ("Конкуренты",)  # the team's tags, not Bob's
    assert "клиент А" not in cards.tags
    admin = source_cards(session, actor=world["admin"], today=TODAY)
    assert admin.own == () and len(admin.others) == 6
    bob = source_cards(session, actor=world["bob"], today=TODAY)
    assert _names(bob.own) == ["Альфа", "Бобовый"] and bob.others == ()
    assert bob.own[0].tags == ("секрет Боба",)


# --- deactivated communities -------------------------------------------------------------


def _info(status: str, name: str) -> CommunityInfo:
    return CommunityInfo(
        external_id="77",
        screen_name="club77",
        name=name,
        url="https://vk.com/club77",
        photo_url="" if status == SourceStatus.DELETED else "https://example.com/77.jpg",
        community_type="group",
        members_count=None if status == SourceStatus.DELETED else 321,
        status=status,
        status_reason="удалено" if status == SourceStatus.DELETED else "",
        counters=CounterReading(),
    )


def test_deleted_community_keeps_its_last_known_name() -> None:
    source = Source(external_id="77")
    apply_info(source, _info(SourceStatus.ACTIVE, "Клуб 77"))
    apply_info(source, _info(SourceStatus.DELETED, "DELETED"))
    assert source.name == "Клуб 77" and source.status == SourceStatus.DELETED
    assert source.photo_url == "https://example.com/77.jpg" and source.members_count == 321
    never_seen = Source(external_id="77")
    apply_info(never_seen, _info(SourceStatus.DELETED, "DELETED"))
    assert never_seen.name == "club77"


# --- the first collection ----------------------------------------------------------------


@pytest.fixture
def sandbox_settings(vk_sandbox: SandboxServer, monkeypatch) -> SandboxServer:
    """The app's own collector (make_collector from the settings) talks to the sandbox."""
    monkeypatch.setenv("SOCSTAT_VK_API_URL", vk_sandbox.url)
    monkeypatch.setenv("SOCSTAT_VK_TOKENS", SANDBOX_TOKENS)
    reset_settings_cache()
    yield vk_sandbox
    monkeypatch.undo()
    reset_settings_cache()


async def test_new_sources_are_collected_right_away(
    session, world, sandbox_settings, vk_collector
) -> None:
    ann, bob = world["ann"], world["bob"]
    one, two = open_communities(sandbox_settings)[:2]
    results = await add_sources(
        session, actor=ann, links=[f"club{one['id']}", f"club{two['id']}"], collector=vk_collector
    )
    assert [r.outcome for r in results] == [AddOutcome.ADDED, AddOutcome.ADDED]
    new = needing_first_collection(results)
    assert len(new) == 2
    # Bob cannot have Ann's new sources collected through this door
    sandbox_settings.reset_stats()
    refused = await collect_first(actor=bob, source_ids=new)
    assert refused.summary is None and sandbox_settings.stats()["http_requests"] == 0
    cards = source_cards(session, actor=ann, query=ListQuery(status=StatusFilter.COLLECTING))
    assert {c.row.id for c in cards.own} >= set(new)

    done = await collect_first(actor=ann, source_ids=new, now=world_now(sandbox_settings))
    assert done.summary is not None and done.summary.sources_ok == 2 and done.waiting == ()
    run = session.get(CollectionRun, done.summary.run_id)
    assert run is not None and run.trigger == FIRST_COLLECTION and run.started_by == ann.id
    session.expire_all()
    for source_id in new:
        row = get_source(session, actor=ann, source_id=source_id)
        assert row.last_collected_at is not None and not row.collecting
    # collected already: a second call does nothing, and re-adding asks for nothing
    assert (await collect_first(actor=ann, source_ids=new)).summary is None
    again = await add_sources(
        session, actor=bob, links=[f"club{one['id']}"], collector=vk_collector
    )
    assert needing_first_collection(again) == []
