"""The quarterly report a commune or the province sends to the Department of Science and
Technology: figures as of the quarter's last day, completions during the quarter, one row per
commune/ward with group I / group II subtotals and the total.

"Completed during the quarter" = members of the population at the as-of day whose completion
date (their last required record) falls within the quarter. It comes from the same grouped
query as every other as-of figure (``team_figures_on(..., since=first day)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.orgs.models import Unit
from app.reports.exports import (
    Emphasized,
    ExportColumn,
    Sheet,
    group_of,
    units_for_report,
)
from app.reports.models import TrainingProgram
from app.reports.progress import (
    UnitProgress,
    local_today,
    quarter_bounds,
    roll_up,
    team_figures_on,
)
from app.text import fold

QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
GROUP_ORDER = {"I": 0, "II": 1, None: 2}


class ReportArgumentError(ValueError):
    """A quarter or date that cannot be used; the message is shown to people as is."""


def parse_quarter(text: str | None) -> tuple[int, int]:
    """``2026Q2`` (or ``2026-Q2``, any case) → (2026, 2)."""
    match = QUARTER_RE.match(text or "")
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise ReportArgumentError(_("Quý không hợp lệ: %(value)s. Ghi theo dạng 2026Q2 "
                                    "(năm, chữ Q, số quý từ 1 đến 4).", value=text or ""))
    return int(match.group(1)), int(match.group(2))


def parse_as_of(text: str | None, default: date | None = None) -> date:
    """An ISO day (YYYY-MM-DD); empty → ``default`` (today)."""
    if not text:
        return default or local_today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportArgumentError(_("Ngày không hợp lệ: %(value)s. Ghi theo dạng năm-tháng-ngày, "
                                    "ví dụ 2026-12-07.", value=text)) from None


def send_deadline(year: int, quarter: int) -> date:
    """Communes send the quarter's report by the 5th of its last month."""
    return date(year, 3 * quarter, 5)


