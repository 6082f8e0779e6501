"""The framework page (public) and the trainers' question bank: list, edit, add, GIFT."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.assessments import bank, framework, gift
from app.assessments.forms import (
    DIFFICULTY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    FilterForm,
    GiftUploadForm,
    QuestionForm,
    form_data,
)
from app.assessments.models import QUESTION_TYPES
from app.audit import record_audit
from app.auth.permissions import can
from app.courses.models import Course
from app.extensions import db
from app.markdown import render_markdown

blueprint = Blueprint("bank", __name__, template_folder="templates")

LABELS = {"type_label": TYPE_LABELS, "difficulty_label": DIFFICULTY_LABELS,
          "status_label": STATUS_LABELS}


@blueprint.get("/framework")
def framework_page():
    """Group → competencies, each with its published courses and active question count."""
    current, groups = framework.framework_overview(str(get_locale()))
    return render_template("bank/framework.html", framework=current, groups=groups,
                           english=str(get_locale()).startswith("en"))


def _course_or_abort(slug: str) -> Course:
    """Learners and officers: 403. A course outside the trainer's units: 404, as elsewhere."""
    if not can(current_user, "courses.author"):
        abort(403)
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or not bank.can_author_course(current_user, course):
        abort(404)
    return course


def _competency_choices() -> list[tuple[str, str]]:
    english = str(get_locale()).startswith("en")
    rows = framework.current_competencies()
    if rows:
        return [(c.code, f"{c.code} — {c.label_en if english else c.label_vi}") for _, c in rows]
    return [(code, code) for code in sorted(bank.known_codes())]


@blueprint.get("/bank/")
@login_required
def courses():
    if not can(current_user, "courses.author"):
        abort(403)
    return render_template("bank/courses.html", rows=bank.authorable_courses(current_user))


@blueprint.get("/bank/<slug>/")
@login_required
def questions(slug: str):
    course = _course_or_abort(slug)
    form = FilterForm(request.args)
    form.fill(_competency_choices())
    rows = bank.bank_questions(course, form.filters())
    return render_template("bank/questions.html", course=course, form=form, rows=rows,
                           title=bank.course_title(course),
                           shortfalls=bank.draw_shortfalls(course), **LABELS)


def _preview(spec: bank.QuestionSpec) -> dict:
    """The question as learners would see it, rendered now and not saved."""
    return {"stem_html": render_markdown(spec.stem_md), "data": bank.render_data(spec.data),
            "explanation_html": render_markdown(spec.explanation_md), "type": spec.type}


def _question_page(course, form, kind, question=None, status=200, preview=None):
    return render_template("bank/question_form.html", course=course, form=form, kind=kind,
                           question=question, preview=preview, **LABELS), status


@blueprint.route("/bank/<slug>/new", methods=["GET", "POST"])
@login_required
def new_question(slug: str):
    course = _course_or_abort(slug)
    kind = request.args.get("type", "")
    if kind not in QUESTION_TYPES:
        return render_template("bank/new_type.html", course=course, **LABELS)
    form = QuestionForm()
    form.fill_choices(_competency_choices())
    if request.method == "GET":
        form.key.data = bank.next_web_key(course)
        form.status.data = "draft"
        form.difficulty.data = "medium"
        form.tf_answer.data = "true"
    return _edit(course, form, kind, None)


@blueprint.route("/bank/<slug>/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def edit_question(slug: str, question_id: int):
    course = _course_or_abort(slug)
    question = bank.get_question(course, question_id) or abort(404)
    previous = bank.spec_of(question)
    form = QuestionForm(data=form_data(previous) if request.method == "GET" else None)
    form.fill_choices(_competency_choices())
    if request.method == "GET":
        form.content_hash.data = question.content_hash
    return _edit(course, form, question.type, question, previous)


def _edit(course, form: QuestionForm, kind: str, question, previous=None):
    """GET shows the form; "Xem trước" renders it back with a preview; "Lưu" saves."""
    if request.method == "GET" or not form.validate_on_submit():
        form.pad_rows(kind)
        return _question_page(course, form, kind, question,
                              400 if request.method == "POST" else 200)
    key = question.key if question is not None else (form.key.data or "").strip() \
        or bank.next_web_key(course)
    spec, problems = form.to_spec(kind, key, previous)
    for name, reason in problems.items():
        getattr(form, name).errors.append(reason)
    if form.preview.data and not problems:
        form.pad_rows(kind)
        return _question_page(course, form, kind, question, preview=_preview(spec))
    if not problems and question is not None and form.content_hash.data != question.content_hash:
        flash(_("Câu hỏi vừa được người khác sửa và lưu. Nội dung bạn nhập vẫn ở dưới; "
                "hãy mở lại câu hỏi để xem bản mới trước khi lưu."), "error")
        form.pad_rows(kind)
        return _question_page(course, form, kind, question, 409)
    if not problems:
        try:
            saved = bank.save_question(course, spec, question)
        except bank.QuestionRejected as exc:
            db.session.rollback()
            for head, reasons in exc.problems.items():
                form.problem_field(head, kind).errors.extend(reasons)
        else:
            db.session.commit()
            flash(_("Đã lưu câu hỏi %(key)s.", key=saved.key), "success")
            return redirect(url_for("bank.questions", slug=course.slug))
    form.pad_rows(kind)
    return _question_page(course, form, kind, question, 422)


@blueprint.route("/bank/<slug>/gift", methods=["GET", "POST"])
@login_required
def gift_upload(slug: str):
    """Upload a GIFT file: every problem by line; nothing written unless the file is valid."""
    course = _course_or_abort(slug)
    form = GiftUploadForm()
    form.fill_choices(_competency_choices())
    if not form.validate_on_submit():
        return render_template("bank/gift.html", course=course, form=form), \
            400 if request.method == "POST" else 200
    upload = form.file.data
    filename = PurePath(upload.filename or "").name
    try:
        text = gift.decode_gift(upload.read())
    except ValueError:
        form.file.errors = [_("Tệp không phải văn bản UTF-8. Hãy lưu lại tệp với mã hóa UTF-8.")]
        return render_template("bank/gift.html", course=course, form=form), 422
    result = gift.import_gift(course, text, bank.known_codes(), form.competency.data or None)
    if not result.ok:
        db.session.rollback()
        return render_template("bank/gift.html", course=course, form=form, result=result,
                               filename=filename), 422
    record_audit("questions.import_gift", actor=current_user, target=f"course:{course.slug}",
                 file=filename, created=result.counts.created, updated=result.counts.updated,
                 skipped=len(result.skipped))
    db.session.commit()
    fresh = GiftUploadForm(formdata=None)
    fresh.fill_choices(_competency_choices())
    return render_template("bank/gift.html", course=course, form=fresh, result=result,
                           filename=filename)


@blueprint.get("/bank/<slug>/export.gift")
@login_required
def gift_export(slug: str):
    course = _course_or_abort(slug)
    specs = [bank.spec_of(q) for q in bank.bank_questions(course, bank.BankFilters())
             if q.status != "retired"]
    text = gift.export_gift(specs, heading=f"Học vụ số — {course.slug}")
    return Response(text, mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{course.slug}.gift.txt"'})
