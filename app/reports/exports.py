"""Program exports: CSV and XLSX writers driven by one column definition, and the two row
kinds every report is made of (per-unit progress, per-member status) on any as-of day.

Both writers hold one row at a time: CSV is a generator of text chunks; XLSX goes through an
openpyxl *write-only* workbook into a temporary file that is then streamed in blocks. So a
province-wide member list costs the same memory as a commune's. Today's member list in CSV
skips the writer: its lines come whole, a unit at a time (from PostgreSQL itself there).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from app.audit import AuditLog, record_audit
from app.auth.models import AUDIENCES, User
from app.auth.phone import format_phone
from app.courses.services import newest_published_titles
from app.extensions import db
from app.labels import audience_label, kind_label
from app.orgs.models import COMMUNE_KINDS, Unit
from app.reports.models import ProgramMember, TrainingProgram
from app.reports.progress import (
    UnitProgress,
    local_today,
    local_zone,
    member_statuses,
    population_on,
    quarter_bounds,
    quarter_of,
    refresh_counts,
    team_figures_on,
)
from app.text import fold

CSV_FLUSH_ROWS = 500  # rows per streamed CSV chunk
FILE_CHUNK = 256 * 1024  # bytes per streamed block of a temporary file
PROGRESS_EVERY = 1000  # rows between progress-bar updates
STREAM_BATCH = 2000  # rows fetched per round trip (server-side cursor on PostgreSQL)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "dd/mm/yyyy"
HEADER_FILL = "0B5CAB"


# --- one column definition, two formats -----------------------------------------------------

@dataclass(frozen=True)
class ExportColumn:
    """A column of an export: its (translated) header, the kind of value, its XLSX width.

    Kinds: ``text``; ``int``; ``percent`` (a fraction, 0.25 = 25 %); ``date``.
    """

    label: object
    kind: str = "text"
    width: float = 14


class Emphasized(tuple):
    """A row shown in bold (subtotals and totals)."""


@dataclass
class Sheet:
    """What one export holds: heading lines (label, value) above the table, then the table."""

    name: str
    columns: Sequence[ExportColumn]
    rows: Iterable[Sequence]
    heading: Sequence[tuple[str, object]] = field(default_factory=tuple)
    # True when ``rows`` are chunks of finished CSV text (whole lines), written as they are.
    csv_text: bool = False


def safe_text(value: str) -> str:
    """Neutralize text a spreadsheet would run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return _dmy(value)
    return safe_text(str(value))


def _int(value) -> str:
    return "" if value is None or value == "" else str(int(value))


def _percent(value) -> str:
    return "" if value is None or value == "" else f"{value * 100:.1f}%"


def _dmy(value) -> str:
    return "" if value is None or value == "" else f"{value.day:02d}/{value.month:02d}/{value.year}"


CSV_FORMATTERS: dict[str, Callable[[object], str]] = {
    "text": _text, "int": _int, "percent": _percent, "date": _dmy}


