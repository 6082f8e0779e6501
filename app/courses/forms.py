"""Authoring forms. They only carry what was typed: app.courses.authoring checks every value,
so the same rules hold for any caller, and the messages are Vietnamese (WTForms has none)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.courses.authoring import (
    CourseFields,
    FrameworkCompetency,
    LessonFields,
    course_fields_of,
)
from app.courses.content import AUDIENCES, TOPICS
from app.labels import audience_label, topic_label


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (usable on a phone, unlike a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _ServiceErrors:
    def add_errors(self, errors: dict) -> None:
        """Put the service's reasons under their fields (unknown names are ignored)."""
        for name, message in errors.items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = [*field.errors, message]


class RevisionForm(FlaskForm):
    """The draft revision this page was built from (optimistic locking), plus CSRF."""

    revision = HiddenField()


class MoveForm(RevisionForm):
    direction = HiddenField()


class CourseForm(_ServiceErrors, FlaskForm):
    title = StringField(_l("Tên khóa học"))
    summary = TextAreaField(_l("Tóm tắt (một hai câu, hiện trong danh mục khóa học)"))
    topic = SelectField(_l("Chủ đề"), validate_choice=False)
    audiences = MultiCheckboxField(_l("Dành cho"), validate_choice=False)
    competencies = MultiCheckboxField(_l("Năng lực trong khung 757"), validate_choice=False)
    est_minutes = StringField(_l("Thời lượng ước tính (phút)"))
    unit_code = SelectField(_l("Đơn vị phụ trách"), validate_choice=False)

    def fill_choices(self, units: list[tuple[str, str]],
                     competencies: tuple[FrameworkCompetency, ...]) -> None:
        english = str(get_locale()) == "en"
        self.topic.choices = [(t, topic_label(t)) for t in TOPICS]
        self.audiences.choices = [(a, audience_label(a)) for a in AUDIENCES]
        self.competencies.choices = [
            (c.code, f"{c.code} — {c.label_en if english else c.label_vi}") for c in competencies]
        self.unit_code.choices = units

    def fields(self) -> CourseFields:
        return CourseFields(
            title=self.title.data or "", summary=self.summary.data or "",
            topic=self.topic.data or "", audiences=list(self.audiences.data or []),
            competencies=list(self.competencies.data or []),
            est_minutes=self.est_minutes.data or "", unit_code=self.unit_code.data or "")


class NewCourseForm(CourseForm):
    slug = StringField(_l("Đường dẫn (tên ngắn trong địa chỉ trang)"))


class CourseEditForm(CourseForm):
    intro = TextAreaField(_l("Lời giới thiệu khóa học (Markdown)"))
    revision = HiddenField()
    save = SubmitField(_l("Lưu bản nháp"))
    preview = SubmitField(_l("Xem trước"))

    def fields(self) -> CourseFields:
        fields = super().fields()
        fields.intro = self.intro.data or ""
        return fields

    @classmethod
    def for_version(cls, version) -> CourseEditForm:
        fields = course_fields_of(version)
        return cls(formdata=None, data={**vars(fields), "revision": str(version.revision)})


class LessonForm(_ServiceErrors, FlaskForm):
    title = StringField(_l("Tên bài học"))
    est_minutes = StringField(_l("Thời lượng (phút)"))
    body = TextAreaField(_l("Nội dung bài học (Markdown)"))
    revision = HiddenField()
    save = SubmitField(_l("Lưu bản nháp"))
    preview = SubmitField(_l("Xem trước"))

    @classmethod
    def for_lesson(cls, lesson, revision: int) -> LessonForm:
        return cls(formdata=None, data={
            "title": lesson.title, "est_minutes": str(lesson.est_minutes or ""),
            "body": lesson.body_md, "revision": str(revision)})

    def fields(self) -> LessonFields:
        return LessonFields(title=self.title.data or "", est_minutes=self.est_minutes.data or "",
                            body=self.body.data or "")


class MediaForm(_ServiceErrors, RevisionForm):
    file = FileField(_l("Ảnh (PNG, JPG, WEBP hoặc GIF, tối đa 2 MB)"))
