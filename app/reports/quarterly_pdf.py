"""The quarterly report as an A4 PDF (imported only when a PDF is asked for)."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _
from fpdf.fonts import FontFace

from app.pdf import DejaVuPDF
from app.reports.progress import UnitProgress
from app.reports.quarterly import (
    QUARTERLY_COLUMNS,
    QuarterlyLine,
    QuarterlyReport,
    line_name,
    percent_text,
    subtotal_label,
)


class _ReportPDF(DejaVuPDF):
    def __init__(self, report: QuarterlyReport) -> None:
        super().__init__(orientation="P")
        self.report = report
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, _("%(unit)s · %(quarter)s · trang %(page)s",
                          unit=self.report.unit.full_name, quarter=self.report.label,
                          page=self.page_no()), align="C")

    def text_line(self, text: str, size: float = 10, bold: bool = False, align: str = "L") -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")


def quarterly_pdf(report: QuarterlyReport) -> bytes:
    """A4 portrait: heading, the table (its header repeated on each page), signatures."""
    pdf = _ReportPDF(report)
    title = _("Báo cáo kết quả bồi dưỡng kỹ năng số")
    pdf.set_title(f"{title} — {report.unit.full_name} — {report.label}")
    pdf.set_author(_("Học vụ số"))
    pdf.set_lang("vi")
    pdf.add_page()
    pdf.set_text_color(27, 31, 36)
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(80, 5, report.unit.full_name.upper(), align="C")
    pdf.set_xy(95, top)
    pdf.multi_cell(100, 5, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") + "\n"
                   + _("Độc lập - Tự do - Hạnh phúc"), align="C", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.ln(6)
    pdf.text_line(_("BÁO CÁO KẾT QUẢ BỒI DƯỠNG KỸ NĂNG SỐ") + " — " + report.label.upper(), 13,
             bold=True, align="C")
    pdf.text_line(report.program.name, 11, align="C")
    pdf.ln(3)
    facts = [
        (_("Kính gửi"), _("Sở Khoa học và Công nghệ")),
        (_("Đơn vị báo cáo"), report.unit.full_name),
        (_("Kỳ báo cáo"), _("%(label)s (từ %(first)s đến %(last)s)", label=report.label,
                            first=report.first.strftime("%d/%m/%Y"),
                            last=report.last.strftime("%d/%m/%Y"))),
        (_("Số liệu tính đến ngày"), report.as_of.strftime("%d/%m/%Y")),
        (_("Ngày lập báo cáo"), report.produced_on.strftime("%d/%m/%Y")),
        (_("Chỉ tiêu"), _("%(percent)s thành viên hoàn thành", percent=percent_text(
            report.target / 100))),
        (_("Hạn gửi báo cáo"), report.send_by.strftime("%d/%m/%Y")),
    ]
    for label, value in facts:
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.cell(45, 5.5, label + ":")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    headings = [str(c.label) for c in QUARTERLY_COLUMNS[:3]] + [
        str(c.label) for c in QUARTERLY_COLUMNS[4:]]
    pdf.set_font("DejaVu", "", 8.5)
    with pdf.table(col_widths=(9, 16, 50, 17, 17, 17, 17, 17), line_height=4.6,
                   text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT",
                               "RIGHT"),
                   headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255),
                                           fill_color=(11, 92, 171)),
                   repeat_headings=1, first_row_as_headings=True) as table:
        table.row([*headings])
        for index, line in enumerate(report.lines, start=1):
            table.row([str(index), line.unit.code, _line_title(line),
                       *_pdf_figures(line.figure, report.target)])
        bold = FontFace(emphasis="BOLD", fill_color=(238, 242, 246))
        for group, sub in report.subtotals:
            table.row(["", "", subtotal_label(group),
                       *_pdf_figures(sub, report.target)], style=bold)
        table.row(["", "", _("Tổng cộng"), *_pdf_figures(report.total, report.target)],
                  style=bold)
    pdf.ln(4)
    pdf.text_line(_("Hoàn thành: thành viên có hồ sơ hoàn thành còn hiệu lực của mọi khóa học bắt "
               "buộc, có ngày không sau ngày tính số liệu. Hoàn thành trong quý: thành viên có "
               "ngày hoàn thành trong kỳ báo cáo."), 8.5)
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 10)
    y = pdf.get_y()
    pdf.multi_cell(90, 5, _("NGƯỜI LẬP BIỂU"), align="C")
    pdf.set_xy(105, y)
    pdf.multi_cell(90, 5, _("THỦ TRƯỞNG ĐƠN VỊ"), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _line_title(line: QuarterlyLine) -> str:
    name = line_name(line)
    return f"{name} ({line.group})" if line.group and not line.own else name


def _pdf_figures(figure: UnitProgress, target: int) -> list[str]:
    return [format_decimal(figure.members), format_decimal(figure.completed),
            percent_text(figure.percent / 100), format_decimal(figure.this_quarter),
            format_decimal(figure.gap(target))]
