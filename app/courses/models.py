"""Courses, their immutable published versions, lessons, progress and media.

Progress is keyed by (user, course, lesson slug), not by lesson row, so a new version of a
course keeps what learners already finished in lessons that kept their slug.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import utcnow

TOPICS = ("ai", "dvc", "safety", "signature", "other")


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Trainers with a role on this unit (or above) may edit; None = shared, province-level.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="course", order_by="CourseVersion.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class CourseVersion(db.Model):
    """One state of a course. Drafts may change; a published version never does."""

    __tablename__ = "course_versions"
    __table_args__ = (
        UniqueConstraint("course_id", "number", name="uq_course_versions_course_number"),
        CheckConstraint("status IN ('draft','published')", name="status"),
        Index("ix_course_versions_course_status_number", "course_id", "status", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(16), default="other")
    audiences: Mapped[list] = mapped_column(JSON, default=list)
    competencies: Mapped[list] = mapped_column(JSON, default=list)
    est_minutes: Mapped[int] = mapped_column(Integer, default=0)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    # Media names used by the lessons → SHA-256 of the stored file ({"media/a.png": "ab…"}).
    media: Mapped[dict] = mapped_column(JSON, default=dict)
    intro_md: Mapped[str] = mapped_column(Text, default="")
    intro_html: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the canonical content: equal hashes mean nothing changed.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped on every save of a draft; a save based on an older revision is refused, so two
    # trainers editing at once never overwrite each other silently (optimistic locking).
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    course: Mapped[Course] = relationship(back_populates="versions")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="version", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    created_by = relationship("User", foreign_keys=[created_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])

    def __repr__(self) -> str:
        return f"<CourseVersion course={self.course_id} v{self.number} {self.status}>"


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("version_id", "slug", name="uq_lessons_version_slug"),
        UniqueConstraint("version_id", "position", name="uq_lessons_version_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the NN of NN-slug.md
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    est_minutes: Mapped[int] = mapped_column(Integer, default=0)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # sanitized once, at import/save
    html_hash: Mapped[str] = mapped_column(String(64))  # the page's ETag ingredient

    version: Mapped[CourseVersion] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.position:02d}-{self.slug}>"


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "lesson_slug",
                         name="uq_lesson_progress_user_course_lesson"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    lesson_slug: Mapped[str] = mapped_column(String(120))
    # The version the learner was reading when they marked the lesson done.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("course_versions.id"))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<LessonProgress user={self.user_id} {self.lesson_slug}>"


class MediaFile(db.Model):
    """An image stored once under its SHA-256 name, whatever lessons use it."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    extension: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def stored_name(self) -> str:
        return f"{self.digest}.{self.extension}"

    def __repr__(self) -> str:
        return f"<MediaFile {self.stored_name}>"
