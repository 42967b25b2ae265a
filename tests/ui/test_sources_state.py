"""The sources pages' handler logic: authorization with foreign ids, input validation.

The Reflex states are thin wrappers around these plain functions (each handler resolves
the user from the session token and calls one of them), so they are tested here against
the real database without a browser, and with the real VK collector talking to the
project's VK sandbox over HTTP where VK is involved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import reflex as rx
from sqlmodel import Session, select

from socstat.collectors.vk import VKCollector
from socstat.models import (
    CollectionRun,
    DailyStat,
    Role,
    RunStatus,
    Source,
    Subscription,
    Team,
    TeamMember,
    User,
    utcnow,
)
from socstat.sandbox import SandboxServer
from socstat.services.authz import PermissionDenied
from socstat.services.collection import Trigger, collect_sources
from socstat.services.collection.journal import stale_after
from socstat.services.sources import resolve_links
from socstat.ui import viewmodels
from socstat.ui.auth import SignedOut
from socstat.ui.components.add_sources import (
    MAX_LINKS,
    add_links,
    parse_links,
    result_view,
    run_as,
)
from socstat.ui.pages.source_detail import detail_data, parse_kind, resolve_period, table_rows
from socstat.ui.pages.sources import state as sources_state
from socstat.ui.pages.sources.view import list_view, refresh_plan, remove_source
from socstat.ui.viewmodels import InputError, parse_source_id
from tests.services.conftest import open_communities


def source_rows(session: Session, user: User, **params: str) -> list[dict[str, str]]:
    """The cards of the list page (own, then the others), as the state shows them."""
    view = list_view(session, user, params=params)
    return view["own_cards"] + view["other_cards"]


def _user(session: Session, email: str, role: str = Role.ANALYST, name: str = "") -> User:
    user = User(email=email, role=role, name=name)
    session.add(user)
    session.commit()
    return user


def _source(session: Session, external_id: str, *owners: User, **values: object) -> Source:
    source = Source(external_id=external_id, screen_name=f"club{external_id}", **values)
    source.name = source.name or f"Сообщество {external_id}"
    session.add(source)
    session.commit()
    for owner in owners:
        session.add(Subscription(user_id=owner.id, source_id=source.id))
    session.commit()
    return source


@pytest.fixture
def world(session: Session) -> dict:
    ann = _user(session, "ann@example.com", name="Анна")
    bob = _user(session, "bob@example.com", name="Боб")
    dora = _user(session, "dora@example.com", Role.DIRECTOR, name="Дора")
    admin = _user(session, "admin@example.com", Role.ADMIN)
    team = Team(name="SMM", director_id=dora.id)
    session.add(team)
    session.commit()
    session.add(TeamMember(team_id=team.id, user_id=ann.id))
    session.commit()
    collected = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    anns = _source(
        session,
        "1",
        ann,
        history_start=date(2026, 3, 1),
        last_collected_at=collected,
        members_count=1500,
    )
    bobs = _source(session, "2", bob, status="banned", status_reason="Сообщество заблокировано")
    doras = _source(session, "3", dora, stale=True, last_error="Таймаут VK")
    for day, views in ((2, 100), (3, None)):
        session.add(
            DailyStat(
                source_id=anns.id,
                local_date=date(2026, 3, day),
                kind="post",
                count=2,
                likes=10 * day,
                reposts=day,
                comments=None,
                views=views,
                views_unknown=0 if views is not None else 2,
            )
        )
    session.add(
        DailyStat(
            source_id=anns.id, local_date=date(2026, 3, 2), kind="clip", count=1, likes=5, views=7
        )
    )
    session.commit()
    return {
        "ann": ann,
        "bob": bob,
        "dora": dora,
        "admin": admin,
        "anns": anns,
        "bobs": bobs,
        "doras": doras,
    }


# --- input validation -------------------------------------------------------------------


def test_parse_links_trims_dedups_and_limits() -> None:
    assert parse_links(" https://vk.com/club1 \n\nclub2\nhttps://vk.com/club1\n") == [
        "https://vk.com/club1",
        "club2",
    ]
    for bad in ("", "  \n \n", None, 42, ["club1"], {"a": 1}):
        with pytest.raises(InputError):
            parse_links(bad)
    with pytest.raises(InputError, match=str(MAX_LINKS)):
        parse_links("\n".join(f"club{i}" for i in range(MAX_LINKS + 1)))
    assert len(parse_links("\n".join(f"club{i}" for i in range(MAX_LINKS)))) == MAX_LINKS
    with pytest.raises(InputError):
        parse_links("https://vk.com/" + "a" * 400)
    with pytest.raises(InputError):
        parse_links("x" * 1_000_000)


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "-1",
        "0",
        "1.5",
        "",
        " ",
        True,
        None,
        2**40,
        -3,
        "99999999999",
        "1e3",
        [1],
        {"id": 1},
        "１２",
    ],
)
def test_parse_source_id_rejects_garbage(raw) -> None:
    with pytest.raises(InputError):
        parse_source_id(raw)


def test_parse_source_id_accepts_ids() -> None:
    assert parse_source_id(" 12 ") == 12
    assert parse_source_id(7) == 7


def test_resolve_period_presets_and_custom() -> None:
    today = date(2026, 3, 31)

    def days(*args: object) -> tuple[date, date]:
        period = resolve_period(*args, today)
        return period.start, period.end

    assert days("7", None, None) == (date(2026, 3, 25), today)
    assert days("30", "", "") == (date(2026, 3, 2), today)
    assert days("90", "", "")[0] == today - timedelta(days=89)
    assert days("custom", "2026-01-01", "2026-01-31") == (date(2026, 1, 1), date(2026, 1, 31))
    bad = [
        ("14", "", ""),
        (None, "", ""),
        (7, "", ""),
        ("custom", "2026-02-01", "2026-01-01"),  # reversed
        ("custom", "2024-01-01", "2026-01-01"),  # longer than a year
        ("custom", "2026-13-01", "2026-12-31"),
        ("custom", "01.01.2026", "2026-01-31"),
        ("custom", None, "2026-01-31"),
        ("custom", "2026-01-01", {"x": 1}),
        ("custom", "2027-01-01", "2027-01-05"),  # in the future
    ]
    for period, first, last in bad:
        with pytest.raises(InputError):
            resolve_period(period, first, last, today)


def test_parse_kind() -> None:
    for kind in ("all", "post", "video", "clip"):
        assert parse_kind(kind) == kind
    for bad in ("posts", "", None, 1, "POST"):
        with pytest.raises(InputError):
            parse_kind(bad)


# --- the list ---------------------------------------------------------------------------


def test_analyst_sees_own_sources_only(session, world) -> None:
    rows = source_rows(session, world["ann"])
    assert [r["id"] for r in rows] == [str(world["anns"].id)]
    row = rows[0]
    assert row["mine"] == "1" and row["owners"] == ""
    assert row["status_label"] == "активно"
    assert row["history_start"] == "01.03.2026"
    assert row["last_collected"] == "05.03.2026 12:00"  # Europe/Moscow
    assert row["members"] == "1\u202f500"
    assert row["tracked_by"] == "Отслеживают в socstat: 1 пользователь"
    # nothing collected in the last 7 days: unknown, never 0
    assert (row["publications"], row["er"], row["members_delta"]) == ("—", "—", "— за 7 дн.")
    assert [r["id"] for r in source_rows(session, world["bob"])] == [str(world["bobs"].id)]


def test_user_time_zone_is_used(session, world) -> None:
    ann = world["ann"]
    ann.timezone = "Asia/Vladivostok"
    session.add(ann)
    session.commit()
    assert source_rows(session, ann)[0]["last_collected"] == "05.03.2026 19:00"


def test_director_sees_team_sources_read_only_with_owner(session, world) -> None:
    rows = {r["id"]: r for r in source_rows(session, world["dora"])}
    assert set(rows) == {str(world["anns"].id), str(world["doras"].id)}
    team_row = rows[str(world["anns"].id)]
    assert team_row["mine"] == "" and team_row["owners"] == "Анна"
    own = rows[str(world["doras"].id)]
    assert own["mine"] == "1"
    assert own["stale"] == "1" and own["stale_reason"] == "Таймаут VK"


def test_admin_sees_everything_with_owners_and_labels(session, world) -> None:
    rows = {r["id"]: r for r in source_rows(session, world["admin"])}
    assert len(rows) == 3
    banned = rows[str(world["bobs"].id)]
    assert banned["status_label"] == "сообщество заблокировано"
    assert banned["status_reason"] == "Сообщество заблокировано"
    assert banned["owners"] == "Боб" and banned["mine"] == ""


# --- removing ---------------------------------------------------------------------------


def test_remove_foreign_source_is_refused_and_nothing_changes(session, world) -> None:
    bobs, anns = world["bobs"], world["anns"]
    for actor, source in ((world["ann"], bobs), (world["dora"], anns), (world["admin"], anns)):
        with pytest.raises(InputError):
            remove_source(session, actor, source.id)
    with pytest.raises(InputError):
        remove_source(session, world["ann"], "999999")
    with pytest.raises(InputError):
        remove_source(session, world["ann"], "1; DROP TABLE source")
    assert len(session.exec(select(Subscription)).all()) == 3


def test_remove_own_subscription(session, world) -> None:
    assert remove_source(session, world["ann"], str(world["anns"].id))
    assert source_rows(session, world["ann"]) == []
    assert session.get(Source, world["anns"].id) is not None  # data stays


# --- adding -----------------------------------------------------------------------------


async def test_add_links_reports_each_link(
    session, world, vk_sandbox: SandboxServer, vk_collector: VKCollector
) -> None:
    tracked, new = open_communities(vk_sandbox)[:2]
    anns = world["anns"]  # make Ann's source the sandbox community `tracked`
    anns.external_id = str(tracked["id"])
    session.add(anns)
    session.commit()
    links = [f"club{tracked['id']}", f"https://vk.com/{new['screen_name']}", "vk.com/nope"]
    resolved = await resolve_links(vk_collector, links)
    results = [result_view(r) for r in add_links(session, world["ann"], resolved)]
    session.commit()
    assert [(r["outcome"], r["label"]) for r in results] == [
        ("already", "уже отслеживается"),
        ("added", "добавлено"),
        ("error", "ошибка"),
    ]
    assert "nope" in results[2]["message"]
    assert {r["name"] for r in source_rows(session, world["ann"])} == {
        "Сообщество 1",
        new["name"],
    }
    # the new subscription belongs to the actor only
    assert [r["name"] for r in source_rows(session, world["bob"])] == ["Сообщество 2"]


# --- refreshing -------------------------------------------------------------------------


def test_refresh_plan_is_own_subscriptions_only(session, world) -> None:
    for who, source in (("ann", "anns"), ("dora", "doras"), ("bob", "bobs")):
        user, ids, busy = refresh_plan(session, world[who])
        assert user.id == world[who].id
        assert ids == [world[source].id]
        assert busy is False
    assert refresh_plan(session, world["admin"])[1] == []


def test_a_dead_manual_run_never_makes_refresh_busy(session, world) -> None:
    ann = world["ann"]
    long_ago = utcnow() - stale_after() - timedelta(seconds=5)
    dead = CollectionRun(
        trigger=Trigger.MANUAL, started_by=ann.id, started_at=long_ago, heartbeat_at=long_ago
    )
    session.add(dead)
    session.commit()
    assert refresh_plan(session, ann)[2] is False
    session.commit()
    session.refresh(dead)
    assert dead.status == RunStatus.INTERRUPTED
    alive = CollectionRun(trigger=Trigger.MANUAL, started_by=ann.id, heartbeat_at=utcnow())
    session.add(alive)
    session.commit()
    assert refresh_plan(session, ann)[2] is True


async def test_collecting_foreign_sources_is_refused(
    session, world, vk_sandbox: SandboxServer, vk_collector: VKCollector
) -> None:
    for actor, source in ((world["ann"], world["bobs"]), (world["dora"], world["anns"])):
        with pytest.raises(PermissionDenied):
            await collect_sources(source_ids=[source.id], collector=vk_collector, actor=actor)
    assert vk_sandbox.stats()["http_requests"] == 0  # VK was never asked
    assert vk_collector.usage.requests == 0


async def test_handlers_refuse_without_a_session(world) -> None:
    with pytest.raises(SignedOut):
        await run_as("not-a-token", source_rows)
    with pytest.raises(SignedOut):
        await run_as("", lambda s, u: remove_source(s, u, 1))


# --- the detail page --------------------------------------------------------------------


def test_detail_of_foreign_or_missing_source_is_no_access(session, world) -> None:
    anns = world["anns"]
    cases = [(world["bob"], anns.id), (world["ann"], world["bobs"].id), (world["ann"], 999999)]
    for actor, source_id in cases:
        with pytest.raises(LookupError):
            detail_data(session, actor, str(source_id), "30", "", "", "all")
    for raw in ("abc", "-1", "0", "", None):
        with pytest.raises(InputError):
            detail_data(session, world["ann"], raw, "30", "", "", "all")


def test_detail_validates_period_and_kind_before_reading(session, world) -> None:
    anns, ann = world["anns"], world["ann"]
    for period, first, last, kind in [
        ("365", "", "", "all"),
        ("custom", "2026-03-05", "2026-03-01", "all"),
        ("custom", "2020-01-01", "2026-03-01", "all"),
        ("30", "", "", "stories"),
    ]:
        with pytest.raises(InputError):
            detail_data(session, ann, str(anns.id), period, first, last, kind)


def test_detail_numbers_unknown_is_dash_never_zero(session, world) -> None:
    anns = world["anns"]
    data = detail_data(
        session, world["ann"], str(anns.id), "custom", "2026-02-28", "2026-03-06", "all"
    )
    assert data["header"]["name"] == "Сообщество 1"
    days = {d["date"].isoformat(): d for d in data["days"]}
    assert days["2026-03-02"]["count"] == 3  # 2 posts + 1 clip
    assert days["2026-03-02"]["likes"] == 25 and days["2026-03-02"]["views"] == 107
    assert days["2026-03-02"]["comments"] is None  # the platform did not say
    assert days["2026-03-03"]["views"] is None and days["2026-03-03"]["views_unknown"] == 2
    assert days["2026-03-04"]["count"] == 0  # collected, nothing published: known zeros
    assert days["2026-03-04"]["likes"] == 0 and days["2026-03-04"]["views"] == 0
    assert days["2026-02-28"]["count"] is None  # before the history start
    assert days["2026-03-06"]["count"] is None  # after the last collection
    assert data["views_unknown"] == 2
    rows = {r["iso"]: r for r in table_rows(data["days"])}
    assert next(iter(rows)) == "2026-03-06"  # newest first
    assert rows["2026-03-03"]["views"] == "—" and rows["2026-03-03"]["views_unknown"] == "2"
    assert rows["2026-03-02"]["comments"] == "—"
    assert rows["2026-02-28"]["count"] == "—" and rows["2026-02-28"]["likes"] == "—"
    assert rows["2026-03-04"]["count"] == "0" and rows["2026-03-04"]["likes"] == "0"
    figure = data["figures"]["engagement"]
    assert figure["data"][0]["y"][list(days).index("2026-02-28")] is None  # a gap, not a zero

    clips = detail_data(
        session, world["ann"], str(anns.id), "custom", "2026-03-02", "2026-03-03", "clip"
    )
    assert [d["count"] for d in clips["days"]] == [1, 0]
    assert clips["views_unknown"] == 0


def test_director_reads_team_source_detail(session, world) -> None:
    data = detail_data(session, world["dora"], str(world["anns"].id), "7", "", "", "post")
    assert data["header"]["id"] == str(world["anns"].id)
    with pytest.raises(LookupError):
        detail_data(session, world["dora"], str(world["bobs"].id), "7", "", "", "post")


def test_module_constants() -> None:
    assert set(viewmodels.STATUS_LABELS.values()) == {
        "активно",
        "стена закрыта",
        "частное сообщество",
        "сообщество удалено",
        "сообщество заблокировано",
        "стена отключена",
        "ошибка",
    }


async def test_a_background_re_read_does_not_undo_a_newer_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watcher re-reads the list while the user changes a card: a list shown after its
    read started (the change's own re-read) is newer and stays."""
    root = rx.State(_reflex_internal_init=True)
    page = root.get_substate(sources_state.SourcesState.get_full_name().split("."))
    page._apply({"card_kinds": {"7": ["post", "video", "clip"]}})

    async def read_while_the_user_changes_kinds(_token: object, _work: object) -> dict:
        page._apply({"card_kinds": {"7": ["video", "clip"]}})  # the change, shown
        return {"card_kinds": {"7": ["post", "video", "clip"]}}  # read before it

    monkeypatch.setattr(sources_state, "run_as", read_while_the_user_changes_kinds)
    await page._reload("token")
    assert page.card_kinds == {"7": ["video", "clip"]}

    async def read(_token: object, _work: object) -> dict:
        return {"card_kinds": {"7": ["clip"]}}

    monkeypatch.setattr(sources_state, "run_as", read)
    await page._reload("token")  # nothing shown meanwhile: the re-read is shown
    assert page.card_kinds == {"7": ["clip"]}
