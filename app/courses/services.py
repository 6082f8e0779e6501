"""Course operations: import from files, versions, publishing, media, export, progress.

Services add and flush; the CLI command or view that called them commits once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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
from app.extensions import db
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

    @property
    def ok(self) -> bool:
        return not self.errors


def import_content_tree(root: Path, *, publish_now: bool = False, actor=None) -> ImportReport:
    """Import the framework's codes and every course under ``root``; a bad course is skipped whole."""
    report = ImportReport()
    try:
        codes = load_framework_codes(root / FRAMEWORK_FILE)
    except ContentInvalid as exc:
        report.errors.extend(exc.errors)
        return report
    for directory in sorted(p for p in (root / "courses").glob("*") if p.is_dir()):
        try:
            source = load_course(directory, codes)
        except ContentInvalid as exc:
            report.errors.extend(exc.errors)
            report.results[directory.name] = "error"
            continue
        with db.session.begin_nested():
            report.results[source.slug] = import_course(source, publish_now=publish_now,
                                                        actor=actor)
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
