"""Roster validation and writing, called directly (the web page and CLI are tested apart)."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth.codes import canonical_code
from app.auth.models import OneTimeCode, RoleGrant, User
from app.auth.phone import InvalidPhone, normalize_phone
from app.extensions import db
from app.orgs.models import RosterImport
from app.orgs.roster import ROSTER_SPEC, apply_roster, errors_csv, validate_roster
from app.orgs.tabular import read_table
from tests.factories import PASSWORD, get_user, make_unit, make_user

HEADER = ["full_name", "phone", "email", "unit_code", "role", "audience", "gender", "birth_year"]


def csv_bytes(rows: list[list], header: list[str] = HEADER, delimiter: str = ",",
              bom: bool = False) -> bytes:
    """A CSV file as Excel's "CSV UTF-8" writes it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def row(name="Nguyễn Văn An", phone="0912345678", email="", unit="XA-A", role="",
        audience="", gender="", birth_year="") -> list:
    return [name, phone, email, unit, role, audience, gender, birth_year]


def table(rows: list[list], **kwargs):
    return read_table("danh-sach.csv", csv_bytes(rows, **kwargs), ROSTER_SPEC)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(rows, importer, **options):
    """Validate and apply as the web page does, then commit."""
    plan = validate_roster(table(rows), importer)
    result = apply_roster(plan, importer, filename="danh-sach.csv", **options)
    db.session.commit()
    return result


def phone_reason(text: str) -> str:
    """What normalize_phone says about ``text`` (its wording belongs to app/auth/phone.py)."""
    try:
        normalize_phone(text)
    except InvalidPhone as exc:
        return str(exc.reason)
    raise AssertionError(f"{text!r} is a valid phone number")


def reasons(plan) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.reason) for e in plan.errors]


@pytest.fixture
def units(app):
    """Province P → communes A and B; team T under A."""
    province = make_unit("TINH", kind="province")
    a = make_unit("XA-A", "An Bình", parent=province)
    b = make_unit("XA-B", "Bình Lợi", parent=province)
    team = make_unit("TO-A1", "Tổ 1", kind="team", parent=a)
    db.session.commit()
    return {"province": province, "a": a, "b": b, "team": team}


@pytest.fixture
def officer(units):
    return make_user(units["a"], role="officer", name="Cán Bộ Xã A", phone="+84988000001",
                     password=None)


@pytest.fixture
def admin(units):
    return make_user(units["province"], role="admin", name="Quản Trị Tỉnh", phone="+84988000009",
                     password=None)


# -- normalization ---------------------------------------------------------------------------

def test_nfd_names_are_stored_nfc_and_trimmed(officer):
    nfd = "  Nguye\u0302\u0303n   Thi\u0323 Hoa "
    run([row(name=nfd)], officer)
    person = get_user("+84912345678")
    assert person.full_name == "Nguyễn Thị Hoa"


def test_phones_are_normalized_and_bad_ones_get_the_phone_reason(officer):
    plan = validate_roster(table([row(phone="(+84) 912.345.678"), row(phone="0123"),
                                  row(phone="abc")]), officer)
    assert [r.phone for r in plan.rows] == ["+84912345678"]
    assert reasons(plan) == [(3, "phone", phone_reason("0123")), (4, "phone", phone_reason("abc"))]


def test_excel_text_marker_before_a_phone_is_ignored(officer):
    plan = validate_roster(table([row(phone="'0912345678")]), officer)
    assert plan.rows[0].phone == "+84912345678"


def test_emails_are_lower_cased_and_checked(officer):
    plan = validate_roster(table([row(phone="", email="Hoa.Nguyen@Example.VN"),
                                  row(phone="", email="hoa@@example"),
                                  row(phone="", email="không có email")]), officer)
    assert plan.rows[0].email == "hoa.nguyen@example.vn"
    assert [(e.row, e.column) for e in plan.errors] == [(3, "email"), (4, "email")]


def test_a_row_needs_a_phone_or_an_email(officer):
    plan = validate_roster(table([row(phone="", email="")]), officer)
    assert reasons(plan)[0][:2] == (2, "phone")
    assert "hoặc email" in reasons(plan)[0][2]


@pytest.mark.parametrize("text,role", [
    ("learner", "learner"), ("Học viên", "learner"), ("HOC VIEN", "learner"),
    ("giảng viên", "trainer"), ("Trainer", "trainer"), ("cán bộ", "officer"),
    ("Cán bộ quản lý", "officer"), ("officer", "officer"),
])
def test_role_values_in_english_or_vietnamese(officer, text, role):
    plan = validate_roster(table([row(role=text)]), officer)
    assert not plan.errors
    assert plan.rows[0].role == role


