"""Today's member list as CSV text (written by the server on PostgreSQL, by one f-string per row
elsewhere): the same bytes as csv.writer writes for the rows computed here the plain way, with
names, phones and unit labels that need the formula guard or quotes."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import String, literal, select, update

from app.audit import AuditLog
from app.auth.models import User
from app.auth.phone import format_phone
from app.extensions import db
from app.labels import audience_label
from app.orgs.models import COMMUNE_KINDS, Unit
from app.reports import exports, progress
from app.reports.models import ProgramMember
from tests.factories import make_user
from tests.reports import scenario
from tests.reports.test_progress import FAR, make_program

FORMULA = ("=", "+", "-", "@", "\t", "\r")
NAMES = ["=SUM(A1)", "+84 gọi lại", "-Bình", "@Hà", "\tTab", "\rĐầu dòng", "Nguyễn, Văn A",
         'Trần "Tí" Văn', "Dòng\nhai", "Lê\r\nThị", "'Đã có nháy", " Khoảng trắng ", '"',
         "=", ",", "Ánh"]
PHONES = [None, "+842812345678", "+84", "0912345678", "12,3", '"9"', "+84 91\n2",
          "+8491234567", "+849123456789", "ấ+84xyz", "+84ấ12345678"]


@pytest.fixture
def world(app):
    return scenario.build(people=100)


@pytest.fixture
def today(monkeypatch):
    """FAR is "today" for the export (every record is dated before it)."""
    monkeypatch.setattr(exports, "local_today", lambda: FAR)
    return FAR


def make_awkward(world, program) -> None:
    """Names, phones and unit labels a spreadsheet would run or split, on some of the members
    (so some units are all plain and some are not)."""
    progress.refresh_counts()
    ids = list(db.session.scalars(select(ProgramMember.user_id).where(
        ProgramMember.program_id == program.id).order_by(ProgramMember.user_id)))
    assert len(ids) > 3 * len(NAMES)
    for user_id, name in zip(ids[::3], NAMES, strict=False):
        db.session.execute(update(User).where(User.id == user_id).values(full_name=name))
    for user_id, phone in zip(ids[1::5], PHONES, strict=False):
        db.session.execute(update(User).where(User.id == user_id).values(phone=phone))
    team, commune = world.teams[0]
    team.code, team.name = '=T1,"x"', "ấp, \"1\""
    commune.name = "-Một\nHai"
    db.session.commit()


def commune_of(unit: Unit) -> Unit | None:
    while unit is not None and unit.kind not in COMMUNE_KINDS:
        unit = db.session.get(Unit, unit.parent_id) if unit.parent_id else None
    return unit


def guard(text: str) -> str:
    return "'" + text if text.startswith(FORMULA) else text


def expected_csv(program, root: Unit) -> str:
    """The member list the plain way: ORM rows unit by unit (tree order), members by name, every
    text cell guarded, then csv.writer (the writer csv_chunks uses for every other sheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(column.label) for column in exports.member_columns(program)])
    units = db.session.scalars(select(Unit).where(Unit.path.startswith(root.path))
                               .order_by(Unit.path))
    for unit in units:
        commune = commune_of(unit)
        members = db.session.execute(
            select(User, ProgramMember).join(ProgramMember, ProgramMember.user_id == User.id)
            .where(ProgramMember.program_id == program.id, ProgramMember.unit_id == unit.id)
            .order_by(User.full_name, User.id)).all()
        for user, member in members:
            done = member.completed_on
            writer.writerow([
                guard(unit.code), guard(unit.full_name), guard(commune.full_name if commune else ""),
                guard(user.full_name), format_phone(user.phone), audience_label(user.audience),
                *member.course_days.split("|"), "Có" if done else "Không",
                done.strftime("%d/%m/%Y") if done else ""])
    return "\ufeff" + buffer.getvalue()


def csv_of(export: exports.MemberExport) -> str:
    return "".join(exports.csv_chunks(export.sheet))


@pytest.mark.parametrize("cell", ["", "a", "Bình", "a,b", 'a"b', '"', "a\nb", "a\rb", "\r\n",
                                  " a ", "'=1", "a;b", "\t", "x\x0by"])
def test_csv_cell_is_what_the_writer_writes(cell):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell, ""])
    assert exports.csv_cell(cell) + ",\r\n" == buffer.getvalue()


