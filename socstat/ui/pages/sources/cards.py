"""The source cards: status, the first collection's progress, key numbers, the content
kinds counted, tags."""

from __future__ import annotations

import reflex as rx

from socstat.services.sources.kinds import KIND_LABELS
from socstat.ui.pages.sources.state import SourcesState as S


def _status_badge(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row["collecting"] == "1",
            rx.badge(
                rx.spinner(size="1"),
                "Собираем данные…",
                color_scheme="blue",
                data_testid="source-collecting",
            ),
            rx.badge(
                row["status_label"], color_scheme=row["status_color"], data_testid="source-status"
            ),
        ),
        rx.cond(
            row["updating"] == "1",
            rx.text("обновляется…", size="1", color_scheme="gray", data_testid="source-updating"),
        ),
        rx.cond(
            row["status_reason"] != "",
            rx.text(row["status_reason"], size="1", color_scheme="gray"),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def _fact(label: str, value: rx.Var, testid: str, **props: object) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", data_testid=testid, **props),
        spacing="0",
        min_width="110px",
    )


def _numbers(row: rx.Var) -> rx.Component:
    return rx.flex(
        _fact(
            "Публикаций за 7 дней",
            row["publications"],
            "source-posts",
            data_value=row["publications_value"],
        ),
        _fact("ER за 7 дней", row["er"], "source-er"),
        rx.vstack(
            rx.text("Участники", size="1", color_scheme="gray"),
            rx.hstack(
                rx.text(row["members"], size="2", weight="medium", data_testid="source-members"),
                rx.text(
                    row["members_delta"],
                    size="1",
                    color_scheme="gray",
                    title="Изменение за 7 дней",
                    data_testid="source-members-delta",
                ),
                spacing="1",
                align="baseline",
            ),
            spacing="0",
            min_width="110px",
        ),
        _fact("Последний сбор", row["last_collected"], "source-last-collected"),
        _fact("История с", row["history_start"], "source-history"),
        wrap="wrap",
        spacing="4",
        width="100%",
    )


def _kinds(row: rx.Var) -> rx.Component:
    """Which kinds the actor's own subscription counts, saved on every click."""
    form = "kinds-" + row["id"].to(str)
    saving = S.saving == form
    return rx.vstack(
        rx.flex(
            rx.text("Учитывать:", size="1", color_scheme="gray"),
            rx.checkbox_group.root(
                *(
                    rx.checkbox_group.item(label, value=kind, data_testid=f"kind-{kind}")
                    for kind, label in KIND_LABELS.items()
                ),
                value=S.card_kinds[row["id"]],
                on_value_change=S.set_kinds(row["id"]),
                disabled=saving,
                size="1",
                orientation="horizontal",
                flex_direction="row",  # Radix stacks the items in a column
                flex_wrap="wrap",
                gap="12px",
                aria_label="Учитываемые типы публикаций",
                data_testid="source-kinds",
            ),
            rx.cond(saving, rx.spinner(size="1", data_testid="kinds-saving")),
            wrap="wrap",
            gap="8px",
            align="center",
        ),
        rx.cond(
            S.errors.contains(form),
            rx.text(S.errors[form], size="1", color_scheme="red", data_testid="kinds-error"),
        ),
        spacing="1",
        width="100%",
    )


def _tag(row: rx.Var, tag: rx.Var) -> rx.Component:
    return rx.badge(
        tag,
        rx.cond(
            row["mine"] == "1",
            rx.icon_button(
                rx.icon("x", size=12),
                size="1",
                variant="ghost",
                aria_label="Удалить тег " + tag.to(str),
                on_click=S.remove_tag(row["id"], tag),
                data_testid="tag-remove",
            ),
        ),
        variant="soft",
        radius="full",
        data_testid="source-tag",
        data_tag=tag,
    )


def _tags(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.foreach(S.card_tags[row["id"]], lambda t: _tag(row, t)),
            rx.cond(
                row["mine"] == "1",
                rx.form(
                    rx.hstack(
                        rx.el.input(type="hidden", name="source_id", value=row["id"]),
                        rx.input(
                            name="tag",
                            placeholder="Новый тег",
                            size="1",
                            max_length=40,
                            aria_label="Новый тег",
                            width="130px",
                            data_testid="tag-input",
                        ),
                        rx.icon_button(
                            rx.icon("plus", size=14),
                            size="1",
                            type="submit",
                            variant="soft",
                            aria_label="Добавить тег",
                            data_testid="tag-add",
                        ),
                        spacing="1",
                        align="center",
                    ),
                    on_submit=S.add_tag,
                    reset_on_submit=True,
                ),
            ),
            wrap="wrap",
            gap="6px",
            align="center",
        ),
        rx.cond(
            (S.tag_error != "") & (S.tag_error_id == row["id"]),
            rx.text(S.tag_error, size="1", color_scheme="red", data_testid="tag-error"),
        ),
        spacing="1",
        width="100%",
    )


def source_card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(src=row["photo"], fallback="VK", size="4", radius="full"),
                rx.vstack(
                    rx.link(
                        row["name"],
                        href="/sources/" + row["id"].to(str),
                        weight="bold",
                        size="3",
                        data_testid="source-name",
                    ),
                    rx.link(
                        row["link_label"],
                        href=row["url"],
                        is_external=True,
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.cond(
                    row["mine"] == "1",
                    rx.icon_button(
                        rx.icon("trash-2", size=16),
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Перестать отслеживать",
                        title="Перестать отслеживать",
                        on_click=S.ask_remove(row["id"]),
                        data_testid="source-remove",
                    ),
                    rx.badge("только просмотр", variant="soft", color_scheme="gray"),
                ),
                width="100%",
                align="start",
                spacing="3",
            ),
            _status_badge(row),
            rx.cond(
                row["stale"] == "1",
                rx.callout(
                    "Данные устарели: " + row["stale_reason"].to(str),
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                    data_testid="source-stale",
                ),
            ),
            _numbers(row),
            rx.cond(row["mine"] == "1", _kinds(row)),
            _tags(row),
            rx.text(
                row["tracked_by"], size="1", color_scheme="gray", data_testid="source-tracked-by"
            ),
            rx.cond(
                row["owners"] != "",
                rx.text("Отслеживают: " + row["owners"].to(str), size="1", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
        data_testid="source-card",
        data_source_id=row["id"],
    )
