"""Roster import pages for officers: upload, result with activation codes, report, errors.csv."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField

from app.audit import record_audit
from app.auth.models import User
from app.auth.permissions import can
from app.extensions import db
from app.orgs import roster
from app.orgs.tabular import TableError, read_table

blueprint = Blueprint("roster", __name__, template_folder="templates")

# Rows shown in an error table; the whole list is always in errors.csv.
ERROR_DISPLAY_LIMIT = 500


class RosterUploadForm(FlaskForm):
    file = FileField(_l("Tệp danh sách (.xlsx hoặc .csv)"),
                     validators=[FileRequired(_l("Chọn tệp danh sách để tải lên."))],
                     render_kw={"accept": ".xlsx,.csv,text/csv,application/"
                                          "vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    dry_run = BooleanField(_l("Chỉ kiểm tra (chưa ghi gì)"))
    skip_invalid = BooleanField(_l("Bỏ qua dòng lỗi (ghi các dòng hợp lệ, báo lại các dòng lỗi)"))


def _page(template: str, status: int = 200, **context):
    response = Response(render_template(template, column_label=roster.column_label,
                                        error_limit=ERROR_DISPLAY_LIMIT, **context), status)
    response.headers["Cache-Control"] = "no-store"  # result pages carry activation codes
    return response


@blueprint.route("/imports/new", methods=["GET", "POST"])
@login_required
def new_import():
    """Upload a roster; refused files come back with a table of row, column and reason."""
    if not can(current_user, "people.import"):
        abort(403)
    form = RosterUploadForm()
    if not form.validate_on_submit():
        return _page("roster/new.html", 400 if request.method == "POST" else 200, form=form)
    upload = form.file.data
    filename = PurePath(upload.filename or "").name
    try:
        table = read_table(filename, upload.read(), roster.ROSTER_SPEC,
                           max_rows=current_app.config.get("ROSTER_MAX_ROWS", 20000))
    except TableError as exc:
        form.file.errors = [str(exc.reason)]
        return _page("roster/new.html", 422, form=form)
    plan = roster.validate_roster(table, current_user)
    try:
        result = roster.apply_roster(plan, current_user, filename=filename, source="web",
                                     dry_run=form.dry_run.data,
                                     skip_invalid=form.skip_invalid.data)
        db.session.commit()
    except IntegrityError:  # another import added the same person meanwhile
        db.session.rollback()
        form.file.errors = [_("Danh sách vừa được thay đổi bởi một lần nhập khác. "
                              "Hãy tải tệp lên lại.")]
        return _page("roster/new.html", 409, form=form)
    if not result.written and not result.record.is_dry_run:
        return _page("roster/new.html", 422, form=form, result=result)
    return _page("roster/result.html", 422 if plan.errors and not result.written else 200,
                 result=result, ignored=table.ignored)


@blueprint.get("/imports/<int:import_id>")
@login_required
def report(import_id: int):
    record = roster.visible_import(current_user, import_id) or abort(404)
    actor = db.session.get(User, record.actor_id) if record.actor_id else None
    return _page("roster/report.html", record=record,
                 actor_name=actor.full_name if actor else _("Quản trị hệ thống (dòng lệnh)"))


@blueprint.get("/imports/<int:import_id>/errors.csv")
@login_required
def errors_csv(import_id: int):
    """The refused rows and their reasons, ready to fix in Excel and upload again."""
    record = roster.visible_import(current_user, import_id) or abort(404)
    record_audit("people.export", actor=current_user, target=f"roster_import:{record.id}",
                 kind="roster_errors", rows=record.invalid_count)
    db.session.commit()
    return Response(roster.errors_csv(record), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="loi-nhap-danh-sach-{record.id}.csv"',
        "Cache-Control": "no-store",
    })


@blueprint.get("/imports/template.csv")
@login_required
def template_csv():
    """An empty roster with the Vietnamese headers and one example row."""
    if not can(current_user, "people.import"):
        abort(403)
    return Response(roster.template_csv(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="mau-danh-sach-thanh-vien.csv"'})
