"""The lesson page is rendered once per (lesson, done mark, menu, language) and shared:
each member still gets their own CSRF token, their own done mark and their own menu."""

from __future__ import annotations

import re

import pytest

from app.main.rendered import CSRF_SLOT
from tests.factories import PASSWORD, make_unit, make_user

LESSON = "/courses/khoa-hoc-mau/lessons/gioi-thieu"


@pytest.fixture
def people(app):
    unit = make_unit("26734", "Long Bình", kind="phuong")
    return {
        "an": make_user(unit, role="learner", phone="+84912000111"),
        "binh": make_user(unit, role="learner", phone="+84912000222"),
        "officer": make_user(unit, role="officer", phone="+84912000333"),
    }


def signed_in(app, user, fresh_request_state):
    """A client of its own, signed in through the form (its own session and token)."""
    client = app.test_client()
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    response = client.post("/login", data={"identifier": user.phone, "password": PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
    assert response.status_code == 302, response.text
    return client


def form_token(html: str) -> str:
    found = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no form on the page"
    assert len(set(found)) == 1
    return found[0]


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_two_members_get_their_own_token_and_can_post_with_it(app, published, people,
                                                               fresh_request_state):
    an = signed_in(app, people["an"], fresh_request_state)
    binh = signed_in(app, people["binh"], fresh_request_state)
    pages = [an.get(LESSON).text, binh.get(LESSON).text, an.get(LESSON).text]
    assert all(CSRF_SLOT not in page for page in pages)
    an_token, binh_token = form_token(pages[0]), form_token(pages[1])
    assert an_token != binh_token and form_token(pages[2]) == an_token
    # Someone else's token is refused; one's own is taken.
    assert an.post(LESSON + "/done", data={"csrf_token": binh_token}).status_code == 400
    assert an.post(LESSON + "/done", data={"csrf_token": an_token}).status_code == 302


def test_the_done_mark_and_the_menu_are_each_members_own(app, published, people,
                                                         fresh_request_state):
    an = signed_in(app, people["an"], fresh_request_state)
    binh = signed_in(app, people["binh"], fresh_request_state)
    officer = signed_in(app, people["officer"], fresh_request_state)
    assert "Đã học xong bài này" in an.get(LESSON).text
    an.post(LESSON + "/done")
    assert "Bạn đã học xong bài này." in an.get(LESSON).text
    binh_page = binh.get(LESSON).text
    assert "Bạn đã học xong bài này." not in binh_page and "Đã học xong bài này" in binh_page
    assert "/reports/programs" not in binh_page
    assert "/reports/programs" in officer.get(LESSON).text


def test_the_language_and_a_flash_message_show(app, published, people, fresh_request_state):
    an = signed_in(app, people["an"], fresh_request_state)
    vietnamese = an.get(LESSON).text
    an.get("/lang/en")
    english = an.get(LESSON).text
    assert 'lang="en"' in english and 'lang="vi"' in vietnamese
    # Marking a lesson done moves on to the next lesson with a message: rendered afresh.
    following = an.post(LESSON + "/done", follow_redirects=True).text
    assert "flash-success" in following
    assert "flash-success" not in an.get(LESSON).text


def test_a_visitor_is_asked_to_sign_in(client, published):
    for _ in range(2):
        page = client.get(LESSON).text
        assert "/login?next=" in page and "csrf_token" not in page.split("<main")[1]
