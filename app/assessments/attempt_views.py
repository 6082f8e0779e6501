"""Learner pages of an assessment: intro, attempt (page by page, autosave), submit, results,
the "Hồ sơ năng lực số" map, and the trainers' item analysis.

Every attempt URL answers 404 to anyone but the attempt's owner. No page of an open attempt
is rendered from anything but ``attempts.ShownItem``, which carries no correctness data.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from app.assessments import analysis, attempts, mastery
from app.assessments.models import Attempt
from app.courses import services as courses
from app.extensions import db
from app.writers import one_writer

blueprint = Blueprint("attempts", __name__, template_folder="templates")


def _course_and_assessment(slug: str):
    """The published course and its assessment, or 404."""
    found = courses.find_published(slug)
    if found is None:
        abort(404)
    course, version = found
    assessment = attempts.assessment_of(course.id)
    if assessment is None:
        abort(404)
    return course, version, assessment


def _own_attempt(attempt_id: int) -> Attempt:
    """The caller's own attempt; anyone else's id is simply not found."""
    attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id,
                                                      Attempt.user_id == current_user.id))
    if attempt is None:
        abort(404)
    return attempt


def _course_context(attempt: Attempt) -> dict:
    course = attempt.assessment.course
    version = courses.published_version(course.id)
    return {"course": course, "course_title": version.title if version else course.slug}


def _close_if_expired(attempt: Attempt) -> bool:
    """Auto-submit an attempt whose time ran out while the learner was away."""
    if attempts.finish_if_expired(attempt):
        db.session.commit()
        flash(_("Đã hết giờ làm bài. Bài làm đã được nộp tự động với các câu trả lời đã lưu."),
              "warning")
        return True
    return False


# --- Intro and start --------------------------------------------------------------------

def _render_intro(course, version, assessment, status: int = 200, refusal=None):
    history = attempts.user_attempts(current_user, assessment)
    current = next((a for a in history if a.status == "open"), None)
    if current is not None and _close_if_expired(current):
        current = None
    if refusal is None and current is None:
        refusal = attempts.start_refusal(history, assessment)
    return render_template(
        "attempts/intro.html", course=course, version=version, assessment=assessment,
        history=[a for a in history if a.status == "submitted"], current=current,
        refusal=refusal, question_count=attempts.planned_question_count(assessment),
    ), status


@blueprint.get("/courses/<slug>/assessment/")
@login_required
def intro(slug: str):
    return _render_intro(*_course_and_assessment(slug))


@blueprint.post("/courses/<slug>/assessment/start")
@login_required
def start(slug: str):
    course, version, assessment = _course_and_assessment(slug)
    try:
        attempt, created = attempts.start_attempt(current_user, assessment)
    except attempts.AttemptRefused as refusal:
        db.session.rollback()
        return _render_intro(course, version, assessment, 409, refusal)
    db.session.commit()
    if not created:
        flash(_("Bạn đang có một bài làm dở: tiếp tục với các câu trả lời đã lưu."), "info")
    return redirect(url_for("attempts.attempt_page", attempt_id=attempt.id,
                            page=_first_unanswered_page(attempt)))


def _first_unanswered_page(attempt: Attempt) -> int:
    blank = next((i.position for i in attempt.items if i.response is None), 1)
    return attempts.page_of(blank)


# --- Taking the attempt -----------------------------------------------------------------

def _render_page(attempt: Attempt, page: int, values=None, errors=None, status: int = 200):
    errors = errors or {}
    items = [attempts.shown_item(item, values, errors.get(item.position))
             for item in attempts.page_items(attempt, page)]
    answered = sum(1 for item in attempt.items if item.response is not None)
    return render_template(
        "attempts/attempt.html", attempt=attempt, items=items, page=page,
        pages=attempts.page_count(attempt), answered=answered, total=len(attempt.items),
        seconds_left=attempts.seconds_left(attempt), errors=errors, **_course_context(attempt),
    ), status


def _page_arg(attempt: Attempt, value) -> int:
    try:
        page = int(value)
    except (TypeError, ValueError):
        page = 1
    return min(max(page, 1), attempts.page_count(attempt))


@blueprint.get("/attempts/<int:attempt_id>/")
@login_required
def attempt_page(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.status != "open" or _close_if_expired(attempt):
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    return _render_page(attempt, _page_arg(attempt, request.args.get("page")))


@blueprint.post("/attempts/<int:attempt_id>/")
@login_required
def save_page(attempt_id: int):
    """Without JavaScript: save this page's answers, then go where the pressed button says."""
    attempt = _own_attempt(attempt_id)
    if attempt.status != "open" or _close_if_expired(attempt):
        flash(_("Bài làm này đã nộp; câu trả lời vừa gửi không được tính."), "warning")
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    page = _page_arg(attempt, request.form.get("page"))
    items = attempts.page_items(attempt, page)
    try:
        responses = attempts.parse_responses(items, request.form)
        attempts.save_answers(attempt, responses)
    except attempts.InvalidAnswers as exc:
        db.session.rollback()
        flash(_("Một số câu trả lời chưa hợp lệ, chưa có gì được lưu. Hãy sửa các câu được đánh dấu."),
              "error")
        return _render_page(attempt, page, request.form, exc.errors, 400)
    except attempts.AttemptClosed as exc:
        db.session.rollback()
        attempts.finish_if_expired(attempt)
        db.session.commit()
        flash(exc.message, "warning")
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    db.session.commit()
    flash(_("Đã lưu câu trả lời trang %(page)d.", page=page), "success")
    return redirect(_after_save(attempt, page, request.form.get("go", "next")))


