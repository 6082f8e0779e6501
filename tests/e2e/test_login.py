"""Signing in from a phone-sized browser, with JavaScript on and off, and switching language."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_unit, make_user

# The browser goes through the real forms, CSRF token included.
pytestmark = [pytest.mark.e2e, pytest.mark.options(WTF_CSRF_ENABLED=True)]


@pytest.fixture
def member(app):
    commune = make_unit("E2E1", name="Long Hưng")
    return make_user(commune, name="Trần Thị Bình", phone="+84912345678")


def test_login_page_renders(page):
    response = page.goto("/login")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng nhập"
    identifier = page.get_by_label("Số điện thoại hoặc email")
    assert identifier.get_attribute("autocomplete") == "username"
    assert page.get_by_label("Mật khẩu").get_attribute("type") == "password"
    assert page.get_by_role("button", name="Đăng nhập").is_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_login_and_logout(new_page, member, javascript):
    page = new_page(javascript=javascript)
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill("0912 345 678")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Xin chào, Trần Thị Bình"

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_load_state()
    assert page.get_by_text("Bạn đã đăng xuất.").is_visible()
    assert page.get_by_role("link", name="Đăng nhập").first.is_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_wrong_password_keeps_what_was_typed(new_page, member, javascript):
    page = new_page(javascript=javascript)
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill("0912.345.678")
    page.get_by_label("Mật khẩu").fill("khong-dung-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == "Số điện thoại/email hoặc mật khẩu không đúng."
    assert page.get_by_label("Số điện thoại hoặc email").input_value() == "0912.345.678"
    assert page.get_by_label("Mật khẩu").input_value() == ""


def test_next_brings_the_member_back(page, member):
    page.goto("/account")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("Số điện thoại hoặc email").fill("+84912345678")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/account$"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_language_switch_and_back(new_page, javascript):
    page = new_page(javascript=javascript)
    page.goto("/login")
    switch = page.get_by_role("navigation", name="Ngôn ngữ")
    switch.get_by_role("link", name="EN").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".lang-current").inner_text() == "EN"

    page.locator(".lang a[lang=vi]").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator(".lang-current").inner_text() == "VI"
