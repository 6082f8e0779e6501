"""Trainer authoring in the browser: courses, drafts, lessons, images, publishing, archiving.

Who may edit: a course with a unit is editable by trainers and admins holding "courses.author"
on that unit or above it; a shared course (``unit_id`` None, the province-level courses that
content import creates) only by those holding it on a root unit (depth 0), because a shared
course reaches every learner of the province.

A published version never changes: editing one starts a new draft that copies it. Every change
to a draft first claims the draft's ``revision`` with a guarded UPDATE (``WHERE id = :id AND
revision = :rev AND status = 'draft'``), so of two saves based on the same revision exactly one
wins and the other is refused, never silently overwritten (optimistic locking).

The draft is kept in the file format's terms (content/README.md): lesson links are written
``NN-slug.md``, images ``media/name.png``, and the content hash comes from the same
``CourseSource`` that file import builds, so an exported course re-imports unchanged.
Services add and flush; the view that called them commits once.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import record_audit
from app.auth.permissions import can, scope_clause, top_units
from app.courses import services
from app.courses.content import _REFERENCE as REFERENCE
from app.courses.content import (
    AUDIENCES,
    LESSON_LINK,
    MEDIA_MAX_BYTES,
    SLUG,
    TOPICS,
    ContentInvalid,
    CourseSource,
    LessonSource,
    _references,
    load_course,
)
from app.courses.models import Course, CourseVersion, Lesson
from app.extensions import db
from app.markdown import html_digest, render_markdown, slugify_heading
from app.models_base import utcnow
from app.orgs.models import Unit
from app.text import nfc

MAX_LESSONS = 99  # lesson files are numbered with two digits (NN-slug.md)
MAX_TITLE = 200
MAX_SUMMARY = 1000
MAX_BODY = 60_000  # characters; a lesson page must stay light on a phone
LESSON_SLUG_MAX = 80
# Image types by their first bytes; the extension a file is stored under follows its content.
IMAGE_MAGIC = (
    ("png", (b"\x89PNG\r\n\x1a\n",)),
    ("jpg", (b"\xff\xd8\xff",)),
    ("gif", (b"GIF87a", b"GIF89a")),
)
IMAGE_EXTENSIONS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "gif": "gif", "webp": "webp"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- Errors ---------------------------------------------------------------------------

class AuthoringError(Exception):
    """A refused change; ``message`` is safe to show, ``errors`` maps form fields to reasons."""

    status = 422

    def __init__(self, message=None, errors: dict | None = None):
        super().__init__(str(message or ""))
        self.message = message
        self.errors = errors or {}


class EditConflict(AuthoringError):
    """The draft was saved by someone else (or another tab) since this form was loaded."""

    status = 409

    def __init__(self):
        super().__init__(_l(
            "Chưa lưu: người khác (hoặc bạn ở một thẻ khác) vừa lưu một phiên bản mới hơn "
            "của bản nháp này. Nội dung bạn nhập vẫn còn nguyên bên dưới; hãy xem bản đang lưu, "
            "gộp các thay đổi rồi bấm lưu lại."))

    @staticmethod
    def action_message():
        """For buttons that carry no typed text (move, delete, upload, publish)."""
        return _l("Chưa thực hiện: người khác (hoặc bạn ở một thẻ khác) vừa lưu một phiên bản "
                  "mới hơn của bản nháp này. Trang dưới đây là bản mới nhất; hãy xem lại rồi "
                  "làm lại thao tác.")


class VersionPublished(AuthoringError):
    """A published version is immutable: edits by URL are refused."""

    status = 409

    def __init__(self, version: CourseVersion):
        super().__init__(_l(
            "Phiên bản %(number)s đã được xuất bản nên không bao giờ thay đổi nữa. "
            "Muốn sửa, hãy bắt đầu một bản nháp mới từ trang khóa học.", number=version.number))
        self.version = version


class MediaRefused(AuthoringError):
    """An upload that is not an image we accept; ``status`` says which 4xx fits."""

    def __init__(self, message, status: int = 415):
        super().__init__(message, {"file": message})
        self.status = status


class PublishRefused(AuthoringError):
    """The draft cannot become a published version yet; ``problems`` says why."""

    def __init__(self, problems: list):
        super().__init__(_l("Chưa xuất bản được: hãy sửa các vấn đề được liệt kê."))
        self.problems = problems


# --- Who may edit what ---------------------------------------------------------------

def may_author_shared(user) -> bool:
    """Shared (province-level) courses: only authors whose grant is on a root unit."""
    return any(unit.depth == 0 for unit in top_units(user, "courses.author"))


def may_author(user, course: Course) -> bool:
    """The per-object question; ``authorable_clause`` asks the same one in SQL."""
    if course.unit_id is None:
        return may_author_shared(user)
    unit = db.session.get(Unit, course.unit_id)
    return unit is not None and can(user, "courses.author", unit)


def authorable_clause(user):
    """SQL condition on (Course outer-joined to Unit): courses ``user`` may edit."""
    shared = Course.unit_id.is_(None) if may_author_shared(user) else false()
    return or_(shared, and_(Course.unit_id.is_not(None),
                            scope_clause(user, "courses.author", Unit.path)))


def get_course_or_404(user, course_id: int) -> Course:
    """A course the user may edit; anyone else's course is simply not found."""
    course = db.session.scalar(
        select(Course).outerjoin(Unit, Unit.id == Course.unit_id)
        .where(Course.id == course_id, authorable_clause(user)))
    if course is None:
        abort(404)
    return course


