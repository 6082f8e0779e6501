"""The shared layout: landmarks, skip link, language switch, no JavaScript needed."""

from __future__ import annotations

import re

from tests.factories import make_unit, make_user


def test_landmarks_and_skip_link(client):
    page = client.get("/login").text
    body = page.split("<body>", 1)[1]
    # The skip link is the first thing a keyboard reaches and points at <main id="main">.
    first_focusable = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body).group(0)
    assert 'class="skip-link"' in first_focusable and 'href="#main"' in first_focusable
    assert '<main id="main"' in page
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in page
    assert page.count("<main") == 1
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_navigation_regions_are_named(client):
    page = client.get("/").text
    assert '<nav class="lang" aria-label="Ngôn ngữ">' in page
    assert 'aria-label="Điều hướng chính"' in page


def test_logout_is_a_post_form_that_works_without_javascript(client, auth):
    make_user(make_unit("L1"), phone="+84912000011")
    auth.login("0912000011")
    page = client.get("/").text
    form = re.search(r'<form method="post" action="/logout"[^>]*>.*?</form>', page, re.S)
    assert form and 'type="submit"' in form.group(0)
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302  # back to the login page


def test_a_second_browser_is_not_logged_in(app, client, auth):
    """Guards the harness too: one client's login must not leak into another's requests."""
    make_user(make_unit("L2"), phone="+84912000012")
    auth.login("0912000012")
    assert client.get("/account").status_code == 200
    assert app.test_client().get("/account").status_code == 302
