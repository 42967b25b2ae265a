"""Профиль: name, time zone, email address, password, two-factor sign-in, sessions."""

from __future__ import annotations

import base64
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services import accounts, sessions, twofactor
from socstat.services.authz import PermissionDenied
from socstat.services.throttle import Throttled
from socstat.settings import get_settings
from socstat.ui.auth import SIGN_OUT_PATH, AuthState, navigate, protected
from socstat.ui.components.forms import (
    field,
    form,
    form_error,
    new_password_errors,
    new_password_fields,
    section,
    text_of,
)
from socstat.ui.components.layout import page_frame
from socstat.ui.format import format_moment
from socstat.ui.routing import page

DEFAULT_TZ = "default"
TIMEZONES: list[str] = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Baku",
    "Europe/Istanbul",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
]


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


def _profile_data(session: Session, user: User, token: str) -> dict[str, Any]:
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
                "created": format_moment(row["created_at"], user.timezone),
                "last_seen": format_moment(row["last_seen_at"], user.timezone),
                "current": "yes" if row["current"] else "",
            }
            for row in rows
        ],
    }


class ProfileState(AuthState):
    profile: dict[str, str] = {}
    active_sessions: list[dict[str, str]] = []
    loaded: bool = False
    timezone_choice: str = DEFAULT_TZ
    errors: dict[str, str] = {}
    saving: str = ""  # which form is being submitted
    enrol_qr: str = ""  # data: URI of the server-rendered SVG
    enrol_secret: str = ""
    recovery_codes: list[str] = []
    email_notice: str = ""  # the answer to the last email change request

    @rx.var
    def timezone_options(self) -> list[str]:
        return [DEFAULT_TZ, *TIMEZONES]

    @rx.var
    def totp_on(self) -> bool:
        return self.profile.get("totp_enabled", "") == "yes"

    @rx.var
    def must_enrol(self) -> bool:
        return self.profile.get("must_enrol", "") == "yes"

    @rx.var
    def pending_email(self) -> str:
        return self.profile.get("pending_email", "")

    async def _refresh(self) -> None:
        token = self._session_token()
        data = await self._as_actor(lambda s, u: _profile_data(s, u, token), allow_unenrolled=True)
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
        try:
            await self._refresh()
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    @rx.event
    def set_timezone_choice(self, value: str) -> None:
        self.timezone_choice = value if value in (DEFAULT_TZ, *TIMEZONES) else DEFAULT_TZ

    @rx.event
    async def save_profile(self, form: dict[str, Any]):
        name = text_of(form, "name", 200).strip()
        tz = self.timezone_choice
        tz_value = None if tz == DEFAULT_TZ else tz
        self.errors = {}
        self.saving = "profile"
        yield
        try:
            await self._as_actor(
                lambda s, u: accounts.update_profile(s, user=u, name=name, timezone=tz_value),
                allow_unenrolled=True,
            )
            await self._refresh()
            yield rx.toast.success("Профиль сохранён.")
        except accounts.AccountError as exc:
            self.errors = {"profile": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    async def change_password(self, form: dict[str, Any]):
        current = text_of(form, "current_password")
        new = text_of(form, "new_password")
        confirm = text_of(form, "confirm_password")
        errors = {f"new_{k}" if k == "password" else k: v for k, v in
                  new_password_errors(new, confirm, self.user_email).items()}  # fmt: skip
        if not current:
            errors["current"] = "Введите текущий пароль."
        self.errors = errors
        if errors:
            return
        self.saving = "password"
        yield
        token, ip = self._session_token(), self._client_ip()
        try:
            count = await self._as_actor(
                lambda s, u: accounts.change_password(
                    s,
                    user=u,
                    current_password=current,
                    new_password=new,
                    current_token=token,
                    ip=ip,
                ),
                allow_unenrolled=True,
            )
            await self._refresh()
            note = f" Завершено других сеансов: {count}." if count else ""
            yield rx.toast.success(f"Пароль изменён.{note}")
            yield rx.call_script("document.getElementById('password-form')?.reset()")
        except Throttled as exc:
            self.errors = {"current": str(exc)}
        except accounts.AccountError as exc:
            self.errors = (
                {"current": str(exc)} if "Текущий" in str(exc) else {"new_password": str(exc)}
            )
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    async def change_email(self, form: dict[str, Any]):
        """Request a move to a new address: a link goes there, a notice to the current one.
        The address changes only when the link is opened (/confirm-email)."""
        new_email = text_of(form, "new_email").strip()
        password = text_of(form, "email_password")
        errors: dict[str, str] = {}
        problem = accounts.new_email_problem(new_email, current_email=self.user_email)
        if problem:
            errors["new_email"] = problem
        if not password:
            errors["email_password"] = "Введите текущий пароль."
        self.errors = errors
        self.email_notice = ""
        if errors:
            return
        self.saving = "email"
        yield
        ip = self._client_ip()
        try:
            self.email_notice = await self._as_actor(
                lambda s, u: accounts.request_email_change(
                    s, user=u, new_email=new_email, current_password=password, ip=ip
                ),
                allow_unenrolled=True,
            )
            await self._refresh()
            yield rx.call_script("document.getElementById('email-form')?.reset()")
        except Throttled as exc:
            self.errors = {"email_password": str(exc)}
        except accounts.EmailChangeError as exc:
            self.errors = {exc.field: str(exc)}
        except accounts.AccountError as exc:
            self.errors = {"email": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

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
        self.errors = {}
        self.saving = "2fa"
        yield

        def _work(session: Session, user: User) -> tuple[str, str]:
            enrolment = twofactor.begin_enrolment(session, user=user)
            return enrolment.secret, enrolment.qr_svg

        try:
            secret, svg = await self._as_actor(_work, allow_unenrolled=True)
            self.enrol_secret = secret
            self.enrol_qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(
                "ascii"
            )
        except twofactor.TwoFactorError as exc:
            self.errors = {"2fa": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    def cancel_2fa(self) -> None:
        self.enrol_secret = ""
        self.enrol_qr = ""
        self.errors = {}

    @rx.event
    async def confirm_2fa(self, form: dict[str, Any]):
        code = text_of(form, "totp_code", 32).strip()
        if not code:
            self.errors = {"2fa": "Введите код из приложения."}
            return
        self.errors = {}
        self.saving = "2fa"
        yield
        ip, token = self._client_ip(), self._session_token()
        try:
            codes = await self._as_actor(
                lambda s, u: twofactor.confirm_enrolment(
                    s, user=u, code=code, ip=ip, current_token=token
                ),
                allow_unenrolled=True,
            )
            self.recovery_codes = codes
            self.enrol_secret = ""
            self.enrol_qr = ""
            await self._refresh()
            yield rx.toast.success("Двухфакторная защита включена.")
        except twofactor.TwoFactorError as exc:
            self.errors = {"2fa": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    def hide_recovery_codes(self) -> None:
        self.recovery_codes = []

    @rx.event
    async def regenerate_recovery_codes(self, form: dict[str, Any]):
        code = text_of(form, "regenerate_code", 32).strip()
        if not code:
            self.errors = {"regenerate": "Введите код из приложения."}
            return
        self.errors = {}
        self.saving = "regenerate"
        yield
        ip = self._client_ip()
        try:
            self.recovery_codes = await self._as_actor(
                lambda s, u: twofactor.regenerate_recovery_codes(s, user=u, code=code, ip=ip),
                allow_unenrolled=True,
            )
            await self._refresh()
            yield rx.toast.success("Выданы новые резервные коды; старые больше не действуют.")
        except (twofactor.TwoFactorError, Throttled) as exc:
            self.errors = {"regenerate": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    async def disable_2fa(self, form: dict[str, Any]):
        password = text_of(form, "disable_password")
        code = text_of(form, "disable_code", 32).strip()
        if not password or not code:
            self.errors = {"disable": "Введите пароль и код."}
            return
        self.errors = {}
        self.saving = "disable"
        yield
        ip = self._client_ip()
        try:
            await self._as_actor(
                lambda s, u: twofactor.disable(s, user=u, password=password, code=code, ip=ip),
                allow_unenrolled=True,
            )
            await self._refresh()
            yield rx.toast.success("Двухфакторная защита отключена.")
        except (twofactor.TwoFactorError, Throttled) as exc:
            self.errors = {"disable": str(exc)}
        except PermissionDenied as exc:
            yield self._denied(exc)
        finally:
            self.saving = ""

    @rx.event
    async def revoke_session(self, session_id: str | int) -> Any:
        try:
            target = int(session_id)
        except (TypeError, ValueError):
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


# --- view ----------------------------------------------------------------------------


def _error(key: str) -> rx.Component:
    return form_error(ProfileState.errors.get(key, ""), testid=f"profile-error-{key}")


def _save_button(label: str, key: str, testid: str, **props: Any) -> rx.Component:
    """A profile form's submit button; it spins while ``key`` is being saved."""
    return rx.button(
        label, type="submit", loading=ProfileState.saving == key, data_testid=testid, **props
    )


def _profile_section() -> rx.Component:
    return section(
        "Личные данные",
        form(
            rx.vstack(
                field(
                    "Имя",
                    "name",
                    default_value=ProfileState.profile["name"],
                    key=ProfileState.profile["name"],
                ),
                rx.vstack(
                    rx.text("Часовой пояс", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(width="100%", data_testid="tz-select"),
                        rx.select.content(
                            rx.foreach(
                                ProfileState.timezone_options,
                                lambda tz: rx.select.item(
                                    rx.cond(
                                        tz == DEFAULT_TZ,
                                        f"Как в системе ({get_settings().timezone})",
                                        tz,
                                    ),
                                    value=tz,
                                ),
                            )
                        ),
                        value=ProfileState.timezone_choice,
                        on_change=ProfileState.set_timezone_choice,
                    ),
                    spacing="1",
                    width="100%",
                ),
                _error("profile"),
                _save_button("Сохранить", "profile", "profile-save"),
                spacing="3",
                width="100%",
            ),
            on_submit=ProfileState.save_profile,
            width="100%",
        ),
    )


def _pending_email() -> rx.Component:
    return rx.cond(
        ProfileState.pending_email != "",
        rx.callout(
            rx.vstack(
                rx.text(
                    "Ожидает подтверждения: ",
                    rx.text.strong(ProfileState.pending_email),
                    ". Адрес изменится, когда вы откроете ссылку из письма на этот адрес.",
                ),
                rx.button(
                    "Отменить смену",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ProfileState.cancel_email_change,
                    data_testid="email-change-cancel",
                ),
                spacing="2",
            ),
            icon="mail",
            color_scheme="blue",
            width="100%",
            data_testid="email-pending",
        ),
    )


def _email_section() -> rx.Component:
    return section(
        "Электронная почта",
        rx.vstack(
            rx.text("Текущий адрес", size="2", weight="medium"),
            rx.text(ProfileState.profile["email"], data_testid="profile-email"),
            spacing="1",
        ),
        _pending_email(),
        rx.cond(
            ProfileState.email_notice != "",
            rx.callout(
                ProfileState.email_notice,
                icon="circle-check",
                color_scheme="green",
                width="100%",
                data_testid="email-change-sent",
            ),
        ),
        form(
            rx.vstack(
                rx.text("Сменить почту", size="3", weight="medium"),
                field(
                    "Новый адрес",
                    "new_email",
                    type_="email",
                    autocomplete="email",
                    placeholder="name@example.com",
                    error=ProfileState.errors.get("new_email", ""),
                ),
                field(
                    "Текущий пароль",
                    "email_password",
                    type_="password",
                    autocomplete="current-password",
                    error=ProfileState.errors.get("email_password", ""),
                ),
                _error("email"),
                rx.text(
                    "На новый адрес придёт письмо со ссылкой; адрес изменится, когда вы её "
                    "откроете. На текущий адрес придёт уведомление.",
                    size="1",
                    color_scheme="gray",
                ),
                _save_button("Сменить почту", "email", "email-change-submit"),
                spacing="3",
                width="100%",
            ),
            id="email-form",
            on_submit=ProfileState.change_email,
            width="100%",
        ),
        data_testid="email-section",
    )


def _password_section() -> rx.Component:
    return section(
        "Пароль",
        form(
            rx.vstack(
                field(
                    "Текущий пароль",
                    "current_password",
                    type_="password",
                    autocomplete="current-password",
                    error=ProfileState.errors.get("current", ""),
                ),
                new_password_fields(
                    ProfileState.errors,
                    label="Новый пароль",
                    name="new_password",
                    confirm_name="confirm_password",
                    error_key="new_password",
                ),
                rx.text(
                    "После смены пароля все остальные сеансы будут завершены.",
                    size="1",
                    color_scheme="gray",
                ),
                _save_button("Сменить пароль", "password", "password-save"),
                spacing="3",
                width="100%",
            ),
            id="password-form",
            on_submit=ProfileState.change_password,
            width="100%",
        ),
    )


def _recovery_codes() -> rx.Component:
    return rx.cond(
        ProfileState.recovery_codes.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text(
                    "Резервные коды — сохраните их сейчас, больше они не будут показаны. "
                    "Каждый код действует один раз.",
                    weight="medium",
                ),
                rx.grid(
                    rx.foreach(
                        ProfileState.recovery_codes,
                        lambda code: rx.code(code, size="3", data_testid="recovery-code"),
                    ),
                    columns="2",
                    spacing="2",
                ),
                rx.button(
                    "Я сохранил коды",
                    variant="soft",
                    on_click=ProfileState.hide_recovery_codes,
                    data_testid="recovery-done",
                ),
                spacing="2",
            ),
            icon="key-round",
            color_scheme="amber",
            width="100%",
            data_testid="recovery-codes",
        ),
    )


def _enrol_block() -> rx.Component:
    return rx.cond(
        ProfileState.enrol_secret != "",
        rx.vstack(
            rx.text(
                "Отсканируйте QR-код приложением-аутентификатором (Яндекс Ключ, Google "
                "Authenticator и т. п.) или введите секрет вручную, затем введите код.",
                size="2",
            ),
            rx.image(
                src=ProfileState.enrol_qr,
                alt="QR-код для приложения-аутентификатора",
                width="200px",
                height="200px",
                background="white",
                data_testid="totp-qr",
            ),
            rx.hstack(
                rx.text("Секрет:", size="2"),
                rx.code(
                    ProfileState.enrol_secret, data_testid="totp-secret", word_break="break-all"
                ),
                wrap="wrap",
            ),
            form(
                rx.vstack(
                    field("Код из приложения", "totp_code", autocomplete="one-time-code"),
                    _error("2fa"),
                    rx.hstack(
                        _save_button("Включить", "2fa", "totp-confirm"),
                        rx.button(
                            "Отмена",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=ProfileState.cancel_2fa,
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=ProfileState.confirm_2fa,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            rx.text("Двухфакторная защита выключена.", size="2", data_testid="totp-off"),
            _error("2fa"),
            rx.button(
                "Включить двухфакторную защиту",
                on_click=ProfileState.begin_2fa,
                loading=ProfileState.saving == "2fa",
                data_testid="totp-begin",
            ),
            spacing="3",
        ),
    )


def _disable_block() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge("Включена", color_scheme="green", data_testid="totp-on"),
            rx.text("Осталось резервных кодов: ", ProfileState.profile["recovery_left"], size="2"),
            wrap="wrap",
        ),
        form(
            rx.vstack(
                rx.text("Чтобы отключить, введите пароль и код.", size="2"),
                field(
                    "Пароль",
                    "disable_password",
                    type_="password",
                    autocomplete="current-password",
                ),
                field("Код из приложения или резервный код", "disable_code"),
                _error("disable"),
                _save_button(
                    "Отключить", "disable", "totp-disable", color_scheme="red", variant="soft"
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=ProfileState.disable_2fa,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _regenerate_block() -> rx.Component:
    return form(
        rx.vstack(
            rx.text(
                "Новые резервные коды: старые перестанут действовать. Введите код из приложения.",
                size="2",
            ),
            field("Код из приложения", "regenerate_code", autocomplete="one-time-code"),
            _error("regenerate"),
            _save_button("Выдать новые коды", "regenerate", "recovery-regenerate", variant="soft"),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.regenerate_recovery_codes,
        reset_on_submit=True,
        width="100%",
    )


def _two_factor_section() -> rx.Component:
    return section(
        "Двухфакторная защита",
        rx.cond(
            ProfileState.must_enrol,
            rx.callout(
                "Администраторам необходимо включить двухфакторную защиту, прежде чем "
                "продолжить работу.",
                icon="shield-alert",
                color_scheme="amber",
                width="100%",
                data_testid="must-enrol",
            ),
        ),
        _recovery_codes(),
        rx.cond(
            ProfileState.totp_on,
            rx.vstack(_disable_block(), rx.divider(), _regenerate_block(), width="100%"),
            _enrol_block(),
        ),
        data_testid="twofactor-section",
    )


def _session_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.text(row["device"], weight="medium"),
                    rx.cond(row["current"] == "yes", rx.badge("Этот сеанс", color_scheme="green")),
                    wrap="wrap",
                ),
                rx.text(
                    "IP ",
                    row["ip"],
                    " · вход ",
                    row["created"],
                    " · активность ",
                    row["last_seen"],
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                row["current"] == "yes",
                rx.fragment(),
                rx.button(
                    "Завершить",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=ProfileState.revoke_session(row["id"]),
                    data_testid="session-revoke",
                ),
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            gap="2",
            width="100%",
        ),
        width="100%",
    )


def _sessions_section() -> rx.Component:
    return section(
        "Активные сеансы",
        rx.vstack(
            rx.foreach(ProfileState.active_sessions, _session_row),
            spacing="2",
            width="100%",
            data_testid="sessions-list",
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    "Выйти на всех устройствах",
                    color_scheme="red",
                    variant="outline",
                    data_testid="sign-out-all",
                )
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Выйти на всех устройствах?"),
                rx.alert_dialog.description(
                    "Все сеансы, включая этот, будут завершены. Потребуется войти заново."
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button("Отмена", variant="soft", color_scheme="gray")
                    ),
                    rx.alert_dialog.action(
                        rx.button(
                            "Выйти везде",
                            color_scheme="red",
                            on_click=ProfileState.sign_out_everywhere,
                            data_testid="sign-out-all-confirm",
                        )
                    ),
                    justify="end",
                    spacing="3",
                    margin_top="16px",
                ),
            ),
        ),
    )


@page(route="/profile", title="Профиль — socstat", on_load=protected(ProfileState.load))
def profile_page() -> rx.Component:
    return page_frame(
        "Профиль",
        rx.cond(
            ProfileState.loaded,
            rx.vstack(
                # an admin who must enrol sees 2FA first; everyone else sees their data first
                rx.cond(ProfileState.must_enrol, _two_factor_section()),
                _profile_section(),
                _email_section(),
                _password_section(),
                rx.cond(~ProfileState.must_enrol, _two_factor_section()),
                _sessions_section(),
                spacing="4",
                width="100%",
                max_width="720px",
            ),
            rx.hstack(rx.spinner(), rx.text("Загрузка…")),
        ),
    )
