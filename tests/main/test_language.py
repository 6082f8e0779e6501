"""The language switch: a plain link, remembered in the session, safe about where it sends you."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


def session_lang(client):
    with client.session_transaction() as session:
        return session.get("lang")


def test_switch_to_english_and_back(client):
    response = client.get("/lang/en")
    assert response.status_code == 302
    assert session_lang(client) == "en"
    assert '<html lang="en">' in client.get("/").text

    client.get("/lang/vi")
    assert session_lang(client) == "vi"
    assert '<html lang="vi">' in client.get("/").text


def test_vietnamese_by_default_whatever_the_browser_says(client):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="vi">' in response.text


def test_returns_to_the_page_it_was_used_on(client):
    page = client.get("/login?next=/account").text
    assert 'href="/lang/en?next=/login?next%3D/account"' in page
    response = client.get("/lang/en?next=/login?next%3D/account")
    assert response.headers["Location"] == "/login?next=/account"


def test_switch_marks_the_current_language(client):
    page = client.get("/").text
    assert '<span class="lang-current" aria-current="true">VI</span>' in page
    assert 'href="/lang/en?next=/"' in page


@pytest.mark.parametrize("code", ["fr", "EN", "vi-VN", "xx", "<script>"])
def test_unknown_language_is_refused(client, code):
    response = client.get(f"/lang/{code}")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text
    assert session_lang(client) is None


@pytest.mark.parametrize("target", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "evil.example",
    "",
])
def test_unsafe_next_goes_home(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/"
    assert session_lang(client) == "en"
