"""Pages rendered once per key: the cache itself, and when a page must be rendered afresh."""

from __future__ import annotations

from contextlib import contextmanager

from flask import flash, g, session

from app.main.rendered import CSRF_SLOT, RenderedPages, page_key, render_shared


@contextmanager
def request_to(app, path: str):
    """A request context with an empty ``g`` (the test keeps one app context open)."""
    with app.test_request_context(path):
        for name in list(g):
            g.pop(name)
        yield


def test_the_least_recently_used_page_goes_first():
    pages = RenderedPages(size=2)
    pages.put("a", "A")
    pages.put("b", "B")
    assert pages.get("a") == "A"  # "a" is now the most recently used
    pages.put("c", "C")
    assert pages.get("b") is None
    assert (pages.get("a"), pages.get("c")) == ("A", "C")


def test_a_query_string_or_a_flash_message_means_no_key(app):
    with app.test_request_context("/courses/x/lessons/y"):
        assert page_key(1) is not None
    with app.test_request_context("/courses/x/lessons/y?utm_source=zalo"):
        assert page_key(1) is None
    with app.test_request_context("/courses/x/lessons/y"):
        flash("Đã lưu")
        assert page_key(1) is None


def test_the_key_names_the_language_and_the_path(app):
    with request_to(app, "/a"):
        first = page_key(1)
    with request_to(app, "/b"):
        assert page_key(1) != first
    with request_to(app, "/a"):
        session["lang"] = "en"
        assert page_key(1) != first


def test_each_request_gets_its_own_token_in_the_shared_copy(app):
    template = app.jinja_env.from_string('<input name="csrf_token" value="{{ csrf_token() }}">')
    tokens = []
    for _ in range(2):
        with request_to(app, "/page"):
            html = render_shared(("test",), template)
            assert CSRF_SLOT not in html
            tokens.append(html.split('value="')[1].split('"')[0])
    assert all(tokens) and tokens[0] != tokens[1]  # two sessions, two tokens
    assert app.extensions["rendered_pages"].get(("test",)).count(CSRF_SLOT) == 1
