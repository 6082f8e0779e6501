"""A visitor who has not signed in reads lessons and the catalog without touching anyone's
progress rows: joining on "user_id IS NULL" made SQLite walk every progress row of the course
once per lesson (15 ms of CPU per lesson page at 10,000 members, growing with them)."""

from __future__ import annotations

import pytest

from app.courses.models import LessonProgress
from app.extensions import db
from tests.courses.test_views import LESSON, learner, login  # noqa: F401 (fixtures)
from tests.querycount import count_queries


@pytest.fixture
def someone_read_it(published, learner):  # noqa: F811 (fixtures)
    """Progress rows of another member exist: none of them may show for a visitor."""
    from sqlalchemy import select

    from app.courses.models import Course

    course = db.session.scalar(select(Course))
    for slug in ("gioi-thieu", "dat-mat-khau"):
        db.session.add(LessonProgress(user_id=learner.id, course_id=course.id, lesson_slug=slug))
    db.session.commit()


@pytest.mark.parametrize("path", [LESSON, "/courses/", "/courses/khoa-hoc-mau/"])
def test_visitor_pages_do_not_read_progress(client, someone_read_it, path):
    client.get(path)
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert not [s for s in statements if "lesson_progress" in s], statements
    assert "✓" not in response.text and "Đã học 100%" not in response.text


def test_signed_in_member_still_sees_their_marks(client, auth, someone_read_it, learner):  # noqa: F811
    login(auth, learner)
    assert "Đã học 100%" in client.get("/courses/").text
    assert "Bạn đã học xong bài này." in client.get(LESSON).text
