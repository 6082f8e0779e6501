"""`flask demo seed`: demo data for a fresh install (what `make run` loads on an empty database).

Everything here is invented. The phone numbers are fake: members use 0300 000 1xx (030 is
not a prefix any Vietnamese network uses) and the five role accounts 0900 000 00x; the
emails end in .example (reserved, never delivered).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.auth.models import User
from app.auth.passwords import password_problems
from app.auth.phone import format_phone
from app.auth.services import create_user
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import import_units, parse_unit_csv

demo_cli = AppGroup("demo", help="Dữ liệu mẫu.")

PROVINCE_FILE = "orgs/dong-nai.csv"
PROVINCE_CODE = "75"

# Tổ CNSCĐ teams: code, name, commune code (Trấn Biên, Biên Hòa: phường; Đak Lua, Long Thành: xã).
DEMO_TEAMS = (
    ("26041-00", "Tổ CNSCĐ phường Trấn Biên", "26041"),
    ("26041-01", "Tổ CNSCĐ khu phố 1", "26041"),
    ("26041-02", "Tổ CNSCĐ khu phố 2", "26041"),
    ("26068-00", "Tổ CNSCĐ phường Biên Hòa", "26068"),
    ("26119-00", "Tổ CNSCĐ xã Đak Lua", "26119"),
    ("26119-03", "Tổ CNSCĐ ấp 3", "26119"),
    ("26368-00", "Tổ CNSCĐ xã Long Thành", "26368"),
    ("26368-01", "Tổ CNSCĐ ấp Phước Hòa", "26368"),
)


@dataclass(frozen=True)
class DemoAccount:
    role: str
    name: str
    phone: str
    unit_code: str
    audience: str
    gender: str
    birth_year: int
    email: str | None = None


ROLE_ACCOUNTS = (
    DemoAccount("admin", "Trần Quốc Huy", "0900000001", PROVINCE_CODE, "civil_servant", "male",
                1982, "quantri@hocvuso.example"),
    DemoAccount("officer", "Lê Thị Minh Thư", "0900000002", PROVINCE_CODE, "civil_servant",
                "female", 1988, "canbo.so@hocvuso.example"),
    DemoAccount("officer", "Phạm Văn Đức", "0900000003", "26041", "civil_servant", "male", 1979),
    DemoAccount("trainer", "Nguyễn Thị Hồng Nhung", "0900000004", PROVINCE_CODE,
                "civil_servant", "female", 1990),
    DemoAccount("learner", "Võ Văn Tám", "0900000005", "26041-01", "citizen", "male", 1961),
)

# name, gender, birth year, audience, team code. Every third member has activated.
DEMO_MEMBERS = (
    ("Nguyễn Văn Hùng", "male", 1968, "citizen", "26041-00"),
    ("Trần Thị Lan", "female", 1975, "civil_servant", "26041-00"),
    ("Lê Hoàng Nam", "male", 1999, "student", "26041-00"),
    ("Phạm Thị Thu Hà", "female", 1984, "citizen", "26041-01"),
    ("Hoàng Văn Sơn", "male", 1957, "citizen", "26041-01"),
    ("Đỗ Thị Mai", "female", 1963, "citizen", "26041-01"),
    ("Bùi Minh Tuấn", "male", 2004, "student", "26041-01"),
    ("Vũ Thị Ngọc Ánh", "female", 1992, "enterprise_worker", "26041-02"),
    ("Đặng Văn Lợi", "male", 1970, "citizen", "26041-02"),
    ("Ngô Thị Hạnh", "female", 1955, "citizen", "26041-02"),
    ("Dương Quốc Bảo", "male", 1987, "enterprise_worker", "26041-02"),
    ("Lý Thị Kim Oanh", "female", 1979, "civil_servant", "26068-00"),
    ("Huỳnh Văn Phúc", "male", 1966, "citizen", "26068-00"),
    ("Phan Thị Yến", "female", 2001, "student", "26068-00"),
    ("Trương Văn Khải", "male", 1958, "citizen", "26068-00"),
    ("Điểu K'Lang", "male", 1985, "citizen", "26119-00"),
    ("Điểu Thị Hoa", "female", 1990, "citizen", "26119-00"),
    ("Nguyễn Thị Bích Ngọc", "female", 1972, "civil_servant", "26119-00"),
    ("Lâm Văn Thắng", "male", 1960, "citizen", "26119-03"),
    ("Cao Thị Xuân", "female", 1968, "citizen", "26119-03"),
    ("Mai Văn Tài", "male", 1953, "citizen", "26119-03"),
    ("Hà Thị Thanh Tâm", "female", 2005, "student", "26119-03"),
    ("Tạ Quang Vinh", "male", 1981, "civil_servant", "26368-00"),
    ("Đinh Thị Phương", "female", 1977, "citizen", "26368-00"),
    ("Lưu Văn Hậu", "male", 1994, "enterprise_worker", "26368-00"),
    ("Châu Thị Diễm", "female", 1965, "citizen", "26368-01"),
    ("Kiều Văn Bình", "male", 1959, "citizen", "26368-01"),
    ("Tô Thị Kim Liên", "female", 1983, "enterprise_worker", "26368-01"),
    ("La Văn Toàn", "male", 2002, "student", "26368-01"),
    ("Quách Thị Nhàn", "female", 1950, "citizen", "26368-01"),
)


def demo_phone(index: int) -> str:
    """Member ``index`` (1-based) gets 0300 000 1xx: 030 is an unused prefix, never a real line."""
    return f"+84300000{100 + index:03d}"


def random_password(length: int = 12) -> str:
    """A random password that meets the password rule (letters and digits, no look-alikes)."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(candidate):
            return candidate


