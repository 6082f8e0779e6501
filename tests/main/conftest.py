"""Each test-client request starts with an empty ``g``, as it does in production.

tests/conftest.py keeps one app context open for the whole test, and Flask reuses an open
app context for every request made inside it, so ``g`` (the logged-in user, the chosen
locale, cached permissions) would otherwise leak from one request into the next.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_g_per_request(request):
    """``fresh_request_state`` (tests/conftest.py) for every test here that has an app."""
    if "app" in request.fixturenames:
        request.getfixturevalue("fresh_request_state")