def csv_value(kind: str, value) -> str:
    """A value as CSV text: numbers plain, fractions as 45.5%, dates dd/mm/yyyy."""
    return CSV_FORMATTERS[kind](value)


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def csv_chunks(sheet: Sheet) -> Iterator[str]:
    """The sheet as CSV text chunks: UTF-8 BOM first (Excel then reads Vietnamese right),
    heading lines, a blank line, the header, then the rows, a few hundred per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for label, value in sheet.heading:
        kind = "percent" if isinstance(value, float) else "text"
        writer.writerow([safe_text(str(label)), csv_value(kind, value)])
    if sheet.heading:
        writer.writerow([])
    writer.writerow([str(column.label) for column in sheet.columns])
    yield "\ufeff" + _drain(buffer)
    if sheet.csv_text:
        yield from sheet.rows
        return
    formatters = [CSV_FORMATTERS[column.kind] for column in sheet.columns]
    for index, row in enumerate(sheet.rows, start=1):
        writer.writerow([fmt(value) for fmt, value in zip(formatters, row, strict=True)])
        if index % CSV_FLUSH_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def new_workbook() -> Workbook:
    """A write-only workbook: rows go to disk as they come, memory stays constant."""
    return Workbook(write_only=True)


def _header_cell(ws, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=str(value))
    cell.font = Font(bold=True, color="FFFFFF")
    cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    return cell


def _xlsx_cells(ws, kinds: list[str], row: Sequence, bold: bool) -> list:
    """Plain values where the default style is right (fast); a styled cell only where needed."""
    out = []
    for kind, value in zip(kinds, row, strict=True):
        if value is None or value == "":
            out.append(None)
            continue
        if kind == "int":
            value = int(value)
        elif kind == "text":
            value = str(value)
        if kind in ("percent", "date") or bold:
            cell = WriteOnlyCell(ws, value=value)
            if kind == "percent":
                cell.number_format = PERCENT_FORMAT
            elif kind == "date":
                cell.number_format = DATE_FORMAT
            if bold:
                cell.font = Font(bold=True)
            out.append(cell)
        else:
            out.append(value)
    return out


def write_xlsx(sheet: Sheet, target) -> None:
    """Write the sheet to ``target`` (a path or binary file): bold header on a fill, the header
    row frozen, column widths, numbers as numbers, fractions as 0.0 %, dates as dd/mm/yyyy."""
    wb = new_workbook()
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "-", sheet.name)[:31] or "Sheet")
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header_row = len(sheet.heading) + 2 if sheet.heading else 1
    ws.freeze_panes = f"A{header_row + 1}"
    for label, value in sheet.heading:
        label_cell = WriteOnlyCell(ws, value=str(label))
        label_cell.font = Font(bold=True)
        value_cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, date):
            value_cell.number_format = DATE_FORMAT
        elif isinstance(value, float):
            value_cell.number_format = PERCENT_FORMAT
        ws.append([label_cell, value_cell])
    if sheet.heading:
        ws.append([])
    ws.append([_header_cell(ws, column.label) for column in sheet.columns])
    kinds = [column.kind for column in sheet.columns]
    for row in sheet.rows:
        ws.append(_xlsx_cells(ws, kinds, row, isinstance(row, Emphasized)))
    wb.save(target)


def xlsx_temp_file(sheet: Sheet) -> Path:
    """Write the sheet to a new temporary .xlsx file (the caller streams and removes it)."""
    handle, name = tempfile.mkstemp(prefix="hocvuso-export-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(sheet, name)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def file_chunks(path: Path, remove: bool = True) -> Iterator[bytes]:
    """A file's bytes in blocks; the file is removed once read (or when the client leaves)."""
    try:
        with open(path, "rb") as handle:
            while block := handle.read(FILE_CHUNK):
                yield block
    finally:
        if remove:
            path.unlink(missing_ok=True)


# --- units: which ones a report shows ---------------------------------------------------------

def units_for_report(root: Unit, within: Iterable[str] | None) -> list[Unit]:
    """``root`` and every unit under it that the viewer sees (or that leads to one they see)."""
    units = list(db.session.scalars(select(Unit).where(Unit.path.startswith(root.path))))
    if within is None:
        return units
    paths = list(within)
    return [u for u in units if u.id == root.id
            or any(u.path.startswith(p) or p.startswith(u.path) for p in paths)]


def tree_order(root: Unit, units: list[Unit]) -> list[Unit]:
    """Depth first from ``root``, siblings by name (Vietnamese letters folded)."""
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[Unit] = []
    stack = [root]
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        kids = sorted(children.get(unit.id, []), key=lambda u: (fold(u.name), u.name, u.code))
        stack.extend(reversed(kids))
    return ordered


def group_of(unit: Unit, by_id: dict[int, Unit]) -> str | None:
    """The unit's group (I phường / II xã), a team taking its commune's."""
    for ancestor_id in reversed([int(p) for p in unit.path.strip("/").split("/")]):
        ancestor = by_id.get(ancestor_id)
        if ancestor is not None and ancestor.unit_group:
            return ancestor.unit_group
    return None


def figures_by_unit(units: list[Unit], per_team: Iterable[tuple[str, int, int, int]]
                    ) -> dict[int, UnitProgress]:
    """Sum (team path, members, completed, completed in the period) into every unit of
    ``units`` that holds the team: each level at once, from one grouped query's rows."""
    figures = {unit.id: UnitProgress(unit) for unit in units}
    for path, members, completed, recent in per_team:
        for part in path.strip("/").split("/"):
            figure = figures.get(int(part))
            if figure is not None:
                figure.members += members
                figure.completed += completed
                figure.this_quarter += recent
    return figures


