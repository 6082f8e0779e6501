"""Roster import: officers bring their team lists from Excel.

Two steps. ``validate_roster`` reads every row, checks it against the units, the importer's
scope and the people already in the database, and returns a ``RosterPlan`` saying, per row,
create / update / unchanged or why it is refused. It writes nothing. ``apply_roster`` then
writes the plan in the caller's transaction (the view or CLI command commits once), with a
``RosterImport`` record and an audit entry for every run, dry runs and refusals included.

Built for 10,000-row files: existing people are loaded with chunked IN queries, rows are
written with bulk INSERT/UPDATE statements, and no password is ever hashed. New members get
a one-time activation code instead; only its digest is stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update

from app.audit import record_audit
from app.auth.codes import code_digest, generate_code
from app.auth.models import ROLES, OneTimeCode, RoleGrant, User
from app.auth.permissions import can, grantable_roles, scope_clause
from app.auth.phone import InvalidPhone, format_phone, normalize_phone
from app.extensions import db
from app.labels import role_label
from app.models_base import utcnow
from app.orgs.models import RosterImport, Unit
from app.orgs.tabular import Column, Table, TableRow, TableSpec, match_key
from app.text import nfc

ROSTER_SPEC = TableSpec(
    columns=(
        Column("full_name", _l("Họ và tên"),
               ("Họ và tên", "Họ tên", "Full name", "Name", "Họ và tên thành viên"), required=True),
        Column("phone", _l("Số điện thoại"),
               ("Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "Di động", "Số di động",
                "Phone number", "Mobile")),
        Column("email", _l("Email"), ("Email", "E-mail", "Thư điện tử", "Địa chỉ email")),
        Column("unit_code", _l("Mã đơn vị"), ("Mã đơn vị", "Mã ĐV", "Unit code", "Unit"),
               required=True),
        Column("role", _l("Vai trò"), ("Vai trò",)),
        Column("audience", _l("Đối tượng"), ("Đối tượng", "Nhóm đối tượng")),
        Column("gender", _l("Giới tính"), ("Giới tính", "Sex")),
        Column("birth_year", _l("Năm sinh"), ("Năm sinh", "Birth year", "Year of birth")),
    ),
    one_of=(("phone", "email"),),
)
COLUMN_KEYS = tuple(c.key for c in ROSTER_SPEC.columns)
PROGRESS_STEP = 500
_CHUNK = 500  # parameters per IN query, well under SQLite's and PostgreSQL's limits


def _value_table(spellings: dict[str, Iterable[str]]) -> dict[str, str]:
    """Match key → code, from the code itself and the ways people write it in Vietnamese."""
    return {match_key(text): code for code, texts in spellings.items() for text in (code, *texts)}


# The labels of app/labels.py are among the spellings, so a file we wrote can be read back.
ROLE_VALUES = _value_table({
    "learner": ("Học viên", "Thành viên", "Thành viên tổ"),
    "trainer": ("Giảng viên", "Giáo viên", "Người soạn bài"),
    "officer": ("Cán bộ", "Cán bộ quản lý", "Quản lý"),
    "admin": ("Quản trị", "Quản trị viên", "Administrator"),
})
AUDIENCE_VALUES = _value_table({
    "citizen": ("Người dân", "Dân", "Công dân"),
    "civil_servant": ("Cán bộ", "Công chức", "Viên chức", "Cán bộ công chức",
                      "Cán bộ, công chức, viên chức", "CBCCVC", "Civil servant"),
    "student": ("Học sinh", "Sinh viên", "Học sinh, sinh viên", "HSSV"),
    "enterprise_worker": ("Công nhân", "Người lao động", "Lao động", "Doanh nghiệp",
                          "Người lao động trong doanh nghiệp", "Enterprise worker", "Worker"),
})
GENDER_VALUES = _value_table({
    "male": ("Nam", "M"),
    "female": ("Nữ", "F"),
    "other": ("Khác",),
})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_YEAR_FORMS = (re.compile(r"^(\d{4})$"), re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-](\d{4})$"),
               re.compile(r"^(\d{4})-\d{1,2}-\d{1,2}$"))


@dataclass
class RowError:
    """Why one cell (or row) is refused; ``reason`` is already translated text."""

    row: int
    column: str
    reason: str
    value: str = ""


@dataclass
class PlannedRow:
    """A valid row: what it will do and the normalized values it carries."""

    row: int
    action: str  # "create" | "update" | "unchanged"
    full_name: str
    phone: str | None
    email: str | None
    unit: Unit
    role: str | None  # None: no role named in the file (an existing person keeps theirs)
    audience: str | None
    gender: str | None
    birth_year: int | None
    user_id: int | None = None
    changes: dict = field(default_factory=dict)  # columns to set on an existing person
    grant: str | None = None  # role to grant on ``unit`` (None: nothing new)


@dataclass
class RosterPlan:
    """The outcome of validation: valid rows, errors, and the raw cells of refused rows."""

    total_rows: int
    rows: list[PlannedRow]
    errors: list[RowError]
    raw: dict[int, dict[str, str]]  # row number → cells as typed, for refused rows

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


@dataclass
class NewMember:
    """A person created by the import and the activation code to hand them (shown once)."""

    row: int
    full_name: str
    phone: str | None
    email: str | None
    unit: Unit
    code: str


@dataclass
class RosterResult:
    record: RosterImport
    plan: RosterPlan
    written: bool
    new_members: list[NewMember]
    expires_at: datetime | None = None


class _Scope:
    """The importer's reach: ``None`` is a system operator (CLI) who may do anything."""

    def __init__(self, importer: User | None) -> None:
        self.importer = importer
        self._paths: dict[str, bool] = {}
        self._roles: dict[int, frozenset[str]] = {}

    def covers(self, path: str) -> bool:
        if self.importer is None:
            return True
        if path not in self._paths:
            self._paths[path] = can(self.importer, "people.import", SimpleNamespace(path=path))
        return self._paths[path]

    def roles(self, unit: Unit) -> frozenset[str]:
        if self.importer is None:
            return frozenset(ROLES)
        if unit.id not in self._roles:
            self._roles[unit.id] = grantable_roles(self.importer, unit)
        return self._roles[unit.id]


