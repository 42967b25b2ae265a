"""Access to reports: another user's report cannot be listed, read, downloaded (service,
URL, crafted UI event) or deleted; a director reads and downloads their analysts' reports;
the download route serves a file only with a fresh token issued to the signed-in reader."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx
from fastapi.testclient import TestClient
from sqlmodel import Session

from socstat.api.routes import build_api
from socstat.models import Role, Source, Subscription, Team, TeamMember, User
from socstat.services import sessions
from socstat.services.authz import PermissionDenied
from socstat.services.reports import access
from socstat.services.reports.generation import create_report, process_pending
from socstat.ui.pages.reports import ReportsState
from tests.ui.cookies import set_session_cookie


@pytest.fixture
def people(session: Session, make_user) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ann = make_user("ann@example.org")
    bob = make_user("bob@example.org")
    dina = make_user("dina@example.org", role=Role.DIRECTOR)
    admin = make_user("root@example.org", role=Role.ADMIN)
    team = Team(name="SMM", director_id=dina.id)
    session.add(team)
    session.flush()
    session.add(TeamMember(team_id=team.id, user_id=ann.id))
    for user in (ann, bob):
        source = Source(external_id=f"{user.id}00", name=f"Клуб {user.email}")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    report = create_report(session, actor=ann, kind="daily", formats=["xlsx", "pdf"])
    session.commit()
    process_pending()
    return {"ann": ann, "bob": bob, "dina": dina, "admin": admin, "report": report.id}


def _token(session: Session, user: User) -> str:
    token = sessions.create_session(session, user=user).token
    session.commit()
    return token


def test_service_access_matrix(session: Session, people) -> None:  # type: ignore[no-untyped-def]
    report_id = people["report"]
    for name, may_read in (("ann", True), ("bob", False), ("dina", True), ("admin", True)):
        actor = people[name]
        listed = [r.id for r in access.list_reports(session, actor=actor)]
        assert listed == ([report_id] if may_read else []), name
        if may_read:
            assert access.get_report(session, actor=actor, report_id=report_id).id == report_id
            assert access.download_token(session, actor=actor, report_id=report_id, fmt="pdf")
        else:
            with pytest.raises(LookupError):
                access.get_report(session, actor=actor, report_id=report_id)
            with pytest.raises(LookupError):
                access.download_token(session, actor=actor, report_id=report_id, fmt="xlsx")
    with pytest.raises(LookupError):
        access.delete_report(session, actor=people["bob"], report_id=report_id)
    with pytest.raises(PermissionDenied):  # a director reads, does not delete
        access.delete_report(session, actor=people["dina"], report_id=report_id)
    session.rollback()
    access.delete_report(session, actor=people["ann"], report_id=report_id)
    session.commit()
    assert access.list_reports(session, actor=people["admin"]) == []


def test_download_route(session: Session, people) -> None:  # type: ignore[no-untyped-def]
    report_id = people["report"]
    client = TestClient(build_api())
    url = f"/api/reports/{report_id}/file/xlsx"

    def fetch(user: str, token_for: str, fmt: str = "xlsx", now: float | None = None) -> Any:
        token = access.download_token(
            session, actor=people[token_for], report_id=report_id, fmt=fmt, now=now
        )
        client.cookies.set(sessions.COOKIE_NAME, _token(session, people[user]))
        return client.get(f"/api/reports/{report_id}/file/{fmt}", params={"token": token})

    ok = fetch("ann", "ann")
    assert ok.status_code == 200 and ok.content[:2] == b"PK"
    assert "attachment" in ok.headers["content-disposition"]
    assert fetch("dina", "dina", "pdf").content[:4] == b"%PDF"  # the director of Ann's team
    assert fetch("bob", "ann").status_code == 404  # Ann's token in Bob's browser
    assert fetch("ann", "ann", now=0).status_code == 404  # long expired
    client.cookies.clear()
    token = access.download_token(session, actor=people["ann"], report_id=report_id, fmt="xlsx")
    assert client.get(url, params={"token": token}).status_code == 404  # signed out
    client.cookies.set(sessions.COOKIE_NAME, _token(session, people["ann"]))
    assert client.get(url, params={"token": token + "0"}).status_code == 404  # forged
    assert client.get(url).status_code == 404


def _state(token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(ReportsState.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


async def test_ui_crafted_events_cannot_reach_another_users_report(
    session: Session, people
) -> None:  # type: ignore[no-untyped-def]
    report_id = people["report"]
    bob = _state(_token(session, people["bob"]))
    await bob.load()
    assert bob.loaded and bob.history == []
    assert await bob.download(str(report_id), "xlsx") is None
    assert bob.history_error == access.NOT_FOUND
    await bob.delete(report_id)
    assert bob.history_error == access.NOT_FOUND
    await bob.regenerate(str(report_id))
    assert bob.history_error == access.NOT_FOUND
    assert await bob.download("1; drop", "xlsx") is None and "Неверный" in bob.history_error
    dina = _state(_token(session, people["dina"]))
    await dina.load()
    assert [r["id"] for r in dina.history] == [str(report_id)]
    spec = await dina.download(str(report_id), "xlsx")
    assert spec is not None and f"/api/reports/{report_id}/file/xlsx?token=" in str(spec)
    ann = _state(_token(session, people["ann"]))
    await ann.load()
    assert [r["status"] for r in ann.history] == ["done"]
    assert {f["format"] for f in ann.history[0]["files"]} == {"xlsx", "pdf"}
