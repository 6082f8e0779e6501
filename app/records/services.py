"""Record operations besides issuing: who may see a record, revocation, lists, exports.

Services add and flush; the view or CLI command that called them commits once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from app.assessments.models import Assessment, Attempt, AttemptItem, CompetencyMastery
from app.audit import record_audit
from app.auth.models import User
from app.auth.permissions import can, scope_clause
from app.courses.models import Course, LessonProgress
from app.extensions import db
from app.models_base import utcnow
from app.orgs.models import Unit
from app.records import credentials
from app.records.models import CompletionRecord
from app.text import nfc

REASON_MAX = 500
XAPI_BATCH = 500
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"


class RecordError(ValueError):
    """A refused operation on a record; the message is safe to show."""


def find_by_code(code: str) -> CompletionRecord | None:
    if not code or len(code) > 40:
        return None
    return db.session.scalar(select(CompletionRecord)
                             .where(CompletionRecord.verification_code == code))


def holder_unit(record: CompletionRecord) -> Unit:
    """Scope follows the holder's unit today (where they are counted), as for every person."""
    return record.user.unit


def may_view(user, record: CompletionRecord) -> bool:
    """The holder, and officers/admins whose scope covers the holder's unit."""
    if not getattr(user, "is_authenticated", False):
        return False
    return record.user_id == user.id or can(user, "people.view", holder_unit(record))


def may_revoke(user, record: CompletionRecord) -> bool:
    return can(user, "people.edit", holder_unit(record))


def revoke_record(record: CompletionRecord, actor, reason: str) -> CompletionRecord:
    """Mark the record revoked (never deleted), audit-logged; RecordError when refused."""
    reason = nfc(reason)
    if record.is_revoked:
        raise RecordError(_l("Chứng nhận này đã bị thu hồi từ trước."))
    if len(reason) < 5:
        raise RecordError(_l("Hãy ghi rõ lý do thu hồi (ít nhất 5 ký tự)."))
    if len(reason) > REASON_MAX:
        raise RecordError(_l("Lý do dài quá %(n)s ký tự.", n=REASON_MAX))
    # Guarded update: two officers revoking at once leave one reason, not the last one.
    updated = db.session.execute(
        CompletionRecord.__table__.update()
        .where(CompletionRecord.id == record.id, CompletionRecord.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by_id=actor.id, revoke_reason=reason))
    if updated.rowcount != 1:
        raise RecordError(_l("Chứng nhận này đã bị thu hồi từ trước."))
    db.session.refresh(record)
    record_audit("record.revoke", actor=actor, target=f"record:{record.id}",
                 code=record.verification_code, holder_id=record.user_id,
                 course_id=record.course_id, reason=reason)
    return record


def my_records(user) -> list[CompletionRecord]:
    return list(db.session.scalars(select(CompletionRecord)
                                   .where(CompletionRecord.user_id == user.id)
                                   .order_by(CompletionRecord.completed_at.desc())))


def unit_records_query(viewer, unit: Unit) -> Select:
    """Records of people under ``unit``, within what ``viewer`` may see (in SQL, not Python)."""
    return (select(CompletionRecord)
            .join(User, CompletionRecord.user_id == User.id)
            .join(Unit, User.unit_id == Unit.id)
            .where(Unit.path.startswith(unit.path),
                   scope_clause(viewer, "people.view", Unit.path))
            .options(contains_eager(CompletionRecord.user))
            .order_by(CompletionRecord.completed_at.desc(), CompletionRecord.id.desc()))


# --- Personal data ---------------------------------------------------------------------------

def _iso(value) -> str | None:
    return credentials.iso(value) if value is not None else None


def personal_data(user: User) -> dict[str, Any]:
    """Everything we keep about the learner, for them to download (and audit-logged)."""
    progress = db.session.execute(
        select(Course.slug, LessonProgress.lesson_slug, LessonProgress.completed_at)
        .join(Course, Course.id == LessonProgress.course_id)
        .where(LessonProgress.user_id == user.id)
        .order_by(LessonProgress.completed_at)).all()
    attempts = db.session.execute(
        select(Attempt, Course.slug)
        .join(Assessment, Assessment.id == Attempt.assessment_id)
        .join(Course, Course.id == Assessment.course_id)
        .where(Attempt.user_id == user.id).order_by(Attempt.started_at)).all()
    items: dict[int, list] = {}
    if attempts:
        for item in db.session.scalars(
                select(AttemptItem).where(AttemptItem.attempt_id.in_([a.id for a, _ in attempts]))
                .order_by(AttemptItem.attempt_id, AttemptItem.position)):
            items.setdefault(item.attempt_id, []).append(item)
    mastery = db.session.scalars(select(CompetencyMastery)
                                 .where(CompetencyMastery.user_id == user.id)
                                 .order_by(CompetencyMastery.competency_code))
    record_audit("people.export", actor=user, target=f"user:{user.id}", kind="own_data")
    return {
        "exported_at": _iso(utcnow()),
        "profile": {
            "full_name": user.full_name, "phone": user.phone, "email": user.email,
            "unit": {"code": user.unit.code, "name": user.unit.full_name},
            "audience": user.audience, "gender": user.gender, "birth_year": user.birth_year,
            "roles": sorted({(g.role, g.unit.code) for g in user.grants}),
            "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
        },
        "lesson_progress": [{"course": slug, "lesson": lesson, "completed_at": _iso(done)}
                            for slug, lesson, done in progress],
        "attempts": [_attempt_data(attempt, slug, items.get(attempt.id, []))
                     for attempt, slug in attempts],
        "competency_mastery": [
            {"competency": m.competency_code, "best_percent": m.best_percent,
             "is_mastered": m.is_mastered, "mastered_at": _iso(m.mastered_at)} for m in mastery],
        "records": [_record_data(r) for r in my_records(user)],
    }


