"""The hottest writes take turns on SQLite: threads on a lock of the process, processes on
an flock of a file beside the database (no busy-handler sleeps), from the first write to
the end of the transaction."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import text

from app import writers
from app.extensions import db
from app.writers import holds_turn, lock_path, take_turn


def _held_elsewhere(path: str) -> bool:
    """Whether another open file (as another worker process has) could take the lock now."""
    other = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(other, fcntl.LOCK_UN)
        return False
    finally:
        os.close(other)


@pytest.fixture
def sqlite_only(app, dialect):
    if dialect != "sqlite":
        pytest.skip("PostgreSQL locks rows: no writer turn")
    return lock_path(db.engine.url.database)


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_turn_is_held_to_the_end_of_the_transaction(sqlite_only, end):
    take_turn()
    assert holds_turn() and writers._turn.locked() and _held_elsewhere(sqlite_only)
    take_turn()  # again in the same transaction: nothing more to take
    db.session.execute(text("SELECT 1"))
    getattr(db.session, end)()
    assert not holds_turn() and not writers._turn.locked() and not _held_elsewhere(sqlite_only)


def test_a_savepoint_ending_keeps_the_turn(sqlite_only):
    take_turn()
    with db.session.begin_nested():
        db.session.execute(text("SELECT 1"))
    assert holds_turn() and writers._turn.locked()
    db.session.commit()
    assert not writers._turn.locked()


def test_on_postgresql_nothing_is_taken(app, dialect):
    if dialect == "sqlite":
        pytest.skip("SQLite has a writer turn")
    take_turn()
    assert not holds_turn() and not writers._turn.locked()
    db.session.commit()


def test_the_lock_file_sits_beside_a_database_file_only():
    assert lock_path("/srv/hocvuso/app.sqlite3") == "/srv/hocvuso/app.sqlite3.writers"
    assert lock_path(None) is None
    assert lock_path(":memory:") is None
    assert lock_path("file:memdb?mode=memory&cache=shared") is None


def test_a_forked_worker_opens_the_lock_file_anew(tmp_path, monkeypatch):
    """An flock belongs to the open file: a child sharing its parent's would never wait."""
    path = str(tmp_path / "db.sqlite3.writers")
    first = writers._descriptor(path)
    assert writers._descriptor(path) == first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a child after fork
    assert writers._descriptor(path) != first