# --- kind (a): per-unit progress --------------------------------------------------------------

def unit_columns(as_of: date) -> list[ExportColumn]:
    first, _last = quarter_bounds(*quarter_of(as_of))
    return [
        ExportColumn(_l("Mã đơn vị"), width=12),
        ExportColumn(_l("Đơn vị"), width=34),
        ExportColumn(_l("Cấp"), width=11),
        ExportColumn(_l("Nhóm"), width=7),
        ExportColumn(_l("Thuộc đơn vị"), width=28),
        ExportColumn(_l("Số thành viên"), "int", 12),
        ExportColumn(_l("Đã hoàn thành"), "int", 12),
        ExportColumn(_l("Tỷ lệ hoàn thành"), "percent", 12),
        ExportColumn(_l("Còn thiếu so với chỉ tiêu"), "int", 14),
        ExportColumn(_l("Hoàn thành trong quý (từ %(start)s đến %(end)s)",
                        start=first.strftime("%d/%m/%Y"), end=as_of.strftime("%d/%m/%Y")),
                     "int", 20),
    ]


def unit_rows(program: TrainingProgram, root: Unit, as_of: date,
              within: Iterable[str] | None) -> list[tuple]:
    """One row per unit under ``root`` (itself first, then depth first): the figures on
    ``as_of`` and the completions of the quarter up to it, from one grouped query."""
    first, _last = quarter_bounds(*quarter_of(as_of))
    units = units_for_report(root, within)
    by_id = {unit.id: unit for unit in units}
    figures = figures_by_unit(units, team_figures_on(program, as_of, within, since=first))
    rows = []
    for unit in tree_order(root, units):
        figure = figures[unit.id]
        parent = by_id.get(unit.parent_id) if unit.id != root.id else None
        rows.append((unit.code, unit.full_name, kind_label(unit.kind), group_of(unit, by_id) or "",
                     parent.full_name if parent else "", figure.members, figure.completed,
                     figure.percent / 100, figure.gap(program.target_percent),
                     figure.this_quarter))
    return rows


def units_sheet(program: TrainingProgram, root: Unit, as_of: date,
                within: Iterable[str] | None) -> Sheet:
    return Sheet(_("Tiến độ theo đơn vị"), unit_columns(as_of),
                 unit_rows(program, root, as_of, within))


# --- kind (b): per-member status (personal data) ----------------------------------------------

def course_titles(program: TrainingProgram) -> list[tuple[int, str]]:
    """(course id, title of its newest published version) of each required course."""
    titles = newest_published_titles(program.course_ids)
    return [(course.id, titles.get(course.id, course.slug)) for course in program.courses]


def member_columns(program: TrainingProgram) -> list[ExportColumn]:
    return [
        ExportColumn(_l("Mã đơn vị"), width=12),
        ExportColumn(_l("Đơn vị"), width=28),
        ExportColumn(_l("Xã/phường"), width=22),
        ExportColumn(_l("Họ và tên"), width=26),
        ExportColumn(_l("Số điện thoại"), width=14),
        ExportColumn(_l("Đối tượng"), width=22),
        *(ExportColumn(title, "date", 14) for _id, title in course_titles(program)),
        ExportColumn(_l("Đã hoàn thành"), width=12),
        ExportColumn(_l("Ngày hoàn thành"), "date", 14),
    ]


def _unit_labels(within: Iterable[str] | None, program: TrainingProgram
                 ) -> dict[int, tuple[str, str, str]]:
    """unit id → (code, full name, commune full name) of the units an export can name."""
    roots = list(within) if within is not None else [program.scope_unit.path]
    ancestor_ids = {int(p) for path in roots for p in path.strip("/").split("/")}
    units = list(db.session.scalars(select(Unit).where(or_(
        Unit.id.in_(ancestor_ids), *(Unit.path.startswith(path) for path in roots)))))
    by_id = {unit.id: unit for unit in units}
    labels = {}
    for unit in units:
        commune = next((by_id[int(p)] for p in reversed(unit.path.strip("/").split("/"))
                        if int(p) in by_id and by_id[int(p)].kind in COMMUNE_KINDS), None)
        labels[unit.id] = (unit.code, unit.full_name, commune.full_name if commune else "")
    return labels


