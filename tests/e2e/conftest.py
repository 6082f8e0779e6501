"""Browser tests: Playwright drives Debian's Chromium against the app served from a real thread.

The server is a werkzeug server on a free loopback port, serving the test's own ``app``
fixture (same database, same per-test cleanup). It is stopped before that fixture empties
the tables, so no request is in flight while rows are removed. Without /usr/bin/chromium
the whole folder is skipped with one line; under CI (``CI`` set) that is a failure instead,
because .ci/run installs Chromium and the browser tests must then run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = ("Chromium not found at /usr/bin/chromium: browser tests skipped "
               "(apt-get install chromium)")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WIDTHS = {"mobile": 360, "desktop": 1280}


def pytest_runtest_setup(item) -> None:
    """No Chromium: skip every test of this folder from this one place, so `-ra` folds them
    into a single summary line; under CI that is an error instead."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(SKIP_REASON.replace("skipped", "cannot run under CI"), pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (never downloaded: the Debian package)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def closing_on_drop(app):
    """The app with each response body closed even when the browser drops the connection.

    Werkzeug's development server stops iterating a body whose client went away (a page left
    while an image still loads) without closing it, so a file being sent was left to the
    garbage collector and its ResourceWarning failed whichever test was running then. The
    body is handed out through a generator whose ``finally`` closes it, also when the
    generator itself is discarded half-read.
    """
    def wrapped(environ, start_response):
        body = app(environ, start_response)

        def chunks():
            try:
                yield from body
            finally:
                if hasattr(body, "close"):
                    body.close()

        return chunks()

    return wrapped


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """Serve the test app on 127.0.0.1 and a free port until the test ends."""
    server = make_server("127.0.0.1", 0, closing_on_drop(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _new_page(browser, live_url: str, width: int, javascript: bool = True):
    context = browser.new_context(
        base_url=live_url,
        viewport={"width": width, "height": 800},
        java_script_enabled=javascript,
        locale="vi-VN",
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def new_page(browser, live_url):
    """Factory for pages at a given width, with or without JavaScript; closed after the test."""
    contexts = []

    def factory(width: int = WIDTHS["mobile"], javascript: bool = True):
        context, page = _new_page(browser, live_url, width, javascript)
        contexts.append(context)
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A phone-sized page with JavaScript on."""
    return new_page()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under tests/e2e/screenshots/ (gitignored) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
