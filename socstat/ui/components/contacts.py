"""Profile sections for alert channels: a phone confirmed by an SMS code, a Telegram
chat linked by a one-time deep link. Its state loads when the section mounts."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models import User
from socstat.services.alerts import contacts
from socstat.services.authz import PermissionDenied
from socstat.services.delivery.sms import SmsSettingsError
from socstat.ui.auth import AuthState
from socstat.ui.components.forms import form_error, form_info, section


def _view(session: Session, user: User) -> dict[str, str]:
    view = contacts.contacts_view(session, actor=user)
    return {
        "phone": view.phone,
        "phone_confirmed": "1" if view.phone_confirmed else "",
        "phone_pending": "1" if view.phone_pending else "",
        "sms": "1" if view.sms_available else "",
        "telegram": "1" if view.telegram_available else "",
        "telegram_linked": "1" if view.telegram_linked else "",
        "telegram_username": view.telegram_username,
    }


class ContactsState(AuthState):
    info: dict[str, str] = {}
    phone_input: str = ""
    code_input: str = ""
    error: str = ""
    notice: str = ""
    deep_link: str = ""

    async def _do(self, work: Any, notice: str = "") -> Any:
        self.error = self.notice = ""
        try:
            result = await self._as_actor(work)
            self.info = await self._as_actor(_view)
        except PermissionDenied as exc:
            return False, self._denied(exc)
        except (contacts.ContactError, SmsSettingsError) as exc:
            self.error = str(exc)
            return False, None
        self.notice = notice
        return True, result

    @rx.event
    async def load(self) -> Any:
        _, event = await self._do(lambda s, u: None)
        return event

    @rx.event
    def set_phone_input(self, value: Any) -> None:
        self.phone_input = value[:32] if isinstance(value, str) else ""

    @rx.event
    def set_code_input(self, value: Any) -> None:
        self.code_input = value[:12] if isinstance(value, str) else ""

    @rx.event
    async def send_code(self) -> Any:
        phone = self.phone_input
        ip = self._client_ip()
        _, event = await self._do(
            lambda s, u: contacts.set_phone(s, actor=u, phone=phone, ip=ip),
            "Код отправлен по SMS: введите его ниже.",
        )
        return event

    @rx.event
    async def confirm_code(self) -> Any:
        code = self.code_input
        ok, event = await self._do(
            lambda s, u: contacts.confirm_phone(s, actor=u, code=code), "Номер подтверждён."
        )
        if ok:
            self.code_input = ""
        return event

    @rx.event
    async def remove_phone(self) -> Any:
        _, event = await self._do(lambda s, u: contacts.remove_phone(s, actor=u), "Номер удалён.")
        return event

    @rx.event
    async def link_telegram(self) -> Any:
        ok, result = await self._do(lambda s, u: contacts.start_telegram_link(s, actor=u))
        if ok:
            self.deep_link = result
            return None
        return result

    @rx.event
    async def unlink_telegram(self) -> Any:
        _, event = await self._do(
            lambda s, u: contacts.unlink_telegram(s, actor=u), "Telegram отвязан."
        )
        self.deep_link = ""
        return event


def _phone() -> rx.Component:
    info = ContactsState.info
    return rx.vstack(
        rx.text("Телефон для SMS", weight="medium"),
        rx.cond(
            info["sms"] == "",
            rx.text("SMS-шлюз не настроен администратором.", size="2", color_scheme="gray"),
            rx.vstack(
                rx.cond(
                    info["phone"] != "",
                    rx.hstack(
                        rx.text(info["phone"], data_testid="phone-value"),
                        rx.cond(
                            info["phone_confirmed"] == "1",
                            rx.badge("подтверждён", color_scheme="green"),
                            rx.badge("не подтверждён", color_scheme="orange"),
                        ),
                        rx.button(
                            "Удалить",
                            size="1",
                            variant="ghost",
                            on_click=ContactsState.remove_phone,
                        ),
                        align="center",
                    ),
                ),
                rx.hstack(
                    rx.input(
                        placeholder="+7 999 123-45-67",
                        value=ContactsState.phone_input,
                        on_change=ContactsState.set_phone_input,
                        data_testid="phone-input",
                    ),
                    rx.button(
                        "Получить код",
                        on_click=ContactsState.send_code,
                        data_testid="phone-send-code",
                    ),
                ),
                rx.cond(
                    info["phone_pending"] == "1",
                    rx.hstack(
                        rx.input(
                            placeholder="Код из SMS",
                            value=ContactsState.code_input,
                            on_change=ContactsState.set_code_input,
                            data_testid="phone-code",
                        ),
                        rx.button(
                            "Подтвердить",
                            on_click=ContactsState.confirm_code,
                            data_testid="phone-confirm",
                        ),
                    ),
                ),
                spacing="2",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _telegram() -> rx.Component:
    info = ContactsState.info
    return rx.vstack(
        rx.text("Telegram", weight="medium"),
        rx.cond(
            info["telegram"] == "",
            rx.text("Telegram-бот не настроен администратором.", size="2", color_scheme="gray"),
            rx.cond(
                info["telegram_linked"] == "1",
                rx.hstack(
                    rx.text(
                        rx.cond(
                            info["telegram_username"] != "",
                            "Привязан чат @" + info["telegram_username"],
                            "Чат привязан",
                        )
                    ),
                    rx.button(
                        "Отвязать",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=ContactsState.unlink_telegram,
                        data_testid="telegram-unlink",
                    ),
                    align="center",
                ),
                rx.vstack(
                    rx.button(
                        "Привязать Telegram",
                        on_click=ContactsState.link_telegram,
                        data_testid="telegram-link",
                    ),
                    rx.cond(
                        ContactsState.deep_link != "",
                        rx.text(
                            "Откройте ссылку и нажмите «Start» в чате с ботом "
                            "(ссылка действует час): ",
                            rx.link(
                                ContactsState.deep_link,
                                href=ContactsState.deep_link,
                                is_external=True,
                                data_testid="telegram-deep-link",
                            ),
                            size="2",
                        ),
                    ),
                ),
            ),
        ),
        spacing="2",
        width="100%",
    )


def contacts_section() -> rx.Component:
    return rx.box(
        section(
            "Каналы оповещений",
            _phone(),
            rx.divider(),
            _telegram(),
            form_error(ContactsState.error, testid="contacts-error"),
            form_info(ContactsState.notice, testid="contacts-notice"),
        ),
        on_mount=ContactsState.load,
        width="100%",
        id="channels",
    )