def member_statement(program: TrainingProgram, as_of: date, within: Iterable[str] | None):
    """The member statuses joined to names and units, by unit path then name, streamed."""
    statuses = member_statuses(program, as_of, within).subquery("statuses")
    return (select(statuses, User.full_name, User.phone, User.audience)
            .join(User, User.id == statuses.c.user_id)
            .join(Unit, Unit.id == statuses.c.unit_id)
            .order_by(Unit.path, User.full_name, User.id)
            .execution_options(yield_per=STREAM_BATCH, stream_results=True))


def member_count(program: TrainingProgram, as_of: date, within: Iterable[str] | None) -> int:
    """How many rows the member export will have (the population; cheap: no records read)."""
    if as_of == local_today():
        refresh_counts()
        stmt = (select(func.count()).select_from(ProgramMember)
                .join(Unit, Unit.id == ProgramMember.unit_id)
                .where(ProgramMember.program_id == program.id))
        if within is not None:
            stmt = stmt.where(or_(*(Unit.path.startswith(path) for path in within)))
        return db.session.scalar(stmt) or 0
    people = population_on(program, as_of, within).subquery()
    return db.session.scalar(select(func.count()).select_from(people)) or 0


def member_rows(program: TrainingProgram, as_of: date, within: Iterable[str] | None
                ) -> Iterator[tuple]:
    """Rows of the member export, one at a time (a server-side cursor on PostgreSQL): today's
    from the program's member rows (one indexed scan), another day's from the history."""
    if as_of == local_today():
        return _member_rows_today(program, within)
    return _member_rows_on(program, as_of, within)


def iso_to_dmy(day: str) -> str:
    """'2026-06-09' → '09/06/2026'; '' → ''."""
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}" if day else ""


def dmy_to_date(day: str) -> date | None:
    """'09/06/2026' → date(2026, 6, 9); '' → None."""
    return date(int(day[6:10]), int(day[3:5]), int(day[:2])) if day else None


def _unit_ids_in_order(program: TrainingProgram, within: Iterable[str] | None) -> list[int]:
    """The units a member export covers, in tree order (by path): its rows come unit by unit."""
    roots = list(within) if within is not None else [program.scope_unit.path]
    return list(db.session.scalars(select(Unit.id).where(
        or_(*(Unit.path.startswith(root) for root in roots))).order_by(Unit.path)))


def _today_statement(program: TrainingProgram):
    """One unit's members today (``unit_id`` bound per unit), by name.

    One small query per unit, in tree order, each sorted by name: the database never sorts
    the whole province (at a million members that sort alone took seconds). The completion
    day as text: parsing a million dates only to print them again cost seconds. SQLite hands
    back 'YYYY-MM-DD'; PostgreSQL a date, whose str() is the same.
    """
    return (select(User.full_name, User.phone, User.audience, ProgramMember.course_days,
                   type_coerce(ProgramMember.completed_on, String))
            .join(User, User.id == ProgramMember.user_id)
            .where(ProgramMember.program_id == program.id,
                   ProgramMember.unit_id == bindparam("unit_id"))
            .order_by(User.full_name, User.id))


def _member_rows_today(program: TrainingProgram, within: Iterable[str] | None
                       ) -> Iterator[tuple]:
    """Today's rows from ``program_members`` (recounted first), typed (dates as dates) for
    XLSX: no history, no records read. CSV takes ``member_csv_today`` instead."""
    refresh_counts()
    labels = _unit_labels(within, program)
    yes, no = _("Có"), _("Không")
    audiences = {code: audience_label(code) for code in AUDIENCES}
    stmt = _today_statement(program)
    conn = db.session.connection()
    blank = ("", "", "")
    for unit_id in _unit_ids_in_order(program, within):
        label = labels.get(unit_id, blank)
        for name, phone, audience, course_days, completed_on in conn.execute(
                stmt, {"unit_id": unit_id}).all():
            yield (*label, name, format_phone(phone), audiences.get(audience, audience),
                   *(dmy_to_date(day) for day in course_days.split("|")),
                   yes if completed_on else no,
                   date.fromisoformat(str(completed_on)) if completed_on else None)


