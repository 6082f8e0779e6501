"""Count the SQL statements a block of code sends (per-page query budgets are tested)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def forget_request_state() -> None:
    """Make the next test-client request start cold, as a real one does.

    pytest-flask keeps one app context (and so one ``g`` and one session) for the whole
    test; without this, the user and their roles would come from memory and not be counted.
    """
    from flask import g

    for name in list(vars(g)):
        g.pop(name)
    db.session.expunge_all()
