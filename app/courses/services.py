"""Course operations: import from files, versions, publishing, media, export, progress.

Services add and flush; the CLI command or view that called them commits once.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import func, select

from app.courses.content import (
    LESSON_LINK,
    MEDIA_TYPES,
    ContentError,
    ContentInvalid,
    CourseSource,
    load_course,
    load_framework_codes,
)
from app.courses.models import Course, CourseVersion, Lesson, MediaFile
from app.extensions import core_execute, db
from app.markdown import html_digest, render_markdown
from app.models_base import utcnow

FRAMEWORK_FILE = "frameworks/757-qd-bkhcn.yaml"


def lesson_path(course_slug: str, lesson_slug: str) -> str:
    return f"/courses/{course_slug}/lessons/{lesson_slug}"


def media_path(stored_name: str) -> str:
    return f"/media/{stored_name}"


def media_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "media"


def store_media(name: str, data: bytes) -> MediaFile:
    """Keep one copy per content hash, on disk and in the media table."""
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(select(MediaFile).where(MediaFile.digest == digest))
    if existing is not None:
        return existing
    ext = name.rsplit(".", 1)[-1].lower()
    ext = "jpg" if ext == "jpeg" else ext
    record = MediaFile(digest=digest, extension=ext, mime_type=MEDIA_TYPES[ext][0],
                       size_bytes=len(data), original_name=name.rsplit("/", 1)[-1])
    target = media_dir() / record.stored_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    db.session.add(record)
    db.session.flush()
    return record


def _resolver(course_slug: str, lesson_slugs: dict[str, str], media: dict[str, str]):
    """Point lesson links and media at their URLs (the content was validated already)."""

    def resolve(url: str, _tag: str) -> str:
        link = LESSON_LINK.match(url)
        if link and f"{link.group(1)}.md" in lesson_slugs:
            return lesson_path(course_slug, lesson_slugs[f"{link.group(1)}.md"]) + (link.group(2) or "")
        if url in media:
            return media_path(media[url])
        return url

    return resolve


def _fill_version(version: CourseVersion, source: CourseSource, media: dict[str, str]) -> None:
    resolve = _resolver(source.slug, {ls.filename: ls.slug for ls in source.lessons}, media)
    version.title = source.title
    version.summary = source.summary
    version.topic = source.topic
    version.audiences = source.audiences
    version.competencies = source.competencies
    version.est_minutes = source.est_minutes
    version.sources = source.sources
    version.media = {name: stored for name, stored in media.items()}
    version.intro_md = source.intro
    version.intro_html = str(render_markdown(source.intro, resolve))
    version.content_hash = source.content_hash
    version.lessons.clear()
    db.session.flush()
    for ls in source.lessons:
        html = str(render_markdown(ls.body, resolve))
        version.lessons.append(Lesson(position=ls.position, slug=ls.slug, title=ls.title,
                                      est_minutes=ls.est_minutes, body_md=ls.body,
                                      body_html=html, html_hash=html_digest(html)))


def latest_version(course: Course) -> CourseVersion | None:
    return db.session.scalar(select(CourseVersion).where(CourseVersion.course_id == course.id)
                             .order_by(CourseVersion.number.desc()).limit(1))


def published_version(course_id: int) -> CourseVersion | None:
    return db.session.scalar(
        select(CourseVersion)
        .where(CourseVersion.course_id == course_id, CourseVersion.status == "published")
        .order_by(CourseVersion.number.desc()).limit(1))


def publish(version: CourseVersion, actor=None) -> None:
    """A draft becomes the version learners see; from now on it never changes."""
    version.status = "published"
    version.published_at = utcnow()
    version.published_by_id = getattr(actor, "id", None)


def import_course(source: CourseSource, *, publish_now: bool = False, actor=None) -> str:
    """Create or update a course from files. Returns created / updated / published / unchanged."""
    course = db.session.scalar(select(Course).where(Course.slug == source.slug))
    created = course is None
    if created:
        course = Course(slug=source.slug)
        db.session.add(course)
        db.session.flush()
    latest = None if created else latest_version(course)
    if latest is not None and latest.content_hash == source.content_hash:
        if publish_now and latest.status == "draft":
            publish(latest, actor)
            return "published"
        return "unchanged"
    media = {name: store_media(name, data).stored_name for name, data in source.media.items()}
    if latest is not None and latest.status == "draft":
        version = latest  # a draft is still open to change
        # Browser editors holding the old revision must reload, not save over the import.
        version.revision = (version.revision or 0) + 1
    else:
        version = CourseVersion(course_id=course.id, number=(latest.number + 1) if latest else 1,
                                created_by_id=getattr(actor, "id", None))
        db.session.add(version)
    _fill_version(version, source, media)
    if publish_now:
        publish(version, actor)
    db.session.flush()
    return "created" if created else "updated"


@dataclass
class ImportReport:
    results: dict[str, str] = field(default_factory=dict)  # slug → created/updated/…
    errors: list[ContentError] = field(default_factory=list)
    framework: str | None = None  # created / updated / unchanged (assessments hook)
    questions: dict[str, str] = field(default_factory=dict)  # slug → question bank summary

    @property
    def ok(self) -> bool:
        return not self.errors


def import_content_tree(root: Path, *, publish_now: bool = False, actor=None) -> ImportReport:
    """Import the framework's codes and every course under ``root``; a bad course is skipped whole."""
    from app.assessments import bank, framework

    report = ImportReport()
    try:
        codes = load_framework_codes(root / FRAMEWORK_FILE)
        # Hook (assessments): the framework into its tables, versioned by id + version.
        report.framework = framework.import_framework(
            framework.load_framework(root / FRAMEWORK_FILE, FRAMEWORK_FILE))
    except ContentInvalid as exc:
        report.errors.extend(exc.errors)
        return report
    for directory in sorted(p for p in (root / "courses").glob("*") if p.is_dir()):
        try:
            source = load_course(directory, codes)
            # Hook (assessments): a bad assessment.yaml fails the course as a whole.
            assessment = bank.load_assessment(directory, codes)
        except ContentInvalid as exc:
            report.errors.extend(exc.errors)
            report.results[directory.name] = "error"
            continue
        with db.session.begin_nested():
            report.results[source.slug] = import_course(source, publish_now=publish_now,
                                                        actor=actor)
            questions = bank.import_course_assessment(source.slug, assessment)
            if questions is not None:
                report.questions[source.slug] = questions
    return report


