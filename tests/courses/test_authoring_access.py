"""Who may reach the authoring pages: every URL, every kind of visitor."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.courses import authoring
from app.courses.models import Course, CourseVersion
from app.extensions import db
from tests.courses.test_authoring_helpers import build_world, course_form, login

# Every authoring URL (method, path with {course}, {version}, {lesson} placeholders).
URLS = [
    ("GET", "/author/"),
    ("GET", "/author/courses/new"),
    ("POST", "/author/courses/new"),
    ("GET", "/author/courses/{course}/"),
    ("POST", "/author/courses/{course}/draft"),
    ("POST", "/author/courses/{course}/archive"),
    ("POST", "/author/courses/{course}/unarchive"),
    ("GET", "/author/versions/{version}/"),
    ("GET", "/author/versions/{version}/edit"),
    ("POST", "/author/versions/{version}/edit"),
    ("GET", "/author/versions/{version}/lessons/new"),
    ("POST", "/author/versions/{version}/lessons/new"),
    ("GET", "/author/versions/{version}/media"),
    ("POST", "/author/versions/{version}/media"),
    ("GET", "/author/versions/{version}/publish"),
    ("POST", "/author/versions/{version}/publish"),
    ("POST", "/author/versions/{version}/discard"),
    ("GET", "/author/lessons/{lesson}/edit"),
    ("POST", "/author/lessons/{lesson}/edit"),
    ("GET", "/author/lessons/{lesson}/delete"),
    ("POST", "/author/lessons/{lesson}/delete"),
    ("POST", "/author/lessons/{lesson}/move"),
]
# URLs that name a particular course (directly or through a version or lesson).
COURSE_URLS = [(m, u) for m, u in URLS if "{" in u]


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def course_a(world):
    """A course of xã A with one lesson: its ids fill the URLs above."""
    course = authoring.create_course(world.trainer_a, "khoa-a",
                                     authoring.CourseFields(**_fields(unit_code="XA-A")))
    version = course.versions[0]
    lesson = authoring.add_lesson(world.trainer_a, version, version.revision,
                                  authoring.LessonFields(title="Bài một", body="Một.\n"))
    db.session.commit()
    return {"course": course.id, "version": version.id, "lesson": lesson.id}


def _fields(**overrides) -> dict:
    data = course_form(**overrides)
    data.pop("slug")
    return data


def _url(path: str, ids: dict) -> str:
    return path.format(**ids)


def _send(client, method: str, url: str):
    data = {"revision": "1", "title": "Đổi", "direction": "up"}
    return client.get(url) if method == "GET" else client.post(url, data=data)


def test_the_matrix_lists_every_authoring_url(app):
    """A new authoring page cannot be added without being checked here."""
    listed = {(m, re.sub(r"\{\w+\}", "X", u)) for m, u in URLS}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("authoring."):
            continue
        path = re.sub(r"<[^>]+>", "X", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in listed, f"{method} {rule.rule} is not in the access matrix"


def _statuses(client, urls, ids) -> dict[str, int]:
    return {f"{method} {_url(path, ids)}": _send(client, method, _url(path, ids)).status_code
            for method, path in urls}


def test_anonymous_visitors_are_sent_to_login(client, course_a):
    for method, path in URLS:
        response = _send(client, method, _url(path, course_a))
        assert response.status_code == 302, f"{method} {path}"
        assert "/login" in response.headers["Location"], f"{method} {path}"


@pytest.mark.parametrize("who", ["learner", "officer_a"])
def test_people_without_the_trainer_role_get_403_everywhere(client, world, course_a, who):
    login(client, getattr(world, who))
    versions = db.session.scalar(select(func.count(CourseVersion.id)))
    statuses = _statuses(client, URLS, course_a)
    assert {url: s for url, s in statuses.items() if s != 403} == {}
    assert "Không có quyền truy cập" in client.get("/author/").text
    assert db.session.scalar(select(func.count(CourseVersion.id))) == versions


def test_a_trainer_of_another_commune_gets_404_for_every_course_url(client, world, course_a):
    login(client, world.trainer_b)
    statuses = _statuses(client, COURSE_URLS, course_a)
    assert {url: s for url, s in statuses.items() if s != 404} == {}
    db.session.expire_all()
    assert db.session.get(Course, course_a["course"]).is_archived is False


def test_unknown_ids_are_404(client, world):
    login(client, world.trainer_a)
    statuses = _statuses(client, COURSE_URLS, {"course": 999, "version": 999, "lesson": 999})
    assert {url: s for url, s in statuses.items() if s != 404} == {}


@pytest.mark.parametrize("who", ["trainer_a", "trainer_a2", "province_trainer", "admin"])
def test_trainers_of_the_unit_or_above_may_edit(client, world, course_a, who):
    login(client, getattr(world, who))
    assert client.get(f"/author/courses/{course_a['course']}/").status_code == 200
    assert client.get(f"/author/lessons/{course_a['lesson']}/edit").status_code == 200
    assert "khoa-a" in client.get("/author/").text


def test_shared_courses_belong_to_province_level_authors(client, world):
    """unit_id None = shared: a commune trainer neither sees nor opens it."""
    shared = authoring.create_course(world.province_trainer, "khoa-chung",
                                     authoring.CourseFields(**_fields(unit_code="")))
    db.session.commit()
    assert shared.unit_id is None
    login(client, world.trainer_a)
    assert "khoa-chung" not in client.get("/author/").text
    assert client.get(f"/author/courses/{shared.id}/").status_code == 404
    client.post("/logout")
    login(client, world.admin)
    assert "khoa-chung" in client.get("/author/").text
    assert client.get(f"/author/courses/{shared.id}/").status_code == 200


def test_a_commune_trainer_cannot_create_a_shared_course_or_one_for_another_unit(client, world):
    login(client, world.trainer_a)
    page = client.get("/author/courses/new").text
    assert "Dùng chung toàn tỉnh" not in page and "PH-B" not in page
    for unit_code in ("", "PH-B", "DN"):
        response = client.post("/author/courses/new", data=course_form(unit_code=unit_code))
        assert response.status_code == 422
        assert "unit_code-error" in response.text
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_the_course_list_shows_only_my_courses(client, world, course_a):
    authoring.create_course(world.trainer_b, "khoa-b",
                            authoring.CourseFields(**_fields(unit_code="PH-B")))
    db.session.commit()
    login(client, world.trainer_a)
    page = client.get("/author/").text
    assert "khoa-a" in page and "khoa-b" not in page
    client.post("/logout")
    login(client, world.province_trainer)
    page = client.get("/author/").text
    assert "khoa-a" in page and "khoa-b" in page


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_posts_without_a_csrf_token_are_refused(client, world, course_a):
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"identifier": world.trainer_a.phone, "password": "matkhau123",
                                "csrf_token": token})
    for method, path in URLS:
        if method == "POST":
            response = _send(client, method, _url(path, course_a))
            assert response.status_code == 400, path
    # The same save with the page's token goes through.
    page = client.get(f"/author/lessons/{course_a['lesson']}/edit").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/author/lessons/{course_a['lesson']}/edit", data={
        "csrf_token": token, "revision": "2", "title": "Bài một", "body": "Đã sửa.\n",
        "save": "Lưu bản nháp"})
    assert response.status_code == 302
