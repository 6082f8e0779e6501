"""The unit tree and the people in it: importing units, reading subtrees, editing and exporting
members. Every query over people goes through app.auth.permissions.scope_clause.

Services add and flush; the view or CLI command that called them commits once.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, event, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from app.audit import record_audit
from app.auth.models import AUDIENCES, GENDERS, ROLES, User
from app.auth.permissions import can, grantable_roles, scope_clause
from app.auth.phone import InvalidPhone, format_phone, normalize_phone
from app.auth.services import normalize_email
from app.extensions import db
from app.orgs.models import UNIT_KINDS, Unit
from app.text import fold, nfc

# ---------------------------------------------------------------------------------------------
# Unit import
# ---------------------------------------------------------------------------------------------

UNIT_COLUMNS = ("code", "name", "kind", "parent_code", "group")
NATIONAL_COLUMNS = ("code", "name", "kind", "province_code", "province_name")
# Kinds as people write them, folded (lower case, no diacritics): English codes or Vietnamese.
KIND_ALIASES = {
    "province": "province", "tinh": "province",
    "city": "city", "thanh pho": "city",
    "phuong": "phuong",
    "xa": "xa",
    "dac khu": "dac_khu", "dackhu": "dac_khu",
    "team": "team", "to": "team", "to cnscd": "team", "to cong nghe so cong dong": "team",
}
DEFAULT_GROUP = {"phuong": "I", "xa": "II", "dac_khu": "II"}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_CODE = 32
MAX_NAME = 200
MAX_DEPTH = 30  # paths hold ids of every ancestor in 400 characters
# Import messages are plain Vietnamese: operators read them in the console (gettext needs a
# request here), and they are the same words the CLI reference shows.


@dataclass(frozen=True)
class RowError:
    """One problem in an import file; ``line`` is the file's line number (header = 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class UnitRow:
    """One unit as read from a file, before validation (values are raw text)."""

    line: int
    code: str
    name: str
    kind: str
    parent_code: str = ""
    group: str = ""


@dataclass
class UnitImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Units not in the file whose path changed because an ancestor moved.
    moved: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _CleanRow:
    line: int
    code: str
    name: str
    kind: str
    group: str | None
    parent_code: str | None


