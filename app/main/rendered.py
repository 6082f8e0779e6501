"""Pages rendered once and served many times, with the session's CSRF token filled in.

A lesson looks the same to every member who holds the same roles, reads in the same
language and has the same done mark: only the CSRF token of the forms differs. Rendering the
layout and the lesson took about a fifth of the page's time, so such a page is rendered once
per key (in this process) with a slot where the token goes, and each request fills the slot.

The key must name everything the page shows; ``page_key`` adds what the layout shows (the
language, the menu, the path). Pages with a message to flash, or a query string, are
rendered as usual.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import Flask, current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.auth.permissions import held_roles

# Where the token goes while a page is cached: random per process, so no content can hold it.
CSRF_SLOT = "csrf-slot-" + secrets.token_hex(16)


class RenderedPages:
    """A bounded, thread-safe LRU of rendered pages (gunicorn runs threads in a worker)."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
            return html

    def put(self, key: Hashable, html: str) -> None:
        with self._lock:
            self._pages[key] = html
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def init_app(app: Flask, size: int = 1024) -> None:
    """Each app its own pages (a test's app never serves another's)."""
    app.extensions["rendered_pages"] = RenderedPages(size)


def page_key(*parts: Hashable) -> tuple | None:
    """The key of this request's page: ``parts`` (what the page shows) and what the layout
    shows. None when the page must be rendered afresh (a flash message, a query string)."""
    if request.query_string or session.get("_flashes"):
        return None
    return (request.endpoint, request.path, str(get_locale()), current_user.is_authenticated,
            held_roles(current_user), *parts)


def render_shared(key: tuple | None, template: str, **context) -> str:
    """``render_template`` once per key; later requests get the copy with their own token."""
    if key is None:
        return render_template(template, **context)
    pages: RenderedPages = current_app.extensions["rendered_pages"]
    html = pages.get(key)
    if html is None:
        html = render_template(template, csrf_token=lambda: CSRF_SLOT, **context)
        pages.put(key, html)
    return html.replace(CSRF_SLOT, generate_csrf()) if CSRF_SLOT in html else html
