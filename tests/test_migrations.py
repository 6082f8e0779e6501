"""The committed migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

Each check runs `flask db upgrade` on an empty database of its own (a temporary SQLite file;
a throwaway PostgreSQL database created next to TEST_DATABASE_URL), asks Alembic's
autogenerate for the difference with the models (must be empty), then downgrades to base
and upgrades again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.scratchdb import scratch_postgres

# migrations/env.py (Flask-Migrate's template) tries Flask-SQLAlchemy's deprecated get_engine()
# first and falls back to db.engine; the warning is about that template, not our schema.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")


def schema_differences(app) -> list:
    """Alembic autogenerate's view of what the models have that the database lacks (or vice versa)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def check_migrations(database_url: str) -> None:
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        with app.app_context():
            assert inspect(db.engine).get_table_names() == [], "the database must start empty"
            upgrade()
            assert schema_differences(app) == []
            tables = set(inspect(db.engine).get_table_names())
            assert {"units", "users", "role_grants", "alembic_version"} <= tables

            downgrade(revision="-1")  # one revision behind: the comparison must notice
            assert schema_differences(app) != []

            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

            upgrade()
            assert schema_differences(app) == []
    finally:
        with app.app_context():
            db.engine.dispose()


def test_sqlite(tmp_path):
    check_migrations(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test only, dropped afterwards."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL=postgresql+psycopg://… to run it")
    with scratch_postgres(url, "hocvuso_migcheck") as scratch:
        yield scratch


def test_postgresql(scratch_database):
    check_migrations(scratch_database)