def parse_unit_csv(text: str, provinces: Iterable[str] = ()) -> tuple[list[UnitRow], list[RowError]]:
    """Read unit rows from CSV text in either layout.

    ``code,name,kind,parent_code,group`` is the content/orgs layout. The national layout
    ``code,name,kind,province_code,province_name`` (research/vn_units_2025.csv) becomes one row
    per province (kind city for "Thành phố …", else province) followed by its communes;
    ``provinces`` keeps only those province codes.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], [RowError(1, "Tệp rỗng: cần dòng tiêu đề code,name,kind,parent_code,group "
                                "và ít nhất một dòng dữ liệu.")]
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [fold(h).replace(" ", "_") for h in next(reader)]
    wanted = set(provinces)
    if "province_code" in header:
        missing = [c for c in NATIONAL_COLUMNS if c not in header]
    else:
        missing = [c for c in UNIT_COLUMNS[:3] if c not in header]
        if wanted:
            return [], [RowError(1, "Chỉ dùng --province với tệp toàn quốc "
                                    "(có cột province_code).")]
    if missing:
        return [], [RowError(1, "Thiếu cột: " + ", ".join(missing) + ".")]
    records = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        padded = cells + [""] * (len(header) - len(cells))
        records.append((line_no, dict(zip(header, padded, strict=False))))
    if "province_code" in header:
        return _national_rows(records, wanted)
    rows = [UnitRow(line, r.get("code", ""), r.get("name", ""), r.get("kind", ""),
                    r.get("parent_code", ""), r.get("group", r.get("unit_group", "")))
            for line, r in records]
    if not rows:
        return [], [RowError(1, "Tệp không có dòng dữ liệu nào.")]
    return rows, []


def _national_rows(records, wanted: set[str]) -> tuple[list[UnitRow], list[RowError]]:
    """One synthesized row per province (at its first line), then the communes under it."""
    provinces: dict[str, UnitRow] = {}
    communes: list[UnitRow] = []
    errors: list[RowError] = []
    for line, r in records:
        province_code = r["province_code"].strip()
        if wanted and province_code not in wanted:
            continue
        province_name = nfc(r["province_name"])
        kind = "city" if fold(province_name).startswith("thanh pho ") else "province"
        bare = re.sub(r"^(Thành phố|Tỉnh)\s+", "", province_name)
        known = provinces.get(province_code)
        if known is None:
            provinces[province_code] = UnitRow(line, province_code, bare, kind)
        elif known.name != bare:
            errors.append(RowError(line, f"Tỉnh mã {province_code} có hai tên khác nhau: "
                                         f"“{known.name}” và “{bare}”."))
        communes.append(UnitRow(line, r["code"], r["name"], r["kind"], province_code))
    missing = sorted(wanted - set(provinces))
    if missing:
        errors.append(RowError(1, f"Không có đơn vị nào của tỉnh mã {', '.join(missing)} trong tệp."))
    if not communes and not errors:
        errors.append(RowError(1, "Tệp không có dòng dữ liệu nào."))
    return list(provinces.values()) + communes, errors


def import_units(rows: Iterable[UnitRow | Mapping[str, str]]) -> UnitImportReport:
    """Create or update units by code; validate every row first and write nothing on any error.

    Rows may be UnitRow or mappings with the CSV column names (line numbers then start at 2).
    Paths and depths are recomputed for every unit whose ancestry changed, subtrees included.
    """
    rows = [_as_row(row, index) for index, row in enumerate(rows, start=2)]
    report = UnitImportReport()
    if not rows:
        report.errors.append(RowError(1, "Tệp không có dòng dữ liệu nào."))
        return report
    existing = {unit.code: unit for unit in db.session.scalars(select(Unit))}
    clean = _validate_rows(rows, existing, report.errors)
    if report.errors:
        return report
    _apply_rows(clean, existing, report)
    return report


def _as_row(row: UnitRow | Mapping[str, str], line: int) -> UnitRow:
    if isinstance(row, UnitRow):
        return row
    return UnitRow(line, row.get("code") or "", row.get("name") or "", row.get("kind") or "",
                   row.get("parent_code") or "", row.get("group") or "")


def normalize_kind(raw: str) -> str | None:
    """The kind code for ``raw`` ("phuong", "Phường", "tỉnh", "Tổ" …), or None when unknown."""
    return KIND_ALIASES.get(fold(raw))


def _validate_rows(rows: list[UnitRow], existing: dict[str, Unit],
                   errors: list[RowError]) -> list[_CleanRow]:
    clean: list[_CleanRow] = []
    seen: dict[str, int] = {}
    for row in rows:
        problems = _row_problems(row, seen)
        errors.extend(RowError(row.line, p) for p in problems)
        code = row.code.strip()
        if code and code not in seen:
            seen[code] = row.line
        if not problems:
            kind = normalize_kind(row.kind)
            group = row.group.strip().upper() or DEFAULT_GROUP.get(kind)
            clean.append(_CleanRow(row.line, code, nfc(row.name), kind, group,
                                   row.parent_code.strip() or None))
    for row in rows:
        parent_code = row.parent_code.strip()
        if parent_code and parent_code != row.code.strip() and parent_code not in seen \
                and parent_code not in existing:
            errors.append(RowError(row.line, f"Không tìm thấy đơn vị cha mã “{parent_code}” "
                                             "(không có trong tệp và trong cơ sở dữ liệu)."))
    _check_cycles(clean, {r.code: r.parent_code for r in clean}, existing, errors)
    errors.sort(key=lambda error: error.line)
    return clean


def _row_problems(row: UnitRow, seen: dict[str, int]) -> list[str]:
    problems = []
    code = row.code.strip()
    if not code:
        problems.append("Thiếu mã đơn vị (cột code).")
    elif len(code) > MAX_CODE or not _CODE.match(code):
        problems.append(f"Mã “{code}” không hợp lệ: tối đa 32 ký tự, chỉ gồm chữ không dấu, số, "
                        "dấu chấm, gạch ngang, gạch dưới.")
    elif code in seen:
        problems.append(f"Mã “{code}” trùng với dòng {seen[code]}.")
    name = nfc(row.name)
    if not name:
        problems.append("Thiếu tên đơn vị (cột name).")
    elif len(name) > MAX_NAME:
        problems.append("Tên đơn vị dài quá 200 ký tự.")
    if normalize_kind(row.kind) is None:
        problems.append(f"Loại đơn vị “{row.kind.strip()}” không hợp lệ "
                        f"(dùng: {', '.join(UNIT_KINDS)}; hoặc tỉnh, phường, xã, tổ).")
    if row.group.strip().upper() not in ("", "I", "II"):
        problems.append(f"Nhóm “{row.group.strip()}” không hợp lệ (I, II hoặc để trống).")
    if code and row.parent_code.strip() == code:
        problems.append("Đơn vị không thể là đơn vị cha của chính nó.")
    return problems


def _check_cycles(clean: list[_CleanRow], file_parents: dict[str, str | None],
                  existing: dict[str, Unit], errors: list[RowError]) -> None:
    """Walk up from every row through the tree as it would be after the import."""
    codes_by_id = {unit.id: code for code, unit in existing.items()}

    def parent_of(code: str) -> str | None:
        if code in file_parents:
            return file_parents[code]
        unit = existing.get(code)
        return codes_by_id.get(unit.parent_id) if unit is not None else None

    for row in clean:
        chain = [row.code]
        current = parent_of(row.code)
        while current is not None and current not in chain and len(chain) <= MAX_DEPTH:
            chain.append(current)
            current = parent_of(current)
        if current == row.code:
            errors.append(RowError(row.line, "Vòng lặp cha–con: " + " → ".join(chain + [row.code])))
        elif current is not None and current not in chain:
            errors.append(RowError(row.line, f"Cây đơn vị sâu quá {MAX_DEPTH} cấp."))


def _apply_rows(clean: list[_CleanRow], existing: dict[str, Unit],
                report: UnitImportReport) -> None:
    codes_by_id = {unit.id: code for code, unit in existing.items()}
    touched: set[str] = set()
    for row in clean:
        unit = existing.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, kind=row.kind, unit_group=row.group,
                        path="", depth=0)
            db.session.add(unit)
            existing[row.code] = unit
            report.created += 1
        else:
            before = (unit.name, unit.kind, unit.unit_group, codes_by_id.get(unit.parent_id))
            if before == (row.name, row.kind, row.group, row.parent_code):
                report.unchanged += 1
            else:
                unit.name, unit.kind, unit.unit_group = row.name, row.kind, row.group
                report.updated += 1
        touched.add(row.code)
    for row in clean:
        unit = existing[row.code]
        parent = existing[row.parent_code] if row.parent_code else None
        if unit.parent is not parent:
            unit.parent = parent
    db.session.flush()
    report.moved = sum(1 for code in _rewrite_paths(existing.values()) if code not in touched)
    db.session.flush()


def _rewrite_paths(units: Iterable[Unit]) -> list[str]:
    """Recompute ``path`` and ``depth`` from parent links; return the codes that changed."""
    by_id = {unit.id: unit for unit in units}
    paths: dict[int, str] = {}

    def path_of(unit: Unit) -> str:
        chain = []
        node: Unit | None = unit
        while node is not None and node.id not in paths:
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        prefix = paths[node.id] if node is not None else "/"
        for item in reversed(chain):
            prefix = f"{prefix}{item.id}/"
            paths[item.id] = prefix
        return paths[unit.id]

    changed = []
    for unit in by_id.values():
        path = path_of(unit)
        depth = path.count("/") - 2
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth
            changed.append(unit.code)
    return changed


def record_units_import(filename: str, report: UnitImportReport, actor=None) -> None:
    """Audit trail of a unit import (the caller commits)."""
    record_audit("units.import", actor=actor, target=filename, created=report.created,
                 updated=report.updated, unchanged=report.unchanged, moved=report.moved)


# ---------------------------------------------------------------------------------------------
# Reading the tree
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitCount:
    unit: Unit
    members: int


def units_with_member_counts(
    condition: Callable[[type[Unit]], ColumnElement[bool]],
) -> list[UnitCount]:
    """Units for which ``condition(alias)`` holds, with the number of members in each one's whole subtree.

    One aggregate query: members join the units under each listed unit by path prefix.
    """
    listed = aliased(Unit, name="listed")
    below = aliased(Unit, name="below")
    stmt = (
        select(listed, func.count(User.id))
        .select_from(listed)
        .outerjoin(below, below.path.startswith(listed.path))
        .outerjoin(User, User.unit_id == below.id)
        .where(condition(listed))
        .group_by(listed.id)
    )
    rows = [UnitCount(unit, count) for unit, count in db.session.execute(stmt)]
    return sorted(rows, key=lambda row: vietnamese_key(row.unit.name))


_VI_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_VI_RANK = {letter: rank for rank, letter in enumerate(_VI_ALPHABET)}
# Dictionary order of the tones: none, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_key(text: str) -> tuple[list[int], list[int]]:
    """Sort key in Vietnamese dictionary order: đ after d, ă/â after a, tones second.

    Code-point order would put every "Đ…" name after "Xuân…", which no officer expects.
    """
    letters, tones = [], []
    for char in nfc(text).lower():
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONE_RANK))
        letters.append(_VI_RANK.get(base, ord(base[0]) - 0x110000))  # others before letters
        tones.append(max((_TONE_RANK.get(p, 0) for p in parts), default=0))
    return letters, tones


def unit_and_children(unit: Unit) -> tuple[int, list[UnitCount]]:
    """Member count of ``unit``'s subtree and its direct children with theirs, in one query."""
    rows = units_with_member_counts(
        lambda u: or_(u.id == unit.id, u.parent_id == unit.id))
    total = next((r.members for r in rows if r.unit.id == unit.id), 0)
    return total, [r for r in rows if r.unit.id != unit.id]


