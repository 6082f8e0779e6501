"""GET /healthz: what a load balancer or uptime check asks, answered without a traceback."""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db


def test_ok_with_database_status(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok", "database": "ok"}


def test_not_behind_login_or_rate_limit(client):
    statuses = {client.get("/healthz").status_code for _ in range(40)}
    assert statuses == {200}


@pytest.fixture
def app_without_database(request, tmp_path):
    """An app whose database cannot be reached: a SQLite path in a missing folder, or a dead port."""
    urls = {
        "sqlite": f"sqlite:///{tmp_path / 'missing-folder' / 'nope.sqlite3'}",
        # Nothing listens on port 1 of the loopback; the refusal is immediate.
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    }
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": urls[request.param]})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("app_without_database", ["sqlite", "postgresql"], indirect=True)
def test_503_when_database_unreachable(app_without_database):
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}
    assert "Traceback" not in response.text
