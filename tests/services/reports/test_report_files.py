"""The report files read back: every number equals the sandbox's ground truth.

A user tracks the sandbox's communities (some closed: their figures are unknown); after a
collection over HTTP the workbook (openpyxl), the CSV files and the PDF (pypdf) must show
the truth for the period, unknown cells empty and noted, «Определения» complete.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session

from socstat.sandbox import SandboxServer
from socstat.services.reports.builder import ReportRequest, build_request_data
from socstat.services.reports.csv_export import CSV_FILES
from socstat.services.reports.data import (
    DAYS_COLUMNS,
    SHEET_DAYS,
    SHEET_DEFINITIONS,
    SHEET_PUBLICATIONS,
    SHEET_SOURCES,
    SHEET_SUMMARY,
    ReportData,
)
from socstat.services.reports.definitions import METRICS, METRICS_VERSION
from socstat.services.reports.generation import make_scope, render
from tests.services.conftest import world_now
from tests.services.reports.conftest import track_and_collect

pytestmark = pytest.mark.slow

KEYS = {"Пост": "posts", "Видео": "videos", "Клип": "clips"}
FIRST_COLUMNS = DAYS_COLUMNS[:9]


def _expected(server: SandboxServer, start: date, end: date) -> dict:
    """(vk id, day, type label) → (count, likes, reposts, comments, views) from the truth;
    None figures for communities whose wall is out of reach."""
    truth = server.truth(date_from=start.isoformat(), date_to=end.isoformat())
    expected = {}
    for community in truth["communities"]:
        for day in community["days"]:
            for label, key in KEYS.items():
                block = day[key]
                where = (str(community["id"]), date.fromisoformat(day["date"]), label)
                if not community["wall_accessible"]:
                    expected[where] = (None,) * 5
                    continue
                all_unknown = block["count"] and block["views_unknown"] == block["count"]
                views = None if all_unknown else block["views"]
                expected[where] = (
                    block["count"],
                    block["likes"],
                    block["reposts"],
                    block["comments"],
                    views,
                )
    return expected


@pytest.fixture
async def report_data(session: Session, vk_sandbox: SandboxServer, vk_collector, make_user):  # type: ignore[no-untyped-def]
    ann = make_user("ann@example.org")
    await track_and_collect(session, vk_sandbox, vk_collector, ann)
    end = world_now(vk_sandbox).date() - timedelta(days=1)
    start = end - timedelta(days=5)
    data = build_request_data(
        session,
        actor=ann,
        request=ReportRequest(kind="custom", start=start, end=end, scope=make_scope()),
        now=world_now(vk_sandbox),
    )
    return data, _expected(vk_sandbox, start, end)


def _vk_ids(data: ReportData) -> dict[str, str]:
    return {s.vk_id: s.name for s in data.sources}


def _check_day_rows(rows: list[tuple], expected: dict) -> int:
    """Compare «По дням» rows with the truth; returns the number of empty (unknown) cells."""
    got = {(row[2], row[0], row[3]): tuple(row[4:9]) for row in rows}
    assert len(got) == len(rows), "one row per source × day × type"
    assert got == {k: v for k, v in expected.items() if k[0] in {r[2] for r in rows}}
    assert {k[0] for k in got} == {k[0] for k in expected}
    return sum(v is None for row in rows for v in row[4:9])


async def test_workbook_equals_ground_truth(report_data) -> None:  # type: ignore[no-untyped-def]
    data, expected = report_data
    book = load_workbook(io.BytesIO(render(data, "xlsx")))
    assert book.sheetnames == [
        SHEET_SUMMARY,
        SHEET_SOURCES,
        SHEET_DAYS,
        SHEET_PUBLICATIONS,
        SHEET_DEFINITIONS,
    ]
    days = book[SHEET_DAYS]
    header = [c.value for c in days[1]]
    assert tuple(header[:9]) == FIRST_COLUMNS
    assert days.freeze_panes == "A2" and days.auto_filter.ref
    rows = [(r[0].date(), *r[1:]) for r in days.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int) for row in rows for v in row[4:9] if v is not None)
    empty = _check_day_rows(rows, expected)
    assert empty > 0  # the closed communities
    assert any(f"{empty} пустых ячеек" in note for note in data.notes)
    known = [v for v in expected.values() if v[0] is not None]
    summary = {
        r[0]: r[1] for r in book[SHEET_SUMMARY].iter_rows(min_row=7, values_only=True) if r[0]
    }
    assert summary["Лайки"] == sum(v[1] for v in known)
    assert summary["Репосты"] == sum(v[2] for v in known)
    assert summary["Комментарии"] == sum(v[3] for v in known)
    assert summary["Просмотры"] == sum(v[4] or 0 for v in known)
    posts = sum(v[0] for k, v in expected.items() if k[2] == "Пост" and v[0] is not None)
    assert summary["Посты"] == posts
    assert book[SHEET_SUMMARY]._charts, "native charts on «Сводка»"
    sources = {r[1]: r for r in book[SHEET_SOURCES].iter_rows(min_row=2, values_only=True)}
    for vk_id, name in _vk_ids(data).items():
        likes = [v[1] for k, v in expected.items() if k[0] == vk_id]
        assert sources[vk_id][7] == (None if None in likes else sum(likes)), name
        if None in likes:
            assert any(name in note for note in data.notes), name
    definitions = [r for r in book[SHEET_DEFINITIONS].iter_rows(min_row=2, values_only=True)]
    names = {r[1] for r in definitions}
    assert {name for name, _ in METRICS} <= names
    assert {"Период", "Часовой пояс", "Охват", "Сформирован", "Версия формул"} <= names
    text = " ".join(str(r[2]) for r in definitions)
    assert f"версия {METRICS_VERSION}" in text and "Europe/Moscow" in text
    assert data.period_label.replace(" — ", " — ") in text.replace(" — ", " — ")
    assert all(note in text for note in data.notes)


async def test_csv_equals_ground_truth(report_data) -> None:  # type: ignore[no-untyped-def]
    data, expected = report_data
    archive = zipfile.ZipFile(io.BytesIO(render(data, "csv")))
    assert sorted(archive.namelist()) == sorted(CSV_FILES.values())
    raw = archive.read(CSV_FILES[SHEET_DAYS])
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert tuple(table[0][:9]) == FIRST_COLUMNS

    def number(cell: str) -> int | None:
        return None if cell == "" else int(cell)

    rows = [
        (
            date(int(r[0][6:]), int(r[0][3:5]), int(r[0][:2])),
            r[1],
            r[2],
            r[3],
            *(number(c) for c in r[4:9]),
        )
        for r in table[1:]
    ]
    assert _check_day_rows(rows, expected) > 0


async def test_pdf_shows_period_and_totals(report_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = report_data
    reader = PdfReader(io.BytesIO(render(data, "pdf")))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # A4 landscape
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert re.sub(r"\s+", "", data.period_label) in text
    for key in ("likes", "views", "posts"):
        value = data.summary_value(key)
        assert value is not None and f"{value:,}".replace(",", "") in text.replace("\u202f", "")


async def test_pdf_lists_every_source_on_paginated_pages(report_data) -> None:  # type: ignore[no-untyped-def]
    """No cut-off: 120 sources (the collected ones, renamed) are all in the PDF, over several
    pages, with the header of the figure columns on each."""
    data, _ = report_data
    many = [
        replace(data.sources[i % len(data.sources)], name=f"Источник номер {i:03d}")
        for i in range(120)
    ]
    reader = PdfReader(io.BytesIO(render(replace(data, sources=many), "pdf")))
    pages = [page.extract_text() for page in reader.pages]
    text = "".join(pages)
    assert all(f"Источник номер {i:03d}" in text for i in range(120))
    with_header = [p for p in pages if re.search(r"Просмотры\s+ERpost\s+ERview", p)]
    assert len(with_header) >= 3
