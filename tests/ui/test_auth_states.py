"""The account states under pytest (no browser): authorization inside every handler."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import reflex as rx
from sqlmodel import Session, select

from socstat.db import session_scope
from socstat.models.accounts import AuthSession, Role, User
from socstat.models.audit import AuditEvent
from socstat.models.base import utcnow
from socstat.services import accounts, sessions, twofactor
from socstat.services.authz import PermissionDenied
from socstat.services.system_settings import REQUIRE_2FA_ADMINS
from socstat.ui.auth import (
    AuthState,
    EnrolmentRequired,
    SignedOut,
    login_url,
    safe_next,
)
from socstat.ui.pages.admin import (
    AdminAuditState,
    AdminSettingsState,
    AdminTeamsState,
    AdminUsersState,
)
from socstat.ui.pages.dashboard.state import DashboardBlocks, DashboardState
from socstat.ui.pages.home import HomeState
from socstat.ui.pages.profile import ProfileState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"


# --- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "candidate",
    [
        "//evil.example/x",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example/profile",
        "/profile\nSet-Cookie: x",
        "/профиль",
        "/login?next=/admin",
        "/reset?token=x",
        "",
        None,
    ],
)
def test_safe_next_rejects_non_local_targets(candidate: Any) -> None:
    assert safe_next(candidate) == "/"


@pytest.mark.parametrize("candidate", ["/profile", "/admin?tab=users", "/", "/sources/12"])
def test_safe_next_keeps_local_paths(candidate: str) -> None:
    assert safe_next(candidate) == candidate


def test_login_url_carries_only_safe_next() -> None:
    assert login_url("/profile") == "/login?next=/profile"
    assert login_url("//evil.example") == "/login"
    assert login_url("/") == "/login"


# --- states ------------------------------------------------------------------------------


def _state(cls: type[AuthState], token: str = "") -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


def _user(session: Session, email: str, role: str = Role.ANALYST) -> User:
    return accounts.create_user_record(session, email=email, role=role, password=PASSWORD)


def _token(session: Session, user: User) -> str:
    return sessions.create_session(session, user=user).token


def _event(spec: Any) -> tuple[str, str]:
    """("redirect", path) or ("toast-error"|"toast-success"|"other", js)."""
    assert spec is not None
    if isinstance(spec, list):
        spec = spec[0]
    name = getattr(spec.handler.fn, "__qualname__", "")
    if name.endswith("_redirect"):
        return "redirect", spec.args[0][1]._var_value
    js = str(spec.args[0][1]._js_expr) if spec.args else ""
    js = js.encode().decode("unicode_escape")
    if "__toast" in js:
        return ("toast-error" if '"error"' in js else "toast-success"), js
    return "other", js


@pytest.fixture
def people(db) -> dict[str, Any]:
    with session_scope() as session:
        admin = _user(session, "admin@example.org", Role.ADMIN)
        analyst = _user(session, "analyst@example.org")
        other = _user(session, "other@example.org")
        other_session = sessions.create_session(session, user=other)
        return {
            "admin_id": admin.id,
            "analyst_id": analyst.id,
            "other_id": other.id,
            "admin": _token(session, admin),
            "analyst": _token(session, analyst),
            "other": other_session.token,
            "other_session_id": other_session.session_id,
        }


def _get_user(user_id: int) -> User:
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


async def test_as_actor_resolves_the_user_from_the_token(people) -> None:
    state = _state(HomeState, people["analyst"])
    email = await state._as_actor(lambda _s, user: user.email)
    assert email == "analyst@example.org"
    assert state.signed_in and state.user_role == Role.ANALYST
    assert state._user_id == people["analyst_id"]


async def test_as_actor_without_a_session_is_signed_out(people) -> None:
    for token in ("", "forged-token", people["analyst"] + "x"):
        state = _state(HomeState, token)
        with pytest.raises(SignedOut):
            await state._as_actor(lambda _s, user: user.id)
        assert not state.signed_in


async def test_as_actor_in_steps_hands_out_the_first_part_before_the_second_is_done(
    people,
) -> None:
    """One DB session and one resolved user for both parts; the first result arrives while
    the second is still running (it waits for the caller to have it)."""
    state = _state(HomeState, people["analyst"])
    received = threading.Event()

    def then(session: Session, user: User, first: str) -> tuple[str, bool, Session]:
        assert received.wait(10), "the first part was not handed out before the second ended"
        return f"{first}+{user.id}", session.in_transaction(), session

    seen: list[Session] = []
    first, later = await state._as_actor_in_steps(
        lambda session, user: seen.append(session) or user.email, then
    )
    assert first == "analyst@example.org" and state.signed_in
    received.set()
    second, in_transaction, session = await later
    assert second == f"analyst@example.org+{people['analyst_id']}"
    assert in_transaction and session is seen[0]


async def test_as_actor_in_steps_refuses_like_as_actor(people) -> None:
    state = _state(HomeState, "forged-token")
    with pytest.raises(SignedOut):
        await state._as_actor_in_steps(lambda _s, user: user.id, lambda _s, _u, first: first)
    assert not state.signed_in

    def refused(_session: Session, _user: User) -> int:
        raise PermissionDenied("нельзя")

    state = _state(HomeState, people["analyst"])
    with pytest.raises(PermissionDenied, match="нельзя"):
        await state._as_actor_in_steps(refused, lambda _s, _u, first: first)

    def later_refused(_session: Session, _user: User, _first: int) -> int:
        raise PermissionDenied("потом нельзя")

    first, later = await state._as_actor_in_steps(lambda _s, user: user.id, later_refused)
    assert first == people["analyst_id"]
    with pytest.raises(PermissionDenied, match="потом нельзя"):
        await later


async def test_blocked_users_open_session_stops_at_the_next_action(people) -> None:
    state = _state(ProfileState, people["analyst"])
    await state._as_actor(lambda _s, user: user.id)
    with session_scope() as session:
        user = session.get(User, people["analyst_id"])
        user.blocked_at = user.created_at
        session.add(user)
    kind, path = _event(await state.load())
    assert (kind, path) == ("redirect", "/login")
    assert not state.signed_in


async def test_admin_handlers_refuse_an_analyst(people) -> None:
    users = _state(AdminUsersState, people["analyst"])
    assert await users.guard() is None  # the page guard: signed in, not an admin
    assert not users.is_admin
    assert await users.load() is None  # nothing loads for a non-admin
    assert users.users == []
    assert _event(await users._reload())[0] == "toast-error"  # and the service refuses anyway
    assert users.users == []
    assert _event(await users.block(str(people["other_id"])))[0] == "toast-error"
    assert _get_user(people["other_id"]).blocked_at is None
    assert _event(await users.change_role(str(people["analyst_id"]), Role.ADMIN))[0] == (
        "toast-error"
    )
    assert _get_user(people["analyst_id"]).role == Role.ANALYST
    assert _event(await users.add_user({"new_email": "x@example.org"}))[0] == "toast-error"

    teams = _state(AdminTeamsState, people["analyst"])
    assert _event(await teams.create_team({"team_name": "Хакеры"}))[0] == "toast-error"

    settings = _state(AdminSettingsState, people["analyst"])
    assert _event(await settings.set_require_2fa(True))[0] == "toast-error"
    refused = [e for e in await _drain(settings.add_token({"vk_token": "a" * 40})) if e]
    assert [_event(e)[0] for e in refused] == ["toast-error"]
    assert settings.tokens == []

    audit = _state(AdminAuditState, people["analyst"])
    assert _event(await audit._reload())[0] == "toast-error"
    assert audit.events == []


async def test_admin_handlers_signed_out_go_to_login(people) -> None:
    users = _state(AdminUsersState, "")
    kind, path = _event(await users.block(str(people["other_id"])))
    assert kind == "redirect" and path.startswith("/login")
    assert _get_user(people["other_id"]).blocked_at is None


async def test_admin_handlers_work_for_an_admin(people) -> None:
    users = _state(AdminUsersState, people["admin"])
    assert await users.guard() is None
    assert await users.load() is None
    assert {u["email"] for u in users.users} >= {"analyst@example.org", "other@example.org"}
    assert _event(await users.block(str(people["other_id"])))[0] == "toast-success"
    assert _get_user(people["other_id"]).blocked_at is not None
    with session_scope() as session:
        assert sessions.resolve_session(session, token=people["other"]) is None
    assert _event(await users.block("not-a-number"))[0] == "toast-error"
    assert _event(await users.block(str(people["admin_id"])))[0] == "toast-error"  # not oneself


async def test_demoted_admin_loses_access_at_the_next_action(people) -> None:
    users = _state(AdminUsersState, people["admin"])
    assert await users.guard() is None
    assert await users.load() is None
    assert users.users
    with session_scope() as session:
        admin = session.get(User, people["admin_id"])
        admin.role = Role.ANALYST
        session.add(admin)
    assert _event(await users.block(str(people["other_id"])))[0] == "toast-error"
    assert _get_user(people["other_id"]).blocked_at is None


async def test_profile_cannot_revoke_another_users_session(people) -> None:
    state = _state(ProfileState, people["analyst"])
    kind, js = _event(await state.revoke_session(str(people["other_session_id"])))
    assert kind == "toast-error" and "Сеанс не найден" in js
    with session_scope() as session:
        row = session.get(AuthSession, people["other_session_id"])
        assert row is not None and row.revoked_at is None


async def test_profile_lists_only_own_sessions(people) -> None:
    state = _state(ProfileState, people["analyst"])
    assert await state.load() is None
    assert state.profile["email"] == "analyst@example.org"
    assert [s["current"] for s in state.active_sessions] == ["yes"]


async def _drain(handler: Any) -> list[Any]:
    return [event async for event in handler]


async def test_profile_regenerates_recovery_codes_with_a_current_code(people) -> None:
    with session_scope() as session:
        user = session.get(User, people["analyst_id"])
        enrolment = twofactor.begin_enrolment(session, user=user)
        earlier = utcnow() - timedelta(minutes=5)
        old_codes = twofactor.confirm_enrolment(
            session,
            user=user,
            code=pyotp.TOTP(enrolment.secret).at(earlier),
            now=earlier,
            current_token=people["analyst"],
        )
    state = _state(ProfileState, people["analyst"])
    await _drain(state.regenerate_recovery_codes({"regenerate_code": "000000"}))
    assert state.errors == {"regenerate_code": "Неверный код из приложения."}
    assert state.recovery_codes == []
    code = pyotp.TOTP(enrolment.secret).now()
    await _drain(state.regenerate_recovery_codes({"regenerate_code": code}))
    assert state.errors == {} and len(state.recovery_codes) == 10
    assert state.profile["recovery_left"] == "10"
    with session_scope() as session:
        user = session.get(User, people["analyst_id"])
        assert not twofactor.use_recovery_code(session, user=user, code=old_codes[0])
        assert twofactor.use_recovery_code(session, user=user, code=state.recovery_codes[0])
        actions = session.exec(select(AuditEvent.action)).all()
        assert "auth.recovery_codes_regenerated" in actions
    signed_out = _state(ProfileState, "")
    events = await _drain(signed_out.regenerate_recovery_codes({"regenerate_code": code}))
    assert _event(events[-1]) == ("redirect", "/login")


async def test_guard_redirects_signed_out_visitor_with_next(people) -> None:
    state = _state(AuthState, "")
    kind, path = _event(await state.guard())
    assert (kind, path) == ("redirect", "/login")
    state = _state(AuthState, people["analyst"])
    assert await state.guard() is None
    assert state.signed_in


async def test_admin_without_2fa_must_enrol_when_required(people) -> None:
    with session_scope() as session:
        from socstat.models.system import SystemSetting

        session.add(SystemSetting(key=REQUIRE_2FA_ADMINS, value=True))
    state = _state(AdminUsersState, people["admin"])
    with pytest.raises(EnrolmentRequired):
        await state._as_actor(lambda _s, user: user.id)
    kind, path = _event(await state.guard())
    assert (kind, path) == ("redirect", "/profile?enrol=1")
    kind, path = _event(await state._reload())
    assert (kind, path) == ("redirect", "/profile?enrol=1")
    profile = _state(ProfileState, people["admin"])
    assert await profile.load() is None  # the profile page stays usable for enrolment
    assert profile.must_enrol
    guard = _state(AuthState, people["admin"])
    assert _event(await guard.guard()) == ("redirect", "/profile?enrol=1")


def test_throttle_message_names_the_time() -> None:
    from socstat.ui.pages.login import throttle_message

    message = throttle_message("Слишком много попыток. Повторите через 15 мин.", 900)
    assert message.startswith("Слишком много попыток.")
    assert re.search(r"доступен в \d\d:\d\d\.$", message)
    assert throttle_message("Неверный пароль.", None) == "Неверный пароль."


def test_registration_errors_are_inline() -> None:
    from socstat.ui.pages.register import registration_errors

    errors = registration_errors("not-an-email", "short", "other")
    assert set(errors) == {"email", "password", "confirm"}
    assert registration_errors("a@example.org", PASSWORD, PASSWORD) == {}


async def test_login_state_signs_in_and_refuses_wrong_password(people) -> None:
    from socstat.ui.pages.login import LoginState

    state = _state(LoginState)
    events = [
        e
        async for e in state.submit_credentials(
            {"email": "analyst@example.org", "password": "nope"}
        )
    ]
    assert state.error == accounts.MSG_BAD_CREDENTIALS
    events = [
        e
        async for e in state.submit_credentials(
            {"email": "analyst@example.org", "password": PASSWORD}
        )
    ]
    # the browser is sent (full page load) to the backend route that sets the cookie
    kind, script = _event(events[-1])
    ticket = re.search(r"/api/auth/complete\?ticket=([\w\-]+)&next=%2F", script)
    assert kind == "other" and ticket, script
    with session_scope() as session:
        issued = sessions.redeem_login_ticket(session, ticket=ticket.group(1))
        assert issued is not None
        assert sessions.resolve_session(session, token=issued.token).email == "analyst@example.org"
    # nothing client-visible holds the session token
    assert issued.token not in json.dumps(state.dict(), default=str)


async def test_dashboard_counts_only_the_users_own_sources(people) -> None:
    from socstat.models import Source, Subscription

    with session_scope() as session:
        mine, theirs = Source(external_id="h1", name="Моё"), Source(external_id="h2")
        session.add_all([mine, theirs])
        session.flush()
        session.add(Subscription(user_id=people["analyst_id"], source_id=mine.id))
        other = _user(session, "someone-else@example.org")
        session.add(Subscription(user_id=other.id, source_id=theirs.id))
        theirs_id = theirs.id
    state = _state(DashboardState, people["analyst"])
    blocks = state.get_substate([DashboardBlocks.get_name()])
    [_ async for _ in state.load()]
    assert [r["name"] for r in blocks.table] == ["Моё"]
    posts = next(k for k in state.kpis if k["metric"] == "posts")
    assert posts["raw"] == "" and posts["value"] == "—"  # never collected: unknown, not 0
    assert "Данных за период нет" in blocks.history_note
    # a crafted event for someone else's source is refused and the filter dropped
    [_ async for _ in state.toggle_source(str(theirs_id))]
    assert state.selected_sources == [] and "Нет доступа к источнику" in state.messages[0]
    assert [r["name"] for r in blocks.table] == ["Моё"]
    home = _state(HomeState, people["analyst"])
    assert _event(home.load()) == ("redirect", "/dashboard")


async def test_profile_errors_go_under_the_field_the_service_names(people) -> None:
    """Errors are routed by the service's ``field`` (never by reading the message)."""
    state = _state(ProfileState, people["analyst"])
    await state.load()
    wrong = {"current_password": "Wrong-Password-1", "new_password": "Fresh-Pass-9x#",
             "confirm_password": "Fresh-Pass-9x#"}  # fmt: skip
    await _drain(state.change_password(wrong))
    assert state.errors == {"current_password": "Текущий пароль указан неверно."}
    assert state.saving == ""
    same = {"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD}
    await _drain(state.change_password(same))
    assert state.errors == {"new_password": "Новый пароль совпадает с текущим."}
    await _drain(state.disable_2fa({"disable_password": "", "disable_code": ""}))
    assert set(state.errors) == {"disable_password", "disable_code"}
    await _drain(state.disable_2fa({"disable_password": PASSWORD, "disable_code": "123456"}))
    assert state.errors == {"disable": "Двухфакторная защита не включена."}  # no field: the form


async def test_profile_saves_a_searched_time_zone(people) -> None:
    state = _state(ProfileState, people["analyst"])
    await state.load()
    state.set_timezone_query("владивосток")
    assert [o["id"] for o in state.timezone_options] == ["default", "Asia/Vladivostok"]
    state.set_timezone_choice("Mars/Base")
    assert state.timezone_choice == "default"
    state.set_timezone_choice("Asia/Vladivostok")
    await _drain(state.save_profile({"name": "Анна"}))
    assert state.errors == {} and state.profile["timezone"] == "Asia/Vladivostok"
    assert state.timezone_label == "Владивосток (UTC+10)"


async def test_admin_settings_errors_go_under_their_fields(people) -> None:
    settings = _state(AdminSettingsState, people["admin"])
    await _drain(settings.add_token({"vk_token": "short"}))
    assert settings.errors == {"vk_token": "Токен выглядит неверно."}
    smtp = {"smtp_host": "smtp.example.org", "smtp_port": "99999", "smtp_from": "a@example.org"}
    await _drain(settings.save_smtp(smtp))
    assert settings.errors == {"smtp_port": "Порт должен быть числом от 1 до 65535."}
    await _drain(settings.save_smtp({**smtp, "smtp_port": "587", "smtp_from": "nobody"}))
    assert settings.errors == {"smtp_from": "Укажите адрес отправителя."}
    await _drain(settings.save_interval({"interval": "0"}))
    assert settings.errors == {"interval": "Интервал сбора должен быть от 1 до 744 часов."}
    await _drain(settings.save_interval({"interval": "1,5"}))
    assert settings.errors == {} and settings.interval == "1,5" and settings.saving == ""
