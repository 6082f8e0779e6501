"""Program exports: per-unit progress, per-member status, the quarterly report (CSV/XLSX/HTML/PDF)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from app.reports.programs import get_program_or_404

blueprint = Blueprint("report_exports", __name__, template_folder="templates")

FORMATS = ("csv", "xlsx")


@blueprint.get("/reports/programs/<slug>/export/units.<fmt>")
@login_required
def units(slug: str, fmt: str):
    """Per-unit progress as of a day."""
    get_program_or_404(current_user, slug)
    abort(404)


@blueprint.get("/reports/programs/<slug>/export/members.<fmt>")
@login_required
def members(slug: str, fmt: str):
    """Per-member status as of a day (personal data)."""
    get_program_or_404(current_user, slug)
    abort(404)


@blueprint.get("/reports/programs/<slug>/export/quarterly-<quarter>.<fmt>")
@login_required
def quarterly(slug: str, quarter: str, fmt: str):
    """The quarterly report as a spreadsheet."""
    get_program_or_404(current_user, slug)
    abort(404)


@blueprint.get("/reports/programs/<slug>/quarterly/<quarter>")
@login_required
def quarterly_print(slug: str, quarter: str):
    """The quarterly report as a printable page."""
    get_program_or_404(current_user, slug)
    abort(404)


@blueprint.get("/reports/programs/<slug>/quarterly/<quarter>.pdf")
@login_required
def quarterly_pdf(slug: str, quarter: str):
    """The quarterly report as PDF."""
    get_program_or_404(current_user, slug)
    abort(404)