@pytest.mark.parametrize("text,audience", [
    ("citizen", "citizen"), ("Người dân", "citizen"), ("nguoi dan", "citizen"),
    ("civil_servant", "civil_servant"), ("cán bộ", "civil_servant"),
    ("Cán bộ, công chức, viên chức", "civil_servant"), ("học sinh", "student"),
    ("Sinh viên", "student"), ("student", "student"), ("công nhân", "enterprise_worker"),
    ("Người lao động", "enterprise_worker"), ("enterprise_worker", "enterprise_worker"),
])
def test_audience_values_and_variants(officer, text, audience):
    plan = validate_roster(table([row(audience=text)]), officer)
    assert not plan.errors
    assert plan.rows[0].audience == audience


@pytest.mark.parametrize("text,gender", [
    ("nam", "male"), ("Nữ", "female"), ("NU", "female"), ("khác", "other"),
    ("male", "male"), ("Female", "female"), ("other", "other"),
])
def test_gender_values(officer, text, gender):
    plan = validate_roster(table([row(gender=text)]), officer)
    assert plan.rows[0].gender == gender


@pytest.mark.parametrize("text,year", [("1975", 1975), ("02/03/1975", 1975),
                                       ("1975-03-02", 1975), ("1900", 1900)])
def test_birth_year_accepts_a_year_or_a_full_date(officer, text, year):
    plan = validate_roster(table([row(birth_year=text)]), officer)
    assert plan.rows[0].birth_year == year


@pytest.mark.parametrize("column,value", [
    ("role", "trưởng thôn"), ("audience", "nông dân"), ("gender", "không rõ"),
    ("birth_year", "1899"), ("birth_year", "3000"), ("birth_year", "năm mươi"),
])
def test_bad_coded_values_are_refused_with_a_vietnamese_reason(officer, column, value):
    plan = validate_roster(table([row(**{column: value})]), officer)
    assert [(e.row, e.column, e.value) for e in plan.errors] == [(2, column, value)]
    assert "không hợp lệ" in plan.errors[0].reason or "1900" in plan.errors[0].reason


def test_defaults_are_learner_and_citizen(officer, units):
    run([row()], officer)
    person = get_user("+84912345678")
    assert person.audience == "citizen"
    assert {(g.role, g.unit_id) for g in person.grants} == {("learner", units["a"].id)}
    assert person.password_hash is None


# -- units, scope, roles ---------------------------------------------------------------------

def test_unknown_unit_code(officer):
    plan = validate_roster(table([row(unit="KHONG-CO")]), officer)
    assert reasons(plan) == [(2, "unit_code", "Không có đơn vị mã “KHONG-CO”.")]


def test_unit_code_whose_leading_zeros_excel_dropped(officer, units):
    make_unit("00004", "Ba Đình", kind="phuong", parent=units["a"])
    db.session.commit()
    plan = validate_roster(table([row(unit="4"), row(unit="004", phone="0912345679")]), officer)
    assert not plan.errors
    assert {r.unit.code for r in plan.rows} == {"00004"}


def test_team_below_the_officers_commune_is_in_scope(officer, units):
    result = run([row(unit="TO-A1")], officer)
    assert result.written
    assert get_user("+84912345678").unit_id == units["team"].id


def test_unit_outside_the_officers_scope(officer):
    plan = validate_roster(table([row(unit="XA-B")]), officer)
    assert reasons(plan) == [(2, "unit_code", "Đơn vị “XA-B” nằm ngoài phạm vi bạn quản lý.")]


def test_officer_cannot_create_an_admin(officer):
    plan = validate_roster(table([row(role="quản trị"), row(role="admin", phone="0912345679")]),
                           officer)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "role"), (3, "role")]
    assert "Quản trị viên" in plan.errors[0].reason


def test_admin_may_create_officers_and_admins(admin, units):
    result = run([row(role="cán bộ", unit="XA-B"), row(role="quản trị", phone="0912345679")],
                 admin)
    assert result.record.created_count == 2
    assert get_user("+84912345678").roles == {"officer"}
    assert get_user("+84912345679").roles == {"admin"}


def test_system_operator_without_account_has_full_scope(units):
    plan = validate_roster(table([row(unit="XA-B", role="admin")]), None)
    assert not plan.errors


def test_learner_has_no_scope_at_all(units):
    learner = make_user(units["a"], phone="+84988000002", password=None)
    plan = validate_roster(table([row()]), learner)
    assert [e.column for e in plan.errors] == ["unit_code"]


# -- duplicates ------------------------------------------------------------------------------

def test_duplicate_phones_inside_the_file(officer):
    plan = validate_roster(table([row(), row(name="Người Khác", phone="0912 345 678"),
                                  row(name="Người Thứ Ba", phone="+84912345678")]), officer)
    assert reasons(plan) == [(3, "phone", "Trùng với dòng 2."), (4, "phone", "Trùng với dòng 2.")]
    assert plan.errors[0].value == "0912 345 678"  # shown as typed