@dataclass
class _Parsed:
    row: int
    raw: dict[str, str] = field(default_factory=dict)  # the cells as typed
    full_name: str = ""
    phone: str | None = None
    email: str | None = None
    unit_code: str = ""
    role: str | None = None
    audience: str | None = None
    gender: str | None = None
    birth_year: int | None = None


# -- validation -------------------------------------------------------------------------------

def validate_roster(rows: Table | Sequence[TableRow], importer: User | None,
                    progress: Callable[[int], None] | None = None) -> RosterPlan:
    """Check every row and decide what it would do; reads the database, writes nothing."""
    table_rows = rows.rows if isinstance(rows, Table) else list(rows)
    errors: list[RowError] = []
    parsed = []
    for i, row in enumerate(table_rows, start=1):
        parsed.append(_parse_row(row, errors))
        if progress and i % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    scope = _Scope(importer)
    units = _check_units(parsed, scope, errors)
    _check_file_duplicates(parsed, errors)
    planned = _match_people(parsed, units, scope, errors)
    bad = {e.row for e in errors}
    plan = RosterPlan(
        total_rows=len(table_rows),
        rows=[p for p in planned if p.row not in bad],
        errors=sorted(errors, key=lambda e: (e.row, COLUMN_KEYS.index(e.column)
                                             if e.column in COLUMN_KEYS else 99)),
        raw={r.number: r.values for r in table_rows if r.number in bad},
    )
    if progress:
        progress(len(table_rows) % PROGRESS_STEP)
    return plan


