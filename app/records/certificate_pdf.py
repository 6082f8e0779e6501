"""The certificate as an A4 landscape PDF (imported only when a PDF is asked for)."""

from __future__ import annotations

import io

from flask_babel import gettext as _

from app.pdf import DejaVuPDF
from app.records.certificates import Certificate, qr_png


class _CertificatePDF(DejaVuPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L")
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
