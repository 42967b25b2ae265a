"""Profile: two-factor sign-in and active sessions."""

from __future__ import annotations

import reflex as rx

from socstat.ui.components.forms import field, form, section
from socstat.ui.pages.profile.state import ProfileState
from socstat.ui.pages.profile.widgets import error_of, form_level_error, save_button


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
                    field(
                        "Код из приложения",
                        "totp_code",
                        autocomplete="one-time-code",
                        error=error_of("totp_code"),
                    ),
                    form_level_error("2fa"),
                    rx.hstack(
                        save_button("Включить", "2fa", "totp-confirm"),
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
            form_level_error("2fa"),
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
                    error=error_of("disable_password"),
                ),
                field(
                    "Код из приложения или резервный код",
                    "disable_code",
                    error=error_of("disable_code"),
                ),
                form_level_error("disable"),
                save_button(
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
            field(
                "Код из приложения",
                "regenerate_code",
                autocomplete="one-time-code",
                error=error_of("regenerate_code"),
            ),
            form_level_error("regenerate"),
            save_button("Выдать новые коды", "regenerate", "recovery-regenerate", variant="soft"),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.regenerate_recovery_codes,
        reset_on_submit=True,
        width="100%",
    )


def two_factor_section() -> rx.Component:
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


def sessions_section() -> rx.Component:
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