def _parse_row(row: TableRow, errors: list[RowError]) -> _Parsed:
    """Normalize the cells of one row, adding an error per bad cell."""
    values = row.values
    out = _Parsed(row=row.number, raw=values)

    def fail(column: str, reason) -> None:
        errors.append(RowError(row.number, column, str(reason), values.get(column, "")))

    out.full_name = nfc(values.get("full_name"))
    if not out.full_name:
        fail("full_name", _l("Chưa nhập họ và tên."))
    elif len(out.full_name) > 200:
        fail("full_name", _l("Họ và tên dài quá 200 ký tự."))
    elif not any(ch.isalpha() for ch in out.full_name):
        fail("full_name", _l("Họ và tên phải có chữ."))

    phone_text = (values.get("phone") or "").lstrip("'")
    if phone_text:
        try:
            out.phone = normalize_phone(phone_text)
        except InvalidPhone as exc:
            fail("phone", exc.reason)
    email_text = (values.get("email") or "").strip().lower()
    if email_text:
        if len(email_text) > 254 or not _EMAIL.match(email_text):
            fail("email", _l("Email không hợp lệ (ví dụ đúng: ten@example.com)."))
        else:
            out.email = email_text
    if not phone_text and not email_text:
        fail("phone", _l("Cần có số điện thoại hoặc email để người này đăng nhập."))

    out.unit_code = (values.get("unit_code") or "").strip()
    if not out.unit_code:
        fail("unit_code", _l("Chưa nhập mã đơn vị."))
    out.role = _coded(values, "role", ROLE_VALUES, fail,
                      _l("Vai trò không hợp lệ: dùng học viên, giảng viên, cán bộ hoặc quản trị."))
    out.audience = _coded(values, "audience", AUDIENCE_VALUES, fail,
                          _l("Đối tượng không hợp lệ: dùng người dân, cán bộ công chức, "
                             "học sinh sinh viên hoặc người lao động."))
    out.gender = _coded(values, "gender", GENDER_VALUES, fail,
                        _l("Giới tính không hợp lệ: dùng nam, nữ hoặc khác."))
    year_text = (values.get("birth_year") or "").strip()
    if year_text:
        out.birth_year = _birth_year(year_text)
        if out.birth_year is None:
            fail("birth_year", _l("Năm sinh phải là số từ 1900 đến %(year)s.",
                                  year=date.today().year))
    return out


def _coded(values: dict, column: str, table: dict[str, str], fail, reason) -> str | None:
    text = values.get(column) or ""
    if not text:
        return None
    code = table.get(match_key(text))
    if code is None:
        fail(column, reason)
    return code


def _birth_year(text: str) -> int | None:
    for form in _YEAR_FORMS:
        match = form.match(text)
        if match:
            year = int(match.group(1))
            return year if 1900 <= year <= date.today().year else None
    return None


def _check_units(parsed: list[_Parsed], scope: _Scope, errors: list[RowError]) -> dict[str, Unit]:
    """Resolve unit codes in one query; refuse unknown ones, ones out of scope, roles not ours."""
    codes = {p.unit_code for p in parsed if p.unit_code}
    units = _load_units(codes)
    for p in parsed:
        if not p.unit_code:
            continue
        unit = units.get(p.unit_code)
        if unit is None:
            errors.append(RowError(p.row, "unit_code",
                                   _("Không có đơn vị mã “%(code)s”.", code=p.unit_code),
                                   p.unit_code))
        elif not scope.covers(unit.path):
            errors.append(RowError(p.row, "unit_code",
                                   _("Đơn vị “%(code)s” nằm ngoài phạm vi bạn quản lý.",
                                     code=p.unit_code), p.unit_code))
        elif p.role and p.role not in scope.roles(unit):
            errors.append(RowError(p.row, "role",
                                   _("Bạn không được cấp vai trò “%(role)s” tại đơn vị này.",
                                     role=role_label(p.role)), p.role))
    return units


def _load_units(codes: set[str]) -> dict[str, Unit]:
    """Units by the code as written; a numeric code whose leading zeros Excel dropped
    (4 for 00004) still finds its unit."""
    wanted: dict[str, set[str]] = {}
    for code in codes:
        wanted.setdefault(code, set()).add(code)
        if code.isdigit():
            for width in range(len(code) + 1, 9):
                wanted.setdefault(code.zfill(width), set()).add(code)
    found: dict[str, Unit] = {}
    for chunk in _chunks(sorted(wanted)):
        for unit in db.session.scalars(select(Unit).where(Unit.code.in_(chunk))):
            found[unit.code] = unit
    result: dict[str, Unit] = {}
    for code in codes:
        if code in found:
            result[code] = found[code]
        elif code.isdigit():
            padded = [found[c] for c in found if c.isdigit() and c.lstrip("0") == code.lstrip("0")]
            if len(padded) == 1:
                result[code] = padded[0]
    return result


