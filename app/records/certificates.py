"""The certificate as people see it: facts to print, the QR code image and the A4 PDF.

The PDF uses the bundled DejaVu Sans (app/records/fonts) so every Vietnamese letter renders
and can be copied or searched as text; the QR code is drawn by segno into memory.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from app.assessments.models import Competency, CompetencyGroup, Framework
from app.extensions import db
from app.records import credentials
from app.records.models import CompletionRecord


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