def export_course(slug: str, out_dir: Path, version: CourseVersion | None = None) -> Path:
    """Write a course back in the file format; re-importing it gives the same content hash."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise LookupError(slug)
    version = version or latest_version(course)
    target = out_dir / slug
    (target / "media").mkdir(parents=True, exist_ok=True)
    meta = {"title": version.title, "summary": version.summary, "topic": version.topic,
            "audiences": version.audiences, "competencies": version.competencies,
            "est_minutes": version.est_minutes, "sources": version.sources}
    _write_markdown(target / "course.md", meta, version.intro_md)
    for lesson in version.lessons:
        _write_markdown(target / f"{lesson.position:02d}-{lesson.slug}.md",
                        {"title": lesson.title, "est_minutes": lesson.est_minutes}, lesson.body_md)
    for name, stored in (version.media or {}).items():
        (target / name).write_bytes((media_dir() / stored).read_bytes())
    return target


def _write_markdown(path: Path, meta: dict, body: str) -> None:
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")


def count_courses() -> int:
    return db.session.scalar(select(func.count(Course.id))) or 0


# --- Reading and progress -------------------------------------------------------------

@functools.cache
def _other_version():
    """The alias the subquery below reads, made once: building an aliased class proxies every
    column and cost about as much as the rest of a lesson page's queries together."""
    from sqlalchemy.orm import aliased

    return aliased(CourseVersion)


def _latest_published_number(course_id_column):
    """Correlated subquery: the newest published version number of a course."""
    other = _other_version()
    return (select(func.max(other.number))
            .where(other.course_id == course_id_column, other.status == "published")
            .correlate(Course)
            .scalar_subquery())


def published_versions_stmt():
    """Select (Course, CourseVersion) for the current published version of every live course."""
    return (select(Course, CourseVersion)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .where(Course.is_archived.is_(False),
                   CourseVersion.number == _latest_published_number(Course.id)))


