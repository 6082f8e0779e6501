"""`flask users import FILE [--dry-run] [--skip-invalid] [--as …] [--codes-out …]`."""

from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth.models import OneTimeCode, User
from app.extensions import db
from app.orgs.models import RosterImport
from tests.factories import get_user, make_unit, make_user
from tests.orgs.test_roster import csv_bytes, row

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


@pytest.fixture
def units(app):
    province = make_unit("TINH", kind="province")
    a = make_unit("XA-A", "An Bình", parent=province)
    b = make_unit("XA-B", "Bình Lợi", parent=province)
    db.session.commit()
    return {"province": province, "a": a, "b": b}


@pytest.fixture
def roster_file(tmp_path):
    def write(rows, name="to-1.csv", **kwargs):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, **kwargs))
        return path
    return write


def users_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def codes_files(directory):
    return sorted(directory.glob("*-ma-kich-hoat-*.csv"))


def invoke(runner, *args):
    return runner.invoke(args=["users", "import", *map(str, args)])


def test_import_writes_people_and_codes_next_to_the_input(runner, units, roster_file):
    path = roster_file([row(), row(name="Trần Thị Bình", phone="0912345679", unit="XA-B")])
    result = invoke(runner, path)
    assert result.exit_code == 0, result.output
    assert get_user("+84912345678") and get_user("+84912345679").unit_id == units["b"].id
    [codes_path] = codes_files(path.parent)
    assert str(codes_path) in result.output
    with codes_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["Họ và tên"] for line in lines] == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert all(CODE.fullmatch(line["Mã kích hoạt"]) for line in lines)
    assert not CODE.search(result.output)  # codes go to the file, never to the terminal
    assert codes_path.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert "tạo mới 2" in result.output
    record = db.session.scalars(select(RosterImport)).one()
    assert (record.source, record.actor_id, record.created_count) == ("cli", None, 2)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "roster.import")).one()
    assert audit.details["filename"] == "to-1.csv" and audit.details["source"] == "cli"


def test_invalid_rows_print_row_column_reason_and_exit_1(runner, units, roster_file):
    before = users_count()
    path = roster_file([row(), row(phone="0912345679", unit="KHONG-CO"),
                        row(phone="0912345678", name="Trùng")])
    result = invoke(runner, path)
    assert result.exit_code == 1
    assert "row 3: unit_code: Không có đơn vị mã “KHONG-CO”." in result.output
    assert "row 4: phone: Trùng với dòng 2." in result.output
    assert "Không ghi gì" in result.output
    assert users_count() == before
    assert codes_files(path.parent) == []


def test_dry_run_writes_nothing(runner, units, roster_file):
    path = roster_file([row(), row(phone="0912345679")])
    result = invoke(runner, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "sẽ tạo mới 2" in result.output
    assert users_count() == 0
    assert codes_files(path.parent) == []
    assert db.session.scalars(select(RosterImport)).one().is_dry_run


def test_skip_invalid_writes_valid_rows_and_still_exits_1(runner, units, roster_file):
    path = roster_file([row(), row(phone="0912345679", unit="KHONG-CO")])
    result = invoke(runner, path, "--skip-invalid")
    assert result.exit_code == 1
    assert "row 3: unit_code:" in result.output
    assert get_user("+84912345678") is not None and get_user("+84912345679") is None
    [codes_path] = codes_files(path.parent)
    assert len(codes_path.read_text(encoding="utf-8-sig").splitlines()) == 2


def test_codes_out_names_the_file_and_never_overwrites(runner, units, roster_file, tmp_path):
    out = tmp_path / "ma.csv"
    result = invoke(runner, roster_file([row()]), "--codes-out", out)
    assert result.exit_code == 0, result.output
    assert CODE.search(out.read_text(encoding="utf-8-sig"))
    again = invoke(runner, roster_file([row(phone="0912345679")], name="to-2.csv"),
                   "--codes-out", out)
    assert again.exit_code == 1
    assert "không ghi được tệp mã kích hoạt" in again.output
    assert get_user("+84912345679") is None  # no codes kept, so nobody created


def test_as_applies_that_accounts_scope(runner, units, roster_file):
    make_user(units["a"], role="officer", phone="+84988000001", password=None)
    result = invoke(runner, roster_file([row(unit="XA-B"), row(phone="0912345679",
                                                               role="admin")]),
                    "--as", "0988 000 001")
    assert result.exit_code == 1
    assert "row 2: unit_code: Đơn vị “XA-B” nằm ngoài phạm vi bạn quản lý." in result.output
    assert "row 3: role:" in result.output
    record = db.session.scalars(select(RosterImport)).one()
    assert record.actor_id == get_user("+84988000001").id


@pytest.mark.parametrize("identifier,message", [
    ("0999 999 999", "không có tài khoản"),
    ("abc", "--as"),
])
def test_as_unknown_account_is_a_usage_error(runner, units, roster_file, identifier, message):
    result = invoke(runner, roster_file([row()]), "--as", identifier)
    assert result.exit_code == 2
    assert message in result.output
    assert users_count() == 0


def test_as_learner_is_refused(runner, units, roster_file):
    make_user(units["a"], phone="+84988000002", password=None)
    result = invoke(runner, roster_file([row()]), "--as", "0988000002")
    assert result.exit_code == 2
    assert "không có quyền nhập danh sách" in result.output


def test_unreadable_file_is_an_error(runner, units, tmp_path):
    path = tmp_path / "trong.csv"
    path.write_bytes(b"")
    result = invoke(runner, path)
    assert result.exit_code == 1
    assert "trong.csv: Tệp trống" in result.output


def test_big_files_show_a_progress_bar(runner, units, roster_file):
    path = roster_file([row(name=f"Người {i}", phone=f"097{i:07d}") for i in range(600)])
    result = invoke(runner, path)
    assert result.exit_code == 0, result.output
    assert "Kiểm tra" in result.stderr and "Ghi" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(OneTimeCode)) == 600


def test_small_files_show_no_progress_bar(runner, units, roster_file):
    result = invoke(runner, roster_file([row()]))
    assert "Kiểm tra" not in result.stderr