def top_units_with_counts(units: list[Unit]) -> list[UnitCount]:
    """The given units with their subtree member counts (for the caller's top units)."""
    ids = [u.id for u in units]
    if not ids:
        return []
    return units_with_member_counts(lambda u: u.id.in_(ids))


def visible_ancestors(user, unit: Unit, action: str = "units.view") -> list[Unit]:
    """The ancestors of ``unit`` the caller may see, root first (for the breadcrumb)."""
    ids = [int(part) for part in unit.path.strip("/").split("/")[:-1] if part]
    if not ids:
        return []
    ancestors = db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.depth))
    return [a for a in ancestors if can(user, action, a)]


def units_in_scope(user, action: str) -> list[Unit]:
    """Every unit where ``user`` may do ``action``, in tree order (a parent before its children)."""
    return list(db.session.scalars(
        select(Unit).where(scope_clause(user, action, Unit.path)).order_by(Unit.path)))


# ---------------------------------------------------------------------------------------------
# Searching members without regard to diacritics
# ---------------------------------------------------------------------------------------------


def _fold_table() -> tuple[str, str]:
    """Every precomposed Latin letter with its folded ASCII letter, for SQL translate()."""
    source, target = [], []
    for codepoint in range(0xC0, 0x1EFA):
        char = chr(codepoint)
        folded = fold(char)
        if char.isalpha() and len(folded) == 1 and folded.isascii() and folded != char \
                and unicodedata.is_normalized("NFC", char):
            source.append(char)
            target.append(folded)
    return "".join(source), "".join(target)


