"""Reading uploaded tables: CSV flavours, XLSX quirks, header matching and file-level errors."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from app.orgs.roster import ROSTER_SPEC
from app.orgs.tabular import (
    Column,
    TableError,
    TableSpec,
    cell_text,
    match_key,
    read_table,
)

HEADER = "full_name,phone,email,unit_code,role,audience,gender,birth_year"


def read_csv(text: str, encoding: str = "utf-8", spec: TableSpec = ROSTER_SPEC, **kwargs):
    return read_table("danh-sach.csv", text.encode(encoding), spec, **kwargs)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Ghi chú").append(["không đọc trang này"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def reason(excinfo) -> str:
    return str(excinfo.value.reason)


def test_csv_with_bom_and_commas():
    table = read_csv("\ufeff" + HEADER + "\nNguyễn Văn An,0912345678,,X1,,,,\n")
    assert table.columns[0] == "full_name"  # the BOM is not part of the first header
    assert table.rows[0].number == 2
    assert table.rows[0].values["full_name"] == "Nguyễn Văn An"
    assert table.rows[0].values["phone"] == "0912345678"


def test_csv_with_semicolons_keeps_commas_inside_cells():
    text = ("Họ và tên;Số điện thoại;Mã đơn vị;Đối tượng\n"
            "Trần Thị Bình;0912 345 678;X1;Cán bộ, công chức, viên chức\n")
    table = read_csv(text)
    assert table.rows[0].values == {
        "full_name": "Trần Thị Bình", "phone": "0912 345 678", "unit_code": "X1",
        "audience": "Cán bộ, công chức, viên chức"}


def test_csv_without_bom_and_with_crlf_line_ends():
    table = read_csv("full_name,phone,unit_code\r\nA B,0912345678,X1\r\nC D,0912345679,X1\r\n")
    assert [r.number for r in table.rows] == [2, 3]


def test_csv_row_numbers_count_blank_lines_as_excel_does():
    table = read_csv("full_name,phone,unit_code\n\nA B,0912345678,X1\n,,\nC D,0912345679,X1\n")
    assert [r.number for r in table.rows] == [3, 5]


def test_nfd_cells_come_out_nfc():
    nfd = "Nguye\u0302\u0303n Thi\u0323 Hoa"
    table = read_csv(f"full_name,phone,unit_code\n{nfd},0912345678,X1\n")
    assert table.rows[0].values["full_name"] == "Nguyễn Thị Hoa"


@pytest.mark.parametrize("header", [
    "HỌ VÀ TÊN;  Số   điện thoại ;MÃ ĐƠN VỊ",
    "ho va ten;so dien thoai;ma don vi",
    "Họ Và Tên (*);SĐT;Mã_đơn_vị",
    "FULL_NAME;Phone;Unit Code",
])
def test_headers_match_without_case_spacing_or_diacritics(header):
    table = read_csv(f"{header}\nLê Văn Cường;0912345678;X1\n")
    assert table.columns == ["full_name", "phone", "unit_code"]
    assert table.rows[0].values["unit_code"] == "X1"


def test_title_rows_above_the_header_are_skipped_and_extra_columns_ignored():
    text = ("DANH SÁCH THÀNH VIÊN TỔ CNSCĐ,,,\n,,,\nSTT,Họ và tên,Số điện thoại,Mã đơn vị\n"
            "1,Phạm Minh Đức,0912345678,X1\n")
    table = read_csv(text)
    assert table.header_row == 3
    assert table.ignored == ["STT"]
    assert table.rows[0].number == 4
    assert "STT" not in table.rows[0].values


def test_xlsx_with_blank_rows_extra_columns_and_numeric_phones():
    data = xlsx_bytes([
        ["STT", "Họ và tên", "Số điện thoại", "Mã đơn vị", "Năm sinh", "Ghi chú"],
        [1, "Nguyễn Văn An", 912345678, "X1", 1975.0, "tổ trưởng"],
        [],
        [None, None, None, None, None, None],
        [2, "Trần Thị Bình", 84912345679, 26734, None, None],
        [None, None, None, None, None, "ghi chú cuối bảng"],
    ])
    table = read_table("danh-sach.xlsx", data, ROSTER_SPEC)
    assert [r.number for r in table.rows] == [2, 5]
    first, second = (r.values for r in table.rows)
    assert first["phone"] == "912345678"  # no ".0" from Excel's number
    assert first["birth_year"] == "1975"
    assert second["phone"] == "84912345679"
    assert second["unit_code"] == "26734"
    assert set(table.ignored) == {"STT", "Ghi chú"}


def test_xlsx_reads_the_first_sheet_even_when_another_is_active():
    workbook = Workbook()
    workbook.active.append(["full_name", "phone", "unit_code"])
    workbook.active.append(["Người Một", "0912345678", "X1"])
    other = workbook.create_sheet("Khác")
    other.append(["full_name", "phone", "unit_code"])
    other.append(["Người Hai", "0912345679", "X1"])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table("a.xlsx", buffer.getvalue(), ROSTER_SPEC)
    assert [r.values["full_name"] for r in table.rows] == ["Người Một"]


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", "\ufeff".encode(), b",,,\n,,\n"],
                         ids=["zero-bytes", "blank-lines", "bom-only", "empty-cells"])
def test_empty_csv_is_refused(data):
    with pytest.raises(TableError) as excinfo:
        read_table("trong.csv", data, ROSTER_SPEC)
    assert "trống" in reason(excinfo)


def test_empty_xlsx_is_refused():
    with pytest.raises(TableError) as excinfo:
        read_table("trong.xlsx", xlsx_bytes([]), ROSTER_SPEC)
    assert "trống" in reason(excinfo)


@pytest.mark.parametrize("name,data", [
    ("tieu-de.csv", "\ufeffHọ và tên,Số điện thoại,Mã đơn vị\n".encode()),
    ("tieu-de.csv", b"full_name;phone;unit_code\n;;\n\n"),
    ("tieu-de.xlsx", xlsx_bytes([["Họ và tên", "Số điện thoại", "Mã đơn vị"], [], [None, None]])),
], ids=["csv-bom", "csv-blank-rows", "xlsx-blank-rows"])
def test_header_only_file_is_refused(name, data):
    with pytest.raises(TableError) as excinfo:
        read_table(name, data, ROSTER_SPEC)
    assert "chỉ có dòng tiêu đề" in reason(excinfo)


def test_csv_not_in_utf8_says_to_save_as_csv_utf8():
    data = "Họ và tên,Số điện thoại,Mã đơn vị\nNguyễn Văn An,0912345678,X1\n".encode("cp1258",
                                                                                    "replace")
    with pytest.raises(TableError) as excinfo:
        read_table("excel-cu.csv", data, ROSTER_SPEC)
    assert "CSV UTF-8" in reason(excinfo)


def test_utf16_text_export_says_to_save_as_csv_utf8():
    data = "Họ và tên\tSố điện thoại\tMã đơn vị\n".encode("utf-16")
    with pytest.raises(TableError) as excinfo:
        read_table("unicode.csv", data, ROSTER_SPEC)
    assert "CSV UTF-8" in reason(excinfo)


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"hello", b"\x00" * 50],
                         ids=["zip-magic", "text", "nul-bytes"])
def test_unreadable_xlsx_is_refused(data):
    with pytest.raises(TableError) as excinfo:
        read_table("hong.xlsx", data, ROSTER_SPEC)
    assert "Không đọc được tệp Excel" in reason(excinfo)


@pytest.mark.parametrize("name,expected", [
    ("danh-sach.txt", ".csv"),
    ("danh-sach", ".csv"),
    ("danh-sach.xls", ".xlsx"),
    ("danh-sach.ods", ".xlsx"),
])
def test_unknown_extension_is_refused(name, expected):
    with pytest.raises(TableError) as excinfo:
        read_table(name, b"full_name,phone,unit_code\nA,0912345678,X\n", ROSTER_SPEC)
    assert expected in reason(excinfo)


def test_missing_required_columns_are_named():
    with pytest.raises(TableError) as excinfo:
        read_csv("Họ và tên,Vai trò\nAn,học viên\n")
    message = reason(excinfo)
    assert "Mã đơn vị" in message
    assert "Số điện thoại hoặc Email" in message


def test_no_recognisable_header_is_refused():
    with pytest.raises(TableError) as excinfo:
        read_csv("Nguyễn Văn An,0912345678,X1\nTrần Bình,0912345679,X1\n")
    assert "tiêu đề" in reason(excinfo)


def test_a_column_given_twice_is_refused():
    with pytest.raises(TableError) as excinfo:
        read_csv("Họ và tên,Số điện thoại,SĐT,Mã đơn vị\nAn,0912345678,0912345679,X1\n")
    assert "SĐT" in reason(excinfo)


@pytest.mark.parametrize("body,line", [
    ('An,0912345678,X1\n"Bình,0912345679,X1\nCúc,0912345670,X1\n', 3),
    ('An,"09"12,X1\n', 2),
])
def test_broken_quotes_are_reported_not_swallowed(body, line):
    with pytest.raises(TableError) as excinfo:
        read_csv("full_name,phone,unit_code\n" + body)
    assert f"dòng {line}" in reason(excinfo)


def test_nul_bytes_are_not_a_csv():
    with pytest.raises(TableError) as excinfo:
        read_table("a.csv", b"full_name,phone,unit_code\nAn,0912345678,X1\x00\n", ROSTER_SPEC)
    assert "CSV UTF-8" in reason(excinfo)


def test_too_many_rows_is_refused_with_a_limit():
    body = "".join(f"Người {i},09{i:08d},X1\n" for i in range(12))
    with pytest.raises(TableError) as excinfo:
        read_csv("full_name,phone,unit_code\n" + body, max_rows=10)
    assert "10" in reason(excinfo)
    assert len(read_csv("full_name,phone,unit_code\n" + body).rows) == 12


def test_the_reader_takes_any_column_spec():
    """A later import (paper-test scores) reuses the reader with its own columns."""
    spec = TableSpec(columns=(
        Column("phone", "Số điện thoại", ("SĐT",), required=True),
        Column("score", "Điểm", ("Diem", "Score"), required=True),
    ))
    table = read_csv("SĐT;ĐIỂM;Lớp\n0912345678;8.5\n0912345679;10;A\n", spec=spec)
    assert table.columns == ["phone", "score"]
    assert [r.values for r in table.rows] == [
        {"phone": "0912345678", "score": "8.5"}, {"phone": "0912345679", "score": "10"}]


@pytest.mark.parametrize("value,text", [
    (None, ""), (912345678, "912345678"), (912345678.0, "912345678"), (8.5, "8.5"),
    (True, "1"), (datetime(1975, 3, 2), "1975-03-02"), (date(2025, 4, 29), "2025-04-29"),
    ("  Lê   Văn  Tám ", "Lê Văn Tám"), ("  Tran   Van\tTam ", "Tran Van Tam"),
    (" 0912 345 678 ", "0912 345 678"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_match_key_ignores_case_spacing_punctuation_and_accents():
    assert match_key("Số  ĐIỆN-thoại") == match_key("so dien thoai") == "sodienthoai"
    assert match_key("Mã_đơn_vị") == "madonvi"
