"""`flask users create`: the first admin of an install, and the ways it refuses bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth import services
from app.auth.models import User
from app.extensions import db

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def create(runner, *extra, input=None, name="Phạm Văn Quản", phone="0912 345 678",
           role="admin", unit="DN"):
    args = ["users", "create", "--name", name, "--phone", phone, "--role", role, "--unit", unit]
    return runner.invoke(args=[*args, *extra], input=input)


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_creates_an_admin_with_a_password_from_stdin(runner, units):
    result = create(runner, "--email", "Quan.Tri@Example.com", "--password-stdin",
                    input="quan-tri-2025\n")
    assert result.exit_code == 0, result.output
    assert "Quản trị viên" in result.output and "Tỉnh Đồng Nai" in result.output
    assert "Mã kích hoạt" not in result.output
    user = db.session.scalar(select(User))
    assert user.phone == "+84912345678"
    assert user.email == "quan.tri@example.com"
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("quan-tri-2025")
    assert [(g.role, g.unit_id) for g in user.grants] == [("admin", units.province.id)]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.created"))
    assert entry.target == f"user:{user.id}" and entry.details["role"] == "admin"


def test_password_line_ending_is_not_part_of_the_password(runner, units):
    result = create(runner, "--password-stdin", input="quan-tri-2025\r\nthua\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).check_password("quan-tri-2025")


def test_the_new_admin_can_sign_in(runner, client, units):
    create(runner, "--password-stdin", input="quan-tri-2025\n")
    response = client.post("/login", data={"identifier": "0912345678",
                                           "password": "quan-tri-2025"})
    assert response.status_code == 302


def test_without_a_password_prints_an_activation_code_that_works(runner, units):
    result = create(runner, role="officer", unit="XA-A")
    assert result.exit_code == 0, result.output
    code = CODE.search(result.output).group(0)
    user = db.session.scalar(select(User))
    assert user.password_hash is None
    assert "30 ngày" in result.output and "/activate" in result.output
    services.redeem_code("0912345678", code, "tu-chon-2025")
    db.session.commit()
    assert user.check_password("tu-chon-2025")


@pytest.mark.parametrize("extra, input, message", [
    (("--password-stdin",), "ngan1\n", "ít nhất 8 ký tự"),
    (("--password-stdin",), "chitoanchu\n", "cả chữ và số"),
    (("--password-stdin",), "", "ít nhất 8 ký tự"),
    (("--email", "khong-phai-email"), None, "Email không hợp lệ"),
])
def test_bad_password_or_email_creates_nothing(runner, units, extra, input, message):
    result = create(runner, *extra, input=input)
    assert result.exit_code != 0
    assert message in result.output
    assert user_count() == 0


def test_duplicate_phone_in_another_spelling(runner, units):
    assert create(runner, "--password-stdin", input="quan-tri-2025\n").exit_code == 0
    result = create(runner, "--password-stdin", input="quan-tri-2025\n",
                    name="Người khác", phone="+84 912-345-678")
    assert result.exit_code != 0
    assert "0912 345 678 đã có tài khoản" in result.output
    assert user_count() == 1


def test_duplicate_email_in_another_case(runner, units):
    create(runner, "--email", "a@example.com", "--password-stdin", input="quan-tri-2025\n")
    result = create(runner, "--email", "A@EXAMPLE.COM", phone="0987654321")
    assert result.exit_code != 0
    assert "đã có tài khoản" in result.output
    assert user_count() == 1


def test_unknown_unit(runner, units):
    result = create(runner, "--password-stdin", input="quan-tri-2025\n", unit="KHONG-CO")
    assert result.exit_code != 0
    assert "không có đơn vị mã 'KHONG-CO'" in result.output
    assert "flask units import" in result.output
    assert user_count() == 0


@pytest.mark.parametrize("phone, reason", [("0912abc", "chỉ gồm chữ số"),
                                           ("+1 212 555 1234", "Việt Nam (+84)")])
def test_bad_phone_has_its_reason(runner, units, phone, reason):
    result = create(runner, phone=phone)
    assert result.exit_code != 0
    assert reason in result.output
    assert user_count() == 0


@pytest.mark.parametrize("name", ["", "   ", "A" * 201])
def test_name_is_required_and_bounded(runner, units, name):
    result = create(runner, name=name)
    assert result.exit_code != 0
    assert "họ và tên" in result.output
    assert user_count() == 0


def test_unknown_role_is_refused_by_the_option(runner, units):
    result = create(runner, role="superuser")
    assert result.exit_code == 2
    assert user_count() == 0
