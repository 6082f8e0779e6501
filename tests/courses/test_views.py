"""Catalog, course page and lesson reader as a learner uses them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.courses.models import Course, LessonProgress
from app.extensions import db
from tests.factories import make_unit, make_user
from tests.querycount import count_queries, forget_request_state

LESSON = "/courses/khoa-hoc-mau/lessons/gioi-thieu"


@pytest.fixture
def learner(app):
    unit = make_unit("26734", "Long Bình", kind="phuong")
    return make_user(unit, role="learner", phone="+84912000111")


def login(auth, user):
    response = auth.login(user.phone)
    assert response.status_code == 302


def test_catalog_lists_published_courses(client, published):
    response = client.get("/courses/")
    assert response.status_code == 200
    assert "Khóa học mẫu: mật khẩu an toàn" in response.text
    assert "4.1" in response.text


def test_archived_course_is_hidden(client, published):
    db.session.scalar(select(Course)).is_archived = True
    db.session.commit()
    assert "Khóa học mẫu" not in client.get("/courses/").text
    assert client.get("/courses/khoa-hoc-mau/").status_code == 404
    assert client.get(LESSON).status_code == 404


def test_lesson_page_renders_stored_html(client, published):
    response = client.get(LESSON)
    assert response.status_code == 200
    assert "Mật khẩu là chìa khóa" in response.text
    assert 'rel="next"' in response.text
    assert "Đăng nhập để lưu tiến độ học" in response.text


def test_unknown_lesson_and_course_are_404(client, published):
    assert client.get("/courses/khoa-hoc-mau/lessons/khong-co").status_code == 404
    assert client.get("/courses/khong-co/").status_code == 404


def test_marking_done_is_idempotent_and_moves_on(client, auth, published, learner):
    login(auth, learner)
    first = client.post(LESSON + "/done")
    assert first.status_code == 302
    assert first.headers["Location"].endswith("/courses/khoa-hoc-mau/lessons/dat-mat-khau")
    second = client.post(LESSON + "/done")
    assert second.status_code == 302
    rows = db.session.scalars(select(LessonProgress)).all()
    assert [(r.user_id, r.lesson_slug) for r in rows] == [(learner.id, "gioi-thieu")]
    page = client.get("/courses/khoa-hoc-mau/")
    assert "Đã học 50%" in page.text
    assert "Học tiếp" in page.text and "Đặt mật khẩu mạnh" in page.text


def test_marking_done_needs_login(client, published):
    response = client.post(LESSON + "/done")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalars(select(LessonProgress)).all() == []


def test_last_lesson_done_returns_to_course(client, auth, published, learner):
    login(auth, learner)
    response = client.post("/courses/khoa-hoc-mau/lessons/dat-mat-khau/done")
    assert response.headers["Location"].endswith("/courses/khoa-hoc-mau/")


def test_repeat_view_answers_304_until_progress_changes(client, auth, published, learner):
    login(auth, learner)
    first = client.get(LESSON)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "private" in first.headers["Cache-Control"]
    repeat = client.get(LESSON, headers={"If-None-Match": etag})
    assert repeat.status_code == 304 and repeat.data == b""
    client.post(LESSON + "/done")
    after = client.get(LESSON, headers={"If-None-Match": etag})
    assert after.status_code == 200


def test_lesson_page_query_budget(client, auth, published, learner):
    login(auth, learner)
    client.get(LESSON)  # warm caches that are not per request
    forget_request_state()  # count the user and their roles, as a real request loads them
    with count_queries() as statements:
        response = client.get(LESSON)
    assert response.status_code == 200
    # the user with their roles; the lesson with the list of lessons and the member's marks
    assert len(statements) == 2, statements


def test_catalog_query_budget(client, auth, published, learner):
    login(auth, learner)
    client.get("/courses/")
    forget_request_state()
    with count_queries() as statements:
        response = client.get("/courses/")
    assert response.status_code == 200
    # the user with their roles; the published courses; lessons and the member's marks per course
    assert len(statements) == 3, statements


def test_lesson_page_weight(client, auth, published, learner):
    """Page + stylesheet stay well under the 50 KB budget for a phone on 3G."""
    login(auth, learner)
    html = client.get(LESSON).data
    with client.get("/static/css/app.css") as response:
        css = response.data
    assert len(html) + len(css) < 50 * 1024


def test_media_is_served_with_long_cache(client, published):
    html = client.get(LESSON).text
    start = html.index('src="/media/') + len('src="')
    url = html[start:html.index('"', start)]
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/" + "0" * 64 + ".png").status_code == 404


def test_catalog_progress_for_learner(client, auth, published, learner):
    login(auth, learner)
    client.post(LESSON + "/done")
    assert "Đã học 50%" in client.get("/courses/").text