def newest_published_titles(course_ids) -> dict[int, str]:
    """{course id: title of its newest published version} (archived courses too: a program
    or a report keeps naming the courses it once required)."""
    ids = list(course_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(CourseVersion.course_id, CourseVersion.title)
        .where(CourseVersion.course_id.in_(ids), CourseVersion.status == "published")
        .order_by(CourseVersion.number))  # a later version overwrites an earlier one
    return dict(rows.all())


def find_published(course_slug: str) -> tuple[Course, CourseVersion] | None:
    row = db.session.execute(published_versions_stmt().where(Course.slug == course_slug)).first()
    return (row[0], row[1]) if row else None


@functools.cache
def _published_lesson_statement():
    """Built once with bound parameters: the reader runs it on every lesson page, and building
    the statement anew cost about as much as running it."""
    from sqlalchemy import bindparam

    return (select(Course, CourseVersion, Lesson)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .join(Lesson, Lesson.version_id == CourseVersion.id)
            .where(Course.slug == bindparam("course_slug"), Course.is_archived.is_(False),
                   Lesson.slug == bindparam("lesson_slug"),
                   CourseVersion.number == _latest_published_number(Course.id)))


def find_published_lesson(course_slug: str, lesson_slug: str):
    """(Course, CourseVersion, Lesson) of the current published version, in one query."""
    row = db.session.execute(_published_lesson_statement(),
                             {"course_slug": course_slug, "lesson_slug": lesson_slug}).first()
    return (row[0], row[1], row[2]) if row else None


@dataclass
class LessonState:
    position: int
    slug: str
    title: str
    est_minutes: int
    is_done: bool


@functools.cache
def _lesson_states_statements():
    """(without marks, with the user's marks), built once with bound parameters."""
    from sqlalchemy import bindparam

    from app.courses.models import LessonProgress

    columns = (Lesson.position, Lesson.slug, Lesson.title, Lesson.est_minutes)
    lessons = (select(*columns).where(Lesson.version_id == bindparam("version_id"))
               .order_by(Lesson.position))
    with_marks = (select(*columns, LessonProgress.id)
                  .outerjoin(LessonProgress,
                             (LessonProgress.user_id == bindparam("user_id"))
                             & (LessonProgress.course_id == bindparam("course_id"))
                             & (LessonProgress.lesson_slug == Lesson.slug))
                  .where(Lesson.version_id == bindparam("version_id"))
                  .order_by(Lesson.position))
    return lessons, with_marks


def lesson_states(version: CourseVersion, user) -> list[LessonState]:
    """The version's lessons in order with the user's done marks, in one query."""
    lessons, with_marks = _lesson_states_statements()
    user_id = user.id if getattr(user, "is_authenticated", False) else None
    if user_id is None:  # no marks to read: joining on "user_id IS NULL" scans the course's
        # progress rows on SQLite (the course_id index), once per lesson
        return [LessonState(p, s, t, m, False)
                for p, s, t, m in db.session.execute(lessons, {"version_id": version.id})]
    rows = db.session.execute(with_marks, {"version_id": version.id, "user_id": user_id,
                                           "course_id": version.course_id})
    return [LessonState(p, s, t, m, done is not None) for p, s, t, m, done in rows]


@dataclass(frozen=True)
class ReaderLesson:
    """What the lesson page shows, as plain values: no ORM objects (the version's JSON
    columns alone cost more to decode than the page's own data)."""

    course_slug: str
    version_id: int
    version_title: str
    published_at: datetime | None
    position: int
    slug: str
    title: str
    est_minutes: int
    body_html: str
    html_hash: str
    states: list[LessonState]


@functools.cache
def _reader_statement(with_marks: bool):
    """Every lesson of the course's current published version in order, the asked lesson's
    body on its own row, and (``with_marks``) the reader's done marks: the whole lesson page
    in one statement, built once."""
    from sqlalchemy import bindparam, case, literal

    from app.courses.models import LessonProgress

    asked = Lesson.slug == bindparam("lesson_slug")
    done = LessonProgress.id if with_marks else literal(None)
    stmt = (select(Course.slug, CourseVersion.id, CourseVersion.title, CourseVersion.published_at,
                   Lesson.position, Lesson.slug, Lesson.title, Lesson.est_minutes,
                   case((asked, Lesson.body_html)), case((asked, Lesson.html_hash)), done)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .join(Lesson, Lesson.version_id == CourseVersion.id))
    if with_marks:
        stmt = stmt.outerjoin(LessonProgress,
                              (LessonProgress.user_id == bindparam("user_id"))
                              & (LessonProgress.course_id == Course.id)
                              & (LessonProgress.lesson_slug == Lesson.slug))
    return (stmt.where(Course.slug == bindparam("course_slug"), Course.is_archived.is_(False),
                       CourseVersion.number == _latest_published_number(Course.id))
            .order_by(Lesson.position))


