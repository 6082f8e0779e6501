"""Reading the course format: every error names file, line and reason."""

from __future__ import annotations

import pytest

from app.courses.content import (
    ContentInvalid,
    load_course,
    load_framework_codes,
    split_front_matter,
)
from tests.courses.conftest import FRAMEWORK

CODES = load_framework_codes(FRAMEWORK / "757-qd-bkhcn.yaml")


def errors_of(course_dir) -> list[str]:
    with pytest.raises(ContentInvalid) as info:
        load_course(course_dir, CODES)
    return [str(e) for e in info.value.errors]


def test_framework_has_all_groups():
    assert {"0.1", "1.1", "2.3", "3.1", "4.4", "5.4", "6.3"} <= CODES
    assert len(CODES) == 25


def test_example_course_loads(course_dir):
    course = load_course(course_dir, CODES)
    assert course.slug == "khoa-hoc-mau"
    assert [ls.slug for ls in course.lessons] == ["gioi-thieu", "dat-mat-khau"]
    assert list(course.media) == ["media/so-do.png"]
    assert len(course.content_hash) == 64


def test_hash_ignores_nothing_that_matters(course_dir):
    before = load_course(course_dir, CODES).content_hash
    lesson = course_dir / "02-dat-mat-khau.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nThêm một dòng.\n", encoding="utf-8")
    assert load_course(course_dir, CODES).content_hash != before


def test_missing_title(course_dir):
    path = course_dir / "01-gioi-thieu.md"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "Vì sao cần mật khẩu mạnh"\n', ""),
                    encoding="utf-8")
    assert errors_of(course_dir) == ["courses/khoa-hoc-mau/01-gioi-thieu.md:2: thiếu title (tên bài học)"]


def test_missing_course_title(course_dir):
    path = course_dir / "course.md"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "Khóa học mẫu: mật khẩu an toàn"\n', ""),
                    encoding="utf-8")
    assert "courses/khoa-hoc-mau/course.md:2: thiếu title (tên khóa học)" in errors_of(course_dir)


def test_unknown_competency_code_names_its_line(course_dir):
    path = course_dir / "course.md"
    path.write_text(path.read_text(encoding="utf-8").replace('"4.2"', '"9.9"'), encoding="utf-8")
    assert errors_of(course_dir) == [
        "courses/khoa-hoc-mau/course.md:6: mã năng lực '9.9' không có trong khung 757"]


def test_duplicate_lesson_number(course_dir):
    (course_dir / "02-ban-sao.md").write_text("---\ntitle: Bản sao\n---\nx\n", encoding="utf-8")
    errors = errors_of(course_dir)
    assert errors == ["courses/khoa-hoc-mau/02-dat-mat-khau.md: trùng số thứ tự bài 02 với 02-ban-sao.md"]


def test_missing_media_file(course_dir):
    (course_dir / "media" / "so-do.png").unlink()
    assert errors_of(course_dir) == [
        "courses/khoa-hoc-mau/01-gioi-thieu.md:9: thiếu tệp ảnh media/so-do.png"]


def test_link_to_missing_lesson(course_dir):
    (course_dir / "02-dat-mat-khau.md").rename(course_dir / "02-mat-khau.md")
    assert errors_of(course_dir) == [
        "courses/khoa-hoc-mau/01-gioi-thieu.md:11: liên kết tới bài không tồn tại: 02-dat-mat-khau.md"]


def test_svg_is_refused(course_dir):
    (course_dir / "media" / "x.svg").write_text("<svg onload='alert(1)'/>", encoding="utf-8")
    path = course_dir / "02-dat-mat-khau.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n![x](media/x.svg)\n", encoding="utf-8")
    (error,) = errors_of(course_dir)
    assert "media/x.svg" in error and "SVG" in error


def test_image_whose_bytes_are_not_an_image(course_dir):
    (course_dir / "media" / "so-do.png").write_bytes(b"<html>not a png</html>")
    (error,) = errors_of(course_dir)
    assert "không phải ảnh png" in error


def test_yaml_syntax_error_names_the_line(course_dir):
    (course_dir / "03-hong.md").write_text("---\ntitle: [chưa đóng\nest_minutes: 3\n---\nx\n",
                                           encoding="utf-8")
    (error,) = errors_of(course_dir)
    assert error.startswith("courses/khoa-hoc-mau/03-hong.md:") and "lỗi YAML" in error


def test_badly_named_lesson_file(course_dir):
    (course_dir / "bai-3.md").write_text("---\ntitle: x\n---\nx\n", encoding="utf-8")
    assert errors_of(course_dir) == [
        "courses/khoa-hoc-mau/bai-3.md: tên tệp bài học phải có dạng NN-ten-bai.md"]


def test_all_errors_reported_together(course_dir):
    (course_dir / "media" / "so-do.png").unlink()
    (course_dir / "bai-3.md").write_text("---\ntitle: x\n---\nx\n", encoding="utf-8")
    assert len(errors_of(course_dir)) == 2


def test_front_matter_with_bom_and_crlf():
    meta, body, line = split_front_matter("\ufeff---\r\ntitle: A\r\n---\r\n\r\nThân bài\r\n", "x.md")
    assert meta == {"title": "A"} and body == "Thân bài\n" and line == 5


def test_front_matter_missing():
    with pytest.raises(ContentInvalid) as info:
        split_front_matter("no front matter", "x.md")
    assert str(info.value.errors[0]) == "x.md:1: thiếu phần đầu YAML (dòng đầu phải là ---)"
