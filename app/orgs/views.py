"""Officer pages: the unit tree within the caller's scope, members, a person, the CSV export.

Every unit and person is loaded through app.auth.permissions, so anything outside the
caller's scope answers 404, whatever id or code is typed into the address bar.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.audit import record_audit
from app.auth.permissions import can, get_person_or_404, get_unit_or_404, top_units
from app.auth.services import may_issue_code
from app.extensions import db
from app.labels import audience_label, gender_label, kind_label, role_label
from app.orgs import services
from app.orgs.forms import MemberSearchForm, PersonForm

blueprint = Blueprint("orgs", __name__, template_folder="templates")

MEMBERS_PER_PAGE = 25


@blueprint.context_processor
def _label_helpers() -> dict:
    return {"kind_label": kind_label, "role_label": role_label,
            "audience_label": audience_label, "gender_label": gender_label}


@blueprint.get("/units/")
@login_required
def units():
    """The highest units the caller may browse, with member counts."""
    if not can(current_user, "units.view"):
        abort(403)
    tops = services.top_units_with_counts(top_units(current_user, "units.view"))
    return render_template("orgs/units.html", tops=tops)


@blueprint.get("/units/<code>")
@login_required
def unit(code: str):
    unit = get_unit_or_404(current_user, code, "units.view")
    total, children = services.unit_and_children(unit)
    form = MemberSearchForm(formdata=request.args)
    members = None
    if can(current_user, "people.view", unit) and form.validate():
        members = db.paginate(services.members_query(current_user, unit, form.q.data),
                              page=request.args.get("page", 1, type=int),
                              per_page=MEMBERS_PER_PAGE)
    return render_template(
        "orgs/unit.html", unit=unit, total=total, children=children, form=form,
        members=members, ancestors=services.visible_ancestors(current_user, unit),
    ), 400 if form.errors else 200


@blueprint.get("/units/<code>/members.csv")
@login_required
def export_members(code: str):
    """Personal data leaves the system here: permissioned, audit-logged, streamed."""
    unit = get_unit_or_404(current_user, code, "people.export")
    count, chunks = services.export_members(current_user, unit)
    record_audit("people.export", actor=current_user, target=f"unit:{unit.code}",
                 unit_code=unit.code, rows=count)
    db.session.commit()
    filename = f"thanh-vien-{unit.code}-{date.today():%Y%m%d}.csv"
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@blueprint.get("/people/<int:person_id>")
@login_required
def person(person_id: int):
    person = get_person_or_404(current_user, person_id, "people.view")
    return render_template(
        "orgs/person.html", person=person,
        may_edit=services.may_edit_person(current_user, person),
        may_issue_code=person.is_active_member and may_issue_code(current_user, person),
    )


@blueprint.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(person_id: int):
    person = get_person_or_404(current_user, person_id, "people.edit")
    if not services.may_edit_person(current_user, person):
        abort(403)  # visible, but holds a role above what the caller may hand out
    form = PersonForm() if request.method == "POST" else PersonForm.for_person(person)
    form.fill_choices(services.units_in_scope(current_user, "people.edit"))
    if form.validate_on_submit() and _save_person(person, form):
        flash(_("Đã lưu thông tin của %(name)s.", name=person.full_name), "success")
        return redirect(url_for("orgs.person", person_id=person.id))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/person_edit.html", person=person, form=form), status


def _save_person(person, form: PersonForm) -> bool:
    """Apply and commit the edit; on refusal put the reasons on the form and keep nothing."""
    try:
        services.update_person(current_user, person, form.changes())
        db.session.commit()
    except services.PersonEditError as exc:
        db.session.rollback()
        form.add_errors(exc.errors)
        return False
    except IntegrityError:  # someone took the phone or email between our check and the commit
        db.session.rollback()
        form.add_errors({"phone": _("Số điện thoại hoặc email vừa được dùng cho tài khoản khác.")})
        return False
    return True
