"""Operations tests: helpers shared by the metrics, logging and backup tests."""

from __future__ import annotations

import pytest
from flask import g, request_started


@pytest.fixture
def fresh_request_state(app):
    """Each test-client request starts with an empty ``g`` (no user cached from the last one)."""
    def forget(sender, **extra) -> None:
        for name in list(g):
            g.pop(name, None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)
