"""`flask users …`: create accounts and import rosters from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth import services
from app.auth.models import AUDIENCES, ROLES, User
from app.auth.passwords import password_problems
from app.auth.phone import InvalidPhone, normalize_phone
from app.extensions import db
from app.orgs.models import Unit

users_cli = AppGroup("users", help="Tài khoản người dùng.")


@users_cli.command("create")
@click.option("--name", "full_name", required=True, help="Họ và tên.")
@click.option("--phone", required=True, help="Số điện thoại, ví dụ 0912345678.")
@click.option("--email", default=None)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị nơi cấp vai trò.")
@click.option("--audience", type=click.Choice(AUDIENCES), default="civil_servant",
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của stdin.")
def create_user_command(full_name, phone, email, role, unit_code, audience, password_stdin):
    """Create an account, e.g. the first admin of a production install."""
    try:
        phone = normalize_phone(phone)
    except InvalidPhone as exc:
        raise click.UsageError(f"--phone: {exc.reason}") from None
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise click.UsageError(f"--unit: không có đơn vị mã {unit_code!r}. "
                               "Hãy chạy `flask units import` trước.")
    if db.session.scalar(select(User.id).where(User.phone == phone)):
        raise click.UsageError(f"--phone: số {phone} đã có tài khoản.")
    if email and db.session.scalar(
            select(User.id).where(User.email == services.normalize_email(email))):
        raise click.UsageError(f"--email: {email} đã có tài khoản.")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problems = password_problems(password)
        if problems:
            raise click.UsageError("mật khẩu: " + " ".join(str(p) for p in problems))
    user = services.create_user(full_name=full_name, phone=phone, email=email, unit=unit,
                                role=role, audience=audience, password=password)
    code = None if password else services.issue_code(user, "activation")
    db.session.commit()
    click.echo(f"Đã tạo {user.full_name} ({user.phone}), vai trò {role} tại {unit.full_name}.")
    if code:
        click.echo(f"Mã kích hoạt (dùng một lần): {code}")
