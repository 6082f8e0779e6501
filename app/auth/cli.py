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
@click.option("--email", default=None, help="Email (không bắt buộc).")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị nơi cấp vai trò.")
@click.option("--audience", type=click.Choice(AUDIENCES), default="civil_servant",
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của stdin.")
def create_user_command(full_name, phone, email, role, unit_code, audience, password_stdin):
    """Create an account, e.g. the first admin of a production install.

    Without --password-stdin the account gets a one-time activation code instead.
    """
    from app.audit import record_audit
    from app.auth.phone import format_phone
    from app.labels import role_label
    from app.text import nfc

    full_name = nfc(full_name)
    if not full_name or len(full_name) > 200:
        raise click.ClickException("--name: họ và tên phải có từ 1 đến 200 ký tự.")
    try:
        phone = normalize_phone(phone)
        email = services.clean_email(email)
    except InvalidPhone as exc:
        raise click.ClickException(f"--phone: {exc.reason}") from None
    except services.AccountError as exc:
        raise click.ClickException(f"--email: {exc.message}") from None
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code.strip()))
    if unit is None:
        raise click.ClickException(f"--unit: không có đơn vị mã {unit_code!r}. "
                                   "Hãy chạy `flask units import` trước.")
    if db.session.scalar(select(User.id).where(User.phone == phone)):
        raise click.ClickException(f"--phone: số {format_phone(phone)} đã có tài khoản.")
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        raise click.ClickException(f"--email: {email} đã có tài khoản.")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problems = password_problems(password)
        if problems:
            raise click.ClickException("mật khẩu: " + " ".join(str(p) for p in problems))
    user = services.create_user(full_name=full_name, phone=phone, email=email, unit=unit,
                                role=role, audience=audience, password=password)
    code = None if password else services.issue_code(user, "activation")
    record_audit("user.created", target=f"user:{user.id}", role=role, unit=unit.code,
                 source="cli")
    db.session.commit()
    click.echo(f"Đã tạo {user.full_name} ({format_phone(user.phone)}), "
               f"vai trò {role_label(role)} tại {unit.full_name}.")
    if code:
        click.echo(f"Mã kích hoạt (dùng một lần, {services.code_lifetime('activation').days} "
                   f"ngày): {code}")
        click.echo("Người dùng vào trang /activate, nhập số điện thoại, mã này và mật khẩu mới.")