def get_version_or_404(user, version_id: int) -> CourseVersion:
    version = db.session.get(CourseVersion, version_id)
    if version is None or not may_author(user, version.course):
        abort(404)
    return version


def get_lesson_or_404(user, lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not may_author(user, lesson.version.course):
        abort(404)
    return lesson


def ensure_draft(version: CourseVersion) -> CourseVersion:
    if version.status != "draft":
        raise VersionPublished(version)
    return version


def unit_choices(user) -> list[tuple[str, str]]:
    """(code, label) of the units a course may belong to; "" is the shared, province level."""
    tops = top_units(user, "courses.author")
    top_paths = [u.path for u in tops]
    units = db.session.scalars(
        select(Unit).where(scope_clause(user, "courses.author", Unit.path),
                           or_(Unit.kind != "team", Unit.path.in_(top_paths)))
        .order_by(Unit.path)).all()
    shallowest = min((u.depth for u in units), default=0)
    choices = [("", str(_l("Dùng chung toàn tỉnh")))] if may_author_shared(user) else []
    return choices + [(u.code, "— " * (u.depth - shallowest) + u.full_name) for u in units]


# --- The list of courses ---------------------------------------------------------------

@dataclass
class AuthorCourse:
    course: Course
    latest: CourseVersion
    published_number: int | None
    unit: Unit | None

    @property
    def has_draft(self) -> bool:
        return self.latest.status == "draft"


def courses_for(user) -> list[AuthorCourse]:
    """Every course ``user`` may edit with its latest version and newest published number."""
    latest = (select(CourseVersion.course_id, func.max(CourseVersion.number).label("number"))
              .group_by(CourseVersion.course_id).subquery())
    published = (select(CourseVersion.course_id, func.max(CourseVersion.number).label("number"))
                 .where(CourseVersion.status == "published")
                 .group_by(CourseVersion.course_id).subquery())
    stmt = (select(Course, CourseVersion, published.c.number, Unit)
            .join(latest, latest.c.course_id == Course.id)
            .join(CourseVersion, and_(CourseVersion.course_id == Course.id,
                                      CourseVersion.number == latest.c.number))
            .outerjoin(published, published.c.course_id == Course.id)
            .outerjoin(Unit, Unit.id == Course.unit_id)
            .where(authorable_clause(user))
            .order_by(Course.is_archived, CourseVersion.title, Course.id))
    return [AuthorCourse(*row) for row in db.session.execute(stmt)]


def version_history(course: Course) -> list[CourseVersion]:
    """Newest first, with who created and who published each one."""
    return list(db.session.scalars(
        select(CourseVersion).where(CourseVersion.course_id == course.id)
        .options(selectinload(CourseVersion.created_by), selectinload(CourseVersion.published_by))
        .order_by(CourseVersion.number.desc())))


def current_draft(course: Course) -> CourseVersion | None:
    latest = services.latest_version(course)
    return latest if latest is not None and latest.status == "draft" else None


# --- The framework's competencies --------------------------------------------------------

@dataclass(frozen=True)
class FrameworkCompetency:
    code: str
    label_vi: str
    label_en: str


def content_dir() -> Path:
    configured = current_app.config.get("CONTENT_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "content"


@lru_cache(maxsize=4)
def _read_framework(path: str, _mtime: float) -> tuple[FrameworkCompetency, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return tuple(FrameworkCompetency(str(c["code"]), str(c.get("label_vi") or ""),
                                     str(c.get("label_en") or c.get("label_vi") or ""))
                 for g in data.get("groups", []) for c in g.get("competencies", []))


def framework_competencies() -> tuple[FrameworkCompetency, ...]:
    """The competencies a course may name: the framework file, re-read when it changes."""
    path = content_dir() / services.FRAMEWORK_FILE
    try:
        return _read_framework(str(path), path.stat().st_mtime)
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        current_app.logger.exception("framework file %s unreadable", path)
        return ()


# --- Input ---------------------------------------------------------------------------------

@dataclass
class CourseFields:
    """What a trainer typed for a course; the service checks every value."""

    title: str = ""
    summary: str = ""
    topic: str = "other"
    audiences: list[str] | None = None
    competencies: list[str] | None = None
    est_minutes: str = ""
    unit_code: str = ""
    intro: str | None = None  # None on creation: the introduction starts empty


@dataclass
class LessonFields:
    title: str = ""
    est_minutes: str = ""
    body: str = ""


def normalize_markdown(text: str | None) -> str:
    """The body exactly as a file import reads it back: NFC, \\n line ends, one final newline."""
    text = unicodedata.normalize("NFC", str(text or ""))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip("\n") + "\n"


def _minutes(raw, errors: dict, field: str = "est_minutes") -> int:
    value = str(raw if raw is not None else "").strip()
    if not value:
        return 0
    if not value.isdigit() or not 0 <= int(value) <= 1000:
        errors[field] = _l("Thời lượng là số phút, từ 0 đến 1000.")
        return 0
    return int(value)


def _title(raw, errors: dict, empty_message) -> str:
    title = nfc(_CONTROL.sub("", str(raw or "")))
    if not title:
        errors["title"] = empty_message
    elif len(title) > MAX_TITLE:
        errors["title"] = _l("Tên dài quá %(n)s ký tự.", n=MAX_TITLE)
    return title


def _keep_order(chosen: list[str], allowed: list[str], previous: list[str]) -> list[str]:
    """Chosen codes in their previous order, new ones after in the framework's order, so
    saving an unchanged form never changes the content hash."""
    kept = [c for c in previous if c in chosen]
    return kept + [c for c in allowed if c in chosen and c not in kept]


def _clean_course(user, fields: CourseFields, version: CourseVersion | None) -> tuple[dict, dict]:
    """(values, errors) for a course form; nothing is written here."""
    course = version.course if version is not None else None
    errors: dict = {}
    values: dict = {"title": _title(fields.title, errors, _l("Nhập tên khóa học."))}
    values["summary"] = nfc(_CONTROL.sub("", fields.summary or ""))
    if len(values["summary"]) > MAX_SUMMARY:
        errors["summary"] = _l("Tóm tắt dài quá %(n)s ký tự.", n=MAX_SUMMARY)
    values["topic"] = fields.topic or "other"
    if values["topic"] not in TOPICS:
        errors["topic"] = _l("Chọn chủ đề trong danh sách.")
    audiences = list(dict.fromkeys(fields.audiences or []))
    if not audiences:
        errors["audiences"] = _l("Chọn ít nhất một đối tượng học viên.")
    elif any(a not in AUDIENCES for a in audiences):
        errors["audiences"] = _l("Chọn đối tượng trong danh sách.")
    values["audiences"] = _keep_order(audiences, list(AUDIENCES),
                                      list(version.audiences or []) if version else [])
    known = [c.code for c in framework_competencies()]
    chosen = list(dict.fromkeys(fields.competencies or []))
    unknown = [c for c in chosen if c not in known]
    if unknown:
        errors["competencies"] = _l("Mã năng lực %(codes)s không có trong khung 757.",
                                    codes=", ".join(unknown))
    values["competencies"] = _keep_order(chosen, known,
                                         list(version.competencies or []) if version else [])
    values["est_minutes"] = _minutes(fields.est_minutes, errors)
    values["unit"] = _clean_unit(user, fields.unit_code, course, errors)
    if fields.intro is not None:
        values["intro"] = normalize_markdown(fields.intro)
        if len(values["intro"]) > MAX_BODY:
            errors["intro"] = _l("Lời giới thiệu dài quá %(n)s ký tự.", n=MAX_BODY)
    return values, errors


def _clean_unit(user, code: str | None, course: Course | None, errors: dict) -> Unit | None:
    code = (code or "").strip()
    if course is not None and code == _unit_code(course):
        return db.session.get(Unit, course.unit_id) if course.unit_id else None  # unchanged
    if not code:
        if not may_author_shared(user):
            errors["unit_code"] = _l("Chỉ giảng viên cấp tỉnh tạo được khóa học dùng chung; "
                                     "hãy chọn đơn vị của bạn.")
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not can(user, "courses.author", unit):
        errors["unit_code"] = _l("Chọn đơn vị trong danh sách: bạn chỉ soạn bài cho đơn vị "
                                 "mình phụ trách.")
    return unit


def _unit_code(course: Course) -> str:
    if course.unit_id is None:
        return ""
    unit = db.session.get(Unit, course.unit_id)
    return unit.code if unit else ""


def course_fields_of(version: CourseVersion) -> CourseFields:
    """The form's starting values for a draft."""
    return CourseFields(title=version.title, summary=version.summary, topic=version.topic,
                        audiences=list(version.audiences or []),
                        competencies=list(version.competencies or []),
                        est_minutes=str(version.est_minutes or ""),
                        unit_code=_unit_code(version.course), intro=version.intro_md)


def clean_slug(raw: str | None, title: str) -> str:
    """The course's URL name: what was typed, or one made from the title when left empty."""
    slug = (raw or "").strip().lower()
    if not slug:
        slug = slugify_heading(title)[:80].strip("-")
    return slug


# --- Creating and copying ------------------------------------------------------------------

def create_course(user, slug: str, fields: CourseFields) -> Course:
    """A new course with an empty draft, version 1."""
    values, errors = _clean_course(user, fields, None)
    slug = clean_slug(slug, values["title"])
    if not SLUG.match(slug):
        errors["slug"] = _l("Đường dẫn chỉ gồm chữ thường không dấu, số và dấu -, tối đa 80 "
                            "ký tự (ví dụ: an-toan-so). Gợi ý: %(hint)s",
                            hint=slugify_heading(slug)[:80].strip("-"))
    elif db.session.scalar(select(Course.id).where(Course.slug == slug)):
        errors["slug"] = _l("Đường dẫn “%(slug)s” đã có khóa học khác dùng; hãy chọn tên khác.",
                            slug=slug)
    if errors:
        raise AuthoringError(_l("Chưa tạo được khóa học."), errors)
    course = Course(slug=slug, unit_id=values["unit"].id if values["unit"] else None)
    db.session.add(course)
    db.session.flush()
    version = CourseVersion(course_id=course.id, number=1, status="draft", sources=[], media={},
                            intro_md="\n", created_by_id=user.id, revision=1, content_hash="")
    version.course = course
    _apply_course_values(version, values)
    db.session.add(version)
    refresh_draft(version)
    db.session.flush()
    record_audit("course.create", actor=user, target=f"course:{slug}")
    return course


def start_draft(user, course: Course) -> CourseVersion:
    """The course's draft: the open one, or a new copy of the latest published version."""
    latest = services.latest_version(course)
    if latest.status == "draft":
        return latest
    draft = CourseVersion(
        course_id=course.id, number=latest.number + 1, status="draft", title=latest.title,
        summary=latest.summary, topic=latest.topic, audiences=list(latest.audiences or []),
        competencies=list(latest.competencies or []), est_minutes=latest.est_minutes,
        sources=[dict(s) for s in latest.sources or []], media=dict(latest.media or {}),
        intro_md=latest.intro_md, intro_html=latest.intro_html,
        content_hash=latest.content_hash, created_by_id=user.id, revision=1)
    draft.course = course
    db.session.add(draft)
    for lesson in latest.lessons:
        draft.lessons.append(Lesson(position=lesson.position, slug=lesson.slug,
                                    title=lesson.title, est_minutes=lesson.est_minutes,
                                    body_md=lesson.body_md, body_html=lesson.body_html,
                                    html_hash=lesson.html_hash))
    db.session.flush()
    return draft


def discard_draft(user, version: CourseVersion, revision: int) -> None:
    """Throw a draft away; only when a published version remains for the course."""
    ensure_draft(version)
    if services.published_version(version.course_id) is None:
        raise AuthoringError(_l("Khóa học chưa có phiên bản nào được xuất bản, nên không bỏ "
                                "được bản nháp đầu tiên."))
    claim_revision(version, revision)
    record_audit("course.discard_draft", actor=user, target=f"course:{version.course.slug}",
                 version=version.number)
    db.session.delete(version)
    db.session.flush()


# --- Optimistic locking ---------------------------------------------------------------------

def claim_statement(version_id: int, revision: int):
    """The guarded UPDATE: matches one row only if nobody saved since ``revision`` was read."""
    return (update(CourseVersion)
            .where(CourseVersion.id == version_id, CourseVersion.revision == revision,
                   CourseVersion.status == "draft")
            .values(revision=CourseVersion.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))


def claim_revision(version: CourseVersion, revision) -> None:
    """Take the draft for this save, or raise EditConflict / VersionPublished.

    Must be the first write of the transaction: the row lock it takes (PostgreSQL) or the
    write lock (SQLite) makes a second save based on the same revision find no row.
    """
    ensure_draft(version)
    try:
        revision = int(revision)
    except (TypeError, ValueError):
        raise EditConflict() from None
    if version.revision != revision:
        raise EditConflict()
    if db.session.execute(claim_statement(version.id, revision)).rowcount != 1:
        db.session.refresh(version)
        ensure_draft(version)
        raise EditConflict()
    set_committed_value(version, "revision", revision + 1)


# --- Editing a draft ------------------------------------------------------------------------

def _apply_course_values(version: CourseVersion, values: dict) -> None:
    for name in ("title", "summary", "topic", "audiences", "competencies", "est_minutes"):
        setattr(version, name, values[name])
    if "intro" in values:
        version.intro_md = values["intro"]


def update_course(user, version: CourseVersion, revision, fields: CourseFields) -> None:
    """Save the course's details and introduction in the draft (and its unit on the course)."""
    ensure_draft(version)
    values, errors = _clean_course(user, fields, version)
    if errors:
        raise AuthoringError(_l("Chưa lưu được: hãy sửa các mục được đánh dấu."), errors)
    claim_revision(version, revision)
    _apply_course_values(version, values)
    version.course.unit_id = values["unit"].id if values["unit"] else None
    refresh_draft(version)


def _clean_lesson(fields: LessonFields) -> tuple[dict, dict]:
    errors: dict = {}
    values = {"title": _title(fields.title, errors, _l("Nhập tên bài học.")),
              "est_minutes": _minutes(fields.est_minutes, errors),
              "body": normalize_markdown(fields.body)}
    if len(values["body"]) > MAX_BODY:
        errors["body"] = _l("Bài học dài quá %(n)s ký tự; hãy chia thành nhiều bài ngắn.",
                            n=MAX_BODY)
    return values, errors


def _used_lesson_slugs(course_id: int) -> set[str]:
    """Every lesson slug any version of the course has used (progress may be keyed by it)."""
    return set(db.session.scalars(
        select(Lesson.slug).join(CourseVersion, CourseVersion.id == Lesson.version_id)
        .where(CourseVersion.course_id == course_id)))


def new_lesson_slug(title: str, taken: set[str]) -> str:
    """From the title ("Đăng ký tài khoản" → dang-ky-tai-khoan), made unique with -2, -3…"""
    base = slugify_heading(title)[:LESSON_SLUG_MAX].strip("-") or "bai"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add_lesson(user, version: CourseVersion, revision, fields: LessonFields) -> Lesson:
    """A new lesson at the end of the draft. Its slug never reuses one the course has had,
    so a new lesson starts as not done for everyone."""
    ensure_draft(version)
    values, errors = _clean_lesson(fields)
    if len(version.lessons) >= MAX_LESSONS:
        errors["title"] = _l("Một khóa học có tối đa %(n)s bài.", n=MAX_LESSONS)
    if errors:
        raise AuthoringError(_l("Chưa lưu được: hãy sửa các mục được đánh dấu."), errors)
    claim_revision(version, revision)
    position = max((ls.position for ls in version.lessons), default=0) + 1
    lesson = Lesson(position=position, title=values["title"], est_minutes=values["est_minutes"],
                    slug=new_lesson_slug(values["title"], _used_lesson_slugs(version.course_id)),
                    body_md=values["body"], body_html="", html_hash="")
    version.lessons.append(lesson)
    refresh_draft(version)
    db.session.flush()
    return lesson


def update_lesson(user, lesson: Lesson, revision, fields: LessonFields) -> None:
    """Save a lesson. Its slug stays whatever the title becomes: progress is keyed by it."""
    version = ensure_draft(lesson.version)
    values, errors = _clean_lesson(fields)
    if errors:
        raise AuthoringError(_l("Chưa lưu được: hãy sửa các mục được đánh dấu."), errors)
    claim_revision(version, revision)
    lesson.title = values["title"]
    lesson.est_minutes = values["est_minutes"]
    lesson.body_md = values["body"]
    refresh_draft(version)


def delete_lesson(user, lesson: Lesson, revision) -> None:
    version = ensure_draft(lesson.version)
    claim_revision(version, revision)
    remaining = [ls for ls in _ordered(version) if ls.id != lesson.id]
    version.lessons.remove(lesson)
    db.session.flush()
    _renumber(remaining)
    refresh_draft(version)


def move_lesson(user, lesson: Lesson, revision, direction: str) -> None:
    """One place up or down; links between lessons are renumbered to match."""
    version = ensure_draft(lesson.version)
    if direction not in {"up", "down"}:
        raise AuthoringError(_l("Hướng di chuyển không hợp lệ."))
    claim_revision(version, revision)
    order = _ordered(version)
    index = order.index(lesson)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        _renumber(order)
        refresh_draft(version)


def _ordered(version: CourseVersion) -> list[Lesson]:
    return sorted(version.lessons, key=lambda ls: ls.position)


def _renumber(order: list[Lesson]) -> None:
    """Positions 1..n in this order; negatives first so the unique (version, position) holds."""
    for index, lesson in enumerate(order, start=1):
        lesson.position = -index
    db.session.flush()
    for index, lesson in enumerate(order, start=1):
        lesson.position = index
    db.session.flush()


# --- Rendering and the content hash -----------------------------------------------------------

def lesson_filename(lesson) -> str:
    return f"{lesson.position:02d}-{lesson.slug}.md"


def renumber_links(markdown: str, numbers: dict[str, int]) -> str:
    """Point ``NN-slug.md`` links at each lesson's current number (lessons move, slugs stay)."""

    def fix(match: re.Match) -> str:
        group = 1 if match.group(1) else 2
        link = LESSON_LINK.match(match.group(group))
        if not link:
            return match.group(0)
        number, slug = link.group(1).split("-", 1)
        if slug not in numbers or int(number) == numbers[slug]:
            return match.group(0)
        url = f"{numbers[slug]:02d}-{slug}.md{link.group(2) or ''}"
        start, end = (pos - match.start() for pos in match.span(group))
        return match.group(0)[:start] + url + match.group(0)[end:]

    return REFERENCE.sub(fix, markdown)


def _resolver_for(version: CourseVersion):
    files = {lesson_filename(ls): ls.slug for ls in version.lessons}
    return services._resolver(version.course.slug, files, dict(version.media or {}))


def preview(version: CourseVersion, markdown: str) -> Markup:
    """What a text will look like once saved, through the same pipeline; nothing is stored."""
    numbers = {ls.slug: ls.position for ls in version.lessons}
    return render_markdown(renumber_links(normalize_markdown(markdown), numbers),
                           _resolver_for(version))


def refresh_draft(version: CourseVersion) -> None:
    """After any change: fix lesson numbers in links, render once, recompute the content hash."""
    db.session.flush()
    numbers = {ls.slug: ls.position for ls in version.lessons}
    resolve = _resolver_for(version)
    version.intro_md = renumber_links(version.intro_md or "\n", numbers)
    version.intro_html = str(render_markdown(version.intro_md, resolve))
    for lesson in version.lessons:
        body = renumber_links(lesson.body_md, numbers)
        if body != lesson.body_md:
            lesson.body_md = body
        html = str(render_markdown(body, resolve))
        if html != lesson.body_html:
            lesson.body_html = html
            lesson.html_hash = html_digest(html)
    version.content_hash = source_of(version).content_hash


def lesson_media(version: CourseVersion) -> list[str]:
    """Media names the lessons use, in reading order: what a file import would load."""
    names: list[str] = []
    for lesson in _ordered(version):
        for url in _references(lesson.body_md):
            if url.startswith("media/") and url not in names:
                names.append(url)
    return names


def source_of(version: CourseVersion) -> CourseSource:
    """The draft as file import would read it after an export: the one canonical form."""
    media = {}
    for name in lesson_media(version):
        stored = (version.media or {}).get(name)
        path = services.media_dir() / stored if stored else None
        if path is not None and path.is_file():
            media[name] = path.read_bytes()
    lessons = [LessonSource(ls.position, ls.slug, ls.title, ls.est_minutes, ls.body_md,
                            lesson_filename(ls)) for ls in _ordered(version)]
    return CourseSource(
        slug=version.course.slug, title=version.title, summary=version.summary,
        topic=version.topic, audiences=list(version.audiences or []),
        competencies=list(version.competencies or []), est_minutes=version.est_minutes,
        sources=list(version.sources or []), intro=version.intro_md, lessons=lessons,
        media=media)


# --- Images -----------------------------------------------------------------------------------

def image_type(filename: str, data: bytes) -> str:
    """The stored extension of an acceptable image, or MediaRefused saying why not."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    detected = next((kind for kind, magics in IMAGE_MAGIC if data.startswith(magics)), None)
    if detected is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        detected = "webp"
    head = data[:1024].lstrip().lower()
    if ext == "svg" or (detected is None and (head.startswith(b"<?xml") or b"<svg" in head)):
        raise MediaRefused(_l("Không nhận ảnh SVG: tệp SVG có thể chứa mã chạy trong trình "
                              "duyệt của học viên. Hãy lưu ảnh thành PNG rồi tải lên."))
    if ext not in IMAGE_EXTENSIONS:
        raise MediaRefused(_l("Chỉ nhận ảnh PNG, JPG, WEBP hoặc GIF."))
    if not data:
        raise MediaRefused(_l("Tệp rỗng: hãy chọn lại ảnh."), 422)
    if len(data) > MEDIA_MAX_BYTES:
        raise MediaRefused(_l("Ảnh lớn hơn %(mb)s MB. Hãy thu nhỏ ảnh rồi tải lên lại.",
                              mb=MEDIA_MAX_BYTES // (1024 * 1024)), 413)
    if detected != IMAGE_EXTENSIONS[ext]:
        raise MediaRefused(_l("Nội dung tệp không phải ảnh %(kind)s như tên tệp ghi; tệp có thể "
                              "bị hỏng hoặc không phải ảnh.", kind=ext.upper()))
    return detected


def _media_name(filename: str, ext: str, taken: dict[str, str], stored: str) -> str:
    """``media/<name>.<ext>`` from the uploaded name; another image's name gets -2, -3…"""
    for name, existing in taken.items():
        if existing == stored:
            return name  # the same picture is already in this draft
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    base = slugify_heading(stem)[:60].strip("-") or "anh"
    name, n = f"media/{base}.{ext}", 2
    while name in taken:
        name, n = f"media/{base}-{n}.{ext}", n + 1
    return name


def add_media(user, version: CourseVersion, revision, filename: str, data: bytes) -> str:
    """Store an uploaded image for the draft; returns its name to use in Markdown."""
    ensure_draft(version)
    ext = image_type(filename or "", data)
    claim_revision(version, revision)
    stem = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    record = services.store_media(f"{stem[:200] or 'anh'}.{ext}", data)
    media = dict(version.media or {})
    name = _media_name(filename or "", ext, media, record.stored_name)
    media[name] = record.stored_name
    version.media = media
    refresh_draft(version)
    return name


# --- Publishing -----------------------------------------------------------------------------

def draft_problems(version: CourseVersion) -> list:
    """What stops the draft from being published, in words a trainer can act on."""
    problems: list = []
    lessons = _ordered(version)
    if not version.title:
        problems.append(_l("Khóa học chưa có tên."))
    if not lessons:
        problems.append(_l("Khóa học chưa có bài học nào: hãy thêm ít nhất một bài."))
    known = {c.code for c in framework_competencies()}
    for code in version.competencies or []:
        if code not in known:
            problems.append(_l("Mã năng lực %(code)s không còn trong khung 757.", code=code))
    files = {lesson_filename(ls) for ls in lessons}
    media = version.media or {}
    for lesson in lessons:
        for url in _references(lesson.body_md):
            link = LESSON_LINK.match(url)
            if link and f"{link.group(1)}.md" not in files:
                problems.append(_l("Bài “%(title)s” liên kết tới bài không tồn tại: %(url)s",
                                   title=lesson.title, url=url))
            elif url.startswith("media/") and url not in media:
                problems.append(_l("Bài “%(title)s” dùng ảnh %(url)s chưa được tải lên.",
                                   title=lesson.title, url=url))
            elif url.startswith("media/") and not (services.media_dir() / media[url]).is_file():
                problems.append(_l("Thiếu tệp ảnh %(url)s trên máy chủ: hãy tải ảnh lên lại.",
                                   url=url))
    used = set(lesson_media(version))
    for url in _references(version.intro_md or ""):
        if url.startswith("media/") and url not in used:
            problems.append(_l("Ảnh %(url)s trong lời giới thiệu phải được dùng trong ít nhất "
                               "một bài học (như khi nhập từ tệp).", url=url))
    current = services.published_version(version.course_id)
    if current is not None and current.content_hash == version.content_hash:
        problems.append(_l("Bản nháp chưa có thay đổi nào so với phiên bản %(n)s đang xuất bản.",
                           n=current.number))
    return list(dict.fromkeys(problems))


@dataclass
class ProgressChanges:
    """How learners' "done" marks carry over, lesson slug by lesson slug."""

    kept: list[str]
    added: list[str]
    removed: list[str]
    published_number: int | None


def progress_changes(version: CourseVersion) -> ProgressChanges:
    current = services.published_version(version.course_id)
    old = {ls.slug: ls.title for ls in (current.lessons if current else [])}
    new = {ls.slug: ls.title for ls in _ordered(version)}
    return ProgressChanges(kept=[new[s] for s in new if s in old],
                           added=[new[s] for s in new if s not in old],
                           removed=[old[s] for s in old if s not in new],
                           published_number=current.number if current else None)


def publish_draft(user, version: CourseVersion, revision) -> None:
    """The draft becomes the newest published version: immutable from now on."""
    ensure_draft(version)
    problems = draft_problems(version)
    if problems:
        raise PublishRefused(problems)
    claim_revision(version, revision)
    used = lesson_media(version)
    version.media = {name: stored for name, stored in (version.media or {}).items()
                     if name in used}
    refresh_draft(version)
    _check_round_trip(version)
    services.publish(version, user)
    db.session.flush()
    record_audit("course.publish", actor=user, target=f"course:{version.course.slug}",
                 version=version.number, content_hash=version.content_hash)


def _check_round_trip(version: CourseVersion) -> None:
    """Export the version and read it back as file import would: same hash, or no publish."""
    codes = {c.code for c in framework_competencies()}
    with tempfile.TemporaryDirectory() as tmp:
        target = services.export_course(version.course.slug, Path(tmp), version)
        try:
            source = load_course(target, codes)
        except ContentInvalid as exc:
            raise PublishRefused([str(error) for error in exc.errors]) from None
    if source.content_hash != version.content_hash:
        current_app.logger.error("round trip of %s changed the content hash", version)
        raise PublishRefused([_l("Xuất ra tệp rồi nhập lại cho kết quả khác; hãy báo quản "
                                 "trị viên.")])


# --- Archiving ------------------------------------------------------------------------------

def set_archived(user, course: Course, archived: bool) -> bool:
    """Hide or show a course in the catalog; learners' progress is kept. True when changed."""
    if course.is_archived == archived:
        return False
    course.is_archived = archived
    course.archived_at = utcnow() if archived else None
    record_audit("course.archive" if archived else "course.unarchive", actor=user,
                 target=f"course:{course.slug}")
    db.session.flush()
    return True
