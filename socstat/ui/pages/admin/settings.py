"""The "Настройки" tab: collection interval, access switches, VK tokens, SMTP; the SMS
and Telegram section is ``channels``."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat import formatting
from socstat.formatting import moment as format_moment
from socstat.models.accounts import User
from socstat.services import delivery, system_settings
from socstat.ui.auth import AuthState
from socstat.ui.components.controls import static_select
from socstat.ui.components.forms import form, form_action, form_error, section, text_of
from socstat.ui.pages.admin.channels import channels_section
from socstat.ui.pages.admin.common import admin_call, admin_change
from socstat.ui.viewmodels import parse_id

TOKEN_KIND_LABELS: dict[str, str] = {
    "user": "Пользовательский",
    "community": "Сообщества",
    "video": "Пользовательский с доступом к видео",
    "service": "Сервисный ключ приложения",
}
SECURITY_LABELS: dict[str, str] = {
    "none": "Без шифрования",
    "starttls": "STARTTLS (обычно порт 587)",
    "ssl": "SSL/TLS (обычно порт 465)",
}


def _token_row(token: system_settings.VkTokenView, tz: str | None) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "label": token.label or "—",
        "kind": TOKEN_KIND_LABELS.get(token.kind, token.kind),
        "masked": token.masked,
        "invalid": token.invalid,
        "invalid_reason": token.invalid_reason or "",
        "unreadable": token.unreadable,
        "created": format_moment(token.created_at, tz),
    }


def _smtp_fields(smtp: system_settings.SmtpView) -> dict[str, Any]:
    return {
        "configured": smtp.configured,
        "source": smtp.source,
        "host": smtp.host,
        "port": str(smtp.port),
        "user": smtp.user,
        "password_set": smtp.password_set,
        "password_unreadable": smtp.password_unreadable,
        "password_masked": smtp.password_masked,
        "from": smtp.from_addr,
        "security": "ssl" if smtp.ssl else "starttls" if smtp.starttls else "none",
    }


class AdminSettingsState(AuthState):
    interval: str = ""
    self_registration: bool = True
    require_2fa: bool = False
    smtp: dict[str, Any] = {}
    tokens: list[dict[str, Any]] = []
    token_kind: str = "user"
    errors: dict[str, str] = {}  # input name (or form name) -> message
    saving: str = ""  # the form being submitted

    async def _reload(self) -> Any:
        def _work(session: Session, actor: User) -> dict[str, Any]:
            view = system_settings.get_settings_view(session, actor=actor)
            tokens = system_settings.list_vk_tokens(session, actor=actor)
            return {"view": view, "tokens": [_token_row(t, actor.timezone) for t in tokens]}

        ok, result = await admin_call(self, _work)
        if not ok:
            return result
        view = result["view"]
        self.interval = formatting.number(view.collect_interval_hours)
        self.self_registration = view.self_registration
        self.require_2fa = view.require_2fa_admins
        self.smtp = _smtp_fields(view.smtp)
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

    async def _reloaded(self, _result: Any) -> None:
        await self._reload()

    @rx.event
    async def save_interval(self, form: dict[str, Any]):
        value = text_of(form, "interval", 32)
        ip = self._client_ip()
        async for event in form_action(
            self,
            "interval",
            lambda s, a: system_settings.set_setting(
                s, actor=a, key=system_settings.COLLECT_INTERVAL, value=value, ip=ip
            ),
            after=self._reloaded,
            success="Интервал сбора сохранён.",
        ):
            yield event

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
    async def add_token(self, form: dict[str, Any]):
        token = text_of(form, "vk_token", 2000)
        label = text_of(form, "vk_label", 200)
        kind = self.token_kind
        ip = self._client_ip()
        async for event in form_action(
            self,
            "token",
            lambda s, a: system_settings.add_vk_token(
                s, actor=a, token=token, kind=kind, label=label, ip=ip
            ),
            fields={"token": "vk_token", "kind": "vk_kind"},
            after=self._reloaded,
            success="Токен добавлен.",
            reset="vk-token-form",
        ):
            yield event

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
    async def save_smtp(self, form: dict[str, Any]):
        host = text_of(form, "smtp_host", 255)
        port_text = text_of(form, "smtp_port", 8).strip() or "25"
        user = text_of(form, "smtp_user", 255)
        password = text_of(form, "smtp_password", 1000)
        from_addr = text_of(form, "smtp_from", 320)
        security = text_of(form, "smtp_security", 16)
        ip = self._client_ip()
        port = int(port_text) if port_text.isascii() and port_text.isdigit() else 0
        async for event in form_action(
            self,
            "smtp",
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
            fields={
                "host": "smtp_host",
                "port": "smtp_port",
                "from_addr": "smtp_from",
                "ssl": "smtp_security",
            },
            after=self._reloaded,
            success="Настройки почты сохранены.",
        ):
            yield event

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
        async for event in form_action(
            self,
            "test",
            lambda s, a: delivery.send_test_email(s, actor=a, to=to, ip=ip),
            fields={"to": "test_to"},
            success=lambda message: message or "Письмо отправлено.",
        ):
            yield event


# --- view ----------------------------------------------------------------------------

S = AdminSettingsState


def _token_row_view(token: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.code(token["masked"]),
        rx.text(token["label"], size="2"),
        rx.badge(token["kind"]),
        rx.cond(
            token["invalid"],
            rx.tooltip(
                rx.badge("недействителен", color_scheme="red"), content=token["invalid_reason"]
            ),
        ),
        rx.cond(
            token["unreadable"],
            rx.tooltip(
                rx.badge("не расшифровывается", color_scheme="red", data_testid="token-unreadable"),
                content="Ключ SOCSTAT_SECRET_KEY сменился: удалите токен и добавьте заново.",
            ),
        ),
        rx.text("добавлен ", token["created"], size="1", color_scheme="gray"),
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


def _labelled(
    label: str, control: rx.Component, name: str, hint: str | rx.Var = "", **props: Any
) -> rx.Component:
    """A visible label above ``control`` (an input with id ``name``) and a hint under it."""
    error = S.errors.get(name, "")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", data_testid=f"error-{name}"),
        ),
        rx.fragment()
        if isinstance(hint, str) and not hint
        else rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        **props,
    )


def _switch(checked: rx.Var, on_change: Any, testid: str, label: str, hint: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.switch(checked=checked, on_change=on_change, data_testid=testid),
                rx.text(label, size="2", weight="medium"),
                align="center",
            ),
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
    )


def _row(*children: rx.Component) -> rx.Component:
    """Labelled fields side by side, wrapping on narrow screens."""
    return rx.flex(*children, wrap="wrap", spacing="3", width="100%", align="start")


def _row_button(button: rx.Component) -> rx.Component:
    """A button in a :func:`_row`, level with the inputs (below their labels)."""
    return rx.box(button, padding_top="24px")


def _smtp_input(key: str, **props: Any) -> rx.Component:
    """An SMTP field prefilled with the stored value (re-keyed when it changes)."""
    value = S.smtp[key].to(str)
    name = f"smtp_{key}"
    return rx.input(name=name, id=name, default_value=value, key=value, width="100%", **props)


def _collection_section() -> rx.Component:
    return section(
        "Сбор данных",
        form(
            _row(
                _labelled(
                    "Интервал сбора, часов",
                    rx.input(
                        name="interval",
                        id="interval",
                        default_value=S.interval,
                        key=S.interval,
                        width="120px",
                        inputmode="decimal",
                    ),
                    "interval",
                    "Как часто собирать статистику всех источников: от 1 до 744 часов "
                    "(744 — месяц); можно дробное число, напр. 1,5.",
                    flex="1",
                    min_width="220px",
                ),
                _row_button(
                    rx.button(
                        "Сохранить", type="submit", variant="soft", loading=S.saving == "interval"
                    )
                ),
            ),
            on_submit=S.save_interval,
            width="100%",
        ),
        rx.text(
            "Часовой пояс системы: ",
            rx.text.strong(formatting.timezone_label(formatting.zone(None).key)),
            ". В нём считаются дни статистики; задаётся переменной окружения SOCSTAT_TIMEZONE.",
            size="2",
            color_scheme="gray",
            data_testid="system-timezone",
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
            "Посетители могут сами создать учётную запись (роль «Аналитик»). Если выключено, "
            "новых пользователей приглашает администратор.",
        ),
        _switch(
            S.require_2fa,
            S.set_require_2fa,
            "switch-2fa",
            "Обязательная двухфакторная защита для администраторов",
            "Администратор без двухфакторной защиты сможет открыть только свой профиль, "
            "пока не включит её.",
        ),
    )


def _tokens_section() -> rx.Component:
    return section(
        "Токены VK",
        rx.text(
            "Через эти ключи доступа socstat обращается к API ВКонтакте; запросы "
            "распределяются между ними. Токены хранятся зашифрованными и не показываются.",
            size="2",
            color_scheme="gray",
        ),
        rx.vstack(rx.foreach(S.tokens, _token_row_view), width="100%", spacing="2"),
        form(
            _row(
                _labelled(
                    "Токен",
                    rx.input(
                        name="vk_token",
                        id="vk_token",
                        type="password",
                        required=True,
                        auto_complete="off",
                        width="100%",
                    ),
                    "vk_token",
                    flex="2",
                    min_width="200px",
                ),
                _labelled(
                    "Подпись",
                    rx.input(name="vk_label", id="vk_label", width="100%"),
                    "vk_label",
                    "Для себя: чей это ключ.",
                    flex="1",
                    min_width="140px",
                ),
                _labelled(
                    "Тип токена",
                    static_select(
                        list(TOKEN_KIND_LABELS.items()),
                        S.token_kind,
                        S.set_token_kind,
                        "token-kind",
                        id="vk_kind",
                    ),
                    "vk_kind",
                    "Ключ сообщества — до 20 запросов в секунду, пользовательский — 3.",
                    min_width="200px",
                ),
                _row_button(rx.button("Добавить", type="submit", loading=S.saving == "token")),
            ),
            form_error(S.errors.get("token", ""), testid="token-error"),
            id="vk-token-form",
            on_submit=S.add_token,
            width="100%",
        ),
    )


def _smtp_form() -> rx.Component:
    return form(
        rx.vstack(
            _row(
                _labelled(
                    "Сервер",
                    _smtp_input("host", placeholder="smtp.example.ru"),
                    "smtp_host",
                    flex="2",
                    min_width="180px",
                ),
                _labelled(
                    "Порт",
                    _smtp_input("port", placeholder="587", inputmode="numeric"),
                    "smtp_port",
                    width="100px",
                ),
            ),
            _row(
                _labelled(
                    "Имя пользователя",
                    _smtp_input("user", auto_complete="off"),
                    "smtp_user",
                    "Пусто — без входа на сервер.",
                    flex="1",
                    min_width="160px",
                ),
                _labelled(
                    "Пароль",
                    rx.input(
                        name="smtp_password",
                        id="smtp_password",
                        type="password",
                        auto_complete="off",
                        width="100%",
                    ),
                    "smtp_password",
                    rx.cond(
                        S.smtp["password_unreadable"].to(bool),
                        "Сохранённый пароль не расшифровывается — введите заново.",
                        rx.cond(
                            S.smtp["password_set"].to(bool),
                            "Пароль задан: оставьте пустым, чтобы не менять.",
                            "Пароль не задан.",
                        ),
                    ),
                    flex="1",
                    min_width="160px",
                ),
            ),
            _labelled(
                "Адрес отправителя",
                _smtp_input("from", placeholder="socstat@example.ru"),
                "smtp_from",
                "От этого адреса приходят письма socstat.",
                width="100%",
            ),
            _labelled(
                "Шифрование",
                rx.select.root(
                    rx.select.trigger(id="smtp_security", data_testid="smtp-security"),
                    rx.select.content(
                        *[
                            rx.select.item(label, value=key)
                            for key, label in SECURITY_LABELS.items()
                        ]
                    ),
                    name="smtp_security",
                    default_value=S.smtp["security"].to(str),
                    key=S.smtp["security"].to(str),
                ),
                "smtp_security",
                "Как указано у почтового провайдера.",
            ),
            form_error(S.errors.get("smtp", ""), testid="smtp-error"),
            rx.hstack(
                rx.button("Сохранить", type="submit", loading=S.saving == "smtp"),
                rx.button(
                    "Сбросить к настройкам окружения",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.clear_smtp,
                ),
                wrap="wrap",
            ),
            spacing="3",
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
                rx.cond(S.smtp["source"] == "database", "эта страница", "переменные окружения"),
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
                _labelled(
                    "Тестовое письмо на адрес",
                    rx.input(
                        name="test_to", id="test_to", type="email", required=True, width="100%"
                    ),
                    "test_to",
                    flex="1",
                    min_width="200px",
                ),
                _row_button(
                    rx.button(
                        "Отправить тестовое письмо", type="submit", loading=S.saving == "test"
                    )
                ),
            ),
            form_error(S.errors.get("test", ""), testid="test-email-error"),
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
        channels_section(),
        spacing="3",
        width="100%",
    )
