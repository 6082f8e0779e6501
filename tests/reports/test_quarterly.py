"""The quarterly report: figures of past quarters against the plain computation (including
completions during the quarter), its layout in CSV/XLSX, the printable page and the PDF."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.reports import quarterly
from tests.factories import make_user
from tests.querycount import count_queries, forget_request_state
from tests.reports import scenario
from tests.reports.test_progress import expected_statuses, make_program

TODAY = date(2026, 12, 7)


@pytest.fixture
def world(app):
    world = scenario.build()
    world.program = make_program(world)
    return world


def expected_report(world, program, year, number, root):
    """child code (or None for the root's own members) → (group, members, completed,
    completed during the quarter, gap), from the scenario's Python side only."""
    first, last = date(year, 3 * number - 2, 1), quarterly.quarter_bounds(year, number)[1]
    statuses = expected_statuses(world, program, min(last, TODAY))
    units = [world.province, *world.communes, *(t for t, _c in world.teams)]
    children = [u for u in units if u.parent_id == root.id]
    out: dict = {}
    for unit_id, done in statuses.values():
        path = world.path_of[unit_id]
        if not path.startswith(root.path):
            continue
        child = next((c for c in children if path.startswith(c.path)), None)
        key = child.code if child else None
        group = (child or root).unit_group or (root.unit_group if child else None)
        members, completed, recent = out.get(key, (group, 0, 0, 0))[1:4]
        out[key] = (group, members + 1, completed + bool(done),
                    recent + bool(done and first <= done <= last))
    for child in children:
        out.setdefault(child.code, (child.unit_group or root.unit_group, 0, 0, 0))
    return {key: (*value, max(0, -(-value[1] * program.target_percent // 100) - value[2]))
            for key, value in out.items()}


def actual_report(report):
    return {(None if line.own else line.unit.code):
            (line.group, line.figure.members, line.figure.completed, line.figure.this_quarter,
             line.figure.gap(report.target)) for line in report.lines}


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_quarter_figures_equal_plain_computation(world, number):
    report = quarterly.build_quarterly(world.program, world.province, 2026, number, None, TODAY)
    expected = expected_report(world, world.program, 2026, number, world.province)
    assert actual_report(report) == expected
    subtotals = {group: (sub.members, sub.completed, sub.this_quarter)
                 for group, sub in report.subtotals}
    for group in ("I", "II"):
        assert subtotals[group] == tuple(
            sum(v[i] for v in expected.values() if v[0] == group) for i in (1, 2, 3))
    assert (report.total.members, report.total.completed, report.total.this_quarter) == tuple(
        sum(v[i] for v in expected.values()) for i in (1, 2, 3))
    assert [line.group for line in report.lines] == sorted(line.group for line in report.lines)
    if number in (2, 3):  # a real test: people completed during these quarters
        assert report.total.this_quarter > 0
        assert report.total.completed > report.total.this_quarter or number == 2


def test_past_quarter_is_as_of_its_last_day_and_current_one_as_of_today(world):
    q2 = quarterly.build_quarterly(world.program, world.province, 2026, 2, None, TODAY)
    assert (q2.first, q2.last, q2.as_of, q2.produced_on) == (
        date(2026, 4, 1), date(2026, 6, 30), date(2026, 6, 30), TODAY)
    assert q2.send_by == date(2026, 6, 5) and q2.label == "Quý II/2026" and q2.code == "2026Q2"
    q4 = quarterly.build_quarterly(world.program, world.province, 2026, 4, None, TODAY)
    assert q4.as_of == TODAY and q4.send_by == date(2026, 12, 5)
    with pytest.raises(quarterly.ReportArgumentError, match="chưa bắt đầu"):
        quarterly.build_quarterly(world.program, world.province, 2027, 1, None, TODAY)


def test_commune_report_lists_its_teams_and_its_own_members(world):
    commune = world.communes[0]
    report = quarterly.build_quarterly(world.program, commune, 2026, 3, [commune.path], TODAY)
    expected = expected_report(world, world.program, 2026, 3, commune)
    assert actual_report(report) == expected
    assert None in expected  # the scenario puts some members on the commune itself
    own = next(line for line in report.lines if line.own)
    assert quarterly.line_name(own) == "Trực thuộc Xã Xã 0"
    assert [g for g, _sub in report.subtotals] == ["II"]
    assert report.total.members == sum(v[1] for v in expected.values())


@pytest.mark.parametrize("text, expected", [
    ("2026Q2", (2026, 2)), ("2026q4", (2026, 4)), ("2026-Q1", (2026, 1)), (" 2027Q3 ", (2027, 3)),
])
def test_parse_quarter(text, expected):
    assert quarterly.parse_quarter(text) == expected


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "Q2-2026", "26Q2", "", None, "1999Q1"])
def test_parse_quarter_rejects(app, text):
    with pytest.raises(quarterly.ReportArgumentError, match="Quý không hợp lệ"):
        quarterly.parse_quarter(text)


# --- files and pages ---------------------------------------------------------------------------

@pytest.fixture
def officer(world, auth):
    user = make_user(world.province, "officer", name="Cán bộ tỉnh")
    assert auth.login(user.phone).status_code == 302
    return user


def test_quarterly_csv_layout(client, world, officer):
    response = client.get("/reports/programs/ct-test/export/quarterly-2026Q2.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ct-test_bao-cao-quy_2026Q2.csv"'
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    heading = {row[0]: row[1] for row in rows[:9]}
    assert heading["BÁO CÁO KẾT QUẢ BỒI DƯỠNG KỸ NĂNG SỐ"] == "Quý II/2026"
    assert heading["Kính gửi"] == "Sở Khoa học và Công nghệ"
    assert heading["Chương trình bồi dưỡng"] == "Chương trình thử"
    assert heading["Đơn vị báo cáo"] == "Tỉnh Đồng Nai"
    assert heading["Số liệu tính đến ngày"] == "30/06/2026"
    assert heading["Chỉ tiêu"] == "100.0%"
    assert heading["Hạn gửi báo cáo"] == "05/06/2026"
    assert rows[9] == []
    assert rows[10][:3] == ["STT", "Mã đơn vị", "Xã/phường"]
    expected = expected_report(world, world.program, 2026, 2, world.province)
    body = rows[11:]
    lines = {r[1]: (r[3], int(r[4]), int(r[5]), int(r[7]), int(r[8])) for r in body if r[1]}
    assert lines == expected
    labels = [r[2] for r in body if not r[1]]
    assert labels == ["Cộng nhóm I (phường)", "Cộng nhóm II (xã, đặc khu)", "Tổng cộng"]
    assert int(body[-1][4]) == sum(v[1] for v in expected.values())


def test_quarterly_xlsx_layout(client, world, officer):
    response = client.get("/reports/programs/ct-test/export/quarterly-2026Q3.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    assert ws.title == "2026Q3"
    assert ws.freeze_panes == "A12"  # nine heading lines, a blank line, the header row
    assert ws["B6"].number_format == "dd/mm/yyyy" and ws["B6"].value.date() == date(2026, 9, 30)
    assert ws["B8"].value == 1.0 and ws["B8"].number_format == "0.0%"
    assert ws["A11"].value == "STT" and ws["A11"].font.b
    expected = expected_report(world, world.program, 2026, 3, world.province)
    rows = list(ws.iter_rows(min_row=12))
    lines = {r[1].value: (r[3].value, r[4].value, r[5].value, r[7].value, r[8].value)
             for r in rows if r[1].value}
    assert lines == expected
    total = rows[-1]
    assert total[2].value == "Tổng cộng" and total[2].font.b
    assert total[6].number_format == "0.0%"
    assert total[6].value == pytest.approx(total[5].value / total[4].value)


def test_printable_page(client, world, officer):
    expected = expected_report(world, world.program, 2026, 2, world.province)
    forget_request_state()
    with count_queries() as queries:
        response = client.get("/reports/programs/ct-test/quarterly/2026Q2")
    assert response.status_code == 200
    # user with grants, program (+ courses), units, one grouped query for every figure
    assert len(queries) == 5, queries
    page = response.get_data(as_text=True)
    for text in ("Tỉnh Đồng Nai", "TỈNH ĐỒNG NAI", "Quý II/2026", "30/06/2026", "05/06/2026",
                 "Chương trình thử", "Cộng nhóm II (xã, đặc khu)", "Tổng cộng", "Sở Khoa học và Công nghệ",
                 "@page quarterly", "/reports/programs/ct-test/quarterly/2026Q2.pdf"):
        assert text in page, text
    assert f'<td class="num">{sum(v[1] for v in expected.values())}</td>' in page


def test_printable_page_of_a_chosen_unit_costs_one_query_more(client, world, officer):
    forget_request_state()
    with count_queries() as commune:
        response = client.get("/reports/programs/ct-test/quarterly/2026Q2?unit=X0")
    assert response.status_code == 200 and "Trực thuộc Xã Xã 0" in response.get_data(as_text=True)
    assert len(commune) == 6  # the unit looked up by code


def test_pdf_has_the_exact_vietnamese_text(client, world, officer):
    response = client.get("/reports/programs/ct-test/quarterly/2026Q2.pdf?unit=P1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ct-test_bao-cao-quy_P1_2026Q2.pdf"'
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842  # A4 portrait
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert unicodedata.normalize("NFC", text) == text
    for expected in ("Phường Phường 1", "PHƯỜNG PHƯỜNG 1", "QUÝ II/2026", "30/06/2026",
                     "05/06/2026", "Sở Khoa học và Công nghệ", "Chương trình thử",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Tổng cộng", "Tổ P1-0"):
        assert expected in text, expected
