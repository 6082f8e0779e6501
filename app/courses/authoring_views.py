"""Trainer authoring pages under /author: thin views over app.courses.authoring.

Every URL here sends anonymous visitors to the login page and answers 403 to anyone without
the "courses.author" role before anything is looked up; a course outside the trainer's
units is 404. Edit forms carry the draft's revision: a stale save is answered 409 with the
trainer's text still in the form.
"""

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
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import can
from app.courses import authoring
from app.courses.content import AUDIENCES, MEDIA_MAX_BYTES
from app.courses.forms import CourseEditForm, LessonForm, MediaForm, NewCourseForm, RevisionForm
from app.courses.models import Lesson
from app.extensions import db
from app.labels import audience_label, topic_label

blueprint = Blueprint("authoring", __name__, url_prefix="/author", template_folder="templates")


@blueprint.before_request
def _authors_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not can(current_user, "courses.author"):
        abort(403)
    return None


@blueprint.after_request
def _private(response):
    """Drafts are work in progress: never cached, so Back never shows a stale revision."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.context_processor
def _helpers() -> dict:
    return {"topic_label": topic_label, "audience_label": audience_label}


@blueprint.errorhandler(authoring.VersionPublished)
def _published(exc: authoring.VersionPublished):
    db.session.rollback()
    return render_template("authoring/published.html", version=exc.version,
                           message=exc.message), 409


def _refuse(exc: authoring.AuthoringError, form=None, typed: bool = True):
    """Roll back whatever the refused save began; put the reasons on the form.

    ``typed`` says whether the form held text the trainer wrote (and gets back)."""
    db.session.rollback()
    if form is not None:
        form.add_errors(exc.errors)
    if isinstance(exc, authoring.EditConflict) and not typed:
        return authoring.EditConflict.action_message(), exc.status
    return exc.message, exc.status


def _draft_for_get(version):
    if request.method == "GET":
        authoring.ensure_draft(version)
    return version


# --- Courses ------------------------------------------------------------------------------

@blueprint.get("/")
def index():
    return render_template("authoring/index.html", rows=authoring.courses_for(current_user))


def _course_form(form):
    form.fill_choices(authoring.unit_choices(current_user), authoring.framework_competencies())
    return form


@blueprint.route("/courses/new", methods=["GET", "POST"])
def new_course():
    form = _course_form(NewCourseForm())
    if request.method == "GET":
        form.audiences.data = list(AUDIENCES)
        form.topic.data = "other"
        return render_template("authoring/course_new.html", form=form)
    message, status = None, 422
    try:
        course = authoring.create_course(current_user, form.slug.data, form.fields())
        db.session.commit()
    except authoring.AuthoringError as exc:
        message, status = _refuse(exc, form)
    except IntegrityError:  # another trainer took the slug a moment ago
        db.session.rollback()
        form.add_errors({"slug": _("Đường dẫn này vừa có khóa học khác dùng; hãy chọn tên khác.")})
    else:
        flash(_("Đã tạo khóa học “%(title)s”. Hãy thêm bài học.", title=form.title.data.strip()),
              "success")
        return redirect(url_for(".draft", version_id=course.versions[0].id))
    return render_template("authoring/course_new.html", form=form, message=message), status


@blueprint.get("/courses/<int:course_id>/")
def course(course_id: int):
    course = authoring.get_course_or_404(current_user, course_id)
    history = authoring.version_history(course)
    draft = history[0] if history and history[0].status == "draft" else None
    published = next((v for v in history if v.status == "published"), None)
    return render_template("authoring/course.html", course=course, history=history,
                           draft=draft, published=published, latest=history[0])


@blueprint.post("/courses/<int:course_id>/draft")
def start_draft(course_id: int):
    """Open the draft, creating it from the published version when there is none."""
    course = authoring.get_course_or_404(current_user, course_id)
    try:
        version = authoring.start_draft(current_user, course)
        db.session.commit()
    except IntegrityError:  # a colleague started the same new draft at the same moment
        db.session.rollback()
        version = authoring.current_draft(course) or abort(409)
    return redirect(url_for(".draft", version_id=version.id))


@blueprint.post("/courses/<int:course_id>/archive")
def archive(course_id: int):
    course = authoring.get_course_or_404(current_user, course_id)
    if authoring.set_archived(current_user, course, True):
        flash(_("Đã lưu trữ khóa học: khóa học không còn hiện trong danh mục. Tiến độ của học "
                "viên vẫn được giữ."), "success")
    db.session.commit()
    return redirect(url_for(".course", course_id=course.id))


@blueprint.post("/courses/<int:course_id>/unarchive")
def unarchive(course_id: int):
    course = authoring.get_course_or_404(current_user, course_id)
    if authoring.set_archived(current_user, course, False):
        flash(_("Khóa học đã hiện lại trong danh mục."), "success")
    db.session.commit()
    return redirect(url_for(".course", course_id=course.id))


# --- The draft ----------------------------------------------------------------------------

def _draft_page(version, message=None, status: int = 200):
    return render_template(
        "authoring/draft.html", version=version, course=version.course,
        lessons=sorted(version.lessons, key=lambda ls: ls.position),
        problems=authoring.draft_problems(version), message=message), status


@blueprint.get("/versions/<int:version_id>/")
def draft(version_id: int):
    version = authoring.ensure_draft(authoring.get_version_or_404(current_user, version_id))
    return _draft_page(version)


@blueprint.route("/versions/<int:version_id>/edit", methods=["GET", "POST"])
def edit_course(version_id: int):
    version = _draft_for_get(authoring.get_version_or_404(current_user, version_id))
    form = CourseEditForm.for_version(version) if request.method == "GET" else CourseEditForm()
    _course_form(form)
    preview, message, status = None, None, 200
    if request.method == "POST" and version.status != "draft":
        message, status = authoring.VersionPublished(version).message, 409
    elif request.method == "POST" and form.preview.data:
        preview = authoring.preview(version, form.intro.data)
    elif request.method == "POST":
        try:
            authoring.update_course(current_user, version, form.revision.data, form.fields())
            db.session.commit()
        except authoring.AuthoringError as exc:
            message, status = _refuse(exc, form)
            form.revision.data = str(version.revision)
        else:
            flash(_("Đã lưu thông tin khóa học vào bản nháp."), "success")
            return redirect(url_for(".draft", version_id=version.id))
    return render_template("authoring/course_edit.html", form=form, version=version,
                           course=version.course, preview=preview, message=message,
                           conflict=status == 409), status


@blueprint.route("/versions/<int:version_id>/lessons/new", methods=["GET", "POST"])
def new_lesson(version_id: int):
    version = _draft_for_get(authoring.get_version_or_404(current_user, version_id))
    form = LessonForm()
    if request.method == "GET":
        form.revision.data = str(version.revision)
    return _lesson_editor(version, form, None)


@blueprint.route("/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
def edit_lesson(lesson_id: int):
    lesson = authoring.get_lesson_or_404(current_user, lesson_id)
    version = _draft_for_get(lesson.version)
    if request.method == "GET":
        return _lesson_editor(version, LessonForm.for_lesson(lesson, version.revision), lesson)
    return _lesson_editor(version, LessonForm(), lesson)


def _lesson_editor(version, form: LessonForm, lesson: Lesson | None):
    """One editor for new and existing lessons: preview, save, or explain the refusal."""
    preview, message, status = None, None, 200
    if request.method == "POST" and version.status != "draft":
        message, status = authoring.VersionPublished(version).message, 409
    elif request.method == "POST" and form.preview.data:
        preview = authoring.preview(version, form.body.data)
    elif request.method == "POST":
        try:
            if lesson is None:
                lesson = authoring.add_lesson(current_user, version, form.revision.data,
                                              form.fields())
            else:
                authoring.update_lesson(current_user, lesson, form.revision.data, form.fields())
            db.session.commit()
        except authoring.AuthoringError as exc:
            message, status = _refuse(exc, form)
            form.revision.data = str(version.revision)
        else:
            flash(_("Đã lưu bài “%(title)s” vào bản nháp.", title=lesson.title), "success")
            return redirect(url_for(".edit_lesson", lesson_id=lesson.id))
    return render_template(
        "authoring/lesson_edit.html", form=form, version=version, course=version.course,
        lesson=lesson, preview=preview, message=message, conflict=status == 409,
        media=sorted((version.media or {}).items())), status


@blueprint.route("/lessons/<int:lesson_id>/delete", methods=["GET", "POST"])
def delete_lesson(lesson_id: int):
    lesson = authoring.get_lesson_or_404(current_user, lesson_id)
    version = _draft_for_get(lesson.version)
    form = RevisionForm()
    if request.method == "GET":
        form.revision.data = str(version.revision)
        return render_template("authoring/lesson_delete.html", lesson=lesson, version=version,
                               course=version.course, form=form)
    title = lesson.title
    try:
        authoring.delete_lesson(current_user, lesson, form.revision.data)
        db.session.commit()
    except authoring.AuthoringError as exc:
        message, status = _refuse(exc, typed=False)
        return _draft_page(version, message, status)
    flash(_("Đã xóa bài “%(title)s” khỏi bản nháp.", title=title), "success")
    return redirect(url_for(".draft", version_id=version.id))


@blueprint.post("/lessons/<int:lesson_id>/move")
def move_lesson(lesson_id: int):
    lesson = authoring.get_lesson_or_404(current_user, lesson_id)
    version = lesson.version
    try:
        authoring.move_lesson(current_user, lesson, request.form.get("revision"),
                              request.form.get("direction", ""))
        db.session.commit()
    except authoring.AuthoringError as exc:
        message, status = _refuse(exc, typed=False)
        return _draft_page(version, message, status)
    return redirect(url_for(".draft", version_id=version.id) + f"#bai-{lesson.id}")


@blueprint.route("/versions/<int:version_id>/media", methods=["GET", "POST"])
def media(version_id: int):
    version = _draft_for_get(authoring.get_version_or_404(current_user, version_id))
    form = MediaForm()
    message, status = None, 200
    if request.method == "GET":
        form.revision.data = str(version.revision)
    else:
        upload = form.file.data
        try:
            if upload is None or not upload.filename:
                raise authoring.MediaRefused(_("Chọn một ảnh để tải lên."), 422)
            name = authoring.add_media(current_user, version, form.revision.data,
                                       upload.filename, upload.read(MEDIA_MAX_BYTES + 1))
            db.session.commit()
        except authoring.AuthoringError as exc:
            message, status = _refuse(exc, form, typed=False)
            form.revision.data = str(version.revision)
        else:
            flash(_("Đã tải ảnh lên. Chép dòng sau vào bài học: ![mô tả](%(name)s)", name=name),
                  "success")
            return redirect(url_for(".media", version_id=version.id))
    used = set(authoring.lesson_media(version))
    return render_template("authoring/media.html", version=version, course=version.course,
                           form=form, message=message, used=used,
                           media=sorted((version.media or {}).items())), status


@blueprint.route("/versions/<int:version_id>/publish", methods=["GET", "POST"])
def publish(version_id: int):
    version = authoring.get_version_or_404(current_user, version_id)
    if request.method == "POST" and version.status == "published":
        return _already_published(version)  # a second click on "Xuất bản"
    authoring.ensure_draft(version)
    form = RevisionForm()
    problems, message, status = None, None, 200
    if request.method == "GET":
        form.revision.data = str(version.revision)
    else:
        try:
            authoring.publish_draft(current_user, version, form.revision.data)
            db.session.commit()
        except authoring.VersionPublished:
            db.session.rollback()
            return _already_published(version)
        except authoring.PublishRefused as exc:
            message, status = _refuse(exc)
            problems = exc.problems
        except authoring.AuthoringError as exc:
            message, status = _refuse(exc, typed=False)
            form.revision.data = str(version.revision)
        else:
            flash(_("Đã xuất bản phiên bản %(n)s. Học viên thấy nội dung mới ngay bây giờ.",
                    n=version.number), "success")
            return redirect(url_for(".course", course_id=version.course_id))
    return render_template(
        "authoring/publish.html", version=version, course=version.course, form=form,
        problems=problems if problems is not None else authoring.draft_problems(version),
        changes=authoring.progress_changes(version), message=message), status


def _already_published(version):
    flash(_("Phiên bản %(n)s đã được xuất bản rồi.", n=version.number), "info")
    return redirect(url_for(".course", course_id=version.course_id))


@blueprint.post("/versions/<int:version_id>/discard")
def discard(version_id: int):
    version = authoring.get_version_or_404(current_user, version_id)
    course_id = version.course_id
    try:
        authoring.discard_draft(current_user, version, request.form.get("revision"))
        db.session.commit()
    except authoring.VersionPublished:
        raise
    except authoring.AuthoringError as exc:
        message, status = _refuse(exc, typed=False)
        return _draft_page(version, message, status)
    flash(_("Đã bỏ bản nháp. Học viên vẫn học phiên bản đang xuất bản."), "success")
    return redirect(url_for(".course", course_id=course_id))
