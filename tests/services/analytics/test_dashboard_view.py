"""What the dashboard and the source page show of analytics results: Russian plurals in
the chart tooltips, whole-number ticks for counts, the members chart's explanation when it
has no point, one publication's type in the singular."""

from __future__ import annotations

from datetime import date

import pytest

from socstat.formatting import counted, plural
from socstat.services.analytics import Period, Scope, dashboard, members_since
from socstat.services.authz import PermissionDenied
from socstat.ui.components.analytics import charts, model
from tests.services.analytics.conftest import People, add_source, collect, item, msk

NB = "\u202f"
TODAY = date(2026, 4, 1)
WEEK = Period.custom(date(2026, 3, 26), TODAY)


@pytest.mark.parametrize(
    ("value", "word"),
    [(0, "постов"), (1, "пост"), (2, "поста"), (4, "поста"), (5, "постов"), (11, "постов"),
     (12, "постов"), (14, "постов"), (21, "пост"), (22, "поста"), (111, "постов"),
     (1001, "пост"), (2436, "постов")],
)  # fmt: skip
def test_russian_plural(value: int, word: str) -> None:
    assert plural(value, "пост", "поста", "постов") == word


def test_counted_uses_thin_space_thousands() -> None:
    assert counted(2436, "лайк", "лайка", "лайков") == f"2{NB}436 лайков"
    assert counted(None, "лайк", "лайка", "лайков") == "— лайков"


@pytest.mark.parametrize(
    ("top", "step"), [(0, 1), (3, 1), (6, 1), (7, 2), (12, 2), (13, 5), (31, 10), (2436, 500)]
)
def test_count_ticks_are_whole_numbers(top: int, step: int) -> None:
    assert charts.tick_step(top) == step
    axis = charts.count_axis([None, 0, top], "Публикации")
    assert axis["tickvals"][:2] == [0, step] and axis["tickvals"][-1] >= top
    assert all(isinstance(t, int) for t in axis["tickvals"])


def test_tick_labels_are_short_and_russian() -> None:
    labels = [charts.tick_label(v, 50_000) for v in (0, 800, 12_000, -40)]
    assert labels == ["0", "800", f"12{NB}000", "-40"]
    labels = [charts.tick_label(v, 2_500_000) for v in (0, 80_000, 150_000, 2_500_000)]
    assert labels == ["0", "80 тыс.", "150 тыс.", "2,5 млн"]
    axis = charts.count_axis([None, 1_600_000], "Просмотры")
    assert axis["ticktext"] == ["0", "500 тыс.", "1 млн", "1,5 млн", "2 млн"]
    close = charts.count_axis([12_345_610, 12_345_700], "Подписчики", from_zero=False)
    assert close["ticktext"][:2] == [f"12{NB}345{NB}580", f"12{NB}345{NB}600"]  # distinct


def test_empty_count_axis_is_zero_to_one() -> None:
    assert charts.count_axis([None, None], "Подписчики")["range"] == [0, 1]
    assert "range" not in charts.count_axis([None, 3], "Подписчики")
    members = charts.count_axis([1000, 1003], "Подписчики", from_zero=False)
    assert members["range"] == [999, 1004] and members["tickvals"] == list(range(999, 1005))


@pytest.fixture
def week(session, people: People):
    source = add_source(session, people.ann, "7", history_start=date(2026, 3, 20))
    collect(
        session,
        source,
        at=msk(TODAY, 12),
        members=2436,
        items=(
            item("1", msk(date(2026, 3, 30), 9), likes=2436, reposts=1, comments=2, views=None),
            item("2", msk(date(2026, 3, 30), 15), likes=0, reposts=1, comments=0, views=10),
            item("3", msk(date(2026, 3, 30), 16), kind="clip", likes=1, reposts=0, comments=0),
        ),
    )
    return source


def test_tooltips_read_like_a_sentence(session, people, week) -> None:
    board = dashboard(session, actor=people.ann, scope=Scope(), period=WEEK)
    posts, _videos, clips = charts.publications_figure(board.series)["data"]
    assert posts["hovertemplate"] == "%{customdata}<extra></extra>"
    assert posts["customdata"][4] == "30.03.2026 · 2 поста"
    assert clips["customdata"][4] == "30.03.2026 · 1 клип"
    likes = charts.engagement_figure(board.series)["data"][0]
    assert likes["customdata"][4] == f"30.03.2026 · 2{NB}437 лайков"
    members = charts.members_figure(board.members)["data"][0]
    assert members["customdata"][-1] == f"01.04.2026 · 2{NB}436 подписчиков"
    cells = charts.heatmap_figure(board.heatmap)["data"][0]["customdata"]
    assert cells[0][9] == (
        f"Пн, 09:00–09:59 · в среднем 2{NB}439,0 реакции на публикацию (1 публикация)"
    )
    assert cells[0][3] == "Пн, 03:00–03:59 · публикаций не было"
    notes = {card["metric"]: card["note"] for card in model.kpis(board.totals)}
    assert notes["views"] == "нет данных для 2 из 3 публикаций"
    assert notes["members_delta"] == "нет замеров для 1 источника"
    kinds = sorted(model.publication_row(p)["kind"] for p in board.top.items)
    assert kinds == ["Клип", "Пост", "Пост"]  # one publication: the singular


def test_members_chart_says_why_it_is_empty(session, people, week) -> None:
    before = Period.custom(date(2026, 3, 20), date(2026, 3, 26))
    board = dashboard(session, actor=people.ann, scope=Scope(), period=before)
    note = model.members_note(session, people.ann, board)
    assert note.startswith("За этот период замеров числа подписчиков нет.")
    assert "замеры есть с 01.04.2026" in note
    assert members_since(session, actor=people.ann, source_ids=[week.id]) == TODAY
    board = dashboard(session, actor=people.ann, scope=Scope(), period=WEEK)
    assert model.members_note(session, people.ann, board) == ""

    never = add_source(session, people.bob, "8", history_start=date(2026, 3, 20))
    board = dashboard(session, actor=people.bob, scope=Scope(), period=WEEK)
    note = model.members_note(session, people.bob, board)
    assert note.startswith("Замеров числа подписчиков ещё нет")
    assert members_since(session, actor=people.bob, source_ids=[never.id]) is None
    with pytest.raises(PermissionDenied):  # someone else's source
        members_since(session, actor=people.bob, source_ids=[week.id])
