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


# --- `flask users import`: roster import (app/orgs/roster.py does the work) ---------------


@users_cli.command("import", help=(
    "Nhập danh sách thành viên từ FILE (.csv UTF-8 hoặc .xlsx). Người mới nhận mã kích hoạt, "
    "ghi vào một tệp CSV. Mã thoát 0: mọi dòng hợp lệ đã được ghi; 1: có dòng lỗi."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra, không ghi gì.")
@click.option("--skip-invalid", is_flag=True,
              help="Ghi các dòng hợp lệ, báo lại các dòng lỗi (mặc định: có lỗi thì không ghi gì).")
@click.option("--as", "as_identifier", metavar="PHONE_OR_EMAIL",
              help="Nhập với phạm vi của tài khoản này (mặc định: quản trị hệ thống, mọi đơn vị).")
@click.option("--codes-out", type=click.Path(dir_okay=False, writable=True),
              help="Tệp CSV ghi mã kích hoạt của người mới (mặc định: cạnh tệp nhập).")
def import_users_command(file, dry_run, skip_invalid, as_identifier, codes_out):
    """Import a roster from CSV or XLSX; exit 0 when everything valid was written, 1 otherwise."""
    from flask import current_app
    from flask_babel import force_locale

    # Messages are translated; a command line has no browser session to pick the language.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        status = _import_roster_file(file, dry_run, skip_invalid, as_identifier, codes_out)
    click.get_current_context().exit(status)


def _import_roster_file(file, dry_run, skip_invalid, as_identifier, codes_out) -> int:
    import time
    from pathlib import Path

    from sqlalchemy.exc import IntegrityError

    from app.orgs import roster
    from app.orgs.tabular import TableError, read_table

    started = time.perf_counter()
    path = Path(file)
    importer = _roster_importer(as_identifier)
    try:
        table = read_table(path.name, path.read_bytes(), roster.ROSTER_SPEC)
    except TableError as exc:
        raise click.ClickException(f"{path.name}: {exc.reason}") from None
    total = len(table.rows)
    with _roster_progress(total, "Kiểm tra") as bar:
        plan = roster.validate_roster(table, importer, progress=bar.update)
    for error in plan.errors:
        click.echo(f"row {error.row}: {error.column}: {error.reason}")
    will_write = not dry_run and (skip_invalid or not plan.errors)
    codes_path = None
    if will_write and plan.count("create"):
        codes_path = Path(codes_out) if codes_out else path.with_name(
            f"{path.stem}-ma-kich-hoat-{_utc_stamp()}.csv")
    try:
        with _roster_progress(total if will_write else 0, "Ghi") as bar:
            result = roster.apply_roster(plan, importer, filename=path.name, source="cli",
                                         dry_run=dry_run, skip_invalid=skip_invalid,
                                         progress=bar.update)
    except IntegrityError:  # someone added the same person while we were checking
        db.session.rollback()
        raise click.ClickException("dữ liệu vừa bị thay đổi bởi một lần nhập khác; "
                                   "không ghi gì. Hãy chạy lại.") from None
    if codes_path is not None:
        _write_private(codes_path, roster.codes_csv(result.new_members, result.expires_at))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        if codes_path is not None:
            codes_path.unlink(missing_ok=True)  # those codes were never stored
        raise
    _roster_summary(result, codes_path)
    click.echo(f"Thời gian: {time.perf_counter() - started:.1f} giây.".replace(".", ",", 1))
    return 1 if plan.errors else 0


def _roster_importer(identifier: str | None):
    """None (system operator, full scope) or the account named by --as, with its scope."""
    from app.auth.permissions import can

    if not identifier:
        return None
    try:
        user = services.find_user(identifier)
    except InvalidPhone as exc:
        raise click.BadParameter(str(exc.reason), param_hint="--as") from None
    if user is None:
        raise click.BadParameter(f"không có tài khoản {identifier!r}.", param_hint="--as")
    if not can(user, "people.import"):
        raise click.BadParameter(f"{user.full_name} không có quyền nhập danh sách.",
                                 param_hint="--as")
    return user


def _roster_progress(total: int, label: str):
    """A progress bar on stderr for big files; a silent stand-in for small ones."""
    import contextlib
    import sys

    if total > 500:
        return click.progressbar(length=total, label=label, file=sys.stderr)

    class _Quiet:
        def update(self, _n: int) -> None:
            pass

    return contextlib.nullcontext(_Quiet())


def _write_private(path, text: str) -> None:
    """Codes are secrets: a new file readable by its owner only, never an overwrite."""
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        db.session.rollback()
        raise click.ClickException(f"không ghi được tệp mã kích hoạt {path}: "
                                   f"{exc.strerror}. Không ghi gì vào cơ sở dữ liệu.") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _utc_stamp() -> str:
    from app.models_base import utcnow

    return utcnow().strftime("%Y%m%d-%H%M%S")


def _roster_summary(result, codes_path) -> None:
    record, plan = result.record, result.plan
    unchanged = plan.count("unchanged")
    click.echo(f"Tệp {record.filename}: {record.total_rows} dòng dữ liệu, "
               f"{record.invalid_count} dòng lỗi.")
    if record.is_dry_run:
        click.echo(f"Chỉ kiểm tra, chưa ghi gì: sẽ tạo mới {record.created_count}, "
                   f"sẽ cập nhật {record.updated_count}, không đổi {unchanged}.")
    elif result.written:
        skipped = f"; bỏ qua {record.invalid_count} dòng lỗi" if record.invalid_count else ""
        click.echo(f"Đã ghi: tạo mới {record.created_count}, cập nhật {record.updated_count}, "
                   f"không đổi {unchanged}{skipped}.")
    else:
        click.echo("Không ghi gì vì có dòng lỗi. Sửa tệp rồi chạy lại, "
                   "hoặc dùng --skip-invalid để ghi các dòng hợp lệ.")
    if codes_path is not None:
        click.echo(f"Mã kích hoạt của {len(result.new_members)} người mới đã ghi vào "
                   f"{codes_path.resolve()} "
                   "(chỉ lần này; hãy giữ kín và trao cho tổ trưởng).")
    click.echo(f"Lần nhập #{record.id} đã được ghi nhật ký.")
