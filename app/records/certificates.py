"""The certificate as people see it: facts to print, the QR code image and the A4 PDF.

The PDF uses the bundled DejaVu Sans (app/records/fonts) so every Vietnamese letter renders
and can be copied or searched as text; the QR code is drawn by segno into memory.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import segno
from flask_babel import format_decimal
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy import select

from app.assessments.models import Competency, CompetencyGroup, Framework
from app.extensions import db
from app.records import credentials
from app.records.models import CompletionRecord

FONT_DIR = Path(__file__).resolve().parent / "fonts"


@dataclass
class Certificate:
    """Everything a certificate prints, already formatted for Vietnamese readers."""

    record: CompletionRecord
    holder: str
    course: str
    date: str  # dd/mm/yyyy
    score: str | None
    competencies: list[tuple[str, str]]  # (code, label)
    unit: str
    source: str
    code: str
    verify_url: str
    qr_url: str
    revoked_on: str | None


def competency_labels(codes: list[str]) -> dict[str, str]:
    """Labels of the current framework's competencies (empty when the framework is not loaded)."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(Competency.code, Competency.label_vi)
        .join(CompetencyGroup, Competency.group_id == CompetencyGroup.id)
        .join(Framework, CompetencyGroup.framework_id == Framework.id)
        .where(Framework.is_current.is_(True), Competency.code.in_(codes)))
    return dict(rows.all())


def build_certificate(record: CompletionRecord) -> Certificate:
    context = credentials.record_context(record)
    labels = competency_labels(context.competencies)
    return Certificate(
        record=record,
        holder=record.holder_name,
        course=record.course_title,
        date=credentials.local_date(record.completed_at).strftime("%d/%m/%Y"),
        score=(format_decimal(round(record.score_percent, 1)) + "%"
               if record.score_percent is not None else None),
        competencies=[(code, labels.get(code, "")) for code in context.competencies],
        unit=context.unit_name,
        source=_("Lớp học trực tiếp") if record.source == "in_person" else _("Học trực tuyến"),
        code=record.verification_code,
        verify_url=credentials.verification_url(record.verification_code),
        qr_url=credentials.qr_url(record),
        revoked_on=(credentials.local_date(record.revoked_at).strftime("%d/%m/%Y")
                    if record.revoked_at else None),
    )


def qr_png(text: str, scale: int = 4) -> bytes:
    """The QR code as PNG bytes (error correction M, quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_data_uri(text: str, scale: int = 4) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text, scale)).decode("ascii")


class _CertificatePDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(False)
        self.set_margins(22, 18, 22)

    def centered(self, text: str, size: float, bold: bool = False, color=(27, 31, 36),
                 height: float | None = None) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.set_text_color(*color)
        self.set_x(self.l_margin)
        self.multi_cell(0, height or size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def certificate_pdf(cert: Certificate) -> bytes:
    """A4 landscape: title, name, course, then facts on the left and the QR code on the right."""
    pdf = _CertificatePDF()
    pdf.set_title(f"{_('Chứng nhận hoàn thành')} — {cert.course} — {cert.holder}")
    pdf.set_author(_("Học vụ số"))
    pdf.set_lang("vi")
    pdf.add_page()
    brand = (11, 92, 171)
    pdf.set_draw_color(*brand)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, 281, 194)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, 275, 188)

    pdf.set_y(20)
    pdf.centered(_("HỌC VỤ SỐ · BÌNH DÂN HỌC VỤ SỐ"), 11, bold=True, color=brand)
    pdf.ln(4)
    pdf.centered(_("GIẤY CHỨNG NHẬN HOÀN THÀNH KHÓA HỌC"), 22, bold=True, height=12)
    pdf.ln(4)
    pdf.centered(_("Chứng nhận"), 13)
    pdf.ln(1)
    pdf.centered(cert.holder, 26, bold=True, color=brand, height=13)
    pdf.ln(2)
    pdf.centered(_("đã hoàn thành khóa học"), 13)
    pdf.ln(1)
    pdf.centered(cert.course, 18, bold=True, height=9)

    facts = [(_("Ngày hoàn thành"), cert.date)]
    if cert.score:
        facts.append((_("Điểm bài kiểm tra"), cert.score))
    facts.append((_("Hình thức"), cert.source))
    facts.append((_("Đơn vị cấp"), cert.unit))
    if cert.competencies:
        facts.append((_("Năng lực số"),
                      "; ".join(f"{code} {label}".strip() for code, label in cert.competencies)
                      + " " + _("(theo QĐ 757/QĐ-BKHCN)")))
    facts.append((_("Mã xác minh"), cert.code))
    top = 116
    pdf.set_xy(26, top)
    for label, value in facts:
        pdf.set_x(26)
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(74, 83, 96)
        pdf.cell(50, 7.5, label + ":")
        pdf.set_font("DejaVu", "", 11)
        pdf.set_text_color(27, 31, 36)
        pdf.multi_cell(135, 7.5, value, new_x="LMARGIN", new_y="NEXT")

    qr_size = 56
    pdf.image(io.BytesIO(qr_png(cert.qr_url, scale=6)), x=224, y=top - 4, w=qr_size, h=qr_size)
    pdf.set_xy(217, top - 4 + qr_size)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_text_color(74, 83, 96)
    pdf.multi_cell(70, 4, _("Quét mã QR hoặc mở %(url)s để kiểm tra chứng nhận.",
                            url=cert.verify_url), align="C")

    if cert.revoked_on:
        pdf.set_xy(22, 100)
        pdf.set_font("DejaVu", "B", 16)
        pdf.set_text_color(180, 35, 24)
        pdf.cell(0, 10, _("ĐÃ BỊ THU HỒI NGÀY %(date)s", date=cert.revoked_on), align="C")
    return bytes(pdf.output())