def _after_save(attempt: Attempt, page: int, go: str) -> str:
    pages = attempts.page_count(attempt)
    if go == "prev":
        target = page - 1
    elif go.isdigit():
        target = int(go)
    elif go == "review" or page >= pages:
        return url_for("attempts.confirm_submit", attempt_id=attempt.id)
    else:
        target = page + 1
    target = min(max(target, 1), pages)
    return url_for("attempts.attempt_page", attempt_id=attempt.id, page=target)


@blueprint.post("/attempts/<int:attempt_id>/answer")
@login_required
@one_writer
def autosave(attempt_id: int):
    """With JavaScript: save one question's answer as soon as it changes (JSON reply).

    The hottest request of a test: the attempt is not loaded, only its state and the one
    question answered (attempts.autosave_answer)."""
    position = request.form.get("position", type=int)
    try:
        if not attempts.autosave_answer(attempt_id, current_user.id, position, request.form):
            abort(404)
    except LookupError:
        db.session.rollback()
        return jsonify(ok=False, message=_("Câu hỏi này không có trong bài làm.")), 400
    except ValueError as exc:
        db.session.rollback()
        return jsonify(ok=False, message=_("Câu %(n)d: %(reason)s", n=position, reason=exc)), 400
    except attempts.AttemptClosed as exc:
        db.session.rollback()
        attempts.finish_if_expired(_own_attempt(attempt_id))
        db.session.commit()
        return jsonify(ok=False, message=exc.message,
                       next=url_for("attempts.result", attempt_id=attempt_id)), 409
    db.session.commit()
    return jsonify(ok=True, message=_("Đã lưu lúc %(time)s", time=format_datetime(None, "HH:mm:ss")))


# --- Submitting -------------------------------------------------------------------------

@blueprint.get("/attempts/<int:attempt_id>/submit")
@login_required
def confirm_submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.status != "open" or _close_if_expired(attempt):
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    blank = [item.position for item in attempt.items if item.response is None]
    return render_template("attempts/confirm.html", attempt=attempt, blank=blank,
                           total=len(attempt.items), page_of=attempts.page_of,
                           seconds_left=attempts.seconds_left(attempt),
                           **_course_context(attempt))


@blueprint.post("/attempts/<int:attempt_id>/submit")
@login_required
@one_writer(across_processes=True)  # scoring runs inside its write transaction
def submit(attempt_id: int):
    """Idempotent: a second click, a replay or another tab lands on the same result."""
    submitted = attempts.submit_own(attempt_id, current_user.id)
    if submitted is None:
        _own_attempt(attempt_id)  # a repeat of one's own submission; anyone else's: 404
    else:
        flash(_("Đã nộp bài."), "success")
        _congratulate_if_completed(submitted.record)
    db.session.commit()
    return redirect(url_for("attempts.result", attempt_id=attempt_id))


def _congratulate_if_completed(record) -> None:
    """A passing submission that completed the course links to the new certificate."""
    from app.records.rules import created_now

    if created_now(record):
        flash(Markup('{} <a href="{}">{}</a>').format(
            _("Chúc mừng! Bạn đã hoàn thành khóa học “%(title)s”.", title=record.course_title),
            url_for("records.certificate", code=record.verification_code),
            _("Xem chứng nhận")), "success")


# --- Results ----------------------------------------------------------------------------

@blueprint.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.status == "open" and not _close_if_expired(attempt):
        return redirect(url_for("attempts.attempt_page", attempt_id=attempt.id))
    show = attempts.answers_visible(attempt, attempts.has_passed(current_user, attempt.assessment))
    labels = mastery.competency_labels(str(get_locale()))
    bars = [(code, labels.get(code, ""), percent)
            for code, percent in sorted((attempt.competency_scores or {}).items())]
    reviewed = [attempts.reviewed_item(item) for item in attempt.items] if show else []
    return render_template("attempts/result.html", attempt=attempt, bars=bars, show=show,
                           reviewed=reviewed, **_course_context(attempt))


# --- Competency map ---------------------------------------------------------------------

@blueprint.get("/me/competencies")
@login_required
def competencies():
    groups = mastery.learner_map(current_user, str(get_locale()))
    return render_template("attempts/competencies.html", groups=groups,
                           percent=mastery.MASTERY_PERCENT, min_items=mastery.MASTERY_MIN_ITEMS)


# --- Item analysis for trainers ---------------------------------------------------------

@blueprint.get("/courses/<slug>/assessment/analysis")
@login_required
def item_analysis(slug: str):
    course, version, assessment = _course_and_assessment(slug)
    if not analysis.may_analyse(current_user, course):
        abort(403)
    report = analysis.item_analysis(assessment)
    return render_template("attempts/analysis.html", course=course, version=version,
                           assessment=assessment, report=report)
