"""Оповещения: the user's own alert rules — list, create/edit with validation and a
30-day preview, enable/disable, delete, history of firings. The state and its logic are
in ``state``; this module is the view."""

from __future__ import annotations

import reflex as rx

from socstat.services import alerts
from socstat.ui.auth import protected
from socstat.ui.components.forms import form_error, section
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.alerts.state import KINDS, AlertsState
from socstat.ui.routing import page

__all__ = ["AlertsState"]


def _select(name: str, options: dict[str, str], label: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", data_testid=f"rule-{name}"),
            rx.select.content(*[rx.select.item(text, value=key) for key, text in options.items()]),
            value=AlertsState.values[name],
            on_change=lambda value: AlertsState.set_value(name, value),
        ),
        spacing="1",
        width="100%",
    )


def _input(name: str, label: str, placeholder: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            value=AlertsState.values[name],
            on_change=lambda value: AlertsState.set_value(name, value),
            placeholder=placeholder,
            width="100%",
            data_testid=f"rule-{name}",
        ),
        spacing="1",
        width="100%",
    )


def _dynamic_select(name: str, items: rx.Var, label: str, key: str, text: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", placeholder="Выберите", data_testid=f"rule-{name}"),
            rx.select.content(
                rx.foreach(items, lambda item: rx.select.item(item[text], value=item[key]))
            ),
            value=AlertsState.values[name],
            on_change=lambda value: AlertsState.set_value(name, value),
        ),
        spacing="1",
        width="100%",
    )


def _channels() -> rx.Component:
    return rx.vstack(
        rx.text("Каналы", size="2", weight="medium"),
        rx.hstack(
            *[
                rx.checkbox(
                    label,
                    checked=AlertsState.channels.contains(key),
                    on_change=lambda checked, key=key: AlertsState.toggle_channel(key, checked),
                    data_testid=f"rule-channel-{key}",
                )
                for key, label in alerts.CHANNELS.items()
            ],
            spacing="4",
            flex_wrap="wrap",
        ),
        spacing="1",
    )


