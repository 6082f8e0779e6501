"""Read a spreadsheet that a person uploaded (CSV or XLSX) into rows keyed by column.

Officers bring lists out of Excel: CSV saved as UTF-8 (with or without BOM, comma or
semicolon) or an .xlsx workbook. This module turns either into a ``Table``: the header
matched against a column spec (English or Vietnamese names, any case, spacing or
diacritics), then every non-blank row as text keyed by column, with the row number the
person sees in their spreadsheet. It knows nothing about rosters, so other imports (paper
test scores) reuse it with their own spec.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import PurePath

from flask_babel import lazy_gettext as _l

from app.text import fold, nfc

CSV_DELIMITERS = (",", ";", "\t")
# A title such as "DANH SÁCH THÀNH VIÊN TỔ CNSCĐ" often sits above the header in Excel
# files; the header is looked for among the first few non-blank rows.
HEADER_SEARCH_ROWS = 10
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_UNTIDY_SPACE = re.compile(r"\S\s{2,}\S|[^\S ]")  # inner runs of spaces, tabs, line breaks


class TableError(ValueError):
    """The file as a whole cannot be read; ``reason`` is shown to people as is."""

    def __init__(self, reason) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True)
class Column:
    """One expected column: its key in code and the header spellings people use for it."""

    key: str
    label: object  # display name (lazy string) used in messages and in files we write back
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    """The columns of one kind of file; ``one_of`` lists groups of which one must be present."""

    columns: tuple[Column, ...]
    one_of: tuple[tuple[str, ...], ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def lookup(self) -> dict[str, str]:
        """Header match key → column key, for every accepted spelling."""
        table: dict[str, str] = {}
        for col in self.columns:
            for name in (col.key, str(col.label), *col.aliases):
                table[match_key(name)] = col.key
        return table


@dataclass
class TableRow:
    """A data row: the spreadsheet row number (1-based, header included) and its cells."""

    number: int
    values: dict[str, str]


@dataclass
class Table:
    columns: list[str]  # keys of the recognised columns, in file order
    rows: list[TableRow]
    header_row: int = 1
    ignored: list[str] = field(default_factory=list)  # header cells we did not recognise


@lru_cache(maxsize=4096)  # a roster repeats the same few roles, audiences and genders
def match_key(name: str) -> str:
    """Headers and coded values compare equal when they differ only in case, spacing,
    punctuation or accents: "Số  điện-thoại" and "so dien thoai" give the same key."""
    return _NOT_ALNUM.sub("", fold(name))


def cell_text(value: object) -> str:
    """A cell as the text a person typed: 912345678.0 (Excel number) → "912345678"."""
    if isinstance(value, str):
        if value.isascii() and not _UNTIDY_SPACE.search(value):  # phones, codes, years
            return value.strip()
        return nfc(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return nfc(str(value))


def read_table(filename: str, data: bytes, spec: TableSpec,
               max_rows: int | None = None) -> Table:
    """Read ``data`` (the uploaded bytes) by the extension of ``filename``; raise TableError."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".csv":
        raw_rows = _csv_rows(data)
    elif suffix == ".xlsx":
        raw_rows = _xlsx_rows(data)
    elif suffix in (".xls", ".ods", ".numbers"):
        raise TableError(_l("Tệp %(ext)s chưa được hỗ trợ. Hãy mở tệp bằng Excel rồi lưu thành "
                            "“Sổ làm việc Excel (.xlsx)” hoặc “CSV UTF-8”.", ext=suffix))
    else:
        raise TableError(_l("Chỉ nhận tệp .csv (CSV UTF-8) hoặc .xlsx (Excel)."))
    return _build_table(raw_rows, spec, max_rows)


def _build_table(raw_rows: Iterable[tuple[int, list[str]]], spec: TableSpec,
                 max_rows: int | None) -> Table:
    rows = iter(raw_rows)
    header_number, header = _find_header(rows, spec)
    lookup = spec.lookup()
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = lookup.get(match_key(name)) if name else None
        if key is None:
            if name:
                ignored.append(name)
            continue
        if key in positions:
            raise TableError(_l("Cột “%(name)s” xuất hiện hai lần trong dòng tiêu đề.",
                                name=name))
        positions[key] = index
    _check_required(positions, spec)
    table = Table(columns=list(positions), rows=[], header_row=header_number, ignored=ignored)
    for number, cells in rows:
        values = {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()}
        # A row with nothing in the columns we read (blank, or a note in another column) is skipped.
        if not any(values.values()):
            continue
        table.rows.append(TableRow(number=number, values=values))
        if max_rows is not None and len(table.rows) > max_rows:
            raise TableError(_l("Tệp có hơn %(n)s dòng dữ liệu. Hãy chia thành nhiều tệp nhỏ hơn.",
                                n=f"{max_rows:,}".replace(",", ".")))
    if not table.rows:
        raise TableError(_l("Tệp chỉ có dòng tiêu đề, chưa có dòng dữ liệu nào."))
    return table


