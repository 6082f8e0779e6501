"""Each test-client request starts with an empty ``g``, as it does in production.

tests/conftest.py keeps one app context open for the whole test, and Flask reuses an open
app context for every request made inside it, so ``g`` (the logged-in user, the chosen
locale, cached permissions) would otherwise leak from one request into the next.
"""

from __future__ import annotations

import pytest
from flask import g, request_started


@pytest.fixture(autouse=True)
def _fresh_g_per_request(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")

    def forget(sender, **extra) -> None:
        for name in list(g):
            g.pop(name, None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)
