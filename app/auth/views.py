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
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.audit import record_audit
from app.auth import services
from app.auth.forms import ChangePasswordForm, LoginForm, RedeemCodeForm, RegisterForm
from app.auth.models import AUDIENCES
from app.auth.permissions import get_person_or_404
from app.auth.phone import InvalidPhone, normalize_phone
from app.extensions import db, limiter
from app.labels import audience_label
from app.main.navigation import safe_next_url
from app.orgs.models import COMMUNE_KINDS, Unit
from app.text import fold

blueprint = Blueprint("auth", __name__, template_folder="templates")


def _identifier_key() -> str:
    """Rate-limit key for one account, however its phone number was typed."""
    raw = request.form.get("identifier", "")
    try:
        return "id:" + normalize_phone(raw)
    except InvalidPhone:
        return "id:" + fold(raw)


def _login_ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _login_identifier_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IDENTIFIER"]


def _code_limit() -> str:
    return current_app.config["CODE_LIMIT_PER_IP"]


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_identifier_limit, methods=["POST"], key_func=_identifier_key)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        identifier = form.identifier.data
        if "@" not in identifier:
            try:
                normalize_phone(identifier)
            except InvalidPhone as exc:
                form.identifier.errors.append(exc.reason)
                return render_template("auth/login.html", form=form), 400
        user = services.authenticate(identifier, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
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
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("main.home"))


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
        else:
            current_user.set_password(form.new_password.data)
            db.session.commit()
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/account.html", form=form,
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
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            flash(_("Đã đặt mật khẩu. Chào mừng bạn!"), "success")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/activate.html", form=form), status


def _commune_choices() -> list[tuple[str, str]]:
    units = db.session.scalars(
        select(Unit).where(Unit.kind.in_(COMMUNE_KINDS)).order_by(Unit.name)
    )
    return [("", _("— Chọn xã/phường —"))] + [(u.code, u.full_name) for u in units]


@blueprint.route("/register", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def register():
    if not current_app.config["SELF_REGISTRATION"]:
        abort(404)
    form = RegisterForm()
    form.unit_code.choices = _commune_choices()
    form.audience.choices = [(a, audience_label(a)) for a in AUDIENCES]
    if form.validate_on_submit():
        user = _register(form)
        if user is not None:
            db.session.commit()
            login_user(user)
            flash(_("Đã tạo tài khoản. Chào mừng bạn đến với Học vụ số!"), "success")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


def _register(form: RegisterForm):
    try:
        phone = normalize_phone(form.phone.data)
    except InvalidPhone as exc:
        form.phone.errors.append(exc.reason)
        return None
    if db.session.scalar(select(services.User.id).where(services.User.phone == phone)):
        form.phone.errors.append(_("Số điện thoại này đã có tài khoản. Hãy đăng nhập."))
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == form.unit_code.data,
                                                Unit.kind.in_(COMMUNE_KINDS)))
    if unit is None:
        form.unit_code.errors.append(_("Chọn xã/phường trong danh sách."))
        return None
    return services.create_user(full_name=form.full_name.data, phone=phone, unit=unit,
                                audience=form.audience.data, password=form.new_password.data,
                                birth_year=form.birth_year.data)


@blueprint.post("/people/<int:person_id>/reset-code")
@login_required
def issue_reset_code(person_id: int):
    """An officer gives a member without email a one-time code to set a new password."""
    person = get_person_or_404(current_user, person_id, "people.issue_code")
    purpose = "reset" if person.has_password else "activation"
    code = services.issue_code(person, purpose, issuer=current_user)
    record_audit("code.issued", actor=current_user, target=f"user:{person.id}", purpose=purpose)
    db.session.commit()
    return render_template("auth/code_issued.html", person=person, code=code, purpose=purpose)
