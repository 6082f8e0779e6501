"""Officer forms: searching members and editing a person.

The service (app.orgs.services.update_person) checks every value, so the edit form only
carries the fields; its choices are filled by the view from the caller's scope.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from app.auth.models import AUDIENCES, GENDERS, User
from app.auth.phone import format_phone
from app.labels import audience_label, gender_label
from app.orgs.services import PersonChanges


class MemberSearchForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm theo tên, số điện thoại hoặc email"),
                    validators=[Optional(), Length(max=100)])


class PersonForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"))
    phone = StringField(_l("Số điện thoại"))
    email = StringField(_l("Email"))
    unit_code = SelectField(_l("Đơn vị"), validate_choice=False)
    audience = SelectField(_l("Đối tượng"), validate_choice=False)
    gender = SelectField(_l("Giới tính"), validate_choice=False)
    birth_year = StringField(_l("Năm sinh"))
    is_active_member = BooleanField(_l("Đang hoạt động (được phép đăng nhập)"))

    def fill_choices(self, units) -> None:
        """Units in the editor's scope, indented by depth, plus the fixed code lists."""
        top = min((u.depth for u in units), default=0)
        names = {u.id: u.full_name for u in units}
        # Team names repeat from commune to commune ("khu phố 1"): add the commune.
        self.unit_code.choices = [
            (u.code, "— " * (u.depth - top) + u.full_name
             + (f" · {names[u.parent_id]}" if u.kind == "team" and u.parent_id in names else ""))
            for u in units]
        self.audience.choices = [(a, audience_label(a)) for a in AUDIENCES]
        self.gender.choices = [("", _l("— Không ghi —"))] + [(g, gender_label(g)) for g in GENDERS]

    @classmethod
    def for_person(cls, person: User) -> PersonForm:
        """The form filled with the person's current values (for GET)."""
        return cls(data={
            "full_name": person.full_name, "phone": format_phone(person.phone),
            "email": person.email or "", "unit_code": person.unit.code,
            "audience": person.audience, "gender": person.gender or "",
            "birth_year": str(person.birth_year or ""),
            "is_active_member": person.is_active_member,
        })

    def changes(self) -> PersonChanges:
        return PersonChanges(
            full_name=self.full_name.data or "", phone=self.phone.data or "",
            email=self.email.data or "", unit_code=self.unit_code.data or "",
            audience=self.audience.data or "", gender=self.gender.data or "",
            birth_year=self.birth_year.data or "",
            is_active_member=bool(self.is_active_member.data),
        )

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            getattr(self, name).errors.append(message)
