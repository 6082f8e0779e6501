"""The completion rule, and the one place a completion record is written.

A course is complete for a learner when every lesson of its current published version is
done (progress is kept by lesson slug) and, when the course has an assessment, the learner
holds a passed, submitted attempt. A course without an assessment completes on its
lessons. The record is written in the caller's transaction, exactly once per user and
course: the unique constraint decides between racing requests, inside a SAVEPOINT.
"""

from __future__ import annotations

import secrets

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from app.assessments.models import Assessment, Attempt, AttemptItem
from app.courses.models import Course, CourseVersion, Lesson, LessonProgress
from app.courses.services import published_version
from app.extensions import db
from app.models_base import utcnow
from app.records.models import CompletionRecord
from app.text import nfc

_CREATED = "records.created"  # db.session.info key: ids of the records this session wrote


def new_verification_code() -> str:
    """128 random bits, URL-safe (22 characters): unguessable, short enough for a QR code."""
    return secrets.token_urlsafe(16)


def find_record(user_id: int, course_id: int) -> CompletionRecord | None:
    return db.session.scalar(select(CompletionRecord).where(
        CompletionRecord.user_id == user_id, CompletionRecord.course_id == course_id))


def course_assessment(course_id: int) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.course_id == course_id))


def lessons_done(user, version: CourseVersion) -> bool:
    """Every lesson of ``version`` is marked done by ``user`` (and there is at least one)."""
    total, done = db.session.execute(
        select(func.count(Lesson.id), func.count(LessonProgress.id))
        .select_from(Lesson)
        .outerjoin(LessonProgress, and_(LessonProgress.user_id == user.id,
                                        LessonProgress.course_id == version.course_id,
                                        LessonProgress.lesson_slug == Lesson.slug))
        .where(Lesson.version_id == version.id)).one()
    return total > 0 and done == total


def best_passed_attempt(user, assessment: Assessment) -> Attempt | None:
    """The learner's highest-scoring passed attempt (the earliest among equals)."""
    return db.session.scalar(
        select(Attempt)
        .where(Attempt.user_id == user.id, Attempt.assessment_id == assessment.id,
               Attempt.status == "submitted", Attempt.is_passed.is_(True))
        .order_by(Attempt.score_percent.desc(), Attempt.submitted_at, Attempt.id)
        .limit(1))


def is_course_complete(user, course: Course) -> bool:
    """The completion rule: all lessons of the published version done, and the assessment
    (when the course has one) passed."""
    version = published_version(course.id)
    if version is None or not lessons_done(user, version):
        return False
    assessment = course_assessment(course.id)
    return assessment is None or best_passed_attempt(user, assessment) is not None


def demonstrated_competencies(user, assessment: Assessment | None,
                              version: CourseVersion) -> list[str]:
    """Codes the record lists. With an assessment: those mastered in a passed attempt of this
    course (app.assessments.mastery's rule; the course's list if that module is absent).
    Without one: the course's own list, since its lessons are the evidence it asks for."""
    if assessment is None:
        return sorted(version.competencies or [])
    try:
        from app.assessments.mastery import is_mastered
    except ImportError:  # the mastery rule is not installed: a pass covers the course's list
        return sorted(version.competencies or [])
    attempts = list(db.session.scalars(select(Attempt).where(
        Attempt.user_id == user.id, Attempt.assessment_id == assessment.id,
        Attempt.status == "submitted", Attempt.is_passed.is_(True))))
    if not attempts:
        return []
    counts = {(attempt_id, code): n for attempt_id, code, n in db.session.execute(
        select(AttemptItem.attempt_id, AttemptItem.competency_code, func.count(AttemptItem.id))
        .where(AttemptItem.attempt_id.in_([a.id for a in attempts]))
        .group_by(AttemptItem.attempt_id, AttemptItem.competency_code))}
    mastered = {code for attempt in attempts
                for code, percent in (attempt.competency_scores or {}).items()
                if is_mastered(float(percent), counts.get((attempt.id, code), 0), True)}
    return sorted(mastered)


def create_record(record: CompletionRecord) -> CompletionRecord:
    """Insert ``record`` unless the learner already holds one for the course; return the one
    that stands. The SAVEPOINT keeps the caller's transaction alive when a race is lost."""
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        existing = find_record(record.user_id, record.course_id)
        if existing is None:  # the conflict was not ours (should not happen): let it surface
            raise
        return existing
    db.session.info.setdefault(_CREATED, set()).add(record.id)
    return record


def created_now(record: CompletionRecord | None) -> bool:
    """True when ``record`` was written by this session (a congratulation is due), not found."""
    return record is not None and record.id in db.session.info.get(_CREATED, ())


def serialize_per_learner(user_id: int) -> None:
    """Take the learner's row lock (PostgreSQL) before judging the rule.

    The last lesson on one server and a passing submission on another each write what the
    other needs; judged at once, neither sees the other's uncommitted write and no record is
    made. In turn, the second one's queries (read committed) see the first's work. SQLite
    lets one writer at a time, so there it is already so.
    """
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        from app.auth.models import User

        # NO KEY UPDATE: the rows each request inserted for this learner hold KEY SHARE locks
        # on it (foreign keys), which FOR UPDATE would wait on: a deadlock.
        db.session.execute(select(User.id).where(User.id == user_id)
                           .with_for_update(key_share=True))


def record_completion_if_due(user, course: Course | int, *, attempt: Attempt | None = None
                             ) -> CompletionRecord | None:
    """The learner's record for ``course`` (the course or its id: a submission knows only
    the id) when the rule holds (created now if needed), else None. ``attempt`` is the
    submission that just passed, if that is what triggered us."""
    course_id = course if isinstance(course, int) else course.id
    serialize_per_learner(user.id)
    existing = find_record(user.id, course_id)
    if existing is not None:
        return existing
    version = published_version(course_id)
    if version is None or not lessons_done(user, version):
        return None
    assessment = course_assessment(course_id)
    best = None
    if assessment is not None:
        if attempt is not None:
            db.session.flush()  # the passing attempt must be visible to the query below
        best = best_passed_attempt(user, assessment)
        if best is None:
            return None
    return create_record(CompletionRecord(
        user_id=user.id, course_id=course_id, course_version_id=version.id,
        completed_at=utcnow(), score_percent=best.score_percent if best else None,
        competencies=demonstrated_competencies(user, assessment, version),
        source="online", issuing_unit_id=user.unit_id,
        attempt_id=best.id if best else None,
        verification_code=new_verification_code(),
        holder_name=nfc(user.full_name), course_title=version.title,
    ))


def on_attempt_passed(attempt: Attempt) -> CompletionRecord | None:
    """Hook for the submission that was just scored: a passed attempt may complete the course."""
    if not attempt.is_passed or attempt.status != "submitted":
        return None
    from app.auth.models import User

    db.session.flush()
    user = db.session.get(User, attempt.user_id)
    course = db.session.get(Course, attempt.assessment.course_id)
    return record_completion_if_due(user, course, attempt=attempt)