def test_duplicate_emails_inside_the_file(officer):
    plan = validate_roster(table([row(email="an@example.vn"),
                                  row(phone="0912345679", email="AN@example.vn")]), officer)
    assert reasons(plan) == [(3, "email", "Trùng với dòng 2.")]


def test_existing_person_is_updated_not_duplicated(officer, units):
    existing = make_user(units["a"], name="Nguyen Van An", phone="+84912345678",
                         audience="citizen", password=PASSWORD)
    before = count(User)
    result = run([row(name="Nguyễn Văn An", email="an@example.vn", unit="TO-A1",
                      role="giảng viên", audience="cán bộ", gender="nam", birth_year="1980")],
                 officer)
    assert count(User) == before
    assert (result.record.created_count, result.record.updated_count) == (0, 1)
    db.session.refresh(existing)
    assert existing.full_name == "Nguyễn Văn An"
    assert existing.email == "an@example.vn"
    assert existing.unit_id == units["team"].id
    assert (existing.audience, existing.gender, existing.birth_year) == (
        "civil_servant", "male", 1980)
    assert ("trainer", units["team"].id) in {(g.role, g.unit_id) for g in existing.grants}
    assert existing.check_password(PASSWORD)  # the password is left alone
    assert count(OneTimeCode) == 0  # and no activation code for an existing account


def test_existing_person_is_matched_by_email_when_the_phone_is_new(officer, units):
    existing = make_user(units["a"], phone="+84912000000", email="an@example.vn",
                         password=None)
    run([row(phone="0912345678", email="An@Example.vn")], officer)
    db.session.refresh(existing)
    assert existing.phone == "+84912345678"
    assert count(User) == 2  # the officer and this person


def test_blank_cells_never_erase_what_is_known(officer, units):
    existing = make_user(units["a"], phone="+84912345678", email="an@example.vn",
                         audience="student", gender="female", birth_year=1990, password=None)
    result = run([row(name="Nguyễn Văn An")], officer)
    db.session.refresh(existing)
    assert (existing.email, existing.audience, existing.gender, existing.birth_year) == (
        "an@example.vn", "student", "female", 1990)
    assert result.plan.rows[0].action == "unchanged"
    assert result.record.updated_count == 0


def test_phone_of_one_person_and_email_of_another_is_an_error(officer, units):
    make_user(units["a"], phone="+84912345678", email="mot@example.vn", password=None)
    make_user(units["a"], phone="+84912345679", email="hai@example.vn", password=None)
    plan = validate_roster(table([row(phone="0912345678", email="hai@example.vn")]), officer)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "email")]
    assert "hai tài khoản khác nhau" in plan.errors[0].reason


def test_two_rows_reaching_the_same_existing_person_is_an_error(officer, units):
    make_user(units["a"], phone="+84912345678", email="an@example.vn", password=None)
    plan = validate_roster(table([row(phone="0912345678"),
                                  row(phone="0912345679", email="an@example.vn")]), officer)
    assert reasons(plan) == [(3, "email", "Dòng này và dòng 2 cùng là một người đã có tài khoản.")]


def test_existing_person_outside_scope_is_an_error_revealing_nothing(officer, units):
    make_user(units["b"], name="Bí Mật Xã B", phone="+84912345678", email="bimat@example.vn",
              password=None)
    plan = validate_roster(table([row(name="Ai Đó")]), officer)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "phone")]
    reason = plan.errors[0].reason
    assert "ngoài phạm vi" in reason
    for secret in ("Bí Mật", "Bình Lợi", "XA-B", "bimat"):
        assert secret not in reason


# -- writing ---------------------------------------------------------------------------------

def test_default_mode_with_one_bad_row_writes_nothing(officer):
    users, grants = count(User), count(RoleGrant)
    result = run([row(), row(phone="0912345679", unit="KHONG-CO"), row(phone="0912345670")],
                 officer)
    assert not result.written
    assert (count(User), count(RoleGrant), count(OneTimeCode)) == (users, grants, 0)
    record = db.session.get(RosterImport, result.record.id)
    assert (record.total_rows, record.created_count, record.invalid_count) == (3, 0, 1)
    assert record.errors[0]["row"] == 3 and record.errors[0]["column"] == "unit_code"


def test_dry_run_writes_nothing_but_keeps_the_report(officer):
    users = count(User)
    result = run([row(), row(phone="0912345679")], officer, dry_run=True)
    assert not result.written and result.new_members == []
    assert count(User) == users and count(OneTimeCode) == 0
    record = db.session.get(RosterImport, result.record.id)
    assert record.is_dry_run and record.created_count == 2  # what would be created


