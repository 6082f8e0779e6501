"""The password rule, shown in Vietnamese wherever a password is chosen; changing a password."""

from __future__ import annotations

import pytest

from app.auth.passwords import PASSWORD_RULES, password_problems
from app.extensions import db
from tests.auth.conftest import PHONE
from tests.factories import PASSWORD

NEW = "mat-khau-moi-2025"


@pytest.mark.parametrize("password, problem", [
    ("", "ít nhất 8 ký tự"),
    ("abc123", "ít nhất 8 ký tự"),
    ("abcdefgh", "cả chữ và số"),
    ("12345678", "cả chữ và số"),
    ("a1" * 65, "dài quá 128 ký tự"),
])
def test_weak_passwords_get_a_reason(app, password, problem):
    assert any(problem in str(p) for p in password_problems(password))


@pytest.mark.parametrize("password", ["matkhau123", "Hoa sen nở 2025", "Đồng Nai 1 nhà", "a1234567"])
def test_acceptable_passwords(password):
    assert password_problems(password) == []


def test_hashes_are_scrypt(member):
    assert member.password_hash.startswith("scrypt:")
    assert PASSWORD not in member.password_hash


@pytest.mark.parametrize("path", ["/activate", "/register"])
def test_rules_are_shown_on_every_form_choosing_a_password(client, units, path):
    response = client.get(path)
    assert str(PASSWORD_RULES) in response.text
    assert "Ít nhất 8 ký tự, gồm cả chữ và số" in response.text


def test_rules_are_shown_on_the_account_page(client, member):
    client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
    response = client.get("/account")
    assert "Ít nhất 8 ký tự, gồm cả chữ và số" in response.text
    # The hint is tied to the input for screen readers.
    assert 'aria-describedby="new_password-hint"' in response.text


def test_account_page_says_who_i_am_and_where_i_hold_roles(client, member, units):
    from app.auth import services

    services.grant_role(member, units.a, "trainer")
    db.session.commit()
    client.post("/login", data={"identifier": PHONE, "password": PASSWORD})
    page = client.get("/account").text
    assert "Nguyễn Văn An" in page and "0912 345 678" in page
    assert "Học viên — Tổ CNSCĐ ấp 1" in page
    assert "Giảng viên — Xã Đak Lua" in page


class TestChangePassword:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, member):
        client.post("/login", data={"identifier": PHONE, "password": PASSWORD})

    def change(self, client, current=PASSWORD, new=NEW, confirm=None):
        return client.post("/account", data={"current_password": current, "new_password": new,
                                             "confirm": new if confirm is None else confirm})

    def test_success(self, client, member):
        response = self.change(client)
        assert response.status_code == 302
        assert "Đã đổi mật khẩu" in client.get("/account").text
        db.session.refresh(member)
        assert member.password_hash.startswith("scrypt:")
        assert member.check_password(NEW)
        assert not member.check_password(PASSWORD)
        client.post("/logout")
        assert client.post("/login", data={"identifier": PHONE,
                                           "password": PASSWORD}).status_code == 401
        assert client.post("/login", data={"identifier": PHONE,
                                           "password": NEW}).status_code == 302

    @pytest.mark.parametrize("kwargs, message", [
        ({"current": "sai-mat-khau-1"}, "Mật khẩu hiện tại không đúng."),
        ({"current": ""}, "Nhập mật khẩu hiện tại."),
        ({"confirm": "khac-han-2025"}, "Hai mật khẩu không khớp."),
        ({"new": "short1"}, "ít nhất 8 ký tự"),
        ({"new": "chicochu"}, "cả chữ và số"),
        ({"new": "1234567890"}, "cả chữ và số"),
        ({"new": ""}, "Nhập mật khẩu mới."),
        ({"new": PASSWORD}, "phải khác mật khẩu hiện tại"),
    ])
    def test_refusals_change_nothing(self, client, member, kwargs, message):
        old_hash = member.password_hash
        response = self.change(client, **kwargs)
        assert response.status_code == 400
        assert message in response.text
        db.session.refresh(member)
        assert member.password_hash == old_hash

    def test_needs_a_signed_in_member(self, client):
        client.post("/logout")
        response = client.post("/account", data={"current_password": PASSWORD,
                                                  "new_password": NEW, "confirm": NEW})
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
