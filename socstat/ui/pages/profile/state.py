"""The profile page's state: one handler per form, each run through ``form_action``."""

from __future__ import annotations

import base64
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat import formatting
from socstat.models.accounts import User
from socstat.services import accounts, sessions, twofactor
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import SIGN_OUT_PATH, AuthState, navigate
from socstat.ui.components.forms import form_action, new_password_errors, text_of
from socstat.ui.viewmodels import parse_id

DEFAULT_TZ = "default"
ENTER_CODE = "Введите код из приложения."


def _describe_agent(agent: str) -> str:
    for name in ("Edg", "OPR", "YaBrowser", "Firefox", "Chrome", "Safari"):
        if name in agent:
            label = {"Edg": "Edge", "OPR": "Opera", "YaBrowser": "Яндекс Браузер"}.get(name, name)
            break
    else:
        label = "Браузер"
    for system in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"):
        if system in agent:
            return f"{label}, {system}"
    return label


def profile_data(session: Session, user: User, token: str) -> dict[str, Any]:
    """What the page shows of ``user`` (strings only)."""
    rows = sessions.list_active_sessions(session, user=user, current_token=token)
    return {
        "profile": {
            "email": user.email,
            "pending_email": accounts.pending_email_change(session, user=user) or "",
            "name": user.name,
            "timezone": user.timezone or DEFAULT_TZ,
            "totp_enabled": "yes" if user.totp_enabled else "",
            "recovery_left": str(twofactor.recovery_codes_left(session, user=user))
            if user.totp_enabled
            else "",
            "must_enrol": "yes" if twofactor.needs_2fa_enrolment(session, user) else "",
        },
        "sessions": [
            {
                "id": str(row["id"]),
                "device": _describe_agent(row["user_agent"] or ""),
                "ip": row["ip"] or "—",
                "created": formatting.moment(row["created_at"], user.timezone),
                "last_seen": formatting.moment(row["last_seen_at"], user.timezone),
                "current": "yes" if row["current"] else "",
            }
            for row in rows
        ],
    }


def timezone_options(query: str, chosen: str) -> list[dict[str, str]]:
    """The picker's options matching ``query``: the system default first, and the chosen
    zone always (so the select never shows an empty value)."""
    system = formatting.timezone_label(formatting.zone(None).key)
    options = [{"id": DEFAULT_TZ, "label": f"Как в системе — {system}"}]
    matches = formatting.timezone_choices(query)
    if chosen != DEFAULT_TZ and all(name != chosen for name, _ in matches):
        options.append({"id": chosen, "label": formatting.timezone_label(chosen)})
    options += [{"id": name, "label": label} for name, label in matches]
    return options


