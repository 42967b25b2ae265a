import pytest
from fastapi.testclient import TestClient

from socstat.api.routes import build_api
from socstat.models import Source


def test_healthz_ok_with_database(db):
    client = TestClient(build_api())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_sources_by_status(session):
    session.add(Source(external_id="1", status="active"))
    session.add(Source(external_id="2", status="banned"))
    session.commit()
    body = TestClient(build_api(), client=("127.0.0.1", 50000)).get("/metrics").text
    assert 'socstat_sources{status="active"} 1.0' in body
    assert 'socstat_sources{status="banned"} 1.0' in body


def test_every_response_carries_a_request_id(db):
    client = TestClient(build_api())
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
    echoed = client.get("/healthz", headers={"x-request-id": "abc"})
    assert echoed.headers["x-request-id"] == "abc"


def test_healthz_is_503_when_the_database_is_down(monkeypatch):
    from socstat import db as socstat_db
    from socstat.settings import reset_settings_cache

    monkeypatch.setenv("SOCSTAT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    reset_settings_cache()
    socstat_db.reset_engine()
    try:
        response = TestClient(build_api()).get("/healthz")
    finally:
        monkeypatch.undo()
        reset_settings_cache()
        socstat_db.reset_engine()
    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.fixture
def env(monkeypatch):
    from socstat.settings import reset_settings_cache

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()

    yield apply
    monkeypatch.undo()
    reset_settings_cache()


def test_metrics_without_a_token_answer_only_loopback(db, env):
    env(SOCSTAT_METRICS_TOKEN="")
    assert TestClient(build_api(), client=("10.1.2.3", 5000)).get("/metrics").status_code == 401
    for host in ("127.0.0.1", "::1"):
        local = TestClient(build_api(), client=(host, 5000)).get("/metrics")
        assert local.status_code == 200 and "socstat_users" in local.text


def test_metrics_with_a_token_need_the_bearer_header(db, env):
    env(SOCSTAT_METRICS_TOKEN="scrape-token-0123456789")
    client = TestClient(build_api(), client=("127.0.0.1", 5000))
    assert client.get("/metrics").status_code == 401  # loopback alone is not enough
    wrong = {"Authorization": "Bearer scrape-token-wrong"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic x"}).status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert right.status_code == 200 and "socstat_users" in right.text


def test_api_docs_are_off_in_prod(db, env):
    env(SOCSTAT_ENV="dev")
    dev = TestClient(build_api())
    assert dev.get("/api/docs").status_code == 200
    assert dev.get("/api/openapi.json").status_code == 200
    env(SOCSTAT_ENV="prod", SOCSTAT_SECRET_KEY="prod-secret-key-0123456789")
    prod = TestClient(build_api())
    assert prod.get("/api/docs").status_code == 404
    assert prod.get("/api/openapi.json").status_code == 404
    assert prod.get("/healthz").status_code == 200
