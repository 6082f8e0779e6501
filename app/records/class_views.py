"""In-person class pages for trainers: list, create, attendance and scores, bulk entry."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.auth.permissions import can
from app.courses.models import Course
from app.courses.services import published_versions_stmt
from app.extensions import db
from app.orgs.services import units_in_scope
from app.orgs.tabular import TableError, read_table
from app.records import classes
from app.records.forms import ActionForm, ClassForm, RosterSearchForm, SheetUploadForm

blueprint = Blueprint("classes", __name__, template_folder="templates")

SHEET_MAX_ROWS = 2000


def _require_trainer() -> None:
    if not can(current_user, classes.ACTION):
        abort(403)


def _class_form() -> ClassForm:
    form = ClassForm()
    courses = db.session.execute(published_versions_stmt().order_by(Course.slug)).all()
    form.fill_choices(courses, units_in_scope(current_user, classes.ACTION))
    return form


def _column_label(key: str) -> str:
    column = next((c for c in classes.SHEET_SPEC.columns if c.key == key), None)
    return str(column.label) if column else key


@blueprint.get("/classes/")
@login_required
def index():
    _require_trainer()
    page = db.paginate(classes.classes_query(current_user),
                       page=request.args.get("page", 1, type=int), per_page=30)
    return render_template("records/classes.html", page=page, titles=classes.course_titles(),
                           units=classes.units_by_id(k.unit_id for k in page.items))


@blueprint.route("/classes/new", methods=["GET", "POST"])
@login_required
def new():
    _require_trainer()
    form = _class_form()
    if form.validate_on_submit():
        try:
            klass = classes.create_class(
                current_user, course_id=form.course_id.data, unit_code=form.unit_code.data,
                held_on=form.held_on.data, place=form.place.data,
                pass_percent=form.pass_percent.data)
            db.session.commit()
        except classes.ClassError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors = [str(exc.message)]
        else:
            flash(_("Đã tạo lớp. Hãy thêm học viên và nhập điểm."), "success")
            return redirect(url_for("classes.show", class_id=klass.id))
    status = 400 if request.method == "POST" else 200
    return render_template("records/class_new.html", form=form), status


def _render_class(klass, status: int = 200, sheet_errors=None, entered=None, upload=None,
                  import_errors=None):
    search = RosterSearchForm(formdata=request.args)
    found = None
    if search.q.data and search.validate():
        found = classes.search_roster(current_user, klass, search.q.data)
    return render_template(
        "records/class.html", klass=klass, rows=classes.attendances(klass), search=search,
        found=found, action_form=ActionForm(), upload=upload or SheetUploadForm(),
        course_title=classes.course_titles().get(klass.course_id, ""),
        unit=db.session.get(classes.Unit, klass.unit_id),
        trainer=db.session.get(User, klass.trainer_id),
        sheet_errors={e.row: e.reason for e in sheet_errors or []}, entered=entered or {},
        import_errors=import_errors or [], column_label=_column_label,
    ), status


@blueprint.get("/classes/<int:class_id>")
@login_required
def show(class_id: int):
    return _render_class(classes.get_class_or_404(current_user, class_id))


@blueprint.post("/classes/<int:class_id>/attendees")
@login_required
def add_attendee(class_id: int):
    klass = classes.get_class_or_404(current_user, class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    person = classes.roster_member(current_user, klass, request.form.get("user_id", type=int) or 0)
    if person is None:
        abort(404)
    try:
        classes.add_attendee(klass, person)
        db.session.commit()
    except IntegrityError:  # a second click raced the first: the person is on the list
        db.session.rollback()
    flash(_("Đã thêm %(name)s vào lớp.", name=person.full_name), "success")
    return redirect(url_for("classes.show", class_id=klass.id, q=request.form.get("q") or None))


@blueprint.post("/classes/<int:class_id>/sheet")
@login_required
def save_sheet(class_id: int):
    """Presence and scores typed into the class list; all rows are saved or none."""
    klass = classes.get_class_or_404(current_user, class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    rows = {}
    for key in request.form:
        if key.startswith("score-") and key[6:].isdigit():
            attendance_id = int(key[6:])
            rows[attendance_id] = (f"present-{attendance_id}" in request.form,
                                   request.form.get(key, ""))
    result = classes.save_sheet(klass, rows)
    if result.errors:
        db.session.rollback()
        return _render_class(klass, 400, sheet_errors=result.errors,
                             entered={k: v for k, v in rows.items()})
    db.session.commit()
    _flash_result(result)
    return redirect(url_for("classes.show", class_id=klass.id))


@blueprint.post("/classes/<int:class_id>/import")
@login_required
def import_sheet(class_id: int):
    """Bulk entry from CSV/XLSX: every row checked first; any error means nothing is written."""
    klass = classes.get_class_or_404(current_user, class_id)
    form = SheetUploadForm()
    if not form.validate_on_submit():
        return _render_class(klass, 400, upload=form)
    upload = form.file.data
    try:
        table = read_table(PurePath(upload.filename or "").name, upload.read(),
                           classes.SHEET_SPEC, max_rows=SHEET_MAX_ROWS)
    except TableError as exc:
        form.file.errors = [str(exc.reason)]
        return _render_class(klass, 422, upload=form)
    result = classes.import_sheet(current_user, klass, table)
    if result.errors:
        db.session.rollback()
        return _render_class(klass, 422, upload=form, import_errors=result.errors)
    try:
        db.session.commit()
    except IntegrityError:  # someone entered the same people at the same moment
        db.session.rollback()
        form.file.errors = [_("Danh sách lớp vừa được thay đổi ở nơi khác. Hãy tải tệp lên lại.")]
        return _render_class(klass, 409, upload=form)
    _flash_result(result)
    return redirect(url_for("classes.show", class_id=klass.id))


def _flash_result(result: classes.SheetResult) -> None:
    parts = [_("Đã lưu.")]
    if result.added:
        parts.append(ngettext("Thêm %(num)s học viên.", "Thêm %(num)s học viên.", result.added))
    if result.issued:
        parts.append(ngettext("Cấp %(num)s chứng nhận mới.", "Cấp %(num)s chứng nhận mới.",
                              len(result.issued)))
    flash(" ".join(parts), "success")
