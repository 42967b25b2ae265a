"""The «SMS и Telegram» section of the "Настройки" tab: the SMS gateway (SMS.ru-compatible
API) and the Telegram bot for alerts. The same service functions as ``socstat alerts
sms-gateway|telegram-bot`` validate, encrypt the secret and audit; the secret is only
ever shown masked, and an empty secret input keeps the stored one."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services.delivery import sms, telegram
from socstat.ui.auth import AuthState
from socstat.ui.components.forms import form, form_action, form_error, section, text_of
from socstat.ui.pages.admin.common import admin_call

SMS_FIELDS = {
    "base_url": "sms_base_url",
    "api_key": "sms_api_key",
    "sender": "sms_sender",
    "daily_cap": "sms_daily_cap",
}
BOT_FIELDS = {"base_url": "tg_base_url", "token": "tg_token", "username": "tg_username"}


def _views(session: Session, actor: User) -> dict[str, dict[str, Any]]:
    gateway = sms.gateway_view(session, actor=actor)
    bot = telegram.bot_view(session, actor=actor)
    return {
        "sms": {**gateway, "daily_cap": str(gateway["daily_cap"])},
        "bot": bot,
    }


class AdminChannelsState(AuthState):
    sms: dict[str, Any] = {}
    bot: dict[str, Any] = {}
    errors: dict[str, str] = {}  # input name (or form name) -> message
    saving: str = ""  # the form being submitted

    async def _reload(self) -> Any:
        ok, result = await admin_call(self, _views)
        if not ok:
            return result
        self.sms, self.bot = result["sms"], result["bot"]
        return None

    @rx.event
    async def load(self) -> Any:
        if not self.is_admin:
            return None
        return await self._reload()

    @rx.event
    async def save_sms(self, form: dict[str, Any]):
        base_url = text_of(form, "sms_base_url", 400)
        api_key = text_of(form, "sms_api_key", 400)
        sender = text_of(form, "sms_sender", 64)
        cap_text = text_of(form, "sms_daily_cap", 8).strip()
        number = cap_text.isascii() and cap_text.isdigit()
        invalid = {} if number else {"sms_daily_cap": sms.DAILY_CAP_PROBLEM}
        ip = self._client_ip()
        async for event in form_action(
            self,
            "sms",
            lambda s, a: sms.set_gateway(
                s,
                actor=a,
                base_url=base_url,
                api_key=api_key or None,
                sender=sender,
                daily_cap=int(cap_text) if number else 0,
                ip=ip,
            ),
            invalid=invalid,
            fields=SMS_FIELDS,
            after=self._reloaded,
            success="Настройки SMS-шлюза сохранены.",
            reset="sms-settings-form",
        ):
            yield event

    @rx.event
    async def save_bot(self, form: dict[str, Any]):
        username = text_of(form, "tg_username", 64)
        token = text_of(form, "tg_token", 200)
        base_url = text_of(form, "tg_base_url", 400)
        ip = self._client_ip()
        async for event in form_action(
            self,
            "bot",
            lambda s, a: telegram.set_bot(
                s, actor=a, token=token or None, username=username, base_url=base_url, ip=ip
            ),
            fields=BOT_FIELDS,
            after=self._reloaded,
            success="Настройки Telegram-бота сохранены.",
            reset="bot-settings-form",
        ):
            yield event

    async def _reloaded(self, _result: Any) -> None:
        await self._reload()


# --- view ----------------------------------------------------------------------------

S = AdminChannelsState


def _field(
    label: str, name: str, hint: str | rx.Var, *, value: rx.Var | None = None, **props: Any
) -> rx.Component:
    """A labelled input (prefilled with the stored ``value``, re-keyed when it changes),
    its error and a hint under it."""
    error = S.errors.get(name, "")
    prefill = {} if value is None else {"default_value": value, "key": value}
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),
        rx.input(name=name, id=name, width="100%", data_testid=f"input-{name}", **prefill, **props),
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", data_testid=f"error-{name}"),
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        flex="1",
        min_width="220px",
        width="100%",
    )


def _secret_hint(masked: rx.Var, unreadable: rx.Var, first_time: str) -> rx.Var:
    return rx.cond(
        unreadable.to(bool),
        "Сохранённое значение не расшифровывается (сменился ключ шифрования) — введите заново.",
        rx.cond(
            masked.to(str) != "",
            "Задан (" + masked.to(str) + "): оставьте поле пустым, чтобы не менять.",
            first_time,
        ),
    )


def _row(*children: rx.Component) -> rx.Component:
    return rx.flex(*children, wrap="wrap", spacing="3", width="100%", align="start")


def _gateway_form(
    name: str,
    heading: str,
    status: tuple[rx.Var, str, str],
    fields: list[rx.Component],
    button: str,
    on_submit: Any,
) -> rx.Component:
    """One gateway's form: heading, whether it is set up (``status``: the flag, the text
    when set up, the text when not), ``fields``, the form-wide error and the save button;
    test ids ``{name}-status``, ``{name}-error``, ``{name}-save``."""
    configured, yes, no = status
    return form(
        rx.vstack(
            rx.heading(heading, size="3", as_="h3"),
            rx.text(
                rx.cond(configured.to(bool), yes, no),
                size="2",
                color_scheme=rx.cond(configured.to(bool), "green", "amber"),
                data_testid=f"{name}-status",
            ),
            *fields,
            form_error(S.errors.get(name, ""), testid=f"{name}-error"),
            rx.button(button, type="submit", loading=S.saving == name, data_testid=f"{name}-save"),
            spacing="3",
            width="100%",
        ),
        id=f"{name}-settings-form",
        on_submit=on_submit,
        width="100%",
    )


def _sms_form() -> rx.Component:
    fields = [
        _row(
            _field(
                "Адрес шлюза",
                "sms_base_url",
                "Адрес API, совместимого с SMS.ru, например https://sms.ru.",
                value=S.sms["base_url"].to(str),
                placeholder="https://sms.ru",
                required=True,
            ),
            _field(
                "API-ключ",
                "sms_api_key",
                _secret_hint(
                    S.sms["key_masked"],
                    S.sms["key_unreadable"],
                    "Ключ (api_id) из личного кабинета шлюза; хранится зашифрованным.",
                ),
                type="password",
                auto_complete="off",
            ),
        ),
        _row(
            _field(
                "Имя отправителя",
                "sms_sender",
                "До 11 латинских букв и цифр, как согласовано со шлюзом; "
                "пусто — отправитель шлюза по умолчанию.",
                value=S.sms["sender"].to(str),
                placeholder="socstat",
            ),
            _field(
                "SMS в сутки на пользователя",
                "sms_daily_cap",
                "Сверх этого числа SMS-оповещения за день не отправляются (от 1 до 1000).",
                value=S.sms["daily_cap"].to(str),
                inputmode="numeric",
            ),
        ),
    ]
    return _gateway_form(
        "sms",
        "SMS-шлюз",
        (
            S.sms["configured"],
            "Шлюз настроен: SMS-оповещения и подтверждение телефонов доступны.",
            "Шлюз не настроен: пользователи не могут подтвердить телефон и получать SMS.",
        ),
        fields,
        "Сохранить SMS-шлюз",
        S.save_sms,
    )


def _bot_form() -> rx.Component:
    fields = [
        _row(
            _field(
                "Имя бота",
                "tg_username",
                "Имя, которое выдал @BotFather, без @ — по нему строится ссылка для привязки чата.",
                value=S.bot["username"].to(str),
                placeholder="socstat_bot",
                required=True,
            ),
            _field(
                "Токен бота",
                "tg_token",
                _secret_hint(
                    S.bot["token_masked"],
                    S.bot["token_unreadable"],
                    "Вида 123456:ABC…, его выдаёт @BotFather; хранится зашифрованным.",
                ),
                type="password",
                auto_complete="off",
            ),
        ),
        _field(
            "Адрес Bot API",
            "tg_base_url",
            "Обычно https://api.telegram.org; другой — для своего сервера Bot API или прокси.",
            value=S.bot["base_url"].to(str),
            placeholder="https://api.telegram.org",
        ),
    ]
    return _gateway_form(
        "bot",
        "Telegram-бот",
        (
            S.bot["configured"],
            "Бот настроен: пользователи могут привязать чат в профиле.",
            "Бот не настроен: оповещения в Telegram недоступны.",
        ),
        fields,
        "Сохранить Telegram-бота",
        S.save_bot,
    )


def channels_section() -> rx.Component:
    return section(
        "Оповещения: SMS и Telegram",
        rx.text(
            "Каналы для правил оповещений. Секреты хранятся зашифрованными и показываются "
            "только последними символами; изменения попадают в журнал аудита.",
            size="2",
            color_scheme="gray",
        ),
        _sms_form(),
        rx.divider(),
        _bot_form(),
        id="channels-settings",
        data_testid="channels-settings",
    )
