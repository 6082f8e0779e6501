"""Export writers and row kinds: every figure against the plain computation over the generated
province (tests/reports/scenario.py), and the file formats as a spreadsheet reads them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from app.reports import exports
from tests.reports import scenario
from tests.reports.test_progress import FAR, expected_statuses, make_program

DAYS = [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 7)]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The test picks "today": the real date must not decide which path an export takes."""
    today = {"day": date(1999, 1, 1)}
    monkeypatch.setattr(exports, "local_today", lambda: today["day"])
    return today


@pytest.fixture
def world(app):
    return scenario.build()


# --- the plain computation ------------------------------------------------------------------

def expected_unit_figures(world, program, day, root):
    """unit code → (members, completed, completed since the quarter's first day, gap)."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    statuses = expected_statuses(world, program, day)
    units = [world.province, *world.communes, *(team for team, _c in world.teams)]
    out = {}
    for unit in units:
        if not unit.path.startswith(root.path):
            continue
        inside = [done for unit_id, done in statuses.values()
                  if world.path_of[unit_id].startswith(unit.path)]
        members = len(inside)
        completed = sum(1 for done in inside if done)
        recent = sum(1 for done in inside if done and done >= first)
        needed = -(-members * program.target_percent // 100)
        out[unit.code] = (members, completed, recent, max(0, needed - completed))
    return out


def expected_member_rows(world, program, day, root=None):
    """full name → (unit id, {course id: record day or None}, completion day or None)."""
    statuses = expected_statuses(world, program, day)
    end = datetime.combine(day, datetime.max.time()).replace(tzinfo=scenario.VN)
    out = {}
    for index, person in enumerate(world.people):
        if person.id not in statuses:
            continue
        unit_id, done = statuses[person.id]
        if root is not None and not world.path_of[unit_id].startswith(root.path):
            continue
        days = {}
        for course in program.courses:
            found = person.records.get(course.id)
            live = found is not None and not found[1] and found[0] <= end
            days[course.id] = found[0].astimezone(scenario.VN).date() if live else None
        out[f"Người {index:03d}"] = (unit_id, days, done)
    return out


def parse_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "BOM first, so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def dmy(value: str) -> date | None:
    return datetime.strptime(value, "%d/%m/%Y").date() if value else None


# --- kind (a): per-unit progress -------------------------------------------------------------

@pytest.mark.parametrize("day", DAYS)
def test_unit_rows_equal_plain_computation_at_every_level(world, day):
    program = make_program(world)
    rows = exports.unit_rows(program, world.province, day, None)
    expected = expected_unit_figures(world, program, day, world.province)
    assert {r[0] for r in rows} == set(expected)  # the province, each commune, each team
    for code, _name, _kind, _group, _parent, members, done, fraction, gap, recent in rows:
        assert (members, done, recent, gap) == expected[code], code
        assert fraction == pytest.approx(done / members if members else 0.0)
    assert rows[0][0] == world.province.code
    assert expected[world.province.code][0] > 0
    if day >= date(2026, 6, 30):  # the comparison is not trivial: people completed by then
        assert expected[world.province.code][1] > 0 and expected[world.province.code][2] > 0


def test_unit_rows_of_a_commune_and_of_a_viewer_scope(world):
    program = make_program(world)
    commune = world.communes[1]
    day = date(2026, 9, 30)
    rows = exports.unit_rows(program, commune, day, [commune.path])
    expected = expected_unit_figures(world, program, day, commune)
    assert {r[0]: (r[5], r[6], r[9], r[8]) for r in rows} == expected
    assert [r[0] for r in rows][0] == commune.code and len(rows) == 3


def test_unit_rows_give_groups_and_parents(world):
    program = make_program(world)
    rows = {r[0]: r for r in exports.unit_rows(program, world.province, date(2026, 12, 7), None)}
    assert rows["P0"][3] == "I" and rows["P0-T1"][3] == "I"
    assert rows["X2-T0"][3] == "II" and rows["X2-T0"][4] == "Xã Xã 2"
    assert rows["T75"][3] == "" and rows["T75"][4] == ""
    order = list(rows)
    assert order.index("X0") < order.index("X0-T0") < order.index("X0-T1") < order.index("X1")


def test_units_csv_has_bom_header_and_plain_numbers(world):
    program = make_program(world)
    day = date(2026, 6, 30)
    text = "".join(exports.csv_chunks(exports.units_sheet(program, world.province, day, None)))
    header, *body = parse_csv(text)
    assert header[:3] == ["Mã đơn vị", "Đơn vị", "Cấp"]
    assert "Hoàn thành trong quý (từ 01/04/2026 đến 30/06/2026)" in header
    expected = expected_unit_figures(world, program, day, world.province)
    for row in body:
        members, done, recent, gap = expected[row[0]]
        assert (int(row[5]), int(row[6]), int(row[8]), int(row[9])) == (members, done, gap, recent)
        assert row[7] == f"{100 * done / members:.1f}%" if members else row[7] == "0.0%"


def test_units_xlsx_types_styles_and_frozen_header(world, tmp_path):
    program = make_program(world)
    day = date(2026, 9, 30)
    path = tmp_path / "units.xlsx"
    exports.write_xlsx(exports.units_sheet(program, world.province, day, None), path)
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[0] == "Mã đơn vị" and header[7] == "Tỷ lệ hoàn thành"
    assert all(c.font.b for c in ws[1]) and ws[1][0].fill.fgColor.rgb.endswith("0B5CAB")
    assert ws.column_dimensions["B"].width >= 30
    expected = expected_unit_figures(world, program, day, world.province)
    for row in ws.iter_rows(min_row=2):
        code = row[0].value
        members, done, recent, gap = expected[code]
        assert [row[5].value, row[6].value, row[8].value, row[9].value] == [
            members, done, gap, recent]
        assert all(type(row[i].value) is int for i in (5, 6, 8, 9))
        assert row[7].number_format == "0.0%"
        assert isinstance(row[7].value, float) or row[7].value == 0  # openpyxl writes 0.0 as 0
        assert row[7].value == pytest.approx(done / members if members else 0.0)


# --- kind (b): per-member status ----------------------------------------------------------

def collect_member_export(program, day, within, unit=None, fmt="csv"):
    export = exports.start_member_export(program, day, within, unit, fmt)
    text = "".join(exports.csv_chunks(export.sheet))
    return export, parse_csv(text)


@pytest.mark.parametrize("day", [date(2026, 6, 30), date(2026, 12, 7)])
def test_member_rows_equal_plain_computation(world, day):
    program = make_program(world)
    export, (header, *body) = collect_member_export(program, day, None)
    courses = program.courses
    assert header[:6] == ["Mã đơn vị", "Đơn vị", "Xã/phường", "Họ và tên", "Số điện thoại",
                          "Đối tượng"]
    assert header[6:6 + len(courses)] == [f"Khóa {c.slug} v{len(c.versions)}" for c in courses]
    assert header[-2:] == ["Đã hoàn thành", "Ngày hoàn thành"]
    expected = expected_member_rows(world, program, day)
    code_of = {u.id: u.code for u in [world.province, *world.communes,
                                      *(t for t, _c in world.teams)]}
    assert len(body) == len(expected) == export.rows and export.complete
    for row in body:
        unit_id, days, done = expected[row[3]]
        assert row[0] == code_of[unit_id]
        assert [dmy(v) for v in row[6:6 + len(courses)]] == [days[c.id] for c in courses]
        assert row[-2] == ("Có" if done else "Không")
        assert dmy(row[-1]) == done
    assert any(r[-2] == "Có" for r in body) and any(r[-2] == "Không" for r in body)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_todays_member_rows_come_from_program_members(world, fixed_today, monkeypatch,
                                                      tmp_path, fmt):
    """Today's export reads the kept member rows (never the history) and says the same as
    the definitions; FAR stands for today: every record is dated before it, as real ones
    are dated before the day they are read."""
    fixed_today["day"] = FAR
    monkeypatch.setattr(exports, "_member_rows_on", None)  # the history path must not run
    program = make_program(world)
    expected = expected_member_rows(world, program, FAR)
    export = exports.start_member_export(program, FAR, None, None, fmt)
    assert exports.member_count(program, FAR, None) == len(expected)
    if fmt == "csv":
        assert export.sheet.csv_text
        _header, *body = parse_csv("".join(exports.csv_chunks(export.sheet)))
        rows = [(r[3], [dmy(v) for v in r[6:-2]], r[-2], dmy(r[-1])) for r in body]
    else:
        path = tmp_path / "members.xlsx"
        exports.write_xlsx(export.sheet, path)
        rows = [(r[3].value, [c.value.date() if c.value else None for c in r[6:-2]],
                 r[-2].value, r[-1].value.date() if r[-1].value else None)
                for r in load_workbook(path).active.iter_rows(min_row=2)]
    assert len(rows) == len(expected) == export.rows
    for name, days, said, done in rows:
        _unit_id, expected_days, expected_done = expected[name]
        assert days == [expected_days[c.id] for c in program.courses]
        assert (said, done) == ("Có" if expected_done else "Không", expected_done)


def test_member_rows_name_the_commune_and_keep_unit_path_order(world):
    program = make_program(world)
    _export, (_header, *body) = collect_member_export(program, date(2026, 12, 7), None)
    path_of_code = {u.code: u.path for u in [*world.communes, *(t for t, _c in world.teams)]}
    paths = [path_of_code[row[0]] for row in body]
    assert paths == sorted(paths)
    team_rows = [r for r in body if "-T" in r[0]]
    assert team_rows and all(r[2] == ("Xã " if r[0][0] == "X" else "Phường ") + r[2].split(" ", 1)[1]
                             for r in team_rows)
    assert all(r[2].endswith(r[0].split("-")[0][1:]) for r in team_rows)
    assert all(r[4].startswith("097") for r in body)


def test_member_rows_within_a_commune(world):
    program = make_program(world)
    commune = world.communes[2]
    day = date(2026, 9, 30)
    _export, (_header, *body) = collect_member_export(program, day, [commune.path], commune)
    assert {r[3] for r in body} == set(expected_member_rows(world, program, day, commune))


def test_member_xlsx_dates_are_dates(world, tmp_path):
    program = make_program(world)
    day = date(2026, 12, 7)
    export = exports.start_member_export(program, day, None, None, "xlsx")
    path = tmp_path / "members.xlsx"
    exports.write_xlsx(export.sheet, path)
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    expected = expected_member_rows(world, program, day)
    courses = program.courses
    seen = 0
    for row in ws.iter_rows(min_row=2):
        unit_id, days, done = expected[row[3].value]
        for offset, course in enumerate(courses):
            cell = row[6 + offset]
            if days[course.id] is None:
                assert cell.value is None
            else:
                assert cell.value == datetime.combine(days[course.id], datetime.min.time())
                assert cell.number_format == "dd/mm/yyyy"
        last = row[6 + len(courses) + 1]
        assert (last.value.date() if last.value else None) == done
        seen += 1
    assert seen == len(expected) == export.rows


def test_member_export_audit_entry_gets_the_row_count(world):
    from app.audit import AuditLog
    from app.extensions import db

    program = make_program(world)
    export = exports.start_member_export(program, date(2026, 12, 7), None, None, "csv",
                                         source="cli")
    entry = db.session.get(AuditLog, export.audit_id)
    assert entry.action == "reports.export_members"
    assert entry.details["rows"] is None and entry.details["complete"] is False  # before
    rows = sum(1 for _ in export.sheet.rows)
    db.session.expire_all()
    entry = db.session.get(AuditLog, export.audit_id)
    assert entry.details == {"program": program.slug, "unit": "T75", "as_of": "2026-12-07",
                             "format": "csv", "source": "cli", "rows": rows, "complete": True}


def test_an_abandoned_member_export_is_logged_as_incomplete(world):
    from app.audit import AuditLog
    from app.extensions import db

    program = make_program(world)
    export = exports.start_member_export(program, date(2026, 12, 7), None, None, "csv")
    rows = iter(export.sheet.rows)
    next(rows), next(rows)
    rows.close()  # the client went away
    db.session.expire_all()
    entry = db.session.get(AuditLog, export.audit_id)
    assert entry.details["rows"] == 2 and entry.details["complete"] is False


# --- writers ---------------------------------------------------------------------------------

def test_csv_neutralizes_formulas_and_streams_in_chunks(monkeypatch):
    monkeypatch.setattr(exports, "CSV_FLUSH_ROWS", 2)
    sheet = exports.Sheet("x", [exports.ExportColumn("Tên"), exports.ExportColumn("Số", "int")],
                          iter([("=HYPERLINK(1)", 1), ("@a", 2), ("Bình", 3), ("-1", 4)]))
    chunks = list(exports.csv_chunks(sheet))
    assert len(chunks) == 4  # header, two rows, two rows, the (empty) rest
    rows = parse_csv("".join(chunks))
    assert rows == [["Tên", "Số"], ["'=HYPERLINK(1)", "1"], ["'@a", "2"], ["Bình", "3"],
                    ["'-1", "4"]]


def test_xlsx_writer_uses_a_write_only_workbook(monkeypatch, tmp_path):
    made = []
    real = exports.Workbook

    def spy(*args, **kwargs):
        book = real(*args, **kwargs)
        made.append(book)
        return book

    monkeypatch.setattr(exports, "Workbook", spy)
    sheet = exports.Sheet("x", [exports.ExportColumn("Ngày", "date")], [(date(2026, 1, 2),)])
    exports.write_xlsx(sheet, tmp_path / "x.xlsx")
    assert len(made) == 1 and made[0].write_only


def test_xlsx_heading_block_and_emphasized_rows(tmp_path):
    sheet = exports.Sheet(
        "Quý", [exports.ExportColumn("Đơn vị"), exports.ExportColumn("Tỷ lệ", "percent")],
        [("Xã A", 0.5), exports.Emphasized(("Tổng cộng", 0.25))],
        heading=[("Chương trình", "Tổ CNSCĐ"), ("Ngày", date(2026, 6, 30)), ("Chỉ tiêu", 1.0)])
    path = tmp_path / "q.xlsx"
    exports.write_xlsx(sheet, path)
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A6"  # three heading lines, a blank line, the header
    assert ws["B2"].value == datetime(2026, 6, 30) and ws["B2"].number_format == "dd/mm/yyyy"
    assert ws["B3"].number_format == "0.0%"
    assert [c.value for c in ws[5]] == ["Đơn vị", "Tỷ lệ"] and ws["A5"].font.b
    assert ws["A7"].value == "Tổng cộng" and ws["A7"].font.b and not ws["A6"].font.b


def test_export_filename_is_ascii():
    class P:
        slug, scope_unit_id = "to-cnscd-2026", 1

    class U:
        id, code = 5, "26041-01"

    assert exports.export_filename(P, "don-vi", "2026-12-07", "csv") == \
        "to-cnscd-2026_don-vi_2026-12-07.csv"
    assert exports.export_filename(P, "thanh-vien", "2026-12-07", "xlsx", U) == \
        "to-cnscd-2026_thanh-vien_26041-01_2026-12-07.xlsx"