def reader_lesson(course_slug: str, lesson_slug: str, user) -> ReaderLesson | None:
    """The lesson page of the current published version for ``user`` (a visitor too), or
    None when the course or the lesson is not published."""
    user_id = user.id if getattr(user, "is_authenticated", False) else None
    params = {"course_slug": course_slug, "lesson_slug": lesson_slug}
    if user_id is not None:
        params["user_id"] = user_id
    rows = core_execute(_reader_statement(user_id is not None), params).all()
    found = next((row for row in rows if row[5] == lesson_slug), None)
    if found is None:
        return None
    states = [LessonState(row[4], row[5], row[6], row[7], row[10] is not None) for row in rows]
    return ReaderLesson(*found[:10], states)


def percent_done(states: list[LessonState]) -> int:
    return round(100 * sum(s.is_done for s in states) / len(states)) if states else 0


def mark_lesson_done(user, course: Course, version: CourseVersion, lesson_slug: str) -> bool:
    """Record that ``user`` finished a lesson; True when newly recorded. Safe to repeat."""
    from sqlalchemy.exc import IntegrityError

    from app.courses.models import LessonProgress

    exists = db.session.scalar(select(LessonProgress.id).where(
        LessonProgress.user_id == user.id, LessonProgress.course_id == course.id,
        LessonProgress.lesson_slug == lesson_slug))
    if exists:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(LessonProgress(user_id=user.id, course_id=course.id,
                                          lesson_slug=lesson_slug, version_id=version.id))
    except IntegrityError:  # a double click raced us to it: the lesson is done either way
        return False
    return True


@dataclass
class CourseCard:
    course: Course
    version: CourseVersion
    lessons_total: int
    lessons_done: int

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 0

    @property
    def in_progress(self) -> bool:
        return 0 < self.lessons_done < self.lessons_total


def course_cards(user) -> list[CourseCard]:
    """Every published course with the user's lesson counts: two queries whatever the number."""
    from app.courses.models import LessonProgress

    rows = db.session.execute(published_versions_stmt().order_by(CourseVersion.title)).all()
    if not rows:
        return []
    user_id = user.id if getattr(user, "is_authenticated", False) else None
    version_ids = [version.id for _, version in rows]
    counts = dict.fromkeys(version_ids, (0, 0))
    if user_id is None:  # lesson totals only (see lesson_states: no "user_id IS NULL" join)
        for version_id, total in db.session.execute(
                select(Lesson.version_id, func.count(Lesson.id))
                .where(Lesson.version_id.in_(version_ids)).group_by(Lesson.version_id)):
            counts[version_id] = (total, 0)
        return [CourseCard(course, version, *counts[version.id]) for course, version in rows]
    stmt = (select(Lesson.version_id, func.count(Lesson.id), func.count(LessonProgress.id))
            .join(CourseVersion, CourseVersion.id == Lesson.version_id)
            .outerjoin(LessonProgress,
                       (LessonProgress.user_id == user_id)
                       & (LessonProgress.course_id == CourseVersion.course_id)
                       & (LessonProgress.lesson_slug == Lesson.slug))
            .where(Lesson.version_id.in_(version_ids))
            .group_by(Lesson.version_id))
    for version_id, total, done in db.session.execute(stmt):
        counts[version_id] = (total, done)
    return [CourseCard(course, version, *counts[version.id]) for course, version in rows]


def cards_for_home(user) -> list[CourseCard]:
    """Courses in progress first, then not started, then finished."""
    def rank(card: CourseCard) -> int:
        return 0 if card.in_progress else (1 if card.lessons_done == 0 else 2)

    return sorted(course_cards(user), key=rank)
