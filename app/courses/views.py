"""Learner pages: catalog, course, lesson reader, progress; and the media files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app.courses import services
from app.extensions import db
from app.labels import topic_label
from app.main.rendered import page_key, render_shared
from app.records.rules import created_now, record_completion_if_due

blueprint = Blueprint("courses", __name__, template_folder="templates")

MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|gif|webp)$")


@blueprint.get("/courses/")
def catalog():
    return render_template("courses/catalog.html", cards=services.course_cards(current_user),
                           topic_label=topic_label)


@blueprint.get("/courses/<slug>/")
def course(slug: str):
    found = services.find_published(slug)
    if found is None:
        abort(404)
    course, version = found
    states = services.lesson_states(version, current_user)
    next_lesson = next((s for s in states if not s.is_done), None)
    assessment, last_attempt, may_analyse = _assessment_status(course)
    return render_template("courses/course.html", course=course, version=version, states=states,
                           percent=services.percent_done(states), next_lesson=next_lesson,
                           topic_label=topic_label, assessment=assessment,
                           last_attempt=last_attempt, may_analyse=may_analyse)


def _assessment_status(course):
    """The course's assessment, the learner's latest attempt at it, and whether the user may
    see its item analysis (a trainer of the course)."""
    from app.assessments.analysis import may_analyse
    from app.assessments.attempts import assessment_of, latest_attempt

    assessment = assessment_of(course.id)
    if assessment is None or not current_user.is_authenticated:
        return assessment, None, False
    return (assessment, latest_attempt(current_user, assessment),
            may_analyse(current_user, course))


@blueprint.get("/courses/<slug>/lessons/<lesson_slug>")
def lesson(slug: str, lesson_slug: str):
    page = services.reader_lesson(slug, lesson_slug, current_user)
    if page is None:
        abort(404)
    states = page.states
    etag = _lesson_etag(page.html_hash, states)
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        index = next(i for i, s in enumerate(states) if s.slug == page.slug)
        # The same for everyone with the same done mark (and menu, language): rendered once.
        # A published version never changes, so its id names its titles and lesson list.
        key = page_key(page.version_id, page.html_hash, states[index].is_done)
        response = current_app.make_response(render_shared(
            key, "courses/lesson.html", page=page, state=states[index],
            number=index + 1, previous=states[index - 1] if index > 0 else None,
            following=states[index + 1] if index + 1 < len(states) else None))
    response.set_etag(etag)
    if page.published_at is not None:
        response.last_modified = page.published_at
    # Personal (done marks), so only the browser may keep it, and must ask again each time.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def _lesson_etag(html_hash: str, states) -> str:
    """Changes when the lesson, the learner's marks, the learner or the language change."""
    marks = "".join("1" if s.is_done else "0" for s in states)
    user = current_user.get_id() or "-"
    raw = f"{html_hash}|{marks}|{user}|{get_locale()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@blueprint.post("/courses/<slug>/lessons/<lesson_slug>/done")
@login_required
def mark_done(slug: str, lesson_slug: str):
    found = services.find_published_lesson(slug, lesson_slug)
    if found is None:
        abort(404)
    course, version, lesson = found
    if services.mark_lesson_done(current_user, course, version, lesson.slug):
        flash(_("Đã ghi nhận: bạn học xong bài “%(title)s”.", title=lesson.title), "success")
        record = record_completion_if_due(current_user, course)
        if created_now(record):
            flash(Markup('{} <a href="{}">{}</a>').format(
                _("Chúc mừng! Bạn đã hoàn thành khóa học “%(title)s”.", title=record.course_title),
                url_for("records.certificate", code=record.verification_code),
                _("Xem chứng nhận")), "success")
    db.session.commit()
    states = services.lesson_states(version, current_user)
    following = next((s for s in states if s.position > lesson.position), None)
    if following is not None:
        return redirect(url_for("courses.lesson", slug=slug, lesson_slug=following.slug))
    return redirect(url_for("courses.course", slug=slug))


@blueprint.get("/media/<name>")
def media(name: str):
    """Content-addressed files: the name changes when the bytes do, so cache for a year."""
    if not MEDIA_NAME.match(name):
        abort(404)
    directory = Path(current_app.config["UPLOAD_DIR"]) / "media"
    response = send_from_directory(directory, name, max_age=31536000)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
