"""Account forms. Labels and messages are Vietnamese source strings for Flask-Babel."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.auth.passwords import MAX_LENGTH, PASSWORD_RULES, password_problems
from app.auth.phone import InvalidPhone, normalize_phone

# WTForms ships no Vietnamese catalog, so every built-in message is replaced here.
_CHOOSE_FROM_LIST = _l("Chọn một mục trong danh sách.")


class PasswordRules:
    """WTForms validator wrapping the one password rule function."""

    def __call__(self, form, field) -> None:
        problems = password_problems(field.data or "")
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


def _phone_or_email(form, field) -> None:
    """An identifier that is not an email must be a phone number; say why it is not."""
    value = (field.data or "").strip()
    if value and "@" not in value:
        try:
            normalize_phone(value)
        except InvalidPhone as exc:
            raise ValidationError(str(exc.reason)) from None


def _phone(form, field) -> None:
    try:
        normalize_phone(field.data)
    except InvalidPhone as exc:
        raise ValidationError(str(exc.reason)) from None


def _plausible_birth_year(form, field) -> None:
    if field.data is not None and not 1900 <= field.data <= date.today().year:
        raise ValidationError(_l("Năm sinh phải từ 1900 đến năm nay."))


def _identifier_field() -> StringField:
    return StringField(_l("Số điện thoại hoặc email"), validators=[
        DataRequired(_l("Nhập số điện thoại hoặc email.")),
        Length(max=254, message=_l("Số điện thoại hoặc email quá dài.")),
        _phone_or_email])


def _new_password_field(label, missing=None) -> PasswordField:
    return PasswordField(label, description=PASSWORD_RULES, validators=[
        DataRequired(missing or _l("Nhập mật khẩu mới.")), PasswordRules()])


def _confirm_field(label) -> PasswordField:
    return PasswordField(label, validators=[
        EqualTo("new_password", _l("Hai mật khẩu không khớp."))])


class LoginForm(FlaskForm):
    identifier = _identifier_field()
    password = PasswordField(_l("Mật khẩu"), validators=[
        DataRequired(_l("Nhập mật khẩu.")),
        Length(max=MAX_LENGTH, message=_l("Mật khẩu quá dài."))])
    remember = BooleanField(_l("Ghi nhớ đăng nhập trên máy này"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"),
                                     validators=[DataRequired(_l("Nhập mật khẩu hiện tại."))])
    new_password = _new_password_field(_l("Mật khẩu mới"))
    confirm = _confirm_field(_l("Nhập lại mật khẩu mới"))


class RedeemCodeForm(FlaskForm):
    """Activation and reset share one form: identity + one-time code + new password."""

    identifier = _identifier_field()
    code = StringField(_l("Mã kích hoạt hoặc mã đặt lại"), validators=[
        DataRequired(_l("Nhập mã được cấp.")),
        Length(max=40, message=_l("Mã quá dài: mã gồm 12 chữ và số."))])
    new_password = _new_password_field(_l("Mật khẩu mới"))
    confirm = _confirm_field(_l("Nhập lại mật khẩu mới"))


class RegisterForm(FlaskForm):
    """Self-registration; the view fills the commune/ward and audience choices."""

    full_name = StringField(_l("Họ và tên"), validators=[
        DataRequired(_l("Nhập họ và tên.")),
        Length(max=200, message=_l("Họ và tên dài quá 200 ký tự."))])
    phone = StringField(_l("Số điện thoại"), validators=[
        DataRequired(_l("Nhập số điện thoại.")),
        Length(max=40, message=_l("Số điện thoại quá dài.")), _phone])
    unit_code = SelectField(_l("Xã/phường nơi bạn sinh sống hoặc làm việc"),
                            validators=[DataRequired(_l("Chọn xã/phường."))],
                            invalid_choice_message=_l("Chọn xã/phường trong danh sách."))
    audience = SelectField(_l("Bạn là"), validators=[DataRequired(_CHOOSE_FROM_LIST)],
                           invalid_choice_message=_CHOOSE_FROM_LIST)
    gender = SelectField(_l("Giới tính (không bắt buộc)"), validators=[Optional()],
                         invalid_choice_message=_CHOOSE_FROM_LIST)
    birth_year = IntegerField(_l("Năm sinh (không bắt buộc)"), validators=[
        Optional(), _plausible_birth_year],
        invalid_value_message=_l("Năm sinh là một số, ví dụ 1968."))
    new_password = _new_password_field(_l("Mật khẩu"), _l("Nhập mật khẩu."))
    confirm = _confirm_field(_l("Nhập lại mật khẩu"))
