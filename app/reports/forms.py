"""Program forms: create/edit a training program, and the GET filter of the program page.

The form only carries and parses the values (dates in dd/mm/yyyy or yyyy-mm-dd, the target
as a number); app.reports.programs.save_program checks them all and says what is wrong.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional

from app.auth.models import AUDIENCES
from app.labels import audience_label
from app.reports.models import TrainingProgram
from app.reports.programs import ProgramFields

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_day(raw: str | None) -> date | None:
    """A day typed as dd/mm/yyyy (d/m/yyyy works too) or yyyy-mm-dd; None if it is neither."""
    text = (raw or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_percent(raw: str | None) -> int | None:
    text = (raw or "").strip().rstrip("%").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ProgramForm(FlaskForm):
    name = StringField(_l("Tên chương trình"))
    slug = StringField(_l("Mã chương trình (dùng trong địa chỉ trang)"))
    scope_unit_code = SelectField(_l("Phạm vi (đơn vị)"), validate_choice=False)
    course_slugs = CheckboxListField(_l("Khóa học bắt buộc"), validate_choice=False)
    audience = SelectField(_l("Đối tượng"), validate_choice=False)
    target_percent = StringField(_l("Chỉ tiêu (%)"), default="100")
    starts_on = StringField(_l("Ngày bắt đầu"))
    deadline = StringField(_l("Hạn hoàn thành"))
    description = TextAreaField(_l("Mô tả (không bắt buộc)"),
                                validators=[Optional(), Length(max=2000)])

    def fill_choices(self, units, courses) -> None:
        """Units where the officer may manage programs, and the courses one may require."""
        top = min((u.depth for u in units), default=0)
        self.scope_unit_code.choices = [(u.code, "— " * (u.depth - top) + u.full_name)
                                        for u in units]
        self.course_slugs.choices = [(slug, title) for slug, title in courses]
        self.audience.choices = [("", _l("Mọi đối tượng"))] + [
            (a, audience_label(a)) for a in AUDIENCES]

    @classmethod
    def for_program(cls, program: TrainingProgram) -> ProgramForm:
        """The form filled with a program's values (for GET of the edit page)."""
        return cls(data={
            "name": program.name, "slug": program.slug,
            "scope_unit_code": program.scope_unit.code,
            "course_slugs": [c.slug for c in program.courses],
            "audience": program.audience or "", "target_percent": str(program.target_percent),
            "starts_on": program.starts_on.strftime("%d/%m/%Y"),
            "deadline": program.deadline.strftime("%d/%m/%Y"),
            "description": program.description or ""})

    def to_fields(self) -> ProgramFields:
        """The values for save_program; a day that cannot be read is kept in ``parse_errors``
        (the service would only say that the day is missing)."""
        fields = ProgramFields(
            slug=self.slug.data or "", name=self.name.data or "",
            scope_unit_code=self.scope_unit_code.data or "",
            course_slugs=list(self.course_slugs.data or []),
            starts_on=parse_day(self.starts_on.data), deadline=parse_day(self.deadline.data),
            target_percent=parse_percent(self.target_percent.data) or 0,
            audience=self.audience.data or None, description=(self.description.data or "").strip())
        self.parse_errors: dict[str, str] = {}
        for name in ("starts_on", "deadline"):
            raw = (getattr(self, name).data or "").strip()
            if raw and getattr(fields, name) is None:
                self.parse_errors[name] = str(_l(
                    "Ngày “%(value)s” không hợp lệ: nhập theo dạng dd/mm/yyyy.", value=raw))
        return fields

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            field = getattr(self, name, None)
            if field is not None and message not in field.errors:
                field.errors = [*field.errors, message]


class TableFilterForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm đơn vị"), validators=[Optional(), Length(max=100)])
    group = SelectField(_l("Nhóm"), validators=[Optional()], validate_choice=False)
    sort = SelectField(_l("Sắp xếp"), validators=[Optional()], validate_choice=False)
    unit = StringField(validators=[Optional(), Length(max=32)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group.choices = [("", _l("Cả hai nhóm")), ("I", _l("Nhóm I (phường)")),
                              ("II", _l("Nhóm II (xã, đặc khu)"))]
        self.sort.choices = [("", _l("Tên đơn vị")), ("percent", _l("Tỷ lệ tăng dần")),
                             ("-percent", _l("Tỷ lệ giảm dần")), ("-gap", _l("Còn thiếu nhiều nhất")),
                             ("-members", _l("Nhiều thành viên nhất")),
                             ("-quarter", _l("Hoàn thành trong quý nhiều nhất"))]
        current = self.sort.data or ""
        if current and current not in {value for value, _label in self.sort.choices}:
            # The order picked with a column header of the table, kept on the next filter.
            self.sort.choices.append((current, _l("Theo cột đã chọn trong bảng")))