# --- today's member list as CSV text ----------------------------------------------------------
# A province's list is a million lines: csv.writer and a tuple per row cost more than reading
# the rows. So the lines are written whole, the bytes csv.writer gives for the rows above with
# the unit cells and the name through safe_text (phone, audience and days are the app's own
# text): on PostgreSQL by the server (one COPY; the client only copies the text out), elsewhere
# by one f-string per row. tests/reports/test_exports_csv.py compares both with csv.writer.
# ``course_days`` holds only dd/mm/yyyy days and "|" (progress._recount_batch writes it), so
# turning "|" into "," gives the cells the writer would give.

_CSV_SPECIAL = re.compile(r'[,"\r\n]')  # what csv.writer quotes here (minimal, CRLF lines)
_CSV_SPECIAL_SQL = '[,"\r\n]'
_PLAIN_MARKS = (",", '"', "\r", "\n", *("\x00" + start for start in _FORMULA_START))
_MOBILES = re.compile(r"(?:\+84[0-9]{9}\x00)*")  # stored mobile numbers, each then "\x00"


def csv_cell(text: str) -> str:
    """One cell as csv_chunks' writer writes it: in quotes (quotes doubled) only when it holds a
    comma, a quote or a line break."""
    return '"' + text.replace('"', '""') + '"' if _CSV_SPECIAL.search(text) else text


def csv_line_start(cells: Iterable[str]) -> str:
    """The first cells of a line as CSV text, with the comma that follows them."""
    return "".join(csv_cell(cell) + "," for cell in cells)


class _Cells(dict):
    """Value → its CSV cell, made once on first use (audience labels, completion days)."""

    def __init__(self, make: Callable[[object], str], known: dict | None = None):
        super().__init__(known or {})
        self.make = make

    def __missing__(self, key) -> str:
        value = self[key] = self.make(key)
        return value


def member_csv_today(program: TrainingProgram, within: Iterable[str] | None
                     ) -> Iterator[tuple[int, str]]:
    """Today's member list as CSV text, one chunk per unit in tree order, members by name:
    (number of rows, their lines). No header: ``csv_chunks`` writes it."""
    refresh_counts()
    labels = _unit_labels(within, program)
    unit_ids = _unit_ids_in_order(program, within)
    blank = ("", "", "")
    starts = [csv_line_start(safe_text(text) for text in labels.get(unit_id, blank))
              for unit_id in unit_ids]
    yes, no = csv_cell(_("Có")), csv_cell(_("Không"))
    audiences = {code: csv_cell(audience_label(code)) for code in AUDIENCES}
    if db.session.connection().dialect.name == "postgresql":
        yield from _member_csv_by_server(program, unit_ids, starts, audiences, yes, no)
    else:
        yield from _member_csv_by_python(program, unit_ids, starts, audiences, yes, no)


def _plain(rows: list) -> bool:
    """True when no name of ``rows`` needs the formula guard or quotes and every phone is a
    mobile number as stored (+84 and 9 digits): the common case, whose lines are then written
    without a check or a call per cell (two scans of the unit's names and phones instead)."""
    names = "\x00" + "\x00".join([row[0] for row in rows])
    phones = "\x00".join([row[1] or "" for row in rows]) + "\x00"
    return (not any(mark in names for mark in _PLAIN_MARKS)
            and _MOBILES.fullmatch(phones) is not None)


def _member_csv_by_python(program: TrainingProgram, unit_ids: list[int], starts: list[str],
                          audiences: dict[str, str], yes: str, no: str
                          ) -> Iterator[tuple[int, str]]:
    """Per unit: one query, then one f-string per member. The query goes through the driver's
    cursor: SQLAlchemy's row objects alone cost half a second per million rows."""
    conn = db.session.connection()
    compiled = _today_statement(program).compile(dialect=conn.dialect)
    params = dict(compiled.params)
    cursor = conn.connection.driver_connection.cursor()
    who = _Cells(lambda code: csv_cell(code or ""), audiences)  # an unknown code as it is
    outcome = _Cells(lambda day: f"{yes},{iso_to_dmy(str(day))}" if day else f"{no},")
    try:
        for unit_id, start in zip(unit_ids, starts, strict=True):
            params["unit_id"] = unit_id
            bound = ([params[name] for name in compiled.positiontup] if compiled.positional
                     else params)
            rows = cursor.execute(compiled.string, bound).fetchall()
            if not rows:
                continue
            if _plain(rows):  # format_phone of +84xxxxxxxxx is 0xxx xxx xxx
                text = "".join([
                    f"{start}{name},0{phone[3:6]} {phone[6:9]} {phone[9:]},{who[audience]},"
                    f"{days.replace('|', ',')},{outcome[done]}\r\n"
                    for name, phone, audience, days, done in rows])
            else:
                text = "".join([
                    f"{start}{csv_cell(safe_text(name))},{csv_cell(format_phone(phone))},"
                    f"{who[audience]},{days.replace('|', ',')},{outcome[done]}\r\n"
                    for name, phone, audience, days, done in rows])
            yield len(rows), text
    finally:
        cursor.close()


