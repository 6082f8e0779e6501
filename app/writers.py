"""One writer at a time on a SQLite database, for the hottest writes.

SQLite lets one connection write at a time. The others wait in the driver's busy handler,
which sleeps 1, 2, 5, 10… ms between tries, so writers racing for the lock leave it idle
while they sleep. Views decorated with ``one_writer`` queue instead on a lock of the
process (threads), and the next one starts as soon as the previous one returns.

Between gunicorn's workers, ``across_processes=True`` also queues on an ``flock`` of a file
beside the database. That pays for a long write (a submission scores and writes inside its
transaction, so the other worker would often find SQLite's lock taken and sleep); a one-row
write (autosave) rarely collides, and serializing whole views of both workers cost more than
it saved (measured: bench/RESULTS.md). PostgreSQL locks rows, not the database: nothing
changes there.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from app.extensions import db

try:
    import fcntl
except ImportError:  # not on Windows: threads still take turns, processes do not
    fcntl = None

_turn = threading.Lock()
# (pid, path) → descriptor of the lock file: opened once per process, and again after a
# fork, since an flock belongs to the open file and a child sharing it would not wait.
_files: dict[tuple[int, str], int] = {}


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


@contextmanager
def _file_turn(path: str) -> Iterator[None]:
    descriptor = _descriptor(path)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def one_writer(view: Callable | None = None, *, across_processes: bool = False):
    """Run ``view`` (which commits what it writes) alone among this process's writers, and
    with ``across_processes`` among every process's writers of the database."""
    if view is None:
        return functools.partial(one_writer, across_processes=across_processes)

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return view(*args, **kwargs)
        path = lock_path(engine.url.database) if across_processes and fcntl else None
        with _turn, (_file_turn(path) if path else nullcontext()):
            return view(*args, **kwargs)

    return wrapped
