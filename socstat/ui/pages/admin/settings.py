"""The "Настройки" tab: collection interval, access switches, VK tokens, SMTP."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services import delivery, system_settings
from socstat.ui.auth import AuthState
from socstat.ui.components.controls import static_select
from socstat.ui.components.forms import form, section, text_of
from socstat.ui.format import format_moment
from socstat.ui.pages.admin.common import admin_call, admin_change, parse_id


def _token_row(token: dict[str, Any], tz: str | None) -> dict[str, Any]:
    return {
        "id": str(token["id"]),
        "label": token["label"] or "—",
        "kind": token["kind"],
        "masked": token["masked"],
        "invalid": token["invalid"],
        "invalid_reason": token["invalid_reason"] or "",
        "unreadable": token["unreadable"],
        "created": format_moment(token["created_at"], tz),
    }


class AdminSettingsState(AuthState):
    interval: str = ""
    self_registration: bool = True
    require_2fa: bool = False
    smtp: dict[str, Any] = {}
    tokens: list[dict[str, Any]] = []
    token_kind: str = "user"
    sending: bool = False

    async def _reload(self) -> Any:
        def _work(session: Session, actor: User) -> dict[str, Any]:
            view = system_settings.get_settings_view(session, actor=actor)
            tokens = system_settings.list_vk_tokens(session, actor=actor)
            return {"view": view, "tokens": [_token_row(t, actor.timezone) for t in tokens]}

        ok, result = await admin_call(self, _work)
        if not ok:
            return result
        view = result["view"]
        number = float(view[system_settings.COLLECT_INTERVAL])
        self.interval = f"{number:g}"
        self.self_registration = bool(view[system_settings.SELF_REGISTRATION])
        self.require_2fa = bool(view[system_settings.REQUIRE_2FA_ADMINS])
        smtp = dict(view[system_settings.SMTP])
        smtp["port"] = str(smtp.get("port", ""))
        smtp["security"] = (
            "ssl" if smtp.get("ssl") else "starttls" if smtp.get("starttls") else "none"
        )
        self.smtp = smtp
        self.tokens = result["tokens"]
        return None

    @rx.event
    async def load(self) -> Any:
        if not self.is_admin:
            return None
        return await self._reload()

    async def _set(self, key: str, value: Any, message: str) -> Any:
        """Store one setting; reload even on refusal so the controls show the stored value."""
        ip = self._client_ip()
        ok, result = await admin_call(
            self, lambda s, a: system_settings.set_setting(s, actor=a, key=key, value=value, ip=ip)
        )
        failed = await self._reload()
        if not ok:
            return result
        return failed or rx.toast.success(message)

    @rx.event
    async def save_interval(self, form: dict[str, Any]) -> Any:
        return await self._set(
            system_settings.COLLECT_INTERVAL,
            text_of(form, "interval", 32),
            "Интервал сбора сохранён.",
        )

    @rx.event
    async def set_self_registration(self, value: bool) -> Any:
        return await self._set(
            system_settings.SELF_REGISTRATION,
            bool(value),
            "Регистрация включена." if value else "Регистрация отключена.",
        )

    @rx.event
    async def set_require_2fa(self, value: bool) -> Any:
        return await self._set(
            system_settings.REQUIRE_2FA_ADMINS,
            bool(value),
            "Настройка двухфакторной защиты сохранена.",
        )

    @rx.event
    def set_token_kind(self, value: str) -> None:
        self.token_kind = value if value in system_settings.TOKEN_KINDS else "user"

    @rx.event
    async def add_token(self, form: dict[str, Any]) -> Any:
        token = text_of(form, "vk_token", 2000)
        label = text_of(form, "vk_label", 200)
        kind = self.token_kind
        ip = self._client_ip()
        return await admin_change(
            self,
            lambda s, a: system_settings.add_vk_token(
                s, actor=a, token=token, kind=kind, label=label, ip=ip
            ),
            self._reload,
            [
                rx.toast.success("Токен добавлен."),
                rx.call_script("document.getElementById('vk-token-form')?.reset()"),
            ],
        )

    @rx.event
    async def remove_token(self, token_id: str) -> Any:
        target = parse_id(token_id)
        if target is None:
            return rx.toast.error("Токен не найден.")
        ip = self._client_ip()
        return await admin_change(
            self,
            lambda s, a: system_settings.remove_vk_token(s, actor=a, token_id=target, ip=ip),
            self._reload,
            rx.toast.success("Токен удалён."),
        )

    @rx.event
    async def save_smtp(self, form: dict[str, Any]) -> Any:
        host = text_of(form, "smtp_host", 255)
        port_text = text_of(form, "smtp_port", 8).strip() or "25"
        user = text_of(form, "smtp_user", 255)
        password = text_of(form, "smtp_password", 1000)
        from_addr = text_of(form, "smtp_from", 320)
        security = text_of(form, "smtp_security", 16)
        ip = self._client_ip()
        try:
            port = int(port_text)
        except ValueError:
            return rx.toast.error("Порт должен быть числом от 1 до 65535.")
        return await admin_change(
            self,
            lambda s, a: system_settings.set_smtp(
                s,
                actor=a,
                host=host,
                port=port,
                user=user,
                password=password or None,
                from_addr=from_addr,
                starttls=security == "starttls",
                ssl=security == "ssl",
                ip=ip,
            ),
            self._reload,
            rx.toast.success("Настройки почты сохранены."),
        )

    @rx.event
    async def clear_smtp(self) -> Any:
        ip = self._client_ip()
        return await admin_change(
            self,
            lambda s, a: system_settings.clear_smtp(s, actor=a, ip=ip),
            self._reload,
            rx.toast.success("Используются настройки окружения."),
        )

    @rx.event
    async def send_test(self, form: dict[str, Any]):
        to = text_of(form, "test_to", 320)
        ip = self._client_ip()
        self.sending = True
        yield
        ok, result = await admin_call(
            self, lambda s, a: delivery.send_test_email(s, actor=a, to=to, ip=ip)
        )
        self.sending = False
        yield rx.toast.success(result) if ok else result


# --- view ----------------------------------------------------------------------------

S = AdminSettingsState


def _token_row_view(token: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.code(token["masked"]),
        rx.text(token["label"], size="2"),
        rx.badge(token["kind"]),
        rx.cond(token["invalid"], rx.badge("недействителен", color_scheme="red")),
        rx.cond(
            token["unreadable"],
            rx.tooltip(
                rx.badge("не расшифровывается", color_scheme="red", data_testid="token-unreadable"),
                content="Ключ SOCSTAT_SECRET_KEY сменился: удалите токен и добавьте заново.",
            ),
        ),
        rx.spacer(),
        rx.button(
            "Удалить",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=S.remove_token(token["id"]),
        ),
        width="100%",
        wrap="wrap",
        align="center",
    )


def _switch(checked: rx.Var, on_change: Any, testid: str, label: str) -> rx.Component:
    return rx.hstack(
        rx.switch(checked=checked, on_change=on_change, data_testid=testid), rx.text(label)
    )


def _row(*children: rx.Component) -> rx.Component:
    """Form controls side by side, wrapping on narrow screens."""
    return rx.flex(*children, wrap="wrap", gap="2", width="100%")


def _smtp_input(key: str, **props: Any) -> rx.Component:
    """An SMTP field prefilled with the stored value (re-keyed when it changes)."""
    value = S.smtp[key].to(str)
    return rx.input(name=f"smtp_{key}", default_value=value, key=value, **props)


def _collection_section() -> rx.Component:
    return section(
        "Сбор данных",
        form(
            rx.hstack(
                rx.input(
                    name="interval",
                    default_value=S.interval,
                    key=S.interval,
                    width="100px",
                    aria_label="Интервал, часов",
                ),
                rx.text("часов между сборами", size="2"),
                rx.button("Сохранить", type="submit", variant="soft"),
                align="center",
                wrap="wrap",
            ),
            on_submit=S.save_interval,
        ),
    )


def _access_section() -> rx.Component:
    return section(
        "Доступ",
        _switch(
            S.self_registration,
            S.set_self_registration,
            "switch-registration",
            "Самостоятельная регистрация",
        ),
        _switch(
            S.require_2fa,
            S.set_require_2fa,
            "switch-2fa",
            "Обязательная двухфакторная защита для администраторов",
        ),
    )


def _tokens_section() -> rx.Component:
    return section(
        "Токены VK",
        rx.vstack(rx.foreach(S.tokens, _token_row_view), width="100%", spacing="2"),
        form(
            _row(
                rx.input(
                    name="vk_token",
                    type="password",
                    placeholder="Токен",
                    required=True,
                    min_width="200px",
                    flex="2",
                    auto_complete="off",
                ),
                rx.input(name="vk_label", placeholder="Подпись", min_width="120px", flex="1"),
                static_select(
                    [(k, k) for k in system_settings.TOKEN_KINDS],
                    S.token_kind,
                    S.set_token_kind,
                    "token-kind",
                ),
                rx.button("Добавить", type="submit"),
            ),
            id="vk-token-form",
            on_submit=S.add_token,
            width="100%",
        ),
    )


def _smtp_form() -> rx.Component:
    return form(
        rx.vstack(
            _row(
                _smtp_input(
                    "host",
                    placeholder="smtp.example.ru",
                    flex="2",
                    min_width="180px",
                    aria_label="Сервер",
                ),
                _smtp_input("port", placeholder="587", width="90px", aria_label="Порт"),
            ),
            _row(
                _smtp_input("user", placeholder="Пользователь", flex="1", min_width="160px"),
                rx.input(
                    name="smtp_password",
                    type="password",
                    auto_complete="off",
                    placeholder=rx.cond(
                        S.smtp["password_unreadable"].to(bool),
                        "Сохранённый пароль не расшифровывается — введите заново",
                        rx.cond(
                            S.smtp["password_set"].to(bool),
                            "Пароль задан — оставьте пустым",
                            "Пароль",
                        ),
                    ),
                    flex="1",
                    min_width="160px",
                ),
            ),
            _smtp_input("from", placeholder="Отправитель", width="100%"),
            rx.hstack(
                rx.text("Шифрование:", size="2"),
                rx.select(
                    ["none", "starttls", "ssl"],
                    name="smtp_security",
                    default_value=S.smtp["security"].to(str),
                    key=S.smtp["security"].to(str),
                ),
                align="center",
            ),
            rx.hstack(
                rx.button("Сохранить", type="submit"),
                rx.button(
                    "Сбросить к настройкам окружения",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.clear_smtp,
                ),
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.save_smtp,
        width="100%",
    )


def _smtp_section() -> rx.Component:
    return section(
        "Почта (SMTP)",
        rx.cond(
            S.smtp["configured"].to(bool),
            rx.text(
                "Источник настроек: ",
                rx.cond(S.smtp["source"] == "database", "база данных", "окружение"),
                size="2",
            ),
            rx.text(
                "SMTP не настроен: письма пишутся в журнал приложения.",
                size="2",
                color_scheme="amber",
            ),
        ),
        _smtp_form(),
        form(
            _row(
                rx.input(
                    name="test_to",
                    type="email",
                    placeholder="Кому",
                    required=True,
                    flex="1",
                    min_width="200px",
                ),
                rx.button("Отправить тестовое письмо", type="submit", loading=S.sending),
            ),
            on_submit=S.send_test,
            width="100%",
        ),
    )


def settings_tab() -> rx.Component:
    return rx.vstack(
        _collection_section(),
        _access_section(),
        _tokens_section(),
        _smtp_section(),
        spacing="3",
        width="100%",
    )