class ProfileState(AuthState):
    profile: dict[str, str] = {}
    active_sessions: list[dict[str, str]] = []
    loaded: bool = False
    timezone_choice: str = DEFAULT_TZ
    timezone_query: str = ""
    errors: dict[str, str] = {}
    saving: str = ""  # which form is being submitted
    enrol_qr: str = ""  # data: URI of the server-rendered SVG
    enrol_secret: str = ""
    recovery_codes: list[str] = []
    email_notice: str = ""  # the answer to the last email change request

    @rx.var
    def timezone_options(self) -> list[dict[str, str]]:
        return timezone_options(self.timezone_query, self.timezone_choice)

    @rx.var
    def timezone_label(self) -> str:
        if self.timezone_choice == DEFAULT_TZ:
            return "как в системе"
        return formatting.timezone_label(self.timezone_choice)

    @rx.var
    def totp_on(self) -> bool:
        return self.profile.get("totp_enabled", "") == "yes"

    @rx.var
    def must_enrol(self) -> bool:
        return self.profile.get("must_enrol", "") == "yes"

    @rx.var
    def pending_email(self) -> str:
        return self.profile.get("pending_email", "")

    async def _refresh(self, _result: Any = None) -> None:
        token = self._session_token()
        data = await self._as_actor(lambda s, u: profile_data(s, u, token), allow_unenrolled=True)
        self.profile = data["profile"]
        self.active_sessions = data["sessions"]
        self.timezone_choice = self.profile.get("timezone", DEFAULT_TZ)
        self.loaded = True

    @rx.event
    async def load(self) -> Any:
        self.errors = {}
        self.saving = ""
        self.recovery_codes = []
        self.enrol_qr = ""
        self.enrol_secret = ""
        self.email_notice = ""
        self.timezone_query = ""
        try:
            await self._refresh()
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    @rx.event
    def set_timezone_query(self, value: str) -> None:
        self.timezone_query = value[:64] if isinstance(value, str) else ""

    @rx.event
    def set_timezone_choice(self, value: str) -> None:
        valid = isinstance(value, str) and formatting.is_timezone_choice(value)
        self.timezone_choice = value if valid else DEFAULT_TZ

    @rx.event
    async def save_profile(self, form: dict[str, Any]):
        name = text_of(form, "name", 200).strip()
        tz = None if self.timezone_choice == DEFAULT_TZ else self.timezone_choice
        async for event in form_action(
            self,
            "profile",
            lambda s, u: accounts.update_profile(s, user=u, name=name, timezone=tz),
            after=self._refresh,
            success="Профиль сохранён.",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    async def change_password(self, form: dict[str, Any]):
        current = text_of(form, "current_password")
        new = text_of(form, "new_password")
        confirm = text_of(form, "confirm_password")
        invalid = {f"new_{k}" if k == "password" else k: v for k, v in
                   new_password_errors(new, confirm, self.user_email).items()}  # fmt: skip
        if not current:
            invalid["current_password"] = "Введите текущий пароль."
        token, ip = self._session_token(), self._client_ip()
        async for event in form_action(
            self,
            "password",
            lambda s, u: accounts.change_password(
                s, user=u, current_password=current, new_password=new, current_token=token, ip=ip
            ),
            invalid=invalid,
            after=self._refresh,
            success=lambda count: (
                "Пароль изменён." + (f" Завершено других сеансов: {count}." if count else "")
            ),
            reset="password-form",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    async def change_email(self, form: dict[str, Any]):
        """Request a move to a new address: a link goes there, a notice to the current one.
        The address changes only when the link is opened (/confirm-email)."""
        new_email = text_of(form, "new_email").strip()
        password = text_of(form, "email_password")
        invalid: dict[str, str] = {}
        problem = accounts.new_email_problem(new_email, current_email=self.user_email)
        if problem:
            invalid["new_email"] = problem
        if not password:
            invalid["email_password"] = "Введите текущий пароль."
        self.email_notice = ""
        ip = self._client_ip()

        async def _after(notice: str) -> None:
            self.email_notice = notice
            await self._refresh()

        async for event in form_action(
            self,
            "email",
            lambda s, u: accounts.request_email_change(
                s, user=u, new_email=new_email, current_password=password, ip=ip
            ),
            invalid=invalid,
            fields={"current_password": "email_password"},
            after=_after,
            reset="email-form",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    async def cancel_email_change(self) -> Any:
        ip = self._client_ip()
        try:
            cancelled = await self._as_actor(
                lambda s, u: accounts.cancel_email_change(s, user=u, ip=ip),
                allow_unenrolled=True,
            )
            await self._refresh()
        except PermissionDenied as exc:
            return self._denied(exc)
        self.email_notice = ""
        if not cancelled:
            return rx.toast.info("Запросов на смену адреса нет.")
        return rx.toast.success("Смена адреса отменена; ссылка из письма больше не действует.")

    @rx.event
    async def begin_2fa(self):
        def _work(session: Session, user: User) -> twofactor.TotpEnrolment:
            return twofactor.begin_enrolment(session, user=user)

        async def _after(enrolment: twofactor.TotpEnrolment) -> None:
            self.enrol_secret = enrolment.secret
            svg = base64.b64encode(enrolment.qr_svg.encode()).decode("ascii")
            self.enrol_qr = "data:image/svg+xml;base64," + svg

        async for event in form_action(self, "2fa", _work, after=_after, allow_unenrolled=True):
            yield event

    @rx.event
    def cancel_2fa(self) -> None:
        self.enrol_secret = ""
        self.enrol_qr = ""
        self.errors = {}

    @rx.event
    async def confirm_2fa(self, form: dict[str, Any]):
        code = text_of(form, "totp_code", 32).strip()
        ip, token = self._client_ip(), self._session_token()

        async def _after(codes: list[str]) -> None:
            self.recovery_codes = codes
            self.enrol_secret = ""
            self.enrol_qr = ""
            await self._refresh()

        async for event in form_action(
            self,
            "2fa",
            lambda s, u: twofactor.confirm_enrolment(
                s, user=u, code=code, ip=ip, current_token=token
            ),
            invalid={} if code else {"totp_code": ENTER_CODE},
            fields={"code": "totp_code"},
            after=_after,
            success="Двухфакторная защита включена.",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    def hide_recovery_codes(self) -> None:
        self.recovery_codes = []

    @rx.event
    async def regenerate_recovery_codes(self, form: dict[str, Any]):
        code = text_of(form, "regenerate_code", 32).strip()
        ip = self._client_ip()

        async def _after(codes: list[str]) -> None:
            self.recovery_codes = codes
            await self._refresh()

        async for event in form_action(
            self,
            "regenerate",
            lambda s, u: twofactor.regenerate_recovery_codes(s, user=u, code=code, ip=ip),
            invalid={} if code else {"regenerate_code": ENTER_CODE},
            fields={"code": "regenerate_code"},
            after=_after,
            success="Выданы новые резервные коды; старые больше не действуют.",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    async def disable_2fa(self, form: dict[str, Any]):
        password = text_of(form, "disable_password")
        code = text_of(form, "disable_code", 32).strip()
        invalid = {}
        if not password:
            invalid["disable_password"] = "Введите пароль."
        if not code:
            invalid["disable_code"] = "Введите код."
        ip = self._client_ip()
        async for event in form_action(
            self,
            "disable",
            lambda s, u: twofactor.disable(s, user=u, password=password, code=code, ip=ip),
            invalid=invalid,
            fields={"password": "disable_password", "code": "disable_code"},
            after=self._refresh,
            success="Двухфакторная защита отключена.",
            allow_unenrolled=True,
        ):
            yield event

    @rx.event
    async def revoke_session(self, session_id: str | int) -> Any:
        target = parse_id(session_id)
        if target is None:
            return rx.toast.error("Сеанс не найден.")
        ip = self._client_ip()
        try:
            await self._as_actor(
                lambda s, u: accounts.revoke_my_session(s, user=u, session_id=target, ip=ip),
                allow_unenrolled=True,
            )
            await self._refresh()
        except accounts.AccountError as exc:
            return rx.toast.error(str(exc))
        except PermissionDenied as exc:
            return self._denied(exc)
        return rx.toast.success("Сеанс завершён.")

    @rx.event
    async def sign_out_everywhere(self) -> Any:
        ip = self._client_ip()
        try:
            await self._as_actor(
                lambda s, u: accounts.sign_out_everywhere(s, user=u, ip=ip),
                allow_unenrolled=True,
            )
        except PermissionDenied as exc:
            return self._denied(exc)
        self._forget_session()
        return navigate(SIGN_OUT_PATH)
