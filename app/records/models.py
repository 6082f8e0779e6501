"""Completion records (what counts toward "100% trained") and in-person classes.

A record is written once per user and course, never edited; revocation only adds who, when
and why. Name and course title are copied at issue time so a certificate reads the same
forever, whatever happens to the account or the course later.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import utcnow

RECORD_SOURCES = ("online", "in_person")


class CompletionRecord(db.Model):
    __tablename__ = "completion_records"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_completion_records_user_course"),
        CheckConstraint("source IN ('online','in_person')", name="source"),
        Index("ix_completion_records_course_completed", "course_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    score_percent: Mapped[float | None] = mapped_column(Float)
    competencies: Mapped[list] = mapped_column(JSON, default=list)  # codes demonstrated
    source: Mapped[str] = mapped_column(String(10), default="online")
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # trainer, in person
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    in_person_class_id: Mapped[int | None] = mapped_column(ForeignKey("in_person_classes.id"))
    # Public, random (≥ 96 bits), URL-safe: /verify/<code>.
    verification_code: Mapped[str] = mapped_column(String(40), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    issuing_unit = relationship("Unit")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<CompletionRecord user={self.user_id} course={self.course_id}>"


class InPersonClass(db.Model):
    """A class held face to face, with attendance and paper-test scores entered afterwards."""

    __tablename__ = "in_person_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    pass_percent: Mapped[float] = mapped_column(Float, default=70)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    attendances: Mapped[list[ClassAttendance]] = relationship(
        back_populates="in_person_class", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<InPersonClass {self.id} course={self.course_id} {self.held_on}>"


class ClassAttendance(db.Model):
    __tablename__ = "class_attendances"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id", name="uq_class_attendances_class_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("in_person_classes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_present: Mapped[bool] = mapped_column(Boolean, default=True)
    paper_score: Mapped[float | None] = mapped_column(Float)  # percent, 0..100
    record_id: Mapped[int | None] = mapped_column(ForeignKey("completion_records.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    in_person_class: Mapped[InPersonClass] = relationship(back_populates="attendances")
    user = relationship("User")

    def __repr__(self) -> str:
        return f"<ClassAttendance class={self.class_id} user={self.user_id}>"