def test_skip_invalid_writes_the_good_rows_and_reports_the_bad(officer):
    result = run([row(), row(phone="0912345679", unit="KHONG-CO"), row(phone="0912345670"),
                  row(phone="0912345670", name="Trùng")], officer, skip_invalid=True)
    assert result.written
    assert (result.record.created_count, result.record.invalid_count) == (2, 2)
    assert get_user("+84912345678") and get_user("+84912345670").full_name == "Nguyễn Văn An"
    assert get_user("+84912345679") is None
    text = errors_csv(result.record)
    assert text.startswith("\ufeffDòng,Họ và tên,")
    lines = text.splitlines()
    assert lines[1].startswith("3,Nguyễn Văn An,0912345679,")
    assert "Không có đơn vị mã “KHONG-CO”" in lines[1]
    assert lines[2].startswith("5,Trùng,0912345670,") and "Trùng với dòng 4" in lines[2]


def test_errors_csv_can_be_fixed_and_imported_again(officer):
    result = run([row(unit="KHONG-CO")], officer, skip_invalid=True)
    fixed = errors_csv(result.record).replace("KHONG-CO", "XA-A").encode("utf-8")
    again = validate_roster(read_table("loi.csv", fixed, ROSTER_SPEC), officer)
    assert not again.errors and again.rows[0].action == "create"


def test_errors_csv_defuses_formulas(officer):
    result = run([row(name="=HYPERLINK(\"http://x\")", unit="KHONG-CO")], officer,
                 skip_invalid=True)
    assert "'=HYPERLINK" in errors_csv(result.record)


def test_activation_codes_are_stored_only_as_digests(officer):
    result = run([row(), row(phone="0912345679")], officer)
    codes = {m.full_name and m.phone: m.code for m in result.new_members}
    assert len(codes) == 2
    stored = db.session.scalars(select(OneTimeCode)).all()
    digests = {c.code_digest for c in stored}
    for code in codes.values():
        assert hashlib.sha256(canonical_code(code).encode()).hexdigest() in digests
    for record in stored:
        assert record.purpose == "activation" and record.used_at is None
        assert record.created_by_id == officer.id
        assert all(code not in str(vars(record)) for code in codes.values())


def test_codes_expire_after_the_configured_days(officer, app):
    app.config["ACTIVATION_CODE_DAYS"] = 7
    result = run([row()], officer)
    code = db.session.scalars(select(OneTimeCode)).one()
    created = code.created_at.replace(tzinfo=None)
    assert round((code.expires_at.replace(tzinfo=None) - created).total_seconds() / 86400) == 7
    assert result.expires_at is not None


def test_no_password_is_hashed_per_row(officer, monkeypatch):
    import app.auth.models

    def forbidden(*args, **kwargs):
        raise AssertionError("a roster import must not hash passwords")

    monkeypatch.setattr(app.auth.models, "generate_password_hash", forbidden)
    result = run([row(phone=f"09123456{i:02d}") for i in range(20)], officer)
    assert result.record.created_count == 20


def test_every_import_is_audited_with_file_name_and_counts(officer):
    run([row(), row(phone="0912345679", unit="KHONG-CO")], officer, skip_invalid=True)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "roster.import")).one()
    assert entry.actor_id == officer.id
    assert entry.details["filename"] == "danh-sach.csv"
    assert (entry.details["created"], entry.details["invalid"]) == (1, 1)
    assert entry.details["written"] is True
    record = db.session.scalars(select(RosterImport)).one()
    assert entry.target == f"roster_import:{record.id}"


def test_refused_and_dry_runs_are_audited_too(officer):
    run([row(unit="KHONG-CO")], officer)
    run([row()], officer, dry_run=True)
    entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.details["written"], e.details["dry_run"]) for e in entries] == [
        (False, False), (False, True)]
    assert count(RosterImport) == 2


def test_ten_thousand_rows(officer, units):
    """Correctness at the size the issue names (timing lives in bench/, not here)."""
    existing = make_user(units["a"], name="Đã Có", phone="+84970000000", password=None)
    rows = [row(name=f"Thành Viên {i:05d}", phone=f"097{i:07d}",
                unit="TO-A1" if i % 2 else "XA-A", gender="nữ" if i % 3 else "nam")
            for i in range(10_000)]
    result = run(rows, officer)
    assert result.written and not result.plan.errors
    assert (result.record.created_count, result.record.updated_count) == (9_999, 1)
    assert count(User) == 10_001  # 9,999 new + the updated one + the officer
    assert count(OneTimeCode) == 9_999
    assert len({m.code for m in result.new_members}) == 9_999
    db.session.refresh(existing)
    assert existing.full_name == "Thành Viên 00000"
    assert get_user("+84970009999").unit_id == units["team"].id
