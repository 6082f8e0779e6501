"""Program exports: per-unit progress, per-member status, the quarterly report (CSV/XLSX/HTML/PDF).

Everything is scoped like the dashboard: the program through ``get_program_or_404`` and the
units through ``viewer_paths``, so ``?unit=`` outside the caller's subtree is a 404. Member
lists are personal data: their own permission, and an audit entry for every export.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth.permissions import can, scope_paths
from app.extensions import db
from app.orgs.models import Unit
from app.reports import exports, quarterly
from app.reports.models import TrainingProgram
from app.reports.programs import get_program_or_404, viewer_paths
from app.reports.progress import local_today

blueprint = Blueprint("report_exports", __name__, template_folder="templates")

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@blueprint.errorhandler(quarterly.ReportArgumentError)
def _bad_argument(error: quarterly.ReportArgumentError):
    """A bad ``as_of`` or quarter: 400 with the reason in Vietnamese."""
    return render_template("errors/error.html", code=400, title=_("Yêu cầu không hợp lệ"),
                           message=str(error)), 400


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        abort(404)
    return fmt


def _scope(program: TrainingProgram) -> tuple[Unit, list[str]]:
    """The unit the export is about (``?unit=`` or the caller's own) and the paths it covers."""
    paths = viewer_paths(current_user, program)
    code = request.args.get("unit", "").strip()
    if code:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None or not any(unit.path.startswith(path) for path in paths):
            abort(404)
        return unit, [unit.path]
    if len(paths) == 1 and paths[0] != program.scope_unit.path:
        return db.session.scalar(select(Unit).where(Unit.path == paths[0])), paths
    return program.scope_unit, paths


def _attachment(body, fmt: str, filename: str, size: int | None = None) -> Response:
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    if size is not None:
        response.headers["Content-Length"] = str(size)
    return response


def _send(sheet: exports.Sheet, fmt: str, filename: str) -> Response:
    """CSV straight from the rows; XLSX from a temporary file removed once sent."""
    if fmt == "csv":
        return _attachment(stream_with_context(exports.csv_chunks(sheet)), fmt, filename)
    path: Path = exports.xlsx_temp_file(sheet)
    response = _attachment(exports.file_chunks(path), fmt, filename, path.stat().st_size)
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


@blueprint.get("/reports/programs/<slug>/export/units.<fmt>")
@login_required
def units(slug: str, fmt: str):
    """Per-unit progress as of a day: every level under the unit, from one grouped query."""
    fmt = _format(fmt)
    program = get_program_or_404(current_user, slug)
    unit, within = _scope(program)
    as_of = quarterly.parse_as_of(request.args.get("as_of"))
    sheet = exports.units_sheet(program, unit, as_of, within)
    return _send(sheet, fmt, exports.export_filename(program, "don-vi", as_of.isoformat(), fmt,
                                                     unit))


@blueprint.get("/reports/programs/<slug>/export/members.<fmt>")
@login_required
def members(slug: str, fmt: str):
    """Per-member status as of a day (personal data): permissioned, audit-logged, streamed."""
    fmt = _format(fmt)
    program = get_program_or_404(current_user, slug)
    unit, within = _scope(program)
    allowed = scope_paths(current_user, "reports.export_members")
    if not can(current_user, "reports.export_members", unit) and not all(
            any(path.startswith(grant) for grant in allowed) for path in within):
        abort(403)
    as_of = quarterly.parse_as_of(request.args.get("as_of"))
    export = exports.start_member_export(program, as_of, within, unit, fmt,
                                         actor=current_user, source="web")
    return _send(export.sheet, fmt, exports.export_filename(
        program, "thanh-vien", as_of.isoformat(), fmt, unit))


def _report(slug: str, quarter: str) -> quarterly.QuarterlyReport:
    program = get_program_or_404(current_user, slug)
    unit, within = _scope(program)
    year, number = quarterly.parse_quarter(quarter)
    return quarterly.build_quarterly(program, unit, year, number, within, local_today())


@blueprint.get("/reports/programs/<slug>/export/quarterly-<quarter>.<fmt>", endpoint="quarterly")
@login_required
def quarterly_export(slug: str, quarter: str, fmt: str):
    """The quarterly report as a spreadsheet laid out for the Department."""
    fmt = _format(fmt)
    report = _report(slug, quarter)
    return _send(quarterly.quarterly_sheet(report), fmt, exports.export_filename(
        report.program, "bao-cao-quy", report.code, fmt, report.unit))


@blueprint.get("/reports/programs/<slug>/quarterly/<quarter>")
@login_required
def quarterly_print(slug: str, quarter: str):
    """The quarterly report as a printable A4 page."""
    report = _report(slug, quarter)
    return render_template("reports/quarterly.html", report=report,
                           line_name=quarterly.line_name, subtotal_label=quarterly.subtotal_label,
                           percent_text=quarterly.percent_text,
                           unit_arg=request.args.get("unit") or None)


@blueprint.get("/reports/programs/<slug>/quarterly/<quarter>.pdf")
@login_required
def quarterly_pdf(slug: str, quarter: str):
    """The same report as PDF (DejaVu fonts: every Vietnamese letter is real text)."""
    report = _report(slug, quarter)
    filename = exports.export_filename(report.program, "bao-cao-quy", report.code, "pdf",
                                       report.unit)
    from app.reports.quarterly_pdf import quarterly_pdf as render_pdf

    return _attachment(render_pdf(report), "pdf", filename)
