"""`socstat report` writes the file; bad arguments get one clear line and exit code 2."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from socstat.cli import main
from socstat.models import Source, Subscription, User
from socstat.services.reports.data import SHEET_DAYS, SHEET_SUMMARY


@pytest.fixture
def ann(session: Session, make_user) -> User:  # type: ignore[no-untyped-def]
    user = make_user("ann@example.org")
    source = Source(external_id="4242", name="Клуб Анны")
    session.add(source)
    session.flush()
    session.add(Subscription(user_id=user.id, source_id=source.id, tags="клиент"))
    session.commit()
    return user


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, err


def test_report_writes_each_format(ann: User, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base = ("report", "--user", ann.email, "--kind", "custom", "--from", "2026-11-01")
    out = tmp_path / "r.xlsx"
    code, err = _run(capsys, *base, "--to", "2026-11-07", "--format", "xlsx", "--out", str(out))
    assert code == 0, err
    book = load_workbook(out)
    assert SHEET_SUMMARY in book.sheetnames
    assert book[SHEET_DAYS].max_row == 1 + 7 * 3  # one source × 7 days × 3 types
    out = tmp_path / "r.zip"
    assert (
        _run(
            capsys,
            *base,
            "--to",
            "2026-11-07",
            "--tags",
            "клиент",
            "--format",
            "csv",
            "--out",
            str(out),
        )[0]
        == 0
    )
    assert len(zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()) == 5
    out = tmp_path / "r.pdf"
    assert (
        _run(
            capsys,
            "report",
            "--user",
            ann.email,
            "--kind",
            "weekly",
            "--format",
            "pdf",
            "--out",
            str(out),
        )[0]
        == 0
    )
    assert out.read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "nobody@example.org", "--kind", "daily"), "не найден"),
        (("--kind", "custom", "--from", "2026-11-07", "--to", "2026-11-01"), "позже"),
        (("--kind", "custom", "--from", "2026-11-07"), "обе даты"),
        (("--kind", "daily", "--sources", "999999"), "Нет доступа к источнику"),
        (("--kind", "daily", "--sources", "x,y"), "неверный список id"),
        (
            (
                "--kind",
                "yearly",
            ),
            "invalid choice",
        ),
        (("--kind", "custom", "--from", "01.11.2026", "--to", "2026-11-02"), "ГГГГ-ММ-ДД"),
    ],
)
def test_bad_arguments_one_line_exit_2(ann: User, tmp_path: Path, capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    argv = ["report", "--format", "xlsx", "--out", str(tmp_path / "x.xlsx"), *args]
    if "--user" not in args:
        argv += ["--user", ann.email]
    code, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "x.xlsx").exists()


def test_run_due_at_a_moment_twice_creates_nothing_new(session: Session, ann: User, capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from sqlmodel import select

    from socstat.models import Report

    ann.created_at = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    session.add(ann)
    session.commit()
    at = "2026-11-10T10:00:00+03:00"
    code, _ = _run(capsys, "reports", "run-due", "--at", at)
    assert code == 0
    session.expire_all()
    [report] = session.exec(select(Report)).all()
    assert (report.kind, report.status, str(report.period_start)) == ("daily", "done", "2026-11-09")
    assert _run(capsys, "reports", "run-due", "--at", at)[0] == 0
    session.expire_all()
    assert len(session.exec(select(Report)).all()) == 1
    code, err = _run(capsys, "reports", "run-due", "--at", "вчера")
    assert code == 2 and "ISO 8601" in err and len(err.strip().splitlines()) == 1
