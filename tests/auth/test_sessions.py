"""Session cookies, "remember me", sessions ended by a new password, and CSRF on every POST."""

from __future__ import annotations

import pytest

from app.auth import services
from app.extensions import db
from tests.auth.conftest import PHONE, csrf_token
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "mat-khau-moi-2025"


def session_cookie_header(response) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers, "no session cookie was set"
    return headers[-1]


def is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


class TestCookies:
    def test_session_cookie_is_httponly_and_lax(self, client, member):
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        header = session_cookie_header(response)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header
        assert "Expires" not in header  # ends with the browser unless "remember me"

    @pytest.mark.options(SESSION_COOKIE_SECURE=True)
    def test_secure_when_configured(self, client, member):
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                                "remember": "y"})
        for header in response.headers.getlist("Set-Cookie"):
            assert "Secure" in header
            assert "HttpOnly" in header
            assert "SameSite=Lax" in header

    def test_remember_me_keeps_the_one_session_cookie(self, client, member):
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                                "remember": "y"})
        header = session_cookie_header(response)
        assert "Expires=" in header
        assert "HttpOnly" in header and "SameSite=Lax" in header
        # No separate long-lived token that would survive a password change.
        assert not any(h.startswith("remember_token=")
                       for h in response.headers.getlist("Set-Cookie"))


class TestNewPasswordEndsOtherSessions:
    def test_changing_the_password_signs_out_other_browsers(self, app, member):
        phone_browser, laptop = app.test_client(), app.test_client()
        for browser in (phone_browser, laptop):
            browser.post("/login", data={"identifier": PHONE, "password": PASSWORD})
            assert is_signed_in(browser)
        response = laptop.post("/account", data={
            "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 302
        assert is_signed_in(laptop)
        assert not is_signed_in(phone_browser)

    def test_a_reset_code_signs_out_whoever_knew_the_old_password(self, app, member):
        intruder = app.test_client()
        intruder.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        assert is_signed_in(intruder)
        code = services.issue_code(member, "reset")
        db.session.commit()
        owner = app.test_client()
        response = owner.post("/activate", data={"identifier": PHONE, "code": code,
                                                 "new_password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
        assert response.status_code == 302
        assert is_signed_in(owner)
        assert not is_signed_in(intruder)


@pytest.mark.options(WTF_CSRF_ENABLED=True)
class TestCsrf:
    @pytest.mark.parametrize("path", ["/login", "/logout", "/account", "/activate",
                                      "/register", "/people/1/reset-code"])
    def test_every_post_without_a_token_is_refused(self, client, member, path):
        client.post("/login", data={"identifier": PHONE,
                                    "password": PASSWORD,
                                    "csrf_token": csrf_token(client.get("/login").text)})
        response = client.post(path, data={"identifier": PHONE, "password": PASSWORD})
        assert response.status_code == 400
        assert "Yêu cầu không hợp lệ" in response.text
        assert 'lang="vi"' in response.text
        assert "CSRF" not in response.text

    def test_forged_login_does_not_sign_in(self, client, member):
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                                "csrf_token": "forged"})
        assert response.status_code == 400
        assert not is_signed_in(client)

    def test_forms_carry_a_token_and_it_works(self, client, member, units):
        page = client.get("/login")
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                                "csrf_token": csrf_token(page.text)})
        assert response.status_code == 302
        for path in ("/account",):
            assert 'name="csrf_token"' in client.get(path).text
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
        for path in ("/activate", "/register"):
            assert 'name="csrf_token"' in client.get(path).text

    def test_password_change_without_token_changes_nothing(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                    "csrf_token": csrf_token(client.get("/login").text)})
        old_hash = member.password_hash
        client.post("/account", data={"current_password": PASSWORD,
                                      "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        db.session.refresh(member)
        assert member.password_hash == old_hash


def test_officer_session_survives_unrelated_requests(client, units):
    """The stale-session check must not sign anyone out for no reason."""
    make_user(units.a, role="officer", phone="+84987000001")
    client.post("/login", data={"identifier": "0987000001", "password": PASSWORD})
    for _ in range(3):
        assert is_signed_in(client)
