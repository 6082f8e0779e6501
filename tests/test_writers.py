"""The hottest writes take turns on SQLite: threads on a lock of the process, and (for the
long submission) processes on an flock of a file beside the database: no busy-handler
sleeps."""

from __future__ import annotations

import fcntl
import os

import pytest

from app import writers
from app.extensions import db
from app.writers import lock_path, one_writer


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


def test_a_decorated_view_runs_holding_the_turn_on_sqlite_only(app, dialect):
    seen = []

    @one_writer
    def view():
        seen.append(writers._turn.locked())
        return "ok"

    assert view() == "ok"
    assert seen == [dialect == "sqlite"]
    assert not writers._turn.locked()  # given back


@pytest.mark.parametrize("across", [False, True], ids=["process", "across_processes"])
def test_other_processes_wait_for_the_file_lock_only_when_asked(app, dialect, across):
    if dialect != "sqlite":
        pytest.skip("PostgreSQL locks rows: no file lock")
    path = lock_path(db.engine.url.database)
    seen = []

    @one_writer(across_processes=across)
    def view():
        seen.append((writers._turn.locked(), _held_elsewhere(path)))
        return "ok"

    assert view() == "ok"
    assert seen == [(True, across)]
    assert not _held_elsewhere(path)  # given back


def test_the_turn_is_given_back_when_the_view_fails(app, dialect):
    @one_writer(across_processes=True)
    def failing():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    assert not writers._turn.locked()
    if dialect == "sqlite":
        assert not _held_elsewhere(lock_path(db.engine.url.database))


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
