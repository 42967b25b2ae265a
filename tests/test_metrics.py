"""/metrics against database state: every figure is read from the rows at scrape time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from socstat.api.routes import build_api
from socstat.models import (
    ApiToken,
    ApiUsage,
    CollectionRun,
    JobRun,
    Outbox,
    Report,
    Source,
    Subscription,
    utcnow,
)
from socstat.services.accounts import authenticate
from socstat.services.backup import create_backup
from socstat.services.collection.usage import quota_day
from tests.services.accounts_fixtures import make_user

TOKEN = "scrape-token-0123456789"


@pytest.fixture
def scrape(monkeypatch, tmp_path):
    from socstat.settings import reset_settings_cache

    monkeypatch.setenv("SOCSTAT_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("SOCSTAT_BACKUP_DIR", str(tmp_path / "backups"))
    reset_settings_cache()

    def read() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = TestClient(build_api(), client=("10.0.0.5", 4000)).get(
            "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 200, response.text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    yield read
    monkeypatch.undo()
    reset_settings_cache()


def _value(metrics, name: str, **labels: str) -> float:
    return metrics[(name, tuple(sorted(labels.items())))]


def _seed_sources(session, now) -> None:
    owner = make_user(session, "owner@example.com")
    never = Source(external_id="1", created_at=now - timedelta(hours=2))
    stale = Source(external_id="2", last_collected_at=now - timedelta(hours=30))
    fresh = Source(external_id="3", last_collected_at=now - timedelta(hours=1))
    untracked = Source(external_id="4", status="deleted", created_at=now - timedelta(days=9))
    session.add_all([never, stale, fresh, untracked])
    session.flush()
    for source in (never, stale, fresh):
        session.add(Subscription(user_id=owner.id, source_id=source.id))


def _seed_runs(session, now) -> None:
    session.add(
        CollectionRun(
            started_at=now - timedelta(hours=26, seconds=90),
            finished_at=now - timedelta(hours=26),
            status="ok",
            requests=10,
            calls=200,
            errors_by_code={"6": 2},
            sources_ok=5,
        )
    )
    session.add(
        CollectionRun(
            started_at=now - timedelta(minutes=3),
            finished_at=now - timedelta(minutes=1),
            status="partial",
            requests=7,
            calls=150,
            errors_by_code={"6": 1, "29": 4},
            sources_ok=3,
            sources_partial=1,
            sources_failed=2,
        )
    )


def _seed_outbox_and_reports(session, now) -> None:
    session.add_all(
        [
            Outbox(channel="email", recipient="a@x.ru", created_at=now - timedelta(minutes=40)),
            Outbox(
                channel="email",
                recipient="b@x.ru",
                attempts=2,
                created_at=now - timedelta(minutes=5),
            ),
            Outbox(channel="email", recipient="c@x.ru", status="failed", attempts=8),
            Outbox(channel="email", recipient="d@x.ru", status="sent", sent_at=now),
        ]
    )
    owner = make_user(session, "reports@example.com")
    day = date(2026, 11, 30)
    for seconds, status in ((4, "done"), (6, "done"), (30, "failed")):
        session.add(
            Report(
                owner_id=owner.id,
                kind="daily",
                period_start=day,
                period_end=day,
                status=status,
                started_at=now - timedelta(seconds=seconds),
                generated_at=None if status == "failed" else now,
            )
        )


def test_metrics_match_the_database(session, scrape):
    now = utcnow()
    _seed_sources(session, now)
    _seed_runs(session, now)
    _seed_outbox_and_reports(session, now)
    session.add(JobRun(job="backup", started_at=now - timedelta(seconds=12), finished_at=now))
    session.add(JobRun(job="backup", status="failed", started_at=now - timedelta(days=1)))
    session.add(ApiToken(token_enc="x", token_hint="vk1…abcd"))
    session.add(ApiToken(token_enc="y", token_hint="vk1…dead", invalid_at=now))
    session.commit()

    metrics = scrape()

    assert _value(metrics, "socstat_sources", status="active") == 3
    assert _value(metrics, "socstat_sources", status="deleted") == 1
    assert _value(metrics, "socstat_sources_due") == 2  # never collected + 30 h ago
    # the most overdue: collected 30 h ago with a 24 h interval → due for 6 h
    lag = _value(metrics, "socstat_collection_due_lag_seconds")
    assert 6 * 3600 - 5 <= lag <= 6 * 3600 + 60
    assert _value(metrics, "socstat_collection_last_duration_seconds") == pytest.approx(120, 0.01)
    assert _value(metrics, "socstat_collection_last_sources", outcome="failed") == 2
    assert _value(metrics, "socstat_collection_last_sources", outcome="partial") == 1
    assert _value(metrics, "socstat_vk_api_requests_total") == 17
    assert _value(metrics, "socstat_vk_api_calls_total") == 350
    assert _value(metrics, "socstat_vk_api_errors_total", code="6") == 3
    assert _value(metrics, "socstat_vk_api_errors_total", code="29") == 4
    assert _value(metrics, "socstat_vk_token_valid", token="vk1…abcd") == 1
    assert _value(metrics, "socstat_vk_token_valid", token="vk1…dead") == 0

    assert _value(metrics, "socstat_outbox_pending") == 2
    assert _value(metrics, "socstat_outbox_messages", channel="email", status="failed") == 1
    assert _value(metrics, "socstat_outbox_failing", channel="email") == 1
    oldest = _value(metrics, "socstat_outbox_oldest_pending_age_seconds", channel="email")
    assert 40 * 60 - 5 <= oldest <= 40 * 60 + 60

    assert _value(metrics, "socstat_reports", status="failed") == 1
    assert _value(metrics, "socstat_report_generation_seconds_count") == 2
    assert _value(metrics, "socstat_report_generation_seconds_sum") == pytest.approx(10, 0.01)

    assert _value(metrics, "socstat_job_runs_total", job="backup", status="failed") == 1
    assert _value(metrics, "socstat_job_last_duration_seconds", job="backup") == pytest.approx(12)
    assert _value(metrics, "socstat_scheduler_leader") == 0  # no scheduler in a test process
    assert ("socstat_backup_age_seconds", ()) not in metrics  # no backup yet


def test_sign_in_failures_and_lockouts(session, scrape):
    make_user(session, "victim@example.com")
    for _ in range(5):
        authenticate(session, email="victim@example.com", password="wrong-password", ip="1.2.3.4")
        session.commit()
    metrics = scrape()
    assert _value(metrics, "socstat_login_failures_last_hour") == 5
    assert _value(metrics, "socstat_login_lockouts_total") == 1


def test_backup_age_and_size_come_from_the_newest_backup(db, scrape, tmp_path):
    result = create_backup()
    metrics = scrape()
    assert _value(metrics, "socstat_backup_last_size_bytes") == result.path.stat().st_size
    assert 0 <= _value(metrics, "socstat_backup_age_seconds") < 120


def test_every_metric_the_monitoring_docs_use_is_exported(session, scrape):
    import re

    from socstat.settings import PROJECT_ROOT

    now = utcnow()
    _seed_sources(session, now)
    _seed_runs(session, now)
    _seed_outbox_and_reports(session, now)
    session.add(JobRun(job="backup", status="ok", started_at=now, finished_at=now))
    session.add(ApiToken(token_enc="x", token_hint="vk1…abcd"))
    today = quota_day("vk")
    for code, count in (("", 120), ("15", 3)):
        session.add(
            ApiUsage(day=today, token="0f" * 8, token_masked="vk…abcd", method="wall.get",
                     code=code, count=count)
        )  # fmt: skip
    session.commit()
    create_backup()
    samples = {name for name, _ in scrape()}
    exported = samples | {n.removesuffix("_sum").removesuffix("_count") for n in samples}
    folder = PROJECT_ROOT / "docs" / "monitoring"
    used = set()
    for path in folder.iterdir():
        used |= set(re.findall(r"\bsocstat_[a-z_]+", path.read_text()))
    used -= {"socstat_ops"}  # the dashboard's uid
    assert used and used <= exported, used - exported
