"""Builders shared by the authoring tests (no tests here): a unit tree, people, a course."""

from __future__ import annotations

import functools
import re
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from app.courses.models import CourseVersion, Lesson
from app.extensions import db
from tests.factories import PASSWORD, make_unit, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 40


@functools.cache
def _password_hash() -> str:
    """One scrypt hash for every test account (each one costs ~70 ms)."""
    return generate_password_hash(PASSWORD, method="scrypt")


def person(unit, role: str, name: str):
    user = make_user(unit, role=role, name=name, password=None)
    user.password_hash = _password_hash()
    db.session.commit()
    return user


def build_world() -> SimpleNamespace:
    """Province DN → xã A (team A1) and phường B, with one person per role that matters."""
    province = make_unit("DN", "Đồng Nai", kind="province")
    xa_a = make_unit("XA-A", "Đak Lua", kind="xa", parent=province)
    phuong_b = make_unit("PH-B", "Biên Hòa", kind="phuong", parent=province)
    team_a = make_unit("TO-A1", "Tổ CNSCĐ ấp 1", kind="team", parent=xa_a)
    db.session.commit()
    return SimpleNamespace(
        province=province, a=xa_a, b=phuong_b, team_a=team_a,
        province_trainer=person(province, "trainer", "Nguyễn Thị Hồng Nhung"),
        admin=person(province, "admin", "Trần Quốc Huy"),
        trainer_a=person(xa_a, "trainer", "Lê Văn Ba"),
        trainer_a2=person(xa_a, "trainer", "Phạm Thị Tư"),
        trainer_b=person(phuong_b, "trainer", "Võ Văn Năm"),
        officer_a=person(xa_a, "officer", "Đỗ Thị Sáu"),
        learner=person(team_a, "learner", "Võ Văn Tám"),
    )


def login(client, user) -> None:
    response = client.post("/login", data={"identifier": user.phone, "password": PASSWORD})
    assert response.status_code == 302, response.text


def course_form(**overrides) -> dict:
    data = {"title": "Dùng Zalo an toàn", "slug": "dung-zalo-an-toan",
            "summary": "Nhận biết tin nhắn lừa đảo trên Zalo.", "topic": "safety",
            "audiences": ["citizen", "student"], "competencies": ["4.1", "4.2"],
            "est_minutes": "30", "unit_code": "XA-A"}
    data.update(overrides)
    return data


def create_course(client, **overrides) -> CourseVersion:
    """Create a course through the page; returns its first draft."""
    response = client.post("/author/courses/new", data=course_form(**overrides))
    assert response.status_code == 302, response.text
    version_id = int(re.search(r"/author/versions/(\d+)/", response.headers["Location"]).group(1))
    return db.session.get(CourseVersion, version_id)


def add_lesson(client, version, title: str, body: str = "Nội dung.\n", minutes: str = "5") -> Lesson:
    db.session.refresh(version)
    response = client.post(f"/author/versions/{version.id}/lessons/new", data={
        "title": title, "est_minutes": minutes, "body": body, "revision": version.revision,
        "save": "Lưu bản nháp"})
    assert response.status_code == 302, response.text
    lesson_id = int(re.search(r"/author/lessons/(\d+)/edit", response.headers["Location"]).group(1))
    return db.session.get(Lesson, lesson_id)


def current(version) -> CourseVersion:
    """The version as stored now (the pages commit in their own transactions)."""
    db.session.expire_all()
    return db.session.get(CourseVersion, version.id)


def in_catalog(client, slug: str) -> bool:
    """Whether the learners' catalog links to the course (flash messages aside)."""
    return f'href="/courses/{slug}/"' in client.get("/courses/").text