def _form() -> rx.Component:
    baseline = AlertsState.values["rule_type"] == "baseline"
    scope = AlertsState.values["scope"]
    return section(
        rx.cond(AlertsState.editing_id != "", "Изменить правило", "Новое правило"),
        _input("name", "Название (необязательно)", "Например: вирусный пост"),
        rx.grid(
            _select("rule_type", alerts.RULE_TYPES, "Тип"),
            _select("scope", alerts.SCOPES, "Какие источники"),
            rx.cond(
                scope == "source",
                _dynamic_select("source_id", AlertsState.sources, "Источник", "id", "name"),
            ),
            rx.cond(
                scope == "tag",
                rx.vstack(
                    rx.text("Тег", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(
                            width="100%", placeholder="Выберите", data_testid="rule-tag"
                        ),
                        rx.select.content(
                            rx.foreach(AlertsState.tags, lambda t: rx.select.item(t, value=t))
                        ),
                        value=AlertsState.values["tag"],
                        on_change=lambda value: AlertsState.set_value("tag", value),
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            _select("metric", alerts.METRICS, "Показатель"),
            _select("kind", KINDS, rx.cond(baseline, "Что сравнивать", "Тип публикаций")),
            rx.cond(~baseline, _select("window", alerts.WINDOWS, "Период")),
            rx.cond(~baseline, _select("comparison", alerts.COMPARISONS, "Условие")),
            _input("threshold", "Порог (для публикаций — во сколько раз выше медианы)", "100000"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        _channels(),
        rx.grid(
            _input("quiet_from", "Тихие часы с", "23:00"),
            _input("quiet_to", "по", "08:00"),
            columns="2",
            spacing="3",
            width="100%",
        ),
        rx.checkbox(
            "Сообщить, когда показатель вернётся в норму",
            checked=AlertsState.notify_resolved,
            on_change=AlertsState.set_notify_resolved,
        ),
        form_error(AlertsState.error, testid="rule-error"),
        rx.cond(
            AlertsState.error_link != "",
            rx.link("Настроить канал", href=AlertsState.error_link, data_testid="rule-error-link"),
        ),
        rx.cond(
            AlertsState.preview_summary != "",
            rx.callout(
                rx.vstack(
                    rx.text(AlertsState.preview_summary),
                    rx.foreach(
                        AlertsState.preview_hits,
                        lambda h: rx.text(f"{h['label']} · {h['source']} · {h['value']}", size="1"),
                    ),
                    spacing="1",
                ),
                icon="history",
                width="100%",
                data_testid="rule-preview",
            ),
        ),
        rx.hstack(
            rx.button(
                "Проверить на 30 днях",
                variant="soft",
                on_click=AlertsState.preview,
                data_testid="rule-preview-button",
            ),
            rx.button("Сохранить", on_click=AlertsState.save, data_testid="rule-save"),
            rx.button("Отмена", variant="ghost", on_click=AlertsState.close_form),
            spacing="3",
            flex_wrap="wrap",
        ),
        data_testid="rule-form",
    )


def _history() -> rx.Component:
    return rx.cond(
        AlertsState.history_id != "",
        section(
            "История правила",
            rx.cond(
                AlertsState.history.length() > 0,
                rx.vstack(
                    rx.foreach(
                        AlertsState.history,
                        lambda h: rx.hstack(
                            rx.badge(h["state"], color_scheme=h["color"]),
                            rx.text(h["when"], size="1", color_scheme="gray"),
                            rx.text(h["what"], size="2"),
                            rx.text(h["reason"], size="1", color_scheme="gray"),
                            spacing="2",
                            flex_wrap="wrap",
                            data_testid="history-entry",
                        ),
                    ),
                    width="100%",
                ),
                rx.text("Правило ещё не срабатывало.", color_scheme="gray"),
            ),
        ),
    )


def _rule_card(rule: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(rule["name"], weight="bold"),
                rx.text(rule["description"], size="2"),
                rx.text(
                    f"Каналы: {rule['channels']} · последнее срабатывание: {rule['last']}",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.switch(
                checked=rule["enabled"] == "1",
                on_change=lambda checked: AlertsState.toggle_enabled(rule["id"], checked),
                data_testid="rule-enabled",
            ),
            rx.button(
                "История",
                size="1",
                variant="soft",
                on_click=AlertsState.show_history(rule["id"]),
                data_testid="rule-history",
            ),
            rx.button(
                "Изменить",
                size="1",
                variant="soft",
                on_click=AlertsState.edit(rule["id"]),
                data_testid="rule-edit",
            ),
            rx.button(
                "Удалить",
                size="1",
                color_scheme="red",
                variant="soft",
                on_click=AlertsState.delete(rule["id"]),
                data_testid="rule-delete",
            ),
            width="100%",
            align="center",
            flex_wrap="wrap",
        ),
        width="100%",
        data_testid="rule-card",
    )


@page(route="/alerts", title="Оповещения — socstat", on_load=protected(AlertsState.load))
def alerts_page() -> rx.Component:
    return page_frame(
        "Оповещения",
        rx.hstack(
            rx.button("Новое правило", on_click=AlertsState.new_rule, data_testid="rule-new"),
            rx.link("Уведомления", href="/notifications"),
            rx.link("Телефон и Telegram — в профиле", href="/profile"),
            spacing="4",
            align="center",
            flex_wrap="wrap",
        ),
        rx.cond(AlertsState.form_open, _form()),
        rx.cond(
            AlertsState.loaded,
            rx.cond(
                AlertsState.rules.length() > 0,
                rx.vstack(rx.foreach(AlertsState.rules, _rule_card), width="100%", spacing="2"),
                rx.text(
                    "Правил пока нет. Например: «любой мой паблик набрал больше 100 000 "
                    "просмотров за сутки» или «пост собрал в 3 раза больше просмотров, чем "
                    "обычно».",
                    color_scheme="gray",
                    data_testid="rules-empty",
                ),
            ),
            rx.hstack(rx.spinner(), rx.text("Загрузка…")),
        ),
        _history(),
    )
