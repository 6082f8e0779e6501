"""Account forms. Labels and messages are Vietnamese source strings for Flask-Babel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from app.auth.passwords import PASSWORD_RULES, password_problems


class PasswordRules:
    """WTForms validator wrapping the one password rule function."""

    def __call__(self, form, field) -> None:
        from wtforms.validators import ValidationError

        problems = password_problems(field.data or "")
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


class LoginForm(FlaskForm):
    identifier = StringField(_l("Số điện thoại hoặc email"),
                             validators=[DataRequired(_l("Nhập số điện thoại hoặc email."))])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_l("Nhập mật khẩu."))])
    remember = BooleanField(_l("Ghi nhớ đăng nhập trên máy này"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"),
                                     validators=[DataRequired(_l("Nhập mật khẩu hiện tại."))])
    new_password = PasswordField(_l("Mật khẩu mới"), description=PASSWORD_RULES,
                                 validators=[DataRequired(_l("Nhập mật khẩu mới.")),
                                             PasswordRules()])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("new_password", _l("Hai mật khẩu không khớp."))])


class RedeemCodeForm(FlaskForm):
    """Activation and reset share one form: identity + one-time code + new password."""

    identifier = StringField(_l("Số điện thoại hoặc email"),
                             validators=[DataRequired(_l("Nhập số điện thoại hoặc email."))])
    code = StringField(_l("Mã kích hoạt hoặc mã đặt lại"),
                       validators=[DataRequired(_l("Nhập mã được cấp.")), Length(max=40)])
    new_password = PasswordField(_l("Mật khẩu mới"), description=PASSWORD_RULES,
                                 validators=[DataRequired(_l("Nhập mật khẩu mới.")),
                                             PasswordRules()])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("new_password", _l("Hai mật khẩu không khớp."))])


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"), validators=[
        DataRequired(_l("Nhập họ và tên.")), Length(max=200)])
    phone = StringField(_l("Số điện thoại"), validators=[DataRequired(_l("Nhập số điện thoại."))])
    unit_code = SelectField(_l("Xã/phường nơi bạn sinh sống hoặc làm việc"),
                            validators=[DataRequired(_l("Chọn xã/phường."))])
    audience = SelectField(_l("Bạn là"), validators=[DataRequired()])
    birth_year = IntegerField(_l("Năm sinh (không bắt buộc)"), validators=[
        Optional(), NumberRange(1900, 2100, _l("Năm sinh không hợp lệ."))])
    new_password = PasswordField(_l("Mật khẩu"), description=PASSWORD_RULES,
                                 validators=[DataRequired(_l("Nhập mật khẩu.")), PasswordRules()])
    confirm = PasswordField(_l("Nhập lại mật khẩu"),
                            validators=[EqualTo("new_password", _l("Hai mật khẩu không khớp."))])