def _substr(text, start: int, length: int | None = None):
    return func.substr(text, start, *([length] if length else []), type_=Text)


def _quoted_sql(check, value):
    """``value`` as a CSV cell, in SQL: quoted when ``check`` (the raw text it is made from,
    holding the same special characters) holds a comma, a quote or a line break."""
    return case((check.regexp_match(_CSV_SPECIAL_SQL),
                 '"' + func.replace(value, '"', '""', type_=Text) + '"'), else_=value)


def phone_sql(stored):
    """``format_phone`` in SQL: the same slices of the same national number ("0" + the digits
    after +84, or the stored text), counted in characters as Python does."""
    def groups(text, first: int, lead: str = ""):
        # national = lead + text[first - 1:]; national[:4], [4:7] / [4:8], the rest.
        ten = func.length(text) == 9 + first - len(lead)  # len(national) == 10
        head = _substr(text, first, 4 - len(lead))
        if lead:
            head = literal(lead) + head
        at = first + 4 - len(lead)
        return case((ten, head + " " + _substr(text, at, 3) + " " + _substr(text, at + 3)),
                    else_=head + " " + _substr(text, at, 4) + " " + _substr(text, at + 4))

    return case((or_(stored.is_(None), stored == ""), ""),
                (_substr(stored, 1, 3) == "+84", groups(stored, 4, "0")),
                else_=groups(stored, 1))


def member_line_sql(start, audiences: dict[str, str], yes: str, no: str):
    """One member's CSV line (CRLF) in SQL, after ``start`` (the unit's cells)."""
    name = User.full_name
    guarded = case((_substr(name, 1, 1).in_(_FORMULA_START), "'" + name), else_=name)
    audience = case(audiences, value=User.audience,
                    else_=_quoted_sql(User.audience, func.coalesce(User.audience, "")))
    outcome = case((ProgramMember.completed_on.is_(None), literal(no + ",")),
                   else_=literal(yes + ",") + func.to_char(ProgramMember.completed_on,
                                                          "DD/MM/YYYY", type_=Text))
    return (start + _quoted_sql(name, guarded) + ","
            + _quoted_sql(User.phone, phone_sql(User.phone)) + "," + audience + ","
            + func.replace(ProgramMember.course_days, "|", ",", type_=Text) + "," + outcome
            + "\r\n")


def _member_csv_by_server(program: TrainingProgram, unit_ids: list[int], starts: list[str],
                          audiences: dict[str, str], yes: str, no: str
                          ) -> Iterator[tuple[int, str]]:
    """PostgreSQL writes the lines: one query joins the members to the units (given in tree
    order with their first cells) and glues each unit's lines in name order; COPY streams the
    units as they are done, binary so the text comes as it is (no escaping)."""
    units = (func.unnest(cast(bindparam("unit_ids", unit_ids), ARRAY(Integer)),
                         cast(bindparam("starts", starts), ARRAY(Text)))
             .table_valued(sql_column("unit_id", Integer), sql_column("start", Text),
                           with_ordinality="ord").render_derived("report_units"))
    lines = func.string_agg(member_line_sql(units.c.start, audiences, yes, no),
                            aggregate_order_by(literal(""), User.full_name, User.id),
                            type_=Text)
    stmt = (select(func.count(), lines).select_from(units)
            .join(ProgramMember, and_(ProgramMember.unit_id == units.c.unit_id,
                                      ProgramMember.program_id == program.id))
            .join(User, User.id == ProgramMember.user_id)
            .group_by(units.c.ord).order_by(units.c.ord))
    conn = db.session.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    with (conn.connection.driver_connection.cursor() as cursor,
          cursor.copy(f"COPY ({compiled.string}) TO STDOUT (FORMAT BINARY)",
                      compiled.params) as copy):
        copy.set_types(["int8", "text"])
        yield from copy.rows()


