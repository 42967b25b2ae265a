"""The report centre in a real browser: preview, build (progress), the report appears in
the history as done, its workbook downloads through the authenticated route."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook
from playwright.sync_api import expect

from socstat.services.reports.data import SHEET_DAYS, SHEET_SUMMARY


def _sandbox_link(running_app) -> str:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{running_app.env['SOCSTAT_SANDBOX_PORT']}/_sandbox/communities"
    items = httpx.get(url, timeout=30).json()["items"]
    community = next(c for c in items if c["status"] == "open" and c["wall_accessible"])
    return f"https://vk.com/{community['screen_name']}"


def test_build_appears_in_history_and_downloads(signed_in_page, running_app) -> None:  # type: ignore[no-untyped-def]
    page, _ = signed_in_page("analyst")
    page.get_by_test_id("nav-sources").click()
    # the page's own load first: typing before it is overwritten by the loaded state
    expect(page.get_by_test_id("sources-empty")).to_be_visible()
    page.get_by_test_id("links-input").fill(_sandbox_link(running_app))
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("add-result")).to_contain_text("добавлено", timeout=60_000)

    page.get_by_test_id("nav-reports").click()
    expect(page.get_by_role("heading", name="Отчёты")).to_be_visible()
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    page.get_by_test_id("report-preview").click()
    expect(page.get_by_test_id("report-preview-table")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("preview-value")).to_have_count(12)

    page.get_by_test_id("report-build").click()
    row = page.get_by_test_id("report-row")
    expect(row).to_have_count(1, timeout=30_000)
    expect(row.get_by_test_id("report-status")).to_have_text("готов", timeout=120_000)
    expect(page.get_by_test_id("report-info")).to_be_visible()
    with page.expect_download() as info:
        row.get_by_test_id("report-download").first.click()
    content = open(info.value.path(), "rb").read()  # noqa: SIM115 - read once
    book = load_workbook(io.BytesIO(content))
    assert SHEET_SUMMARY in book.sheetnames and SHEET_DAYS in book.sheetnames

    # The file is not reachable without the reader's session: a fresh context gets 404.
    report_id = row.get_attribute("data-report-id")
    anonymous = httpx.get(f"{running_app.url}/api/reports/{report_id}/file/xlsx", timeout=10)
    assert anonymous.status_code == 404
