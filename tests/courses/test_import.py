"""`flask content import/export`: idempotent, versioned, round-trips, all-or-nothing per course."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from app.courses.content import load_course, load_framework_codes
from app.courses.models import Course, CourseVersion, Lesson, MediaFile
from app.extensions import db


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_twice_creates_nothing_the_second_time(runner, content_root):
    first = runner.invoke(args=["content", "import", str(content_root), "--publish"])
    assert first.exit_code == 0, first.output
    assert "khoa-hoc-mau: tạo mới" in first.output
    counts = (count(Course), count(CourseVersion), count(Lesson), count(MediaFile))
    second = runner.invoke(args=["content", "import", str(content_root), "--publish"])
    assert second.exit_code == 0
    assert "khoa-hoc-mau: không đổi" in second.output
    assert (count(Course), count(CourseVersion), count(Lesson), count(MediaFile)) == counts == (1, 1, 2, 1)


def test_changed_course_gets_a_new_version(runner, content_root, course_dir):
    runner.invoke(args=["content", "import", str(content_root), "--publish"])
    lesson = course_dir / "02-dat-mat-khau.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nMột mẹo nữa.\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert "khoa-hoc-mau: phiên bản mới" in result.output
    versions = db.session.scalars(select(CourseVersion).order_by(CourseVersion.number)).all()
    assert [(v.number, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    assert "Một mẹo nữa" not in versions[0].lessons[1].body_md  # published v1 never changes
    again = runner.invoke(args=["content", "import", str(content_root), "--publish"])
    assert "khoa-hoc-mau: đã xuất bản" in again.output
    assert db.session.get(CourseVersion, versions[1].id).status == "published"


def test_lessons_are_rendered_once_with_resolved_links(runner, content_root, app):
    runner.invoke(args=["content", "import", str(content_root), "--publish"])
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "gioi-thieu"))
    media = db.session.scalar(select(MediaFile))
    assert 'href="/courses/khoa-hoc-mau/lessons/dat-mat-khau"' in lesson.body_html
    assert f'src="/media/{media.stored_name}"' in lesson.body_html
    assert (Path(app.config["UPLOAD_DIR"]) / "media" / media.stored_name).is_file()
    assert len(lesson.html_hash) == 64


def test_export_then_import_gives_the_same_hash(runner, content_root, tmp_path):
    runner.invoke(args=["content", "import", str(content_root), "--publish"])
    out = tmp_path / "export"
    result = runner.invoke(args=["content", "export", "khoa-hoc-mau", str(out)])
    assert result.exit_code == 0, result.output
    codes = load_framework_codes(content_root / "frameworks" / "757-qd-bkhcn.yaml")
    original = load_course(content_root / "courses" / "khoa-hoc-mau", codes)
    exported = load_course(out / "khoa-hoc-mau", codes)
    assert exported.content_hash == original.content_hash
    version = db.session.scalar(select(CourseVersion))
    assert version.content_hash == exported.content_hash
    # Re-importing the export is a no-op too.
    shutil.rmtree(content_root / "courses" / "khoa-hoc-mau")
    shutil.copytree(out / "khoa-hoc-mau", content_root / "courses" / "khoa-hoc-mau")
    again = runner.invoke(args=["content", "import", str(content_root)])
    assert "khoa-hoc-mau: không đổi" in again.output


def test_a_broken_course_is_skipped_whole_and_others_import(runner, content_root, course_dir):
    broken = content_root / "courses" / "khoa-hong"
    shutil.copytree(course_dir, broken)
    (broken / "media" / "so-do.png").unlink()
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert result.exit_code == 1
    assert "courses/khoa-hong/01-gioi-thieu.md:9: thiếu tệp ảnh media/so-do.png" in result.output
    assert "khoa-hoc-mau: tạo mới" in result.output
    assert db.session.scalars(select(Course.slug)).all() == ["khoa-hoc-mau"]


def test_export_unknown_course(runner, tmp_path):
    result = runner.invoke(args=["content", "export", "khong-co", str(tmp_path)])
    assert result.exit_code != 0 and "không có khóa học" in result.output
