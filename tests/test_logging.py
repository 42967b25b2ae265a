import json
import logging

from socstat.logging_setup import JsonFormatter, TextFormatter, _ContextFilter, log_context, redact


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("socstat.test", logging.INFO, __file__, 1, message, None, None)
    _ContextFilter().filter(record)
    return record


def test_secrets_are_redacted():
    text = redact("GET /method/wall.get?access_token=vk1.a.SECRET&v=5.199 password=hunter2")
    assert "SECRET" not in text
    assert "hunter2" not in text
    assert "v=5.199" in text


def test_json_lines_carry_context():
    with log_context(job="collect", run_id=7):
        line = JsonFormatter().format(_record("run started token=abc123"))
    entry = json.loads(line)
    assert entry["msg"] == "run started token=***"
    assert entry["job"] == "collect"
    assert entry["run_id"] == "7"
    assert entry["level"] == "INFO"


def test_text_lines_carry_context():
    with log_context(request_id="r1"):
        line = TextFormatter().format(_record("hello"))
    assert line.endswith("hello [request_id=r1]")


def test_credentials_in_urls_are_redacted():
    text = redact("pg_dump failed for postgresql+psycopg://socstat:pa55word@db:5432/socstat")
    assert "pa55word" not in text and "socstat:***@db:5432" in text


async def test_a_refused_token_is_logged_masked_with_its_code_and_the_run_id(db, session):
    import io

    from sqlmodel import select

    from socstat.collectors.vk import VKCollector
    from socstat.logging_setup import JsonFormatter, _ContextFilter
    from socstat.models import Source
    from socstat.sandbox.config import SandboxConfig, TokenSpec
    from socstat.sandbox.runner import SandboxServer
    from socstat.services.collection import collect_sources
    from socstat.services.jobs import run_job
    from tests.services.accounts_fixtures import make_user
    from tests.services.conftest import add_sources

    secret = "refused-secret-token-9999"
    config = SandboxConfig(
        seed=3,
        communities=3,
        days=3,
        running_clock=False,
        rate_limit=False,
        tokens=[TokenSpec("good-token-0001")],
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_ContextFilter())
    logger = logging.getLogger("socstat")
    logger.addHandler(handler)
    try:
        with SandboxServer(config) as server:
            good = VKCollector(base_url=server.url, tokens="good-token-0001", timeout=5.0)
            owner = make_user(session, "owner@example.com")
            links = [f"https://vk.com/{c['screen_name']}" for c in server.communities()]
            try:
                await add_sources(session, actor=owner, links=links, collector=good)
            finally:
                await good.aclose()
            bad = VKCollector(base_url=server.url, tokens=secret, timeout=5.0, max_retries=2)
            ids = [s.id for s in session.exec(select(Source)).all()]

            async def work() -> dict:
                summary = await collect_sources(source_ids=ids, collector=bad)
                return {"status": summary.status, "run_id": summary.run_id}

            try:
                job = await run_job("collection", work)
            finally:
                await bad.aclose()
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert secret not in stream.getvalue()
    refused = [e for e in entries if "is invalid" in e["msg"]]
    assert refused, entries
    assert "…9999" in refused[0]["msg"] and "VK error 5" in refused[0]["msg"]
    assert refused[0]["run_id"] == str(job.details["run_id"])
    assert refused[0]["job"] == "collection" and refused[0]["job_run_id"] == str(job.id)