def _check_file_duplicates(parsed: list[_Parsed], errors: list[RowError]) -> None:
    """The same phone or email twice in the file: later rows point at the first one."""
    for column in ("phone", "email"):
        first: dict[str, int] = {}
        for p in parsed:
            value = getattr(p, column)
            if not value:
                continue
            if value in first:
                errors.append(RowError(p.row, column,
                                       _("Trùng với dòng %(row)s.", row=first[value]),
                                       p.raw.get(column, value)))
            else:
                first[value] = p.row


def _match_people(parsed: list[_Parsed], units: dict[str, Unit], scope: _Scope,
                  errors: list[RowError]) -> list[PlannedRow]:
    """Match rows to existing people (phone first, then email) and plan create or update."""
    by_phone, by_email = _load_people({p.phone for p in parsed if p.phone},
                                      {p.email for p in parsed if p.email})
    grants = _load_grants({person.id for person in (*by_phone.values(), *by_email.values())})
    claimed: dict[int, int] = {}
    planned = []
    for p in parsed:
        unit = units.get(p.unit_code)
        phone_match = by_phone.get(p.phone) if p.phone else None
        email_match = by_email.get(p.email) if p.email else None
        if phone_match and email_match and phone_match.id != email_match.id:
            errors.append(RowError(p.row, "email", _(
                "Số điện thoại và email này thuộc hai tài khoản khác nhau đã có; hãy kiểm tra lại."),
                p.raw.get("email", "")))
            continue
        person = phone_match or email_match
        if person is not None:
            column = "phone" if phone_match else "email"
            if not scope.covers(person.path):
                errors.append(RowError(p.row, column, _(
                    "Đã có tài khoản dùng thông tin này ở đơn vị ngoài phạm vi bạn quản lý; "
                    "hãy liên hệ cán bộ cấp trên."), p.raw.get(column, "")))
                continue
            if person.id in claimed:
                errors.append(RowError(p.row, column, _(
                    "Dòng này và dòng %(row)s cùng là một người đã có tài khoản.",
                    row=claimed[person.id]), p.raw.get(column, "")))
                continue
            claimed[person.id] = p.row
        if unit is None:
            continue
        planned.append(_plan_row(p, unit, person, grants.get(person.id, set()) if person else set()))
    return planned


def _plan_row(p: _Parsed, unit: Unit, person, held: set) -> PlannedRow:
    row = PlannedRow(row=p.row, action="create", full_name=p.full_name, phone=p.phone,
                     email=p.email, unit=unit, role=p.role, audience=p.audience,
                     gender=p.gender, birth_year=p.birth_year)
    if person is None:
        row.grant = p.role or "learner"
        return row
    row.user_id = person.id
    # Blank cells never erase what is already known about a person.
    wanted = {"full_name": p.full_name, "phone": p.phone, "email": p.email, "unit_id": unit.id,
              "audience": p.audience, "gender": p.gender, "birth_year": p.birth_year}
    row.changes = {k: v for k, v in wanted.items()
                   if v is not None and v != getattr(person, k)}
    if p.role and (unit.id, p.role) not in held:
        row.grant = p.role
    elif not p.role and not any(unit_id == unit.id for unit_id, _role in held):
        row.grant = "learner"  # everyone holds a role on their own unit, as create_user does
    row.action = "update" if row.changes or row.grant else "unchanged"
    return row


def _load_people(phones: set[str], emails: set[str]):
    """Existing people by phone and by email (two dicts of rows), in chunked IN queries."""
    columns = (User.id, User.full_name, User.phone, User.email, User.unit_id, User.audience,
               User.gender, User.birth_year, Unit.path)
    by_phone: dict = {}
    by_email: dict = {}
    for values, column, target in ((phones, User.phone, by_phone), (emails, User.email, by_email)):
        for chunk in _chunks(sorted(values)):
            stmt = select(*columns).join(Unit, User.unit_id == Unit.id).where(column.in_(chunk))
            for person in db.session.execute(stmt):
                target[person.phone if column is User.phone else person.email] = person
    return by_phone, by_email


def _load_grants(user_ids: set[int]) -> dict[int, set[tuple[int, str]]]:
    held: dict[int, set[tuple[int, str]]] = {}
    for chunk in _chunks(sorted(user_ids)):
        stmt = select(RoleGrant.user_id, RoleGrant.unit_id, RoleGrant.role).where(
            RoleGrant.user_id.in_(chunk))
        for user_id, unit_id, role in db.session.execute(stmt):
            held.setdefault(user_id, set()).add((unit_id, role))
    return held


