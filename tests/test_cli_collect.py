"""`socstat sources …`, `socstat collect`, `socstat stats` against the sandbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from socstat.cli import main
from socstat.models import DailyStat, Role, Source, Subscription, User
from socstat.sandbox.config import SandboxConfig
from socstat.sandbox.runner import SandboxServer
from socstat.settings import reset_settings_cache


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    now = datetime.now(UTC).replace(microsecond=0)
    config = SandboxConfig(
        seed=3, communities=16, days=5, now=now, running_clock=False, rate_limit=False
    )
    with SandboxServer(config) as server:
        monkeypatch.setenv("SOCSTAT_VK_API_URL", server.url)
        monkeypatch.setenv("SOCSTAT_VK_TOKENS", "cli-token-12345678")
        reset_settings_cache()
        yield server
    monkeypatch.undo()
    reset_settings_cache()


def _admin(session: Session) -> User:
    admin = User(email="admin@example.com", role=Role.ADMIN)
    analyst = User(email="ann@example.com")
    session.add_all([admin, analyst])
    session.commit()
    return admin


def _with_old_posts(sandbox: SandboxServer) -> str:
    """A readable community with posts from before the world's `views_since` (no views).

    The generated posts depend on the date, so which community has them does too."""
    for community in sandbox.truth()["communities"]:
        days = community["days"]
        if community["wall_accessible"] and any(d["posts"]["views_unknown"] for d in days):
            return community["screen_name"]
    raise AssertionError("the sandbox world has no readable community with old posts")


def test_sources_add_list_collect_and_stats_csv(db, session, sandbox, capsys) -> None:
    _admin(session)
    old = _with_old_posts(sandbox)
    closed = next(c["screen_name"] for c in sandbox.communities() if c["status"] == "closed")
    links = [f"https://vk.com/{old}", closed, "https://vk.com/durov", old]
    assert main(["sources", "add", "--user", "ann@example.com", *links]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4
    assert "добавлен" in out[0] and "добавлен" in out[1]
    assert "ошибка" in out[2] and "профиль" in out[2]
    assert "уже отслеживается" in out[3]
    ann = session.exec(select(User).where(User.email == "ann@example.com")).one()
    assert len(session.exec(select(Subscription).where(Subscription.user_id == ann.id)).all()) == 2

    assert main(["sources", "list"]) == 0
    listing = capsys.readouterr().out
    assert old in listing and "ещё не собирался" in listing

    code = main(["collect", "--all"])
    summary = capsys.readouterr().out
    assert "источники: успешно 2, частично 0, с ошибкой 0" in summary, summary
    assert "запросов" in summary and "длительность" in summary
    assert code == 0
    assert main(["collect"]) == 0
    assert "Нет источников" in capsys.readouterr().out
    assert main(["sources", "list"]) == 0
    collected_at = session.exec(select(Source.last_collected_at)).first()
    moscow = collected_at.astimezone(ZoneInfo("Europe/Moscow"))
    assert f"сбор: {moscow:%d.%m.%Y %H:%M} (Europe/Moscow)" in capsys.readouterr().out

    today = date.today()
    args = ["stats", "--from", str(today - timedelta(days=30)), "--to", str(today + timedelta(1))]
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == [
        "source_id",
        "screen_name",
        "date",
        "kind",
        "count",
        "likes",
        "reposts",
        "comments",
        "views",
    ]
    session.expire_all()
    stats = session.exec(select(DailyStat).order_by(DailyStat.source_id)).all()
    screen_names = {s.id: s.screen_name for s in session.exec(select(Source)).all()}
    # every day × kind of every source: DailyStat where there is a row, a known 0 on a
    # collected day without publications, empty (unknown) outside the collected history
    collected_until = moscow.date()
    history = {  # a closed wall has no history we could see
        str(s.id): s.history_start if s.status == "active" else date.max
        for s in session.exec(select(Source)).all()
    }
    stored = {(str(s.source_id), s.local_date.isoformat(), s.kind): s for s in stats}
    days = [today - timedelta(days=30) + timedelta(days=n) for n in range(32)]
    assert len(rows) - 1 == len(screen_names) * len(days) * 3
    for row in rows[1:]:
        source_id, screen_name, day, kind, *figures = row
        assert screen_name == screen_names[int(source_id)]
        stat = stored.pop((source_id, day, kind), None)
        if stat is not None:
            values = (stat.count, stat.likes, stat.reposts, stat.comments, stat.views)
            assert figures == ["" if v is None else str(v) for v in values], row
        elif not history[source_id] <= date.fromisoformat(day) <= collected_until:
            assert figures == [""] * 5, row
        else:
            assert figures == ["0"] * 5, row
    assert not stored, "every DailyStat row is in the CSV"
    assert {r[4] for r in rows[1:]} >= {"", "0"}, "unknown days stay empty, quiet days are 0"
    old_posts = [r for r in rows[1:] if r[1] == old and r[3] == "post" and r[4] not in ("", "0")]
    assert any(r[8] == "" for r in old_posts), "old posts without views must stay empty"

    source_id = str(stats[0].source_id)
    assert main([*args, "--source", source_id, "--as", "ann@example.com"]) == 0
    only = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    assert only and {r[0] for r in only} == {source_id}
    session.add(User(email="bob@example.com"))
    session.commit()
    assert main([*args, "--source", source_id, "--as", "bob@example.com"]) == 2
    assert "Нет доступа к источнику" in capsys.readouterr().err


def test_bad_arguments_exit_2_with_a_clear_message(db, session, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["stats", "--from", "2026-13-01", "--to", "2026-01-02"])
    assert exc.value.code == 2
    assert "неверная дата" in capsys.readouterr().err
    assert main(["sources", "list"]) == 2
    assert "нет ни одного администратора" in capsys.readouterr().err
    _admin(session)
    assert main(["stats", "--from", "2026-03-02", "--to", "2026-03-01"]) == 2
    assert "позже" in capsys.readouterr().err
    assert main(["sources", "list", "--as", "nobody@example.com"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["collect", "--all", "--source", "1"])
    assert exc.value.code == 2