@pytest.mark.parametrize("stored", PHONES + ["+84912345678", "", "0", "+", "0283456789",
                                             "+840912345678", "02812345678"])
def test_phone_sql_is_format_phone(app, stored):
    value = db.session.scalar(select(exports.phone_sql(literal(stored, String))))
    assert value == format_phone(stored)


def test_todays_member_csv_is_the_plain_computation(world, today):
    program = make_program(world)
    make_awkward(world, program)
    export = exports.start_member_export(program, today, None, None, "csv")
    assert export.sheet.csv_text
    text = csv_of(export)
    expected = expected_csv(program, world.province)
    assert text == expected
    rows = list(csv.reader(io.StringIO(expected[1:])))[1:]
    assert export.rows == len(rows) > 20 and export.complete
    names = {row[3] for row in rows}
    assert {"'=SUM(A1)", "'-Bình", "Nguyễn, Văn A", 'Trần "Tí" Văn', "Dòng\nhai"} <= names
    assert {"0281 2345 678", ""} <= {row[4] for row in rows}  # a landline, no phone
    assert any(row[0] == "'=T1,\"x\"" for row in rows)
    assert any(row[-2] == "Có" for row in rows) and any(row[-2] == "Không" for row in rows)


def test_todays_member_csv_of_a_commune(world, today):
    program = make_program(world)
    make_awkward(world, program)
    commune = world.teams[0][1]
    export = exports.start_member_export(program, today, [commune.path], commune, "csv")
    text = csv_of(export)
    assert text == expected_csv(program, commune)
    assert export.rows == len(list(csv.reader(io.StringIO(text[1:])))) - 1 > 0


def test_todays_member_csv_reports_progress_and_counts(world, today, monkeypatch):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 10)
    program = make_program(world)
    steps = []
    export = exports.start_member_export(program, today, None, None, "csv", on_rows=steps.append)
    text = csv_of(export)
    assert sum(steps) == export.rows == text.count("\r\n") - 1
    assert len(steps) > 2 and all(step >= 10 for step in steps[:-1])
    entry = db.session.get(AuditLog, export.audit_id)
    assert entry.details["rows"] == export.rows and entry.details["complete"] is True


def test_an_abandoned_csv_of_today_is_logged_with_the_rows_sent(world, today):
    program = make_program(world)
    export = exports.start_member_export(program, today, None, None, "csv")
    chunks = exports.csv_chunks(export.sheet)
    next(chunks)  # the header
    sent = next(chunks)  # one unit's lines
    chunks.close()  # the client went away (on PostgreSQL: mid-COPY)
    db.session.expire_all()
    entry = db.session.get(AuditLog, export.audit_id)
    assert entry.details["rows"] == sent.count("\r\n") > 0
    assert entry.details["complete"] is False
    assert db.session.scalar(select(ProgramMember.user_id).limit(1))  # the connection works


def test_the_download_streams_the_same_bytes(world, client, auth):
    """Today through the web page: the response body is the plain computation's text."""
    program = make_program(world)
    officer = make_user(world.province, "officer", name="Cán bộ tỉnh")
    assert auth.login(officer.phone).status_code == 302
    response = client.get(f"/reports/programs/{program.slug}/export/members.csv")
    assert response.status_code == 200 and response.is_streamed
    body = response.get_data()
    assert body == expected_csv(program, world.province).encode("utf-8")
    assert body.count(b"\r\n") > 20


def test_xlsx_of_today_keeps_typed_rows(world, today):
    """XLSX takes the typed rows (dates as dates), which say the same as the CSV text."""
    program = make_program(world)
    make_awkward(world, program)
    typed = list(exports.member_rows(program, today, None))
    text = csv_of(exports.start_member_export(program, today, None, None, "csv"))
    rows = list(csv.reader(io.StringIO(text[1:])))[1:]
    assert len(typed) == len(rows)
    for row, line in zip(typed, rows, strict=True):
        assert [guard(str(cell)) for cell in row[:4]] == line[:4]
        assert list(row[4:6]) == line[4:6]
        assert [exports.csv_value("date", cell) for cell in row[6:-2]] == line[6:-2]
        assert (row[-2], exports.csv_value("date", row[-1])) == (line[-2], line[-1])
    assert isinstance(next(r[-1] for r in typed if r[-1]), date)
