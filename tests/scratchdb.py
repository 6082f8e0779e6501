"""A throwaway PostgreSQL database next to the one a test run was given."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


@contextmanager
def scratch_postgres(url: str, prefix: str) -> Iterator[str]:
    """Create an empty database on ``url``'s server (same user), yield its libpq URL
    (``postgresql://…``, which the app also accepts), and drop it afterwards."""
    base = make_url(url).set(drivername="postgresql")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_dsn = base.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