def _attempt_data(attempt: Attempt, course_slug: str, items: list[AttemptItem]) -> dict:
    """The attempt and the learner's own answers; never the answer key of a question."""
    return {
        "course": course_slug, "number": attempt.number, "status": attempt.status,
        "started_at": _iso(attempt.started_at), "submitted_at": _iso(attempt.submitted_at),
        "score_percent": attempt.score_percent, "is_passed": attempt.is_passed,
        "competency_scores": attempt.competency_scores or {},
        "answers": [{"position": i.position, "competency": i.competency_code,
                     "response": i.response, "answered_at": _iso(i.answered_at),
                     "correct": i.correct if attempt.status == "submitted" else None}
                    for i in items],
    }


def _record_data(record: CompletionRecord) -> dict:
    return {
        "course_title": record.course_title, "holder_name": record.holder_name,
        "completed_at": _iso(record.completed_at), "score_percent": record.score_percent,
        "competencies": record.competencies or [], "source": record.source,
        "verification_code": record.verification_code,
        "verification_url": credentials.verification_url(record.verification_code),
        "revoked_at": _iso(record.revoked_at), "revoke_reason": record.revoke_reason,
    }


# --- xAPI ------------------------------------------------------------------------------------

def xapi_statements() -> Iterator[dict[str, Any]]:
    """One "completed" statement per standing record, plus "passed" when it has a score.
    Rows are fetched in batches, so memory stays flat whatever the number of records."""
    site = credentials.site_url()
    stmt = (select(CompletionRecord.user_id, CompletionRecord.verification_code,
                   CompletionRecord.completed_at, CompletionRecord.score_percent,
                   CompletionRecord.course_title, CompletionRecord.source, Course.slug)
            .join(Course, Course.id == CompletionRecord.course_id)
            .where(CompletionRecord.revoked_at.is_(None))
            .order_by(CompletionRecord.id)
            .execution_options(yield_per=XAPI_BATCH))
    for row in db.session.execute(stmt):
        yield from _statements_for(site, row)


def _statements_for(site: str, row) -> Iterator[dict[str, Any]]:
    import uuid

    user_id, code, completed_at, score, title, source, slug = row
    actor = {"objectType": "Agent",
             "account": {"homePage": f"{site}/", "name": credentials.opaque_learner_id(user_id)}}
    activity = {"objectType": "Activity", "id": f"{site}/courses/{slug}/",
                "definition": {"name": {"vi-VN": title},
                               "type": "http://adlnet.gov/expapi/activities/course"}}
    timestamp = credentials.as_utc(completed_at).astimezone(UTC).isoformat().replace("+00:00", "Z")
    result: dict[str, Any] = {"completion": True, "success": True}
    if score is not None:
        result["score"] = {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100}
    context = {"platform": "Học vụ số", "language": "vi-VN",
               "extensions": {f"{site}/xapi/source": source}}
    verbs = [(VERB_COMPLETED, "completed", "đã hoàn thành")]
    if score is not None:
        verbs.append((VERB_PASSED, "passed", "đã đạt"))
    for verb_id, english, vietnamese in verbs:
        yield {
            # Stable per record and verb: exporting twice gives the same ids, so an LRS
            # that already holds a statement recognises the repeat.
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site}/verify/{code}#{english}")),
            "actor": actor,
            "verb": {"id": verb_id, "display": {"en-US": english, "vi-VN": vietnamese}},
            "object": activity, "result": result, "context": context, "timestamp": timestamp,
        }


def write_xapi(out) -> int:
    """Write the statements to ``out`` as JSON lines; return how many."""
    count = 0
    for statement in xapi_statements():
        out.write(json.dumps(statement, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count
