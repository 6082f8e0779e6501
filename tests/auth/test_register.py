"""Self-registration: off by default, a citizen picks commune/ward and audience, becomes a learner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app
from app.auth.models import User
from app.extensions import db
from tests.factories import make_unit

GOOD = {
    "full_name": "Lê Thị Hoa", "phone": "0933 111 222", "unit_code": "XA-A",
    "audience": "citizen", "gender": "female", "birth_year": "1961",
    "new_password": "hoa-sen-1961", "confirm": "hoa-sen-1961",
}


def register(client, **changes):
    return client.post("/register", data={**GOOD, **changes})


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


class TestSwitch:
    @pytest.mark.options(SELF_REGISTRATION=False)
    def test_off_means_not_found(self, client, units):
        assert client.get("/register").status_code == 404
        assert register(client).status_code == 404
        assert user_count() == 0
        assert "/register" not in client.get("/").text

    def test_on_in_tests(self, client, units):
        assert client.get("/register").status_code == 200
        assert 'href="/register"' in client.get("/").text

    @pytest.mark.parametrize("env, expected", [("production", False), ("development", True)])
    def test_default_by_environment(self, monkeypatch, database_url, tmp_path, env, expected):
        monkeypatch.delenv("SELF_REGISTRATION", raising=False)
        app = create_app({"APP_ENV": env, "SECRET_KEY": "x" * 32,
                          "SQLALCHEMY_DATABASE_URI": database_url,
                          "UPLOAD_DIR": str(tmp_path)})
        assert app.config["SELF_REGISTRATION"] is expected


class TestForm:
    def test_lists_only_communes_and_wards(self, client, units):
        make_unit("DK-1", "Côn Đảo", kind="dac_khu", parent=units.province)
        page = client.get("/register").text
        assert 'value="XA-A"' in page and "Xã Đak Lua" in page
        assert 'value="PH-B"' in page and "Phường Biên Hòa" in page
        assert 'value="DK-1"' in page
        assert 'value="DN"' not in page
        assert 'value="TO-A1"' not in page

    def test_vietnamese_alphabetical_order(self, client, units):
        make_unit("XA-L", "Long Thành", kind="xa", parent=units.province)
        make_unit("XA-Z", "Xuân Lộc", kind="xa", parent=units.province)
        page = client.get("/register").text
        # Đ sorts with D, not after X as plain code-point order would put it.
        assert page.index("Biên Hòa") < page.index("Đak Lua") < page.index("Long Thành") \
            < page.index("Xuân Lộc")

    def test_labels_for_every_field(self, client, units):
        page = client.get("/register").text
        for name in ("full_name", "phone", "unit_code", "audience", "gender", "birth_year",
                     "new_password", "confirm"):
            assert f'<label for="{name}"' in page


class TestSuccess:
    def test_citizen_becomes_a_learner_of_the_chosen_commune(self, client, units):
        response = register(client)
        assert response.status_code == 302
        user = db.session.scalar(select(User))
        assert user.phone == "+84933111222"
        assert user.full_name == "Lê Thị Hoa"
        assert user.unit_id == units.a.id
        assert user.audience == "citizen"
        assert user.gender == "female" and user.birth_year == 1961
        assert [(g.role, g.unit_id) for g in user.grants] == [("learner", units.a.id)]
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("hoa-sen-1961")
        assert client.get("/account").status_code == 200

    def test_name_is_stored_nfc_and_trimmed(self, client, units):
        nfd = "  Le\u0302 Thi\u0323   Hoa  "
        register(client, full_name=nfd, gender="", birth_year="")
        user = db.session.scalar(select(User))
        assert user.full_name == "Lê Thị Hoa"
        assert user.gender is None and user.birth_year is None

    def test_can_sign_in_afterwards(self, app, units):
        register(app.test_client())
        response = app.test_client().post("/login", data={"identifier": "+84933111222",
                                                           "password": "hoa-sen-1961"})
        assert response.status_code == 302


class TestRefused:
    def test_duplicate_phone_in_another_spelling(self, app, units):
        assert register(app.test_client()).status_code == 302
        response = register(app.test_client(), phone="+84 933-111-222", full_name="Người khác")
        assert response.status_code == 400
        assert "đã có tài khoản" in response.text
        assert user_count() == 1

    @pytest.mark.parametrize("phone, reason", [
        ("0933abc", "chỉ gồm chữ số"),
        ("0933 111", "thiếu chữ số"),
        ("+1 212 555 1234", "Việt Nam (+84)"),
        ("0633111222", "Đầu số"),
        ("", "Nhập số điện thoại."),
    ])
    def test_bad_phone_has_a_reason_and_input_is_kept(self, client, units, phone, reason):
        response = register(client, phone=phone)
        assert response.status_code == 400
        assert reason in response.text
        assert 'value="Lê Thị Hoa"' in response.text
        assert 'value="1961"' in response.text
        assert '<option selected value="XA-A">' in response.text
        assert user_count() == 0

    @pytest.mark.parametrize("unit_code", ["TO-A1", "DN", "KHONG-CO", ""])
    def test_only_a_listed_commune_or_ward(self, client, units, unit_code):
        response = register(client, unit_code=unit_code)
        assert response.status_code == 400
        assert "Chọn xã/phường" in response.text
        assert "Not a valid choice" not in response.text
        assert user_count() == 0

    @pytest.mark.parametrize("changes, message", [
        ({"audience": "hacker"}, "Chọn một mục trong danh sách."),
        ({"gender": "x"}, "Chọn một mục trong danh sách."),
        ({"birth_year": "abc"}, "Năm sinh là một số"),
        ({"birth_year": "1800"}, "Năm sinh phải từ 1900"),
        ({"birth_year": "2999"}, "Năm sinh phải từ 1900"),
        ({"full_name": "   "}, "Nhập họ và tên."),
        ({"full_name": "A" * 201}, "dài quá 200 ký tự"),
        ({"new_password": "ngan1", "confirm": "ngan1"}, "ít nhất 8 ký tự"),
        ({"confirm": "khac-han-1961"}, "Hai mật khẩu không khớp."),
        ({"new_password": "", "confirm": ""}, "Nhập mật khẩu."),
    ])
    def test_other_bad_input(self, client, units, changes, message):
        response = register(client, **changes)
        assert response.status_code == 400
        assert message in response.text
        assert "Not a valid" not in response.text
        assert user_count() == 0

    def test_a_simultaneous_registration_of_the_same_phone_is_a_400(self, client, units,
                                                                    monkeypatch):
        """Both requests passed the duplicate check; the unique index stops the second."""
        from app.auth import services

        taken = client.application.test_client()
        assert register(taken).status_code == 302

        def racing(**kwargs):
            return services.create_user(full_name=kwargs["full_name"], unit=units.a,
                                        phone="+84933111222", password=kwargs["password"])

        monkeypatch.setattr(services, "register_learner", racing)
        response = register(client, full_name="Người thứ hai")
        assert response.status_code == 400
        assert "đã có tài khoản" in response.text
        assert 'value="Người thứ hai"' in response.text
        assert user_count() == 1

    def test_signed_in_member_is_sent_home(self, client, member):
        client.post("/login", data={"identifier": member.phone, "password": "matkhau123"})
        assert client.get("/register").status_code == 302
