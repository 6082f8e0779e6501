"""The hottest writes take turns within a process on SQLite (no busy-handler sleeps)."""

from __future__ import annotations

import pytest

from app import writers
from app.writers import one_writer


def test_a_decorated_view_runs_holding_the_turn_on_sqlite_only(app, dialect):
    seen = []

    @one_writer
    def view():
        seen.append(writers._turn.locked())
        return "ok"

    assert view() == "ok"
    assert seen == [dialect == "sqlite"]
    assert not writers._turn.locked()  # given back


def test_the_turn_is_given_back_when_the_view_fails(app):
    @one_writer
    def failing():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    assert not writers._turn.locked()
