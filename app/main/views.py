"""Home page, health check and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import current_user
from sqlalchemy import text

from app.auth.permissions import can
from app.extensions import db
from app.main.navigation import safe_next_url

blueprint = Blueprint("main", __name__, template_folder="templates")


@blueprint.get("/")
def home():
    """Signed in: my courses, the ones in progress first; officers also get their shortcuts."""
    from app.courses.services import cards_for_home
    from app.reports.programs import member_programs

    return render_template(
        "main/home.html",
        programs=member_programs(current_user),
        can_manage_units=current_user.is_authenticated and can(current_user, "units.view"),
        cards=cards_for_home(current_user) if current_user.is_authenticated else [],
    )


@blueprint.get("/healthz")
def healthz():
    """200 with the database status, 503 when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception as exc:  # any driver error means "not healthy", never a traceback
        db.session.rollback()
        current_app.logger.warning("health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable"), 503


@blueprint.get("/lang/<code>")
def set_language(code: str):
    """A plain link (works without JavaScript) that remembers the language in the session."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next_url(request.args.get("next")))