def content_dir() -> Path:
    return Path(current_app.root_path).parent / "content"


def load_demo_units() -> None:
    """The Đồng Nai units from content/orgs, then the demo teams under four communes/wards."""
    text = (content_dir() / PROVINCE_FILE).read_text(encoding="utf-8-sig")
    rows, errors = parse_unit_csv(text)
    report = import_units(rows) if not errors else None
    if errors or not report.ok:
        raise click.ClickException("; ".join(str(e) for e in errors or report.errors))
    teams = [{"code": code, "name": name, "kind": "team", "parent_code": parent}
             for code, name, parent in DEMO_TEAMS]
    report = import_units(teams)
    if not report.ok:
        raise click.ClickException("; ".join(str(e) for e in report.errors))


def load_demo_courses(root: Path) -> None:
    """Import and publish the framework and every course under ``root`` (content/)."""
    from app.courses.services import import_content_tree

    report = import_content_tree(root, publish_now=True)
    for slug, status in report.results.items():
        click.echo(f"Khóa học {slug}: {status}")
    if not report.ok:
        # Shipped content is checked by the test suite; a broken file must not seed half a demo.
        raise click.ClickException("Nội dung mẫu có lỗi:\n" + "\n".join(map(str, report.errors)))


def load_demo_programs(root: Path) -> None:
    """The sample training programs (content/programs/*.yaml), after the courses they need."""
    from app.reports.programs import ProgramError, load_programs

    try:
        programs = load_programs(root)
    except ProgramError as error:
        raise click.ClickException(f"Chương trình mẫu có lỗi: {error}") from None
    for program in programs:
        click.echo(f"Chương trình {program.slug}: {program.name}")


def create_role_accounts() -> list[tuple[str, str, str]]:
    """One account per role with a fresh random password; returns (role, phone, password)."""
    units = _units_by_code()
    printed = []
    for account in ROLE_ACCOUNTS:
        password = random_password()
        create_user(full_name=account.name, phone="+84" + account.phone[1:],
                    email=account.email, unit=units[account.unit_code], role=account.role,
                    audience=account.audience, password=password, gender=account.gender,
                    birth_year=account.birth_year)
        printed.append((account.role, format_phone("+84" + account.phone[1:]), password))
    return printed


def create_members() -> int:
    """About thirty members; every third one has activated (a password nobody knows)."""
    units = _units_by_code()
    # One hash shared by the "activated" members: scrypt costs ~70 ms, so never one per row.
    activated_hash = generate_password_hash(random_password(24), method="scrypt")
    with click.progressbar(DEMO_MEMBERS, label="Tạo thành viên mẫu") as bar:
        for index, (name, gender, year, audience, team) in enumerate(bar, start=1):
            user = create_user(full_name=name, phone=demo_phone(index), unit=units[team],
                               audience=audience, gender=gender, birth_year=year)
            if index % 3 == 0:
                user.password_hash = activated_hash
    return len(DEMO_MEMBERS)


def _units_by_code() -> dict[str, Unit]:
    codes = {a.unit_code for a in ROLE_ACCOUNTS} | {m[4] for m in DEMO_MEMBERS}
    return {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True,
              help="Không làm gì nếu cơ sở dữ liệu đã có người dùng (dùng trong `make run`).")
def seed_command(if_empty: bool) -> None:
    """Nạp dữ liệu mẫu: đơn vị Đồng Nai, vài Tổ CNSCĐ, ~30 thành viên, một tài khoản mỗi vai trò.

    Số điện thoại mẫu là số giả (0300 000 1xx, 0900 000 00x). Mật khẩu các tài khoản vai trò
    được tạo ngẫu nhiên và chỉ in ra một lần.
    """
    users = db.session.scalar(select(func.count(User.id)))
    if users:
        if if_empty:
            click.echo(f"Cơ sở dữ liệu đã có {users} người dùng: giữ nguyên, không nạp dữ liệu mẫu.")
            return
        raise click.ClickException(
            f"Cơ sở dữ liệu đã có {users} người dùng. Dữ liệu mẫu chỉ nạp vào cơ sở dữ liệu trống "
            "(dùng --if-empty để bỏ qua mà không báo lỗi).")
    load_demo_units()
    load_demo_courses(content_dir())
    accounts = create_role_accounts()
    members = create_members()
    load_demo_programs(content_dir())
    db.session.commit()
    click.echo(f"Đã nạp dữ liệu mẫu: {len(DEMO_TEAMS)} Tổ CNSCĐ, {members} thành viên "
               f"(số điện thoại giả), {len(accounts)} tài khoản vai trò.")
    _print_accounts(accounts)


def _print_accounts(accounts: list[tuple[str, str, str]]) -> None:
    click.echo("\nTài khoản mẫu (mật khẩu chỉ hiện MỘT lần, hãy ghi lại):")
    click.echo(f"  {'Vai trò':<10} {'Số điện thoại':<15} Mật khẩu")
    for role, phone, password in accounts:
        click.echo(f"  {role:<10} {phone:<15} {password}")
    click.echo("Đăng nhập tại /login bằng số điện thoại và mật khẩu ở trên.")
