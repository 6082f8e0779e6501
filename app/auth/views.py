"""Sign in and out, account page, activation/reset with a code, self-registration."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import services
from app.auth.forms import ChangePasswordForm, LoginForm, RedeemCodeForm, RegisterForm
from app.auth.models import AUDIENCES, GENDERS, User
from app.auth.permissions import get_person_or_404
from app.extensions import db, limiter
from app.labels import audience_label, gender_label, role_label
from app.main.navigation import safe_next_url
from app.orgs.models import COMMUNE_KINDS, Unit
from app.text import fold

blueprint = Blueprint("auth", __name__, template_folder="templates")

# Session key holding services.password_fingerprint() of the password the session began with.
_PASSWORD_KEY = "_pw"


def _identifier_key() -> str:
    """Rate-limit key for one account, however its phone number was typed."""
    return "id:" + services.login_key(request.form.get("identifier", ""))


def _login_ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _login_identifier_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IDENTIFIER"]


def _code_limit() -> str:
    return current_app.config["CODE_LIMIT_PER_IP"]


def _sign_in(user: User, remember: bool = False) -> None:
    """Start a session; "remember me" makes it outlive the browser (one cookie, no token)."""
    login_user(user)
    session.permanent = remember
    session[_PASSWORD_KEY] = services.password_fingerprint(user)


@blueprint.before_app_request
def end_stale_session() -> None:
    """Sign out a member who was deactivated or whose password changed since they signed in."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    started_with = session.get(_PASSWORD_KEY)
    if not current_user.is_active or (
            started_with is not None
            and started_with != services.password_fingerprint(current_user)):
        logout_user()
        session.pop(_PASSWORD_KEY, None)


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_identifier_limit, methods=["POST"], key_func=_identifier_key)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.identifier.data, form.password.data)
        if user is not None:
            _sign_in(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next_url(request.args.get("next")))
        flash(_("Số điện thoại/email hoặc mật khẩu không đúng."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@blueprint.post("/logout")
def logout():
    logout_user()
    session.pop(_PASSWORD_KEY, None)
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("main.home"))


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data,
                                     form.new_password.data)
        except services.AccountError as exc:
            form[exc.field].errors.append(str(exc.message))
        else:
            db.session.commit()
            session[_PASSWORD_KEY] = services.password_fingerprint(current_user)
            flash(_("Đã đổi mật khẩu. Các máy khác đang đăng nhập sẽ phải đăng nhập lại."),
                  "success")
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    grants = [(role_label(g.role), g.unit.full_name) for g in current_user.grants]
    return render_template("auth/account.html", form=form, grants=grants,
                           audience=audience_label(current_user.audience)), status


@blueprint.route("/activate", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def activate():
    """Activation of an imported account and password reset: both redeem a one-time code."""
    form = RedeemCodeForm()
    if form.validate_on_submit():
        try:
            user = services.redeem_code(form.identifier.data, form.code.data,
                                        form.new_password.data)
        except services.CodeError as exc:
            form.code.errors.append(str(exc.message))
        else:
            db.session.commit()
            _sign_in(user)
            flash(_("Đã đặt mật khẩu. Chào mừng bạn!"), "success")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/activate.html", form=form), status


def _commune_choices() -> list[tuple[str, str]]:
    """Communes and wards in Vietnamese alphabetical order (Đ after D, not after Z)."""
    units = list(db.session.scalars(select(Unit).where(Unit.kind.in_(COMMUNE_KINDS))))
    several_provinces = len({u.parent_id for u in units}) > 1
    units.sort(key=lambda u: (fold(u.parent.name) if several_provinces and u.parent else "",
                              fold(u.name), u.code))
    choices = [("", _("— Chọn xã/phường —"))]
    for unit in units:
        label = unit.full_name
        if several_provinces and unit.parent is not None:
            label = f"{label} ({unit.parent.full_name})"
        choices.append((unit.code, label))
    return choices


@blueprint.route("/register", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def register():
    if not current_app.config["SELF_REGISTRATION"]:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    form.unit_code.choices = _commune_choices()
    form.audience.choices = [(a, audience_label(a)) for a in AUDIENCES]
    form.gender.choices = [("", _("Không muốn nói"))] + [(g, gender_label(g)) for g in GENDERS]
    if form.validate_on_submit():
        try:
            user = services.register_learner(
                full_name=form.full_name.data, phone=form.phone.data,
                unit_code=form.unit_code.data, audience=form.audience.data,
                password=form.new_password.data, birth_year=form.birth_year.data,
                gender=form.gender.data or None)
            db.session.commit()
        except services.AccountError as exc:
            form[exc.field].errors.append(str(exc.message))
        except IntegrityError:  # the same phone registered a moment ago in another request
            db.session.rollback()
            form.phone.errors.append(_("Số điện thoại này đã có tài khoản. Hãy đăng nhập."))
        else:
            _sign_in(user)
            flash(_("Đã tạo tài khoản. Chào mừng bạn đến với Học vụ số!"), "success")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@blueprint.post("/people/<int:person_id>/reset-code")
@login_required
def issue_reset_code(person_id: int):
    """An officer gives a member a one-time code to activate or set a new password."""
    person = get_person_or_404(current_user, person_id, "people.issue_code")
    try:
        code, purpose = services.issue_reset_code(current_user, person)
    except services.AccountError as exc:
        status = 403 if isinstance(exc, services.NotAllowed) else 409
        return render_template("errors/error.html", code=status, message=str(exc.message),
                               title=_("Không cấp được mã")), status
    db.session.commit()
    response = current_app.make_response(render_template(
        "auth/code_issued.html", person=person, code=code, purpose=purpose))
    response.headers["Cache-Control"] = "no-store"  # the code is shown once, never cached
    return response
