"""The learner's home page lists their courses, the ones in progress first."""

from __future__ import annotations

import shutil

from tests.courses.test_views import learner, login  # noqa: F401  (fixture)


def test_courses_in_progress_come_first(client, auth, runner, content_root, course_dir, learner):  # noqa: F811
    # A second course whose title sorts first alphabetically, so order is not an accident.
    other = content_root / "courses" / "a-khoa-dau"
    shutil.copytree(course_dir, other)
    text = (other / "course.md").read_text(encoding="utf-8")
    (other / "course.md").write_text(text.replace("Khóa học mẫu: mật khẩu an toàn", "An toàn trước tiên"),
                                     encoding="utf-8")
    assert runner.invoke(args=["content", "import", str(content_root), "--publish"]).exit_code == 0
    login(auth, learner)
    before = client.get("/").text
    assert before.index("An toàn trước tiên") < before.index("Khóa học mẫu: mật khẩu an toàn")
    client.post("/courses/khoa-hoc-mau/lessons/gioi-thieu/done")
    after = client.get("/").text
    assert after.index("Khóa học mẫu: mật khẩu an toàn") < after.index("An toàn trước tiên")
    assert "Đang học" in after


def test_nav_offers_courses_to_everyone_signed_in(client, auth, learner):  # noqa: F811
    login(auth, learner)
    page = client.get("/").text
    assert 'href="/courses/"' in page
    assert 'href="/author/"' not in page
