"""Roster import pages for officers. (Being built.)"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

blueprint = Blueprint("roster", __name__, template_folder="templates")


@blueprint.get("/imports/new")
@login_required
def new_import():
    return render_template("orgs/placeholder.html")
