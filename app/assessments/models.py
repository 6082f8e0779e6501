"""Framework, question bank, assessments, attempts and mastery.

Correctness is stored as a float in 0..1 per item (1 = fully right), as Kolibri does, so
partial credit and reports use one scale. An attempt snapshots the questions it drew and the
pass mark, so later edits to the bank never change a result already given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
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

QUESTION_TYPES = ("single", "multiple", "true_false", "short_answer", "matching", "numerical")
DIFFICULTIES = ("easy", "medium", "hard")
QUESTION_STATUSES = ("draft", "active", "retired")
SHOW_ANSWERS = ("after_submit", "after_pass", "never")


class Framework(db.Model):
    """One loaded version of a competency framework file (e.g. vn-qd757-2025 v1.0)."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_frameworks_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    groups: Mapped[list[CompetencyGroup]] = relationship(
        back_populates="framework", order_by="CompetencyGroup.position",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Framework {self.key} {self.version}>"


class CompetencyGroup(db.Model):
    __tablename__ = "competency_groups"
    __table_args__ = (UniqueConstraint("framework_id", "code", name="uq_competency_groups_fw_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8))  # "0" … "6"
    position: Mapped[int] = mapped_column(Integer)
    label_vi: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))  # confirmed… | inferred
    note: Mapped[str] = mapped_column(Text, default="")

    framework: Mapped[Framework] = relationship(back_populates="groups")
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="group", order_by="Competency.position", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<CompetencyGroup {self.code}>"


class Competency(db.Model):
    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("group_id", "code", name="uq_competencies_group_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("competency_groups.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8), index=True)  # "4.2"
    position: Mapped[int] = mapped_column(Integer)
    label_vi: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    audiences: Mapped[list] = mapped_column(JSON, default=list)

    group: Mapped[CompetencyGroup] = relationship(back_populates="competencies")

    def __repr__(self) -> str:
        return f"<Competency {self.code}>"


class Assessment(db.Model):
    """The end-of-course test: settings here, questions in the course's bank."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("show_answers IN ('after_submit','after_pass','never')", name="show_answers"),
        CheckConstraint("pass_percent >= 0 AND pass_percent <= 100", name="pass_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           unique=True)
    pass_percent: Mapped[float] = mapped_column(Float, default=70)
    time_limit_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0 = no limit
    max_attempts: Mapped[int] = mapped_column(Integer, default=0)  # 0 = unlimited
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # {"4.1": 3, …}: questions drawn per competency; empty = every active question.
    draw: Mapped[dict] = mapped_column(JSON, default=dict)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    show_answers: Mapped[str] = mapped_column(String(16), default="after_submit")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    course = relationship("Course")

    def __repr__(self) -> str:
        return f"<Assessment course={self.course_id}>"


class Question(db.Model):
    """One item of a course's bank. ``key`` is the stable id from the file (e.g. ats-001)."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("course_id", "key", name="uq_questions_course_key"),
        CheckConstraint("type IN ('single','multiple','true_false','short_answer','matching',"
                        "'numerical')", name="type"),
        CheckConstraint("difficulty IN ('easy','medium','hard')", name="difficulty"),
        CheckConstraint("status IN ('draft','active','retired')", name="status"),
        Index("ix_questions_course_status_competency", "course_id", "status", "competency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    competency_code: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[str] = mapped_column(String(8), default="medium")
    status: Mapped[str] = mapped_column(String(8), default="active")
    title: Mapped[str] = mapped_column(String(200), default="")  # GIFT ::title::, optional
    stem_md: Mapped[str] = mapped_column(Text)
    stem_html: Mapped[str] = mapped_column(Text)
    # Type-specific body, Markdown already rendered beside its source, e.g. for choices:
    # {"options": [{"id": "a", "text_md": …, "text_html": …, "weight": 100, "feedback_md": …,
    #   "feedback_html": …}]}; true_false: {"answer": true}; short_answer: {"answers": […],
    # "match": "loose"}; matching: {"pairs": [{"left_md", "left_html", "right"}]};
    # numerical: {"answer": 15, "tolerance": 0}. Weights are percents as in GIFT.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    explanation_md: Mapped[str] = mapped_column(Text, default="")
    explanation_html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8), default="file")  # file | gift | web
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Question {self.key} {self.type}>"


class Attempt(db.Model):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("assessment_id", "user_id", "number",
                         name="uq_attempts_assessment_user_number"),
        # open_marker is 1 while the attempt is open and NULL after: NULLs never collide, so
        # this allows many finished attempts but only one open one per user and assessment.
        UniqueConstraint("assessment_id", "user_id", "open_marker",
                         name="uq_attempts_one_open"),
        CheckConstraint("status IN ('open','submitted')", name="status"),
        Index("ix_attempts_user_assessment", "user_id", "assessment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first try, 2 for the second…
    status: Mapped[str] = mapped_column(String(10), default="open")
    open_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Snapshots of the settings in force when the attempt began.
    pass_percent: Mapped[float] = mapped_column(Float)
    show_answers: Mapped[str] = mapped_column(String(16))
    score_percent: Mapped[float | None] = mapped_column(Float)
    is_passed: Mapped[bool | None] = mapped_column(Boolean)
    competency_scores: Mapped[dict] = mapped_column(JSON, default=dict)  # {"4.2": 83.3}
    seed: Mapped[int] = mapped_column(Integer, default=0)  # the draw's random seed

    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan")
    assessment: Mapped[Assessment] = relationship()

    def __repr__(self) -> str:
        return f"<Attempt {self.id} user={self.user_id} #{self.number} {self.status}>"


class AttemptItem(db.Model):
    """One drawn question of an attempt: what was shown, what was answered, how it scored."""

    __tablename__ = "attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="uq_attempt_items_attempt_position"),
        Index("ix_attempt_items_question", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    competency_code: Mapped[str] = mapped_column(String(8))
    # The question as drawn (type, stem, options in the order shown, key, explanation):
    # server-side only; pages render from it without the key until the attempt is scored.
    snapshot: Mapped[dict] = mapped_column(JSON)
    response: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    correct: Mapped[float | None] = mapped_column(Float)  # 0..1 after scoring

    attempt: Mapped[Attempt] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<AttemptItem attempt={self.attempt_id} #{self.position}>"


class CompetencyMastery(db.Model):
    """Per user and competency: the best evidence so far, kept current at each submission."""

    __tablename__ = "competency_mastery"
    __table_args__ = (
        UniqueConstraint("user_id", "competency_code", name="uq_competency_mastery_user_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    competency_code: Mapped[str] = mapped_column(String(8))
    best_percent: Mapped[float] = mapped_column(Float, default=0)
    is_mastered: Mapped[bool] = mapped_column(Boolean, default=False)
    mastered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<CompetencyMastery user={self.user_id} {self.competency_code}>"