def _chunks(values: Sequence, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -- writing ----------------------------------------------------------------------------------

def apply_roster(plan: RosterPlan, importer: User | None, *, filename: str,
                 source: str = "web", dry_run: bool = False, skip_invalid: bool = False,
                 progress: Callable[[int], None] | None = None) -> RosterResult:
    """Write the plan (unless dry run, or errors without skip_invalid) and record the run.

    Adds and flushes only: the caller commits once, so people, codes, the RosterImport row
    and the audit entry land together or not at all.
    """
    written = not dry_run and (skip_invalid or not plan.errors)
    new_members: list[NewMember] = []
    expires_at = None
    created = updated = 0
    if written:
        expires_at = utcnow() + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
        new_members = _create_people(plan, importer, expires_at, progress)
        _update_people(plan, progress)
        created, updated = len(new_members), plan.count("update")
    elif dry_run:  # what would happen; a refused import reports nothing done
        created, updated = plan.count("create"), plan.count("update")
    record = RosterImport(
        actor_id=getattr(importer, "id", None), filename=(filename or "?")[-255:],
        source=source, is_dry_run=dry_run, skip_invalid=skip_invalid,
        total_rows=plan.total_rows,
        created_count=created, updated_count=updated,
        invalid_count=len(plan.invalid_rows), errors=_error_entries(plan),
    )
    db.session.add(record)
    db.session.flush()
    record_audit("roster.import", actor=importer, target=f"roster_import:{record.id}",
                 filename=record.filename, source=source, dry_run=dry_run,
                 skip_invalid=skip_invalid, written=written, total_rows=plan.total_rows,
                 created=created, updated=updated, invalid=record.invalid_count)
    new_members.sort(key=lambda m: (m.unit.path, m.row))
    return RosterResult(record=record, plan=plan, written=written, new_members=new_members,
                        expires_at=expires_at)


def _create_people(plan: RosterPlan, importer: User | None, expires_at,
                   progress: Callable[[int], None] | None) -> list[NewMember]:
    """Bulk-insert the new people, a role grant each and an activation code each.

    Plain executemany INSERTs (no RETURNING: on SQLite that path is several times slower);
    the new ids are read back by phone or email, both unique.
    """
    rows = [r for r in plan.rows if r.action == "create"]
    now = utcnow()
    issuer_id = getattr(importer, "id", None)
    members: list[NewMember] = []
    for chunk in _chunks(rows, 1000):
        db.session.execute(insert(User.__table__), [
            {"full_name": r.full_name, "phone": r.phone, "email": r.email,
             "unit_id": r.unit.id, "audience": r.audience or "citizen", "gender": r.gender,
             "birth_year": r.birth_year, "password_hash": None, "is_active_member": True,
             "created_at": now, "updated_at": now} for r in chunk])
        ids = _new_ids(chunk)
        db.session.execute(insert(RoleGrant.__table__), [
            {"user_id": ids[r.row], "unit_id": r.unit.id, "role": r.grant, "created_at": now}
            for r in chunk])
        codes = [generate_code() for _ in chunk]
        db.session.execute(insert(OneTimeCode.__table__), [
            {"user_id": ids[r.row], "purpose": "activation", "code_digest": code_digest(code),
             "expires_at": expires_at, "used_at": None, "created_by_id": issuer_id,
             "created_at": now, "failed_tries": 0}
            for r, code in zip(chunk, codes, strict=True)])
        members.extend(NewMember(row=r.row, full_name=r.full_name, phone=r.phone, email=r.email,
                                 unit=r.unit, code=code)
                       for r, code in zip(chunk, codes, strict=True))
        if progress:
            progress(len(chunk))
    return members


def _new_ids(rows: list[PlannedRow]) -> dict[int, int]:
    """Row number → id of the person just inserted for it, found by phone, else by email."""
    by_phone = {r.phone: r.row for r in rows if r.phone}
    by_email = {r.email: r.row for r in rows if not r.phone}
    ids: dict[int, int] = {}
    for lookup, column in ((by_phone, User.phone), (by_email, User.email)):
        for chunk in _chunks(sorted(lookup)):
            for user_id, key in db.session.execute(
                    select(User.id, column).where(column.in_(chunk))):
                ids[lookup[key]] = user_id
    return ids


def _update_people(plan: RosterPlan, progress: Callable[[int], None] | None) -> None:
    """Bulk UPDATE by primary key for changed people, then grant any new roles."""
    now = utcnow()
    rows = [r for r in plan.rows if r.action != "create"]
    for chunk in _chunks([r for r in rows if r.changes], 1000):
        db.session.execute(update(User), [{"id": r.user_id, **r.changes, "updated_at": now}
                                          for r in chunk])
    grants = [{"user_id": r.user_id, "unit_id": r.unit.id, "role": r.grant, "created_at": now}
              for r in rows if r.grant]
    for chunk in _chunks(grants, 1000):
        db.session.execute(insert(RoleGrant.__table__), chunk)
    if progress and rows:
        progress(len(rows))


def _error_entries(plan: RosterPlan) -> list[dict]:
    return [{"row": e.row, "column": e.column, "reason": e.reason, "value": e.value,
             "values": plan.raw.get(e.row, {})} for e in plan.errors]


# -- reading back -----------------------------------------------------------------------------

def visible_import(user: User, import_id: int) -> RosterImport | None:
    """An import ``user`` may see: their own, or one by a person within their import scope."""
    stmt = (
        select(RosterImport)
        .outerjoin(User, RosterImport.actor_id == User.id)
        .outerjoin(Unit, User.unit_id == Unit.id)
        .where(RosterImport.id == import_id,
               or_(RosterImport.actor_id == user.id,
                   scope_clause(user, "people.import", Unit.path)))
    )
    return db.session.scalar(stmt)


def column_label(key: str) -> str:
    """The Vietnamese name of a roster column, for error tables and files."""
    try:
        return str(ROSTER_SPEC.column(key).label)
    except StopIteration:
        return key


def rejected_rows(errors: list[dict]) -> list[tuple[int, dict[str, str], list[dict]]]:
    """Group stored error entries by row: (row number, cells as typed, its errors)."""
    grouped: dict[int, tuple[dict[str, str], list[dict]]] = {}
    for entry in errors:
        cells, row_errors = grouped.setdefault(entry["row"], (entry.get("values") or {}, []))
        row_errors.append(entry)
    return [(row, cells, errs) for row, (cells, errs) in sorted(grouped.items())]


def _safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (=, @, or +/- with letters)."""
    if value and (value[0] in "=@\t\r" or (value[0] in "+-" and re.search(r"[A-Za-z]", value))):
        return "'" + value
    return value


def errors_csv(record: RosterImport) -> str:
    """The refused rows with their reasons, in the roster's own columns so the officer can
    fix them in Excel and import the file again (the extra columns are ignored)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Dòng"), *(column_label(k) for k in COLUMN_KEYS), _("Lỗi")])
    for row, cells, row_errors in rejected_rows(record.errors or []):
        reasons = "; ".join(f"{column_label(e['column'])}: {e['reason']}" for e in row_errors)
        writer.writerow([row, *(_safe_cell(cells.get(k, "")) for k in COLUMN_KEYS),
                         _safe_cell(reasons)])
    return out.getvalue()


def template_csv() -> str:
    """A roster to fill in: the Vietnamese headers and one example row."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column_label(k) for k in COLUMN_KEYS])
    writer.writerow(["Nguyễn Thị Hoa", "0912 345 678", "", "26734", _("Học viên"),
                     _("Người dân"), _("Nữ"), "1975"])
    return out.getvalue()


def codes_csv(members: list[NewMember], expires_at) -> str:
    """The new members' activation codes for the team leader (CLI writes it to a file)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Họ và tên"), _("Số điện thoại"), _("Email"), _("Mã đơn vị"),
                     _("Đơn vị"), _("Mã kích hoạt"), _("Hết hạn")])
    expiry = format_date(expires_at, "dd/MM/yyyy") if expires_at else ""
    for m in members:
        writer.writerow([_safe_cell(m.full_name), format_phone(m.phone), _safe_cell(m.email or ""),
                         m.unit.code, m.unit.full_name, m.code, expiry])
    return out.getvalue()