def _member_rows_on(program: TrainingProgram, as_of: date, within: Iterable[str] | None
                    ) -> Iterator[tuple]:
    """Rows as they stood at the end of ``as_of``, from the membership history and the
    records dated by then."""
    labels = _unit_labels(within, program)
    courses = course_titles(program)
    needed = len(courses)
    zone = local_zone()
    yes, no = _("Có"), _("Không")
    audiences: dict[str, str] = {}

    def day_of(moment: datetime | None) -> date | None:
        if moment is None:
            return None
        if moment.tzinfo is None:  # SQLite gives UTC without a zone
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(zone).date()

    result = db.session.execute(member_statement(program, as_of, within))
    keys = list(result.keys())
    unit_at, done_at, last_at = keys.index("unit_id"), keys.index("done"), keys.index("last_at")
    name_at, phone_at, audience_at = (keys.index("full_name"), keys.index("phone"),
                                      keys.index("audience"))
    course_at = [keys.index(f"c{course_id}") for course_id, _title in courses]
    try:
        for row in result:
            code, unit_name, commune = labels.get(row[unit_at], ("", "", ""))
            audience = row[audience_at]
            if audience not in audiences:
                audiences[audience] = audience_label(audience)
            done_on = day_of(row[last_at]) if needed and row[done_at] >= needed else None
            yield (code, unit_name, commune, row[name_at], format_phone(row[phone_at]),
                   audiences[audience], *(day_of(row[i]) for i in course_at),
                   yes if done_on else no, done_on)
    finally:
        result.close()


@dataclass
class MemberExport:
    """A member export under way: its sheet, and the audit entry it completes at the end."""

    sheet: Sheet
    audit_id: int
    rows: int = 0
    complete: bool = False


def start_member_export(program: TrainingProgram, as_of: date, within: Iterable[str] | None,
                        unit: Unit | None, fmt: str, actor=None, source: str = "web",
                        on_rows: Callable[[int], None] | None = None) -> MemberExport:
    """Write (and commit) the audit entry before any personal data leaves, then hand back the
    rows; the entry gets the exact row count, and whether the export ran to the end, once the
    stream is over (a second, short transaction: no count query over the whole population)."""
    within = list(within) if within is not None else None
    entry = record_audit(
        "reports.export_members", actor=actor, target=f"program:{program.slug}",
        program=program.slug, unit=(unit or program.scope_unit).code,
        as_of=as_of.isoformat(), format=fmt, source=source, rows=None, complete=False)
    db.session.commit()
    csv_text = fmt == "csv" and as_of == local_today()
    export = MemberExport(Sheet(_("Thành viên"), member_columns(program), (), csv_text=csv_text),
                          entry.id)

    def audited() -> Iterator:
        # CSV today: (rows, text) chunks, a unit at a time; otherwise one row at a time.
        parts = (member_csv_today(program, within) if csv_text
                 else member_rows(program, as_of, within))
        unreported = 0
        try:
            for part in parts:
                count, part = part if csv_text else (1, part)
                export.rows += count
                unreported += count
                if on_rows is not None and unreported >= PROGRESS_EVERY:
                    on_rows(unreported)
                    unreported = 0
                yield part
            if on_rows is not None:
                on_rows(unreported)
            export.complete = True
        finally:
            parts.close()
            finish_member_export(export)

    export.sheet.rows = audited()
    return export


def finish_member_export(export: MemberExport) -> None:
    """Record the row count (and whether the stream ended normally) on the audit entry."""
    db.session.rollback()  # end the read transaction; the entry was committed up front
    entry = db.session.get(AuditLog, export.audit_id)
    if entry is not None:
        entry.details = {**entry.details, "rows": export.rows, "complete": export.complete}
        db.session.commit()


# --- names of files ---------------------------------------------------------------------------

def export_filename(program: TrainingProgram, kind: str, stamp: str, fmt: str,
                    unit: Unit | None = None) -> str:
    """ASCII file name such as ``to-cnscd-2026_don-vi_2026-12-07.csv``."""
    parts = [program.slug, kind]
    if unit is not None and unit.id != program.scope_unit_id:
        parts.append(re.sub(r"[^A-Za-z0-9-]+", "-", unit.code).strip("-") or str(unit.id))
    parts.append(stamp)
    return "_".join(parts) + "." + fmt
