"""The trainer's lesson editor in a real browser: preview without JavaScript, at phone width."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.courses.models import Lesson
from app.extensions import db
from tests.courses.conftest import content_root  # noqa: F401  (fixture)
from tests.e2e.conftest import WIDTHS, screenshot
from tests.e2e.test_courses_e2e import import_tree, login
from tests.factories import make_unit, make_user

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", WIDTHS)
def test_lesson_preview(new_page, runner, content_root, size):  # noqa: F811
    import_tree(runner, content_root)
    make_user(make_unit("75", name="Đồng Nai", kind="province"), role="trainer",
              name="Phan Thị Thu", phone="+84987000077")
    lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.slug == "dat-mat-khau"))
    page = new_page(WIDTHS[size], javascript=False)
    login(page, "0987000077")
    page.goto("/author/")
    page.get_by_role("link", name="Khóa học mẫu: mật khẩu an toàn").first.click()
    page.get_by_role("button", name="Bắt đầu sửa (tạo bản nháp v2)").click()
    # The draft copies the published lessons; open the copy of "Đặt mật khẩu mạnh".
    draft_lesson = db.session.scalar(select(Lesson.id).where(
        Lesson.slug == "dat-mat-khau", Lesson.id != lesson_id))
    page.goto(f"/author/lessons/{draft_lesson}/edit")
    body = page.locator("textarea").first
    body.fill("## Bước một\n\n!!! tip \"Mẹo\"\n    Dùng một câu dài làm mật khẩu.\n\n"
              "<script>alert(1)</script>\n\n| A | B |\n|--|--|\n| 1 | 2 |\n")
    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator(".admonition.tip")
    assert preview.count() == 1
    assert page.locator("script:text('alert(1)')").count() == 0
    screenshot(page, f"authoring-preview-{WIDTHS[size]}")