_FOLD_FROM, _FOLD_TO = _fold_table()


@event.listens_for(Engine, "connect")
def _sqlite_fold_function(dbapi_connection, _record) -> None:
    """SQLite has no unaccent: give it app.text.fold as an SQL function."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "hv_fold", 1, lambda v: fold(v) if v is not None else None, deterministic=True)


def folded(column) -> ColumnElement[str]:
    """SQL expression for ``fold(column)``: lower case, no diacritics, on SQLite and PostgreSQL."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        return func.hv_fold(column)
    if dialect == "postgresql":
        return func.lower(func.translate(column, _FOLD_FROM, _FOLD_TO))
    return func.lower(column)


def members_query(viewer, unit: Unit, search: str | None = None,
                  action: str = "people.view") -> Select:
    """Members whose unit lies under ``unit`` and within the viewer's scope for ``action``,
    optionally searched by name (diacritics ignored), phone digits or email."""
    stmt = (
        select(User)
        .join(Unit, User.unit_id == Unit.id)
        .where(Unit.path.startswith(unit.path), scope_clause(viewer, action, Unit.path))
    )
    term = fold(search)
    if term:
        conditions = [folded(User.full_name).contains(term, autoescape=True),
                      User.email.contains(term, autoescape=True)]
        digits = re.sub(r"\D", "", search or "")
        if len(digits) >= 3:
            national = digits[1:] if digits.startswith("0") else digits
            conditions.append(User.phone.contains(national, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(User.full_name, User.id)


# ---------------------------------------------------------------------------------------------
# Editing a person
# ---------------------------------------------------------------------------------------------


class PersonEditError(ValueError):
    """The edit was refused; ``errors`` maps form field names to messages safe to show."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class PersonChanges:
    """What an officer typed in the edit form (raw text; the service validates it)."""

    full_name: str
    phone: str = ""
    email: str = ""
    unit_code: str = ""
    audience: str = "citizen"
    gender: str = ""
    birth_year: str = ""
    is_active_member: bool = True


def may_edit_person(editor, person: User) -> bool:
    """Changing someone's phone or email can hand their account over, so (as for reset codes)
    every role the person holds must be one the editor could grant on that unit."""
    return can(editor, "people.edit", person.unit) and all(
        can(editor, "people.edit", grant.unit) and grant.role in grantable_roles(editor, grant.unit)
        for grant in person.grants)


def update_person(editor, person: User, changes: PersonChanges) -> list[str]:
    """Apply an officer's edit after checking it all; return the names of the changed fields.

    Raises PersonEditError (nothing changed) when any value is refused.
    """
    if not may_edit_person(editor, person):
        raise PersonEditError({"full_name": str(_l("Bạn không được sửa thông tin người này."))})
    values, errors = _clean_person(editor, person, changes)
    if errors:
        raise PersonEditError(errors)
    unit = values.pop("unit")
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, values[name])
    if person.unit_id != unit.id:
        person.unit, person.unit_id = unit, unit.id
        changed.append("unit")
    if changed:
        record_audit("people.edit", actor=editor, target=f"user:{person.id}", fields=changed)
        db.session.flush()
    return changed


def _clean_person(editor, person: User, changes: PersonChanges) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict = {}
    values["full_name"] = nfc(changes.full_name)
    if not values["full_name"]:
        errors["full_name"] = str(_l("Nhập họ và tên."))
    elif len(values["full_name"]) > MAX_NAME:
        errors["full_name"] = str(_l("Họ và tên dài quá 200 ký tự."))
    values["phone"] = None
    if (changes.phone or "").strip():
        try:
            values["phone"] = normalize_phone(changes.phone)
        except InvalidPhone as exc:
            errors["phone"] = str(exc.reason)
    values["email"] = normalize_email(changes.email)
    if values["email"] and (len(values["email"]) > 254 or
                            not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"])):
        errors["email"] = str(_l("Email không hợp lệ."))
    if not values["phone"] and not values["email"] and "phone" not in errors:
        errors["phone"] = str(_l("Cần số điện thoại hoặc email để người này đăng nhập được."))
    _check_unique(person, values, errors)
    unit = db.session.scalar(select(Unit).where(Unit.code == (changes.unit_code or "").strip()))
    if unit is None or not can(editor, "people.edit", unit):
        errors["unit_code"] = str(_l("Chọn một đơn vị trong phạm vi bạn quản lý."))
    values["unit"] = unit
    if changes.audience not in AUDIENCES:
        errors["audience"] = str(_l("Chọn đối tượng trong danh sách."))
    values["audience"] = changes.audience
    values["gender"] = changes.gender or None
    if values["gender"] is not None and values["gender"] not in GENDERS:
        errors["gender"] = str(_l("Chọn giới tính trong danh sách."))
    values["birth_year"] = _birth_year(changes.birth_year, errors)
    values["is_active_member"] = bool(changes.is_active_member)
    if not values["is_active_member"] and person.id == getattr(editor, "id", None):
        errors["is_active_member"] = str(_l("Bạn không thể tự khóa tài khoản của chính mình."))
    return values, errors


def _check_unique(person: User, values: dict, errors: dict[str, str]) -> None:
    if values["phone"] and db.session.scalar(
            select(User.id).where(User.phone == values["phone"], User.id != person.id)):
        errors["phone"] = str(_l("Số điện thoại này đã thuộc về một tài khoản khác."))
    if values["email"] and db.session.scalar(
            select(User.id).where(User.email == values["email"], User.id != person.id)):
        errors["email"] = str(_l("Email này đã thuộc về một tài khoản khác."))


def _birth_year(raw: str | int | None, errors: dict[str, str]) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    this_year = date.today().year
    if not text.isdigit() or not 1900 <= int(text) <= this_year:
        errors["birth_year"] = str(_l("Năm sinh phải là số từ 1900 đến %(year)s.", year=this_year))
        return None
    return int(text)


# ---------------------------------------------------------------------------------------------
# Personal-data export
# ---------------------------------------------------------------------------------------------

# Vietnamese headers the roster import accepts, so an export can be edited and imported back.
EXPORT_HEADER = ("Họ và tên", "Số điện thoại", "Email", "Mã đơn vị", "Vai trò", "Đối tượng",
                 "Giới tính", "Năm sinh", "Tên đơn vị", "Đã kích hoạt", "Đang hoạt động")
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_members(viewer, unit: Unit) -> tuple[int, Iterator[str]]:
    """Row count and a generator of CSV text (UTF-8 BOM first) for the subtree's members.

    The statement is built now, so scope is decided before streaming starts; rows are read in
    batches, so memory stays constant whatever the size of the subtree.
    """
    stmt = members_query(viewer, unit, action="people.export")
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER)
        yield "\ufeff" + _drain(buffer)
        result = db.session.scalars(stmt.execution_options(yield_per=500))
        for index, person in enumerate(result, start=1):
            writer.writerow([
                _cell(person.full_name), format_phone(person.phone), _cell(person.email or ""),
                person.unit.code, main_role(person), person.audience, person.gender or "",
                person.birth_year or "", _cell(person.unit.full_name),
                "có" if person.has_password else "chưa",
                "có" if person.is_active_member else "không",
            ])
            if index % 500 == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    return count, generate()


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def _cell(value: str) -> str:
    """Neutralize text a spreadsheet would run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def main_role(person: User) -> str:
    """The person's highest role (admin > officer > trainer > learner), for one-role columns."""
    roles = sorted(person.roles, key=lambda r: _ROLE_RANK.get(r, -1))
    return roles[-1] if roles else ""
