"""One writer at a time per process on SQLite, for the hottest writes.

SQLite lets one connection write at a time. The others wait in the driver's busy handler,
which sleeps 1, 2, 5, 10… ms between tries, so eight threads racing for the lock leave it
idle while they sleep. Views decorated with ``one_writer`` queue on a lock of the process
instead, and the next one starts as soon as the previous one returns; between processes,
SQLite's own lock still decides. PostgreSQL locks rows, not the database: nothing changes
there.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from app.extensions import db

_turn = threading.Lock()


def one_writer(view: Callable) -> Callable:
    """Run ``view`` (which commits what it writes) alone among this process's writers."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if db.engine.dialect.name != "sqlite":
            return view(*args, **kwargs)
        with _turn:
            return view(*args, **kwargs)

    return wrapped
