"""Courses in a real browser: the XSS corpus stays inert, and the reader looks right on a phone."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.courses.conftest import EXAMPLE, FRAMEWORK, ROOT
from tests.e2e.conftest import WIDTHS, screenshot
from tests.factories import PASSWORD, make_unit, make_user
from tests.test_markdown import XSS_CORPUS

pytestmark = pytest.mark.e2e


def import_tree(runner, root: Path) -> None:
    result = runner.invoke(args=["content", "import", str(root), "--publish"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def xss_course(runner, tmp_path) -> str:
    root = tmp_path / "content"
    shutil.copytree(FRAMEWORK, root / "frameworks")
    course = root / "courses" / "xss"
    shutil.copytree(EXAMPLE, course)
    body = "\n\n".join(XSS_CORPUS)
    (course / "03-tan-cong.md").write_text(f"---\ntitle: Tấn công\n---\n{body}\n", encoding="utf-8")
    import_tree(runner, root)
    return "/courses/xss/lessons/tan-cong"


def test_lesson_with_every_payload_runs_nothing(browser, live_url, xss_course):
    context = browser.new_context(base_url=live_url)
    dialogs: list[str] = []
    foreign: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host not in {"127.0.0.1", "localhost"}:
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(xss_course)
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    # Hover and click everything a payload might have attached a handler to.
    for element in page.locator(".prose *").all()[:200]:
        try:
            element.hover(timeout=200)
        except Exception:  # elements hidden or detached by layout are fine to skip
            continue
    assert page.locator(".prose script, .prose iframe, .prose object, .prose svg").count() == 0
    assert dialogs == []
    assert foreign == []
    context.close()


@pytest.fixture
def shipped_courses(runner, tmp_path) -> None:
    """The real content/ tree (the four required courses), imported and published."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    shutil.copytree(ROOT / "content" / "courses", root / "courses")
    for assessment in (root / "courses").glob("*/assessment.yaml"):
        assessment.unlink()  # the reader does not need the question banks
    import_tree(runner, root)


def login(page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("size", WIDTHS)
def test_reader_screens(new_page, shipped_courses, size):
    make_user(make_unit("SHOT9", name="Trảng Dài", kind="phuong"), role="learner",
              name="Trần Thị Bích", phone="+84987000009")
    width = WIDTHS[size]
    page = new_page(width, javascript=False)
    login(page, "0987000009")
    page.goto("/courses/")
    assert page.locator(".course-card").count() >= 4
    screenshot(page, f"catalog-{width}")
    page.goto("/courses/an-toan-so/")
    screenshot(page, f"course-{width}")
    page.get_by_role("link", name="Bắt đầu học").first.click()
    assert page.locator(".prose .admonition").count() >= 1
    screenshot(page, f"lesson-{width}")
    page.get_by_role("button", name="Đã học xong bài này").click()
    page.goto("/courses/an-toan-so/")
    assert "Đã học 12%" in page.content() or "Đã học 13%" in page.content()
    assert page.get_by_role("link", name="Học tiếp").count() == 1
    screenshot(page, f"course-progress-{width}")