def _find_header(rows: Iterator[tuple[int, list[str]]],
                 spec: TableSpec) -> tuple[int, list[str]]:
    """The first non-blank row naming a known column (a title row above it is skipped)."""
    lookup = spec.lookup()
    first: tuple[int, list[str]] | None = None
    seen = 0
    for number, cells in rows:
        if not any(cells):
            continue
        first = first or (number, cells)
        if any(match_key(c) in lookup for c in cells if c):
            return number, cells
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise TableError(_l("Tệp trống: không có dòng nào."))
    expected = ", ".join(str(c.label) for c in spec.columns)
    raise TableError(_l("Không tìm thấy dòng tiêu đề. Dòng đầu tiên của bảng phải là tên các cột, "
                        "ví dụ: %(columns)s.", columns=expected))


def _check_required(positions: dict[str, int], spec: TableSpec) -> None:
    missing = [str(c.label) for c in spec.columns if c.required and c.key not in positions]
    for group in spec.one_of:
        if not any(key in positions for key in group):
            missing.append(str(_l(" hoặc ")).join(str(spec.column(k).label) for k in group))
    if missing:
        raise TableError(_l("Thiếu cột bắt buộc: %(columns)s.", columns="; ".join(missing)))


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode_csv(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(CSV_DELIMITERS, key=first_line.count) if first_line else ","
    if first_line and first_line.count(delimiter) == 0:
        delimiter = ","
    # strict: an unclosed quote is an error, not the rest of the file swallowed into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0  # numbered per record, as Excel numbers the rows when it opens the file
    while True:
        start_line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise TableError(_l("Tệp CSV bị lỗi định dạng từ dòng %(line)s: có dấu ngoặc kép (\") "
                                "không đóng hoặc đặt sai chỗ.", line=start_line)) from exc
        number += 1
        yield number, [cell_text(cell) for cell in record]


def _decode_csv(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(_l("Tệp được lưu dạng Unicode UTF-16. Trong Excel, chọn Lưu thành → "
                            "“CSV UTF-8 (phân tách bằng dấu phẩy)” rồi tải lại."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError(_l("Tệp không phải CSV UTF-8 nên chữ tiếng Việt sẽ bị lỗi. Trong Excel, "
                            "chọn Lưu thành → “CSV UTF-8 (phân tách bằng dấu phẩy)” rồi tải lại."
                            )) from None
    if "\x00" in text:
        raise TableError(_l("Tệp không phải CSV dạng văn bản. Hãy lưu thành “CSV UTF-8”."))
    if not text.strip():
        raise TableError(_l("Tệp trống: không có dòng nào."))
    return text


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """Rows of the first sheet, numbered as Excel shows them; formulas give their saved values."""
    from openpyxl import load_workbook

    if not data:
        raise TableError(_l("Tệp trống: không có dòng nào."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors…
        raise TableError(_l("Không đọc được tệp Excel: tệp bị hỏng hoặc không phải .xlsx. "
                            "Hãy mở bằng Excel, lưu lại thành .xlsx rồi tải lên.")) from exc
    try:
        sheet = workbook.worksheets[0]
        # Some programs write wrong sheet dimensions; read the rows that are really there.
        sheet.reset_dimensions()
        for row in sheet.iter_rows():
            numbers = [cell.row for cell in row if getattr(cell, "row", None)]
            if numbers:
                yield numbers[0], _xlsx_cells(row)
    except TableError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
        raise TableError(_l("Không đọc được tệp Excel: trang tính đầu tiên bị hỏng.")) from exc
    finally:
        workbook.close()


def _xlsx_cells(row: Sequence) -> list[str]:
    cells: list[str] = []
    for cell in row:
        column = getattr(cell, "column", None)
        if column is None:
            continue
        while len(cells) < column - 1:  # columns left empty before this cell
            cells.append("")
        cells.append(cell_text(cell.value))
    return cells
