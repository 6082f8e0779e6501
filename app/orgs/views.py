"""Officer pages: the unit tree, members, roster import. (Being built.)"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.auth.permissions import get_person_or_404

blueprint = Blueprint("orgs", __name__, template_folder="templates")


@blueprint.get("/units/")
@login_required
def units():
    return render_template("orgs/placeholder.html")


@blueprint.get("/people/<int:person_id>")
@login_required
def person(person_id: int):
    person = get_person_or_404(current_user, person_id, "people.view")
    return render_template("orgs/placeholder.html", person=person)
