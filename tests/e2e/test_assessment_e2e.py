"""Taking an assessment end to end in headless Chromium, with JavaScript on and off.

With JavaScript, each answer is saved as it is given (a reload keeps it, without pressing
any button) and a countdown shows the server's deadline. Without it, the same attempt is
taken page by page with "Lưu và tiếp". Both end on the results page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.assessments.models import Attempt
from app.extensions import db
from tests.assessments.factories import PASSWORD, build_world
from tests.e2e.conftest import WIDTHS, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.options(WTF_CSRF_ENABLED=True)]


@pytest.fixture
def world(app):
    return build_world({"time_limit_minutes": 20, "pass_percent": 70})


def login(page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/$"))


def answer_page_one(page) -> None:
    """Questions 1–5 of the sample bank: single, multiple, true/false, short, matching."""
    page.get_by_label("Phương án đúng", exact=True).check()
    page.get_by_label("Bật xác thực hai lớp").check()
    page.get_by_label("Đặt mật khẩu dài").check()
    page.get_by_label("Sai", exact=True).check()
    page.locator("#q4-input").fill("lừa đảo bimat")
    page.get_by_label("Mật khẩu bị lộ").select_option(label="Đổi mật khẩu ngay")
    page.get_by_label("Mất điện thoại").select_option(label="Khóa SIM")
    page.get_by_label("Tin nhắn lạ").select_option(label="Không bấm đường link")


def finish(page) -> None:
    """Page 2 (the numerical question), the confirmation step, the result."""
    page.locator("#q6-input").fill("1234,5")
    page.get_by_role("button", name="Lưu và xem lại trước khi nộp").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nộp bài?")
    expect(page.get_by_text("Bạn đã trả lời 6/6 câu.")).to_be_visible()
    page.get_by_role("button", name="Nộp bài").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kết quả bài kiểm tra")
    expect(page.locator(".score-value")).to_have_text("100%")
    expect(page.locator(".score-verdict")).to_contain_text("Đạt")
    assert page.locator(".bars li").count() == 2
    assert page.locator("article.review-right").count() == 6


def test_with_javascript_answers_save_themselves(new_page, world):
    page = new_page(WIDTHS["mobile"], javascript=True)
    login(page, "0911000001")
    page.goto("/courses/khoa-thu/assessment/")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r"/attempts/\d+/"))
    status = page.locator("#save-status")
    dropped = []

    def drop_first_save(route):
        """The first autosave meets a dead connection; the retry goes through."""
        if not dropped:
            dropped.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/answer", drop_first_save)
    page.get_by_label("Phương án đúng", exact=True).check()
    expect(status).to_contain_text("Đang thử lại")
    expect(status).to_contain_text("Đã lưu lúc", timeout=10_000)
    assert len(dropped) == 1
    answer_page_one(page)
    page.locator("#q4-input").blur()
    expect(status).to_contain_text("Đã lưu lúc")
    timer = page.locator("#timer-value")
    expect(timer).to_have_text(re.compile(r"^(19|20):\d\d$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=3000)  # it counts down
    page.locator("h1").scroll_into_view_if_needed()  # the sticky timer in its place at the top
    screenshot(page, f"assessment-attempt-{WIDTHS['mobile']}")
    # No button was pressed: a reload (a dropped connection, a closed tab) keeps every answer.
    page.wait_for_load_state("networkidle")  # the last autosave has landed …
    expect(status).to_have_class(re.compile(r"\bis-saved\b"))  # … and was accepted
    page.reload()
    expect(page.get_by_label("Phương án đúng", exact=True)).to_be_checked()
    expect(page.get_by_label("Đặt mật khẩu dài")).to_be_checked()
    expect(page.locator("#q4-input")).to_have_value("lừa đảo bimat")
    expect(page.get_by_label("Tin nhắn lạ")).to_have_value(re.compile(r"^r\d$"))
    db.session.expire_all()
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == world.learner.id))
    assert sum(item.response is not None for item in attempt.items) == 5
    page.get_by_role("button", name="Lưu và tiếp").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.locator("#q6-input").fill("1234,5")
    expect(status).to_contain_text("Đã lưu lúc")
    finish(page)
    screenshot(page, f"assessment-result-{WIDTHS['mobile']}")


def test_without_javascript_page_by_page(new_page, world):
    page = new_page(WIDTHS["mobile"], javascript=False)
    login(page, "0911000002")
    page.goto("/courses/khoa-thu/assessment/")
    screenshot(page, f"assessment-intro-{WIDTHS['mobile']}")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r"/attempts/\d+/"))
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^(19|20):\d\d$"))
    answer_page_one(page)
    expect(page.locator("#save-status")).to_have_text("")  # nothing saves by itself
    page.locator("h1").scroll_into_view_if_needed()
    screenshot(page, f"assessment-attempt-nojs-{WIDTHS['mobile']}")
    page.get_by_role("button", name="Lưu và tiếp").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.get_by_text("Đã lưu câu trả lời trang 1.")).to_be_visible()
    expect(page.get_by_text("Đã trả lời 5/6 câu")).to_be_visible()
    # Back to page 1: the saved answers are there.
    page.get_by_role("button", name="Lưu và quay lại trang trước").click()
    expect(page.get_by_label("Sai", exact=True)).to_be_checked()
    page.get_by_role("button", name="Lưu và tiếp").click()
    finish(page)
    screenshot(page, f"assessment-result-nojs-{WIDTHS['mobile']}")
    page.goto("/me/competencies")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ năng lực số")
    screenshot(page, f"competencies-{WIDTHS['mobile']}")


def test_trainer_reads_the_item_analysis(new_page, world):
    from app.assessments import attempts
    from tests.assessments.factories import quick_user

    for i, choice in enumerate(["a", "a", "b", "c"]):
        learner = quick_user(world.commune, phone=f"+8491500000{i}")
        attempt, _ = attempts.start_attempt(learner, world.assessment)
        attempts.save_answer(attempt, 1, {"choice": choice})
        attempts.save_answer(attempt, 3, {"choice": "false" if i < 2 else "true"})
        attempts.submit(attempt)
    quick_user(world.province, role="trainer", phone="+84915999999")
    db.session.commit()
    page = new_page(WIDTHS["mobile"], javascript=False)
    login(page, "0915999999")
    page.goto("/courses/khoa-thu/")
    page.get_by_role("link", name="Phân tích câu hỏi (dành cho giảng viên)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phân tích câu hỏi")
    expect(page.locator(".item-stat").first).to_contain_text("q-single")
    screenshot(page, f"assessment-analysis-{WIDTHS['mobile']}")
