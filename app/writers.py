"""One writer at a time on a SQLite database, for the hottest writes.

SQLite lets one connection write at a time. The others wait in the driver's busy handler,
which sleeps 1, 2, 5, 10… ms between tries, so writers racing for the lock leave it idle
while they sleep. The hot writes (answer autosave, submission) call ``take_turn`` just
before their first write instead: it queues on a lock of the process (threads), then on an
``flock`` of a file beside the database (gunicorn's other workers), and holds the turn until
the session's transaction ends (commit, rollback or close), as SQLite holds its own lock —
so what comes before the first write (reading, checking, parsing) runs alongside other
writers. PostgreSQL locks rows, not the database: nothing changes there.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db

try:
    import fcntl
except ImportError:  # not on Windows: threads still take turns, processes do not
    fcntl = None

_turn = threading.Lock()
# (pid, path) → descriptor of the lock file: opened once per process, and again after a
# fork, since an flock belongs to the open file and a child sharing it would not wait.
_files: dict[tuple[int, str], int] = {}
_HELD = "hocvuso_writer_turn"  # in Session.info while the session's transaction holds it


def lock_path(database: str | None) -> str | None:
    """The lock file of a SQLite database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database + ".writers"


def _descriptor(path: str) -> int:
    key = (os.getpid(), path)
    if key not in _files:
        _files[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return _files[key]


def take_turn() -> None:
    """Hold the database's writer turn from here to the end of the current transaction
    (SQLite only; a second call in the same transaction does nothing)."""
    session = db.session()
    if session.info.get(_HELD) is not None:
        return
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    session.connection()  # the transaction whose end gives the turn back has begun
    path = lock_path(engine.url.database) if fcntl else None
    _turn.acquire()
    try:
        if path:
            fcntl.flock(_descriptor(path), fcntl.LOCK_EX)
    except BaseException:
        _turn.release()
        raise
    session.info[_HELD] = path or ""


def holds_turn() -> bool:
    """Whether this thread's session holds the writer turn now."""
    return db.session().info.get(_HELD) is not None


@event.listens_for(Session, "after_transaction_end")
def _give_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or _HELD not in session.info:
        return  # a savepoint ended, or this session never took the turn
    path = session.info.pop(_HELD)
    try:
        if path:
            fcntl.flock(_descriptor(path), fcntl.LOCK_UN)
    finally:
        _turn.release()
