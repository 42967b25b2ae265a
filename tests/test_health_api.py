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
    body = TestClient(build_api()).get("/metrics").text
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
