"""The page frame: sidebar on desktop, drawer on mobile, demo banner, theme switch."""

from dataclasses import dataclass

import reflex as rx

from socstat.ui.auth import AuthState
from socstat.ui.components.bell import bell
from socstat.ui.state import AppState

EVERYONE = "everyone"
ADMINS = "admins"


@dataclass(frozen=True)
class NavItem:
    """A navigation entry; ``audience`` is EVERYONE (signed in) or ADMINS.

    Hiding an entry is cosmetic: the page's handlers re-check authorization.
    """

    label: str
    href: str
    icon: str
    audience: str = EVERYONE


NAV_ITEMS: list[NavItem] = [
    NavItem("Обзор", "/dashboard", "layout-dashboard"),
    NavItem("Источники", "/sources", "rss"),
    NavItem("Отчёты", "/reports", "file-spreadsheet"),
    NavItem("Оповещения", "/alerts", "bell-ring"),
    NavItem("Профиль", "/profile", "user-round"),
    NavItem("Администрирование", "/admin", "shield", ADMINS),
    NavItem("Система", "/admin/system", "activity", ADMINS),
]


def _nav_link(item: NavItem) -> rx.Component:
    # Hiding is only cosmetic: every admin handler re-checks the role on the server.
    visible = {}
    if item.audience == ADMINS:
        visible = {"display": rx.cond(AuthState.is_admin, "block", "none")}
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18, flex_shrink="0"), rx.text(item.label, size="3"), spacing="3"
        ),
        href=item.href,
        underline="none",
        width="100%",
        padding="8px 12px",
        border_radius="8px",
        _hover={"background": rx.color("accent", 3)},
        data_testid=f"nav-{item.href.strip('/').replace('/', '-') or 'home'}",
        **visible,
    )


def _nav_links(in_drawer: bool = False) -> rx.Component:
    links = [_nav_link(item) for item in NAV_ITEMS]
    if in_drawer:  # following a link closes the drawer
        links = [rx.drawer.close(link) for link in links]
    return rx.vstack(*links, spacing="1", width="100%")


def _brand() -> rx.Component:
    return rx.hstack(
        rx.image(src="/logo.svg", alt="", width="26px", height="26px", data_testid="logo"),
        rx.text("socstat", size="5", weight="bold"),
        spacing="2",
        align="center",
    )


def _sidebar() -> rx.Component:
    return rx.desktop_only(
        rx.vstack(
            rx.hstack(_brand(), rx.spacer(), bell("bell"), width="100%", align="center"),
            rx.divider(),
            _nav_links(),
            rx.spacer(),
            user_menu("user-menu"),
            rx.hstack(rx.text("Тема", size="2", color_scheme="gray"), rx.color_mode.button()),
            width="240px",
            height="100vh",
            padding="16px",
            position="sticky",
            top="0",
            border_right=f"1px solid {rx.color('gray', 5)}",
            data_testid="sidebar",
        )
    )


def _mobile_bar() -> rx.Component:
    return rx.mobile_and_tablet(
        rx.hstack(
            rx.drawer.root(
                rx.drawer.trigger(
                    rx.icon_button(
                        rx.icon("menu"), variant="ghost", aria_label="Меню", data_testid="menu-open"
                    )
                ),
                rx.drawer.overlay(),
                rx.drawer.portal(
                    rx.drawer.content(
                        rx.vstack(
                            rx.hstack(
                                _brand(),
                                rx.spacer(),
                                rx.drawer.close(
                                    rx.icon_button(
                                        rx.icon("x"), variant="ghost", aria_label="Закрыть"
                                    )
                                ),
                                width="100%",
                            ),
                            rx.divider(),
                            _nav_links(in_drawer=True),
                            padding="16px",
                            width="100%",
                        ),
                        width="80%",
                        max_width="300px",
                        height="100%",
                        background=rx.color("gray", 1),
                        data_testid="drawer",
                    )
                ),
                direction="left",
                # vaul reads a tap during the slide-in as a swipe and closes without navigating
                handle_only=True,
            ),
            _brand(),
            rx.spacer(),
            bell("bell-mobile", refreshes=False),
            rx.color_mode.button(),
            user_menu("user-menu-mobile", compact=True),
            width="100%",
            padding="8px 12px",
            align="center",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
        ),
        width="100%",  # the column does not stretch its children: the border stopped short
    )


def user_menu(testid: str, *, compact: bool = False) -> rx.Component:
    """Who is signed in (name, role) with "Профиль" and "Выйти"."""
    who = rx.vstack(
        rx.text(AuthState.user_name, size="2", weight="medium", trim="both"),
        rx.text(AuthState.role_label, size="1", color_scheme="gray"),
        spacing="0",
        align="start",
        min_width="0",
    )
    trigger = (
        rx.icon_button(rx.icon("circle-user-round"), variant="ghost", aria_label="Пользователь")
        if compact
        else rx.button(
            rx.icon("circle-user-round", size=20),
            who,
            variant="ghost",
            width="100%",
            justify="start",
            height="auto",
            padding="8px",
        )
    )
    return rx.cond(
        AuthState.signed_in,
        rx.menu.root(
            rx.menu.trigger(rx.box(trigger, data_testid=testid, width="100%")),
            rx.menu.content(
                rx.vstack(
                    rx.text(AuthState.user_name, weight="medium"),
                    rx.text(AuthState.user_email, size="1", color_scheme="gray"),
                    rx.text(AuthState.role_label, size="1", color_scheme="gray"),
                    spacing="0",
                    padding="4px 12px",
                ),
                rx.menu.separator(),
                rx.menu.item(
                    "Профиль",
                    on_click=rx.redirect("/profile"),
                    data_testid=f"{testid}-profile",
                ),
                rx.menu.item(
                    "Выйти",
                    color_scheme="red",
                    on_click=AuthState.sign_out,
                    data_testid=f"{testid}-sign-out",
                ),
            ),
        ),
    )


def demo_banner() -> rx.Component:
    return rx.cond(
        AppState.demo_mode,
        rx.callout(
            "Демо-режим: данные берутся из встроенной песочницы VK и не являются настоящими.",
            icon="flask-conical",
            color_scheme="amber",
            size="1",
            width="100%",
            data_testid="demo-banner",
        ),
    )


def page_frame(title: str, *children: rx.Component) -> rx.Component:
    """Every signed-in page: navigation, banner, a heading and the content."""
    return rx.flex(
        _sidebar(),
        rx.vstack(
            _mobile_bar(),
            rx.vstack(
                demo_banner(),
                rx.heading(title, size="7", as_="h1"),
                *children,
                width="100%",
                max_width="1200px",
                min_width="0",  # wide tables and charts scroll inside their boxes, not the page
                padding=["12px", "16px", "24px"],
                spacing="4",
            ),
            width="100%",
            min_width="0",
            spacing="0",
        ),
        direction="row",
        width="100%",
        min_height="100vh",
    )


def auth_frame(title: str, *children: rx.Component) -> rx.Component:
    """Sign-in style pages: centred card, no navigation."""
    return rx.center(
        rx.vstack(
            demo_banner(),
            rx.card(
                rx.vstack(_brand(), rx.heading(title, size="6", as_="h1"), *children, spacing="4"),
                width="100%",
                size="3",
            ),
            width="100%",
            max_width="420px",
            spacing="3",
        ),
        min_height="100vh",
        padding="16px",
    )
