"""Forms for records and in-person classes. The services check every value again; the
forms carry the fields, their labels and the first, simple checks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation


class LocalDateField(DateField):
    """dd/mm/yyyy or the ISO date a browser's date picker sends; a Vietnamese message when neither."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata([v.strip() for v in valuelist])
        except ValueError:
            self.data = None
            raise ValueError(_l("Ngày không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 15/05/2026.")) from None

    def pre_validate(self, form) -> None:
        if self.process_errors:  # said once; the range and required checks need not repeat it
            raise StopValidation()


class DecimalCommaField(FloatField):
    """A number typed the Vietnamese way (70,5) or the English way (70.5)."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata([v.strip().replace(",", ".") for v in valuelist])
        except ValueError:
            self.data = None
            raise ValueError(_l("Nhập một số, ví dụ 70.")) from None

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()


class ActionForm(FlaskForm):
    """No fields: a POST button that only needs its CSRF token."""


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Lý do thu hồi"),
        description=_l("Ghi rõ vì sao (ví dụ: cấp nhầm người, gian lận khi kiểm tra). Lý do được "
                       "lưu trong nhật ký, không hiện trên trang xác minh công khai."),
        validators=[InputRequired(_l("Hãy ghi lý do thu hồi.")),
                    Length(min=5, max=500, message=_l("Lý do cần từ 5 đến 500 ký tự."))])


class ClassForm(FlaskForm):
    course_id = SelectField(_l("Khóa học"), coerce=int, validate_choice=False,
                            validators=[InputRequired(_l("Chọn khóa học."))])
    unit_code = SelectField(_l("Đơn vị tổ chức lớp"), validate_choice=False,
                            validators=[InputRequired(_l("Chọn đơn vị."))])
    held_on = LocalDateField(_l("Ngày học"), format=["%Y-%m-%d", "%d/%m/%Y"],
                        description=_l("Ngày/tháng/năm, ví dụ 15/05/2026."),
                        validators=[InputRequired(_l("Nhập ngày học (ngày/tháng/năm)."))])
    place = StringField(_l("Địa điểm"), description=_l("Ví dụ: Hội trường UBND xã, Nhà văn hóa ấp 3."),
                        validators=[InputRequired(_l("Nhập địa điểm học.")), Length(max=200)])
    pass_percent = DecimalCommaField(
        _l("Điểm đạt (%)"), default=70,
        description=_l("Học viên có mặt và đạt từ mức này trở lên được cấp chứng nhận."),
        validators=[InputRequired(_l("Nhập điểm đạt, ví dụ 70.")),
                    NumberRange(min=1, max=100, message=_l("Điểm đạt từ 1 đến 100."))])

    def fill_choices(self, courses, units) -> None:
        """Published courses, and the units where the trainer may hold classes, by depth."""
        self.course_id.choices = [(0, _l("— Chọn khóa học —"))] + [
            (course.id, version.title) for course, version in courses]
        top = min((u.depth for u in units), default=0)
        self.unit_code.choices = [(u.code, "— " * (u.depth - top) + u.full_name) for u in units]


class RosterSearchForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm học viên theo tên hoặc số điện thoại"),
                    validators=[Optional(), Length(max=100)])


class SheetUploadForm(FlaskForm):
    file = FileField(_l("Tệp điểm (.xlsx hoặc .csv)"),
                     description=_l("Các cột: Số điện thoại (hoặc Email), Điểm, Có mặt. Điểm theo "
                                    "thang 100 (ví dụ 85) hoặc dạng 8,5/10; Có mặt: có / không."),
                     validators=[FileRequired(_l("Chọn tệp điểm để tải lên."))])
