"""Training programs, membership history and the per-team counts behind the dashboards.

Three kinds of table:
- ``training_programs`` (+ ``program_courses``): what officers set — scope, required
  courses, audience filter, target, dates.
- ``membership_periods``: who was in which unit, active or not, from which day to which
  day. Written by database triggers on ``users`` (app/reports/triggers.py), so every path
  that moves or deactivates a member — forms, roster imports, CLI, raw SQL — keeps it.
- ``program_unit_counts`` + ``progress_dirty_units``: per program and team, the counts a
  dashboard reads (members, completed, completions per month, score buckets, mastery per
  framework group). Triggers mark a team dirty in the same transaction as any change that
  can move its figures; readers recount the dirty teams first (app/reports/progress.py), so
  what they read is exact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import utcnow
from app.reports.triggers import attach_to_metadata

program_courses = Table(
    "program_courses",
    db.metadata,
    Column("program_id", ForeignKey("training_programs.id", ondelete="CASCADE"),
           primary_key=True),
    Column("course_id", ForeignKey("courses.id"), primary_key=True),
)


class TrainingProgram(db.Model):
    """A goal an officer sets: these courses, for the learners under this unit, by this date."""

    __tablename__ = "training_programs"
    __table_args__ = (
        CheckConstraint("target_percent > 0 AND target_percent <= 100", name="target_percent"),
        CheckConstraint("deadline >= starts_on", name="dates"),
        CheckConstraint(
            "audience IS NULL OR audience IN ('citizen','civil_servant','student',"
            "'enterprise_worker')", name="audience"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # None = every audience; otherwise only members of that audience are in the population.
    audience: Mapped[str | None] = mapped_column(String(32))
    target_percent: Mapped[int] = mapped_column(SmallInteger, default=100)
    starts_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    scope_unit = relationship("Unit", lazy="joined", innerjoin=True)
    courses = relationship("Course", secondary=program_courses, lazy="selectin",
                           order_by="Course.slug")

    @property
    def course_ids(self) -> list[int]:
        return sorted(course.id for course in self.courses)

    def __repr__(self) -> str:
        return f"<TrainingProgram {self.slug}>"


class MembershipPeriod(db.Model):
    """A member's unit and active flag from ``valid_from`` up to, not including, ``valid_to``.

    Days are local (Vietnam) calendar days. A change made on day D closes the open period
    at D and opens a new one from D, so "on day D" means "at the end of day D".
    """

    __tablename__ = "membership_periods"
    __table_args__ = (
        Index("ix_membership_periods_user_from", "user_id", "valid_from"),
        Index("ix_membership_periods_unit_from", "unit_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    is_active: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    def __repr__(self) -> str:
        return (f"<MembershipPeriod user={self.user_id} unit={self.unit_id} "
                f"{self.valid_from}..{self.valid_to}>")


class ProgramUnitCount(db.Model):
    """One figure of one program for the members whose own unit is ``unit_id``.

    ``metric``/``key``: ``members``/'' and ``completed``/'' (population now and how many of
    them have completed), ``month``/'YYYY-MM' (completions dated in that local month),
    ``score``/'0'…'10' (required-course records by score tenth), ``mastery``/'0'…'6'
    (members who mastered at least one competency of that framework group).
    """

    __tablename__ = "program_unit_counts"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("training_programs.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ProgramMember(db.Model):
    """A member of a program's population today, with where they stand: kept with the team
    counts (same recount), so a province-wide member list is one indexed scan, not a
    per-member walk through history and records."""

    __tablename__ = "program_members"
    __table_args__ = (Index("ix_program_members_program_unit", "program_id", "unit_id"),)

    program_id: Mapped[int] = mapped_column(
        ForeignKey("training_programs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    done: Mapped[int] = mapped_column(SmallInteger)  # required courses with a live record
    completed_on: Mapped[date | None] = mapped_column(Date)  # local day; None: not complete
    # Display cache for the member list: the local day (dd/mm/yyyy) of the live record of
    # each required course, in the program's course order (by slug), "|"-separated, empty
    # where there is none. Written as it is shown, because it is read a million times.
    course_days: Mapped[str] = mapped_column(String(400), default="")


class ProgressDirtyUnit(db.Model):
    """What must be recounted before anyone reads the counts (queued by triggers): a whole
    team, or (``user_id`` set) one member of it whose record or mastery changed."""

    __tablename__ = "progress_dirty_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)


# create_all (the test suite builds its schema that way) installs the triggers too.
attach_to_metadata(db.metadata)
