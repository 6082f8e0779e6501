"""A learner finishes a course in the browser, opens the certificate, follows its
verification link and sees "genuine"; screenshots of both pages at 360 px."""

from __future__ import annotations

import shutil

import pytest

from app.extensions import db
from app.records.models import CompletionRecord
from tests.courses.conftest import EXAMPLE, FRAMEWORK
from tests.e2e.conftest import WIDTHS, screenshot
from tests.factories import PASSWORD, make_unit, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def example_course(app, runner, tmp_path, live_url) -> None:
    """The two-lesson example course (no assessment), published; keys and site URL per test."""
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "keys")
    app.config["SITE_URL"] = live_url
    root = tmp_path / "content"
    shutil.copytree(FRAMEWORK, root / "frameworks")
    shutil.copytree(EXAMPLE, root / "courses" / "khoa-hoc-mau")
    result = runner.invoke(args=["content", "import", str(root), "--publish"])
    assert result.exit_code == 0, result.output


def login(page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_complete_a_course_then_verify_the_certificate(new_page, example_course, javascript):
    team = make_unit("E2E-T1", name="Tổ CNSCĐ ấp 3", kind="team")
    make_user(team, name="Nguyễn Thị Hồng Nhung", phone="+84987000123", birth_year=1968,
              email="nhung.e2e@example.vn")
    page = new_page(WIDTHS["mobile"], javascript=javascript)
    login(page, "0987 000 123")

    page.goto("/courses/khoa-hoc-mau/lessons/gioi-thieu")
    page.get_by_role("button", name="Đã học xong bài này").click()
    page.get_by_role("button", name="Đã học xong bài này").click()
    congratulation = page.locator(".flash-success", has_text="Chúc mừng!")
    assert congratulation.count() == 1

    congratulation.get_by_role("link", name="Xem chứng nhận").click()
    page.wait_for_url("**/certificates/*")
    sheet = page.locator(".certificate-sheet")
    assert "Nguyễn Thị Hồng Nhung" in sheet.inner_text()
    assert "Khóa học mẫu: mật khẩu an toàn" in sheet.inner_text()
    qr = page.get_by_role("img", name="Mã QR xác minh chứng nhận")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the data: image really decoded
    if javascript:
        screenshot(page, "certificate-360")

    page.locator("a.verify-link").click()
    page.wait_for_url("**/verify/*")
    verdict = page.locator(".verdict")
    assert "Chứng nhận hợp lệ" in verdict.inner_text()
    body = page.locator("main").inner_text()
    assert "Nguyễn Thị Hồng Nhung" in body and "Tổ CNSCĐ ấp 3" in body
    for secret in ("0987", "987 000", "nhung.e2e", "1968"):
        assert secret not in page.content()
    if javascript:
        screenshot(page, "verify-360")
    assert db.session.query(CompletionRecord).count() == 1
