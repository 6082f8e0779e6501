"""Signing in by phone or email, the one generic failure message, redirects and rate limits."""

from __future__ import annotations

import pytest

from app.auth import services
from app.extensions import db
from tests.auth.conftest import EMAIL, PHONE
from tests.factories import PASSWORD, make_user

GENERIC = "Số điện thoại/email hoặc mật khẩu không đúng."


def is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


class TestSuccess:
    @pytest.mark.parametrize("spelling", [
        "0912 345 678", "0912345678", "+84912345678", "84-912-345-678", "(+84) 912.345.678",
        "912345678", "0084 912 345 678",
    ])
    def test_every_phone_spelling_signs_in(self, client, member, spelling):
        response = client.post("/login", data={"identifier": spelling, "password": PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert is_signed_in(client)

    @pytest.mark.parametrize("spelling", [EMAIL, "An.Nguyen@Example.COM", "  AN.NGUYEN@EXAMPLE.COM "])
    def test_email_is_case_insensitive(self, client, member, spelling):
        response = client.post("/login", data={"identifier": spelling, "password": PASSWORD})
        assert response.status_code == 302
        assert is_signed_in(client)

    def test_last_login_is_recorded(self, client, member):
        assert member.last_login_at is None
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        db.session.refresh(member)
        assert member.last_login_at is not None

    def test_signed_in_member_visiting_login_is_sent_on(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        response = client.get("/login")
        assert response.status_code == 302
        assert response.headers["Location"] == "/"


class TestFailure:
    @pytest.mark.parametrize("identifier, password", [
        (PHONE, "sai-mat-khau-1"),            # wrong password
        ("0987 654 321", PASSWORD),           # no such phone
        ("khong-co@example.com", PASSWORD),   # no such email
        (EMAIL, "sai-mat-khau-1"),
    ])
    def test_one_generic_message_and_status(self, client, member, identifier, password):
        response = client.post("/login", data={"identifier": identifier, "password": password})
        assert response.status_code == 401
        assert GENERIC in response.text
        assert not is_signed_in(client)

    def test_wrong_password_and_unknown_account_look_the_same(self, client, member):
        wrong = client.post("/login", data={"identifier": PHONE, "password": "sai-mat-khau-1"})
        unknown = client.post("/login", data={"identifier": "0987654321", "password": "x1234567"})
        assert wrong.status_code == unknown.status_code == 401
        strip = lambda html: html.replace("0912345678", "").replace("0987654321", "")  # noqa: E731
        assert strip(wrong.text).count(GENERIC) == strip(unknown.text).count(GENERIC) == 1

    @pytest.mark.parametrize("identifier, reason", [
        ("0912abc", "chỉ gồm chữ số"),
        ("0912", "thiếu chữ số"),
        ("+1 212 555 1234", "Việt Nam (+84)"),
        ("0612345678", "Đầu số"),
    ])
    def test_malformed_phone_gets_its_reason(self, client, member, identifier, reason):
        response = client.post("/login", data={"identifier": identifier, "password": PASSWORD})
        assert response.status_code == 400
        assert reason in response.text
        assert GENERIC not in response.text
        assert f'value="{identifier}"' in response.text  # input kept

    def test_missing_fields_are_named(self, client):
        response = client.post("/login", data={})
        assert response.status_code == 400
        assert "Nhập số điện thoại hoặc email." in response.text
        assert "Nhập mật khẩu." in response.text

    def test_inactive_member_is_refused(self, client, member):
        member.is_active_member = False
        db.session.commit()
        response = client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        assert response.status_code == 401
        assert GENERIC in response.text
        assert not is_signed_in(client)

    def test_member_deactivated_while_signed_in_is_signed_out(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        assert is_signed_in(client)
        member.is_active_member = False
        db.session.commit()
        assert not is_signed_in(client)

    def test_account_not_yet_activated_cannot_sign_in(self, client, units):
        make_user(units.a, phone="+84987654321", password=None)
        response = client.post("/login", data={"identifier": "0987654321", "password": ""})
        assert response.status_code == 400
        response = client.post("/login", data={"identifier": "0987654321", "password": "abc12345"})
        assert response.status_code == 401
        assert GENERIC in response.text

    def test_absurdly_long_input_is_refused_politely(self, client, member):
        response = client.post("/login", data={"identifier": "9" * 5000, "password": "a1" * 5000})
        assert response.status_code == 400
        assert "quá dài" in response.text


class TestNext:
    def test_local_next_is_followed(self, client, member):
        response = client.post("/login?next=/account", data={"identifier": PHONE,
                                                            "password": PASSWORD})
        assert response.headers["Location"] == "/account"

    def test_login_required_page_sends_back_after_login(self, client, member):
        response = client.get("/account")
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]
        response = client.post(response.headers["Location"],
                               data={"identifier": PHONE, "password": PASSWORD})
        assert response.headers["Location"] == "/account"

    @pytest.mark.parametrize("target", [
        "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "http:/evil.com",
        "javascript:alert(1)", "/\t/evil.com", "https:evil.com", "evil.com", "",
    ])
    def test_no_open_redirect(self, client, member, target):
        response = client.post("/login", query_string={"next": target},
                               data={"identifier": PHONE, "password": PASSWORD})
        assert response.status_code == 302
        assert response.headers["Location"] == "/"

    def test_no_open_redirect_when_already_signed_in(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        response = client.get("/login", query_string={"next": "//evil.com"})
        assert response.headers["Location"] == "/"


class TestLogout:
    def test_logout_is_post_only(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        assert client.get("/logout").status_code == 405
        assert is_signed_in(client)
        response = client.post("/logout")
        assert response.status_code == 302
        assert not is_signed_in(client)

    @pytest.mark.options(WTF_CSRF_ENABLED=True)
    def test_logout_needs_the_csrf_token(self, client, member):
        from tests.auth.conftest import csrf_token

        page = client.get("/login")
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD,
                                    "csrf_token": csrf_token(page.text)})
        assert is_signed_in(client)
        forged = client.post("/logout")
        assert forged.status_code == 400
        assert is_signed_in(client)
        home = client.get("/account")
        response = client.post("/logout", data={"csrf_token": csrf_token(home.text)})
        assert response.status_code == 302
        assert not is_signed_in(client)


class TestRateLimit:
    @pytest.mark.options(LOGIN_LIMIT_PER_IDENTIFIER="3 per minute",
                         LOGIN_LIMIT_PER_IP="100 per minute")
    def test_per_identifier_however_the_phone_is_spelled(self, client, member):
        for spelling in ("0912 345 678", "+84912345678", "84-912-345-678"):
            response = client.post("/login", data={"identifier": spelling, "password": "sai12345"})
            assert response.status_code == 401
        blocked = client.post("/login", data={"identifier": "(+84) 912.345.678",
                                              "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Thao tác quá nhiều lần" in blocked.text
        assert not is_signed_in(client)
        other = client.post("/login", data={"identifier": "0987654321", "password": "sai12345"})
        assert other.status_code == 401

    @pytest.mark.options(LOGIN_LIMIT_PER_IDENTIFIER="2 per minute",
                         LOGIN_LIMIT_PER_IP="100 per minute")
    def test_per_identifier_for_email_in_any_case(self, client, member):
        for spelling in (EMAIL, EMAIL.upper()):
            client.post("/login", data={"identifier": spelling, "password": "sai12345"})
        blocked = client.post("/login", data={"identifier": "An.Nguyen@example.com",
                                              "password": PASSWORD})
        assert blocked.status_code == 429

    @pytest.mark.options(LOGIN_LIMIT_PER_IDENTIFIER="100 per minute",
                         LOGIN_LIMIT_PER_IP="3 per minute")
    def test_per_ip(self, client, member):
        for number in ("0987654321", "0987654322", "0987654323"):
            assert client.post("/login", data={"identifier": number,
                                               "password": "sai12345"}).status_code == 401
        blocked = client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Vui lòng đợi một lát rồi thử lại" in blocked.text
        assert 0 < int(blocked.headers["Retry-After"]) <= 60
        assert 'lang="vi"' in blocked.text
        elsewhere = client.post("/login", data={"identifier": PHONE, "password": PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert elsewhere.status_code == 302

    @pytest.mark.options(LOGIN_LIMIT_PER_IDENTIFIER="1 per minute",
                         LOGIN_LIMIT_PER_IP="1 per minute")
    def test_showing_the_form_is_not_limited(self, client, member):
        for _ in range(5):
            assert client.get("/login").status_code == 200


@pytest.mark.parametrize("spelling", ["0912 345 678", "+84912345678", "84-912-345-678",
                                      "(+84) 912.345.678", "912345678"])
def test_login_key_is_one_per_number(spelling):
    assert services.login_key(spelling) == services.login_key("0912345678")


def test_login_key_folds_emails():
    assert services.login_key("An.Nguyen@Example.COM") == services.login_key(EMAIL)