def quarter_code(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


@dataclass
class QuarterlyLine:
    """One line of the report: a commune/ward (or the chosen unit's own members)."""

    figure: UnitProgress
    group: str | None
    own: bool = False  # members attached to the chosen unit itself, not to a child

    @property
    def unit(self) -> Unit:
        return self.figure.unit


@dataclass
class QuarterlyReport:
    program: TrainingProgram
    unit: Unit
    year: int
    quarter: int
    first: date
    last: date
    as_of: date
    produced_on: date
    lines: list[QuarterlyLine]
    subtotals: list[tuple[str | None, UnitProgress]]
    total: UnitProgress

    @property
    def code(self) -> str:
        return quarter_code(self.year, self.quarter)

    @property
    def label(self) -> str:
        return _("Quý %(roman)s/%(year)s", roman=ROMAN[self.quarter], year=self.year)

    @property
    def send_by(self) -> date:
        return send_deadline(self.year, self.quarter)

    @property
    def target(self) -> int:
        return self.program.target_percent


def subtotal_label(group: str | None) -> str:
    """The label of a subtotal line: group I (phường), group II (xã), or units of neither."""
    if group == "I":
        return _("Cộng nhóm I (phường)")
    if group == "II":
        return _("Cộng nhóm II (xã, đặc khu)")
    return _("Cộng các đơn vị khác")


def build_quarterly(program: TrainingProgram, unit: Unit, year: int, quarter: int,
                    within: Iterable[str] | None, today: date | None = None) -> QuarterlyReport:
    """The report of ``unit`` for a quarter: as of its last day (today while it runs)."""
    today = today or local_today()
    first, last = quarter_bounds(year, quarter)
    if first > today:
        raise ReportArgumentError(_("Quý %(quarter)s chưa bắt đầu: chưa có số liệu để báo cáo.",
                                    quarter=quarter_code(year, quarter)))
    as_of = min(last, today)
    within = list(within) if within is not None else None
    per_team = team_figures_on(program, as_of, within, since=first)
    units = units_for_report(unit, within)
    by_id = {u.id: u for u in units}
    children = [u for u in units if u.parent_id == unit.id]
    total, figures = roll_up(unit, children, per_team)
    lines = [QuarterlyLine(figure, group_of(figure.unit, by_id)) for figure in figures]
    own = UnitProgress(unit)
    for path, members, completed, recent in per_team:
        if path == unit.path:
            own.members, own.completed, own.this_quarter = members, completed, recent
    if own.members:
        lines.append(QuarterlyLine(own, group_of(unit, by_id), own=True))
    lines.sort(key=lambda line: (GROUP_ORDER.get(line.group, 2), line.own,
                                 fold(line.unit.name), line.unit.code))
    subtotals: dict[str | None, UnitProgress] = {}
    for line in lines:
        sub = subtotals.setdefault(line.group, UnitProgress(unit))
        sub.members += line.figure.members
        sub.completed += line.figure.completed
        sub.this_quarter += line.figure.this_quarter
    return QuarterlyReport(program, unit, year, quarter, first, last, as_of, today, lines,
                           sorted(subtotals.items(), key=lambda item: GROUP_ORDER.get(item[0], 2)),
                           total)


def line_name(line: QuarterlyLine) -> str:
    if line.own:
        return _("Trực thuộc %(unit)s", unit=line.unit.full_name)
    return line.unit.full_name


QUARTERLY_COLUMNS = (
    ExportColumn(_l("STT"), "int", 6),
    ExportColumn(_l("Mã đơn vị"), width=11),
    ExportColumn(_l("Xã/phường"), width=32),
    ExportColumn(_l("Nhóm"), width=7),
    ExportColumn(_l("Số thành viên"), "int", 12),
    ExportColumn(_l("Đã hoàn thành"), "int", 12),
    ExportColumn(_l("Tỷ lệ hoàn thành"), "percent", 12),
    ExportColumn(_l("Hoàn thành trong quý"), "int", 13),
    ExportColumn(_l("Còn thiếu so với chỉ tiêu"), "int", 14),
)


def _figures(figure: UnitProgress, target: int) -> tuple:
    return (figure.members, figure.completed, figure.percent / 100, figure.this_quarter,
            figure.gap(target))


def quarterly_heading(report: QuarterlyReport) -> list[tuple[str, object]]:
    return [
        (_("BÁO CÁO KẾT QUẢ BỒI DƯỠNG KỸ NĂNG SỐ"), report.label),
        (_("Kính gửi"), _("Sở Khoa học và Công nghệ")),
        (_("Chương trình bồi dưỡng"), report.program.name),
        (_("Đơn vị báo cáo"), report.unit.full_name),
        (_("Kỳ báo cáo"), _("%(label)s (từ %(first)s đến %(last)s)", label=report.label,
                            first=report.first.strftime("%d/%m/%Y"),
                            last=report.last.strftime("%d/%m/%Y"))),
        (_("Số liệu tính đến ngày"), report.as_of),
        (_("Ngày lập báo cáo"), report.produced_on),
        (_("Chỉ tiêu"), report.target / 100),
        (_("Hạn gửi báo cáo"), report.send_by),
    ]


def quarterly_sheet(report: QuarterlyReport) -> Sheet:
    """The report as one sheet: heading block, a line per commune/ward, subtotals, total."""
    target = report.target
    rows: list[tuple] = []
    for index, line in enumerate(report.lines, start=1):
        rows.append((index, line.unit.code, line_name(line), line.group or "",
                     *_figures(line.figure, target)))
    for group, sub in report.subtotals:
        rows.append(Emphasized(("", "", subtotal_label(group),
                                group or "", *_figures(sub, target))))
    rows.append(Emphasized(("", "", _("Tổng cộng"), "", *_figures(report.total, target))))
    return Sheet(report.code, QUARTERLY_COLUMNS, rows, quarterly_heading(report))


# --- printable: PDF (the HTML page renders the same report with a template) -----------------

def percent_text(fraction: float) -> str:
    """45,5% in Vietnamese, 45.5% in English."""
    return format_percent(fraction, format="#,##0.0%")
