"""Shared fixtures: one schema per test session, emptied after every test.

The suite runs on a temporary SQLite file by default and on PostgreSQL when
TEST_DATABASE_URL is set (as .ci/run does).
"""

from __future__ import annotations

import os

import pytest
from flask import g, request_started
from sqlalchemy import text

from app import create_app
from app.extensions import db, limiter
from tests.factories import AuthActions


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_test_app(database_url: str, **overrides):
    config = {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url}
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = make_test_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def empty_all_tables() -> None:
    """Remove every row, keeping the schema; identities restart on PostgreSQL."""
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(request, database_url, _schema, tmp_path):
    marker = request.node.get_closest_marker("options")
    overrides = dict(marker.kwargs) if marker else {}
    overrides.setdefault("UPLOAD_DIR", str(tmp_path / "uploads"))
    app = make_test_app(database_url, **overrides)
    with app.app_context():
        limiter.reset()
        yield app
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def dialect(app) -> str:
    return db.engine.dialect.name


@pytest.fixture
def fresh_request_state(app):
    """Each test-client request starts with an empty ``g``, as a real request does: the test
    keeps one app context open, so the user and roles would otherwise leak between requests."""
    def forget(sender, **extra) -> None:
        for name in list(g):
            g.pop(name, None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)
