"""Attempts: start with a server-side draw, save answers while time remains, submit once.

Guarantees, each decided by the database rather than by the request that happens to run:
- one open attempt per learner and assessment (``uq_attempts_one_open``): a second start
  racing the first loses the insert and resumes the winner's attempt;
- answers count only while the attempt is open and before its deadline (server time):
  each save is an UPDATE guarded by that condition, so a save racing the submission or
  the deadline is refused, never half-counted;
- submission is idempotent: a guarded ``UPDATE … SET status='submitted' WHERE status='open'``
  picks exactly one winner, and only the winner scores (double clicks, replays, two tabs).

Services add and flush; the view commits once.
"""

from __future__ import annotations

import copy
import math
import random
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app.assessments import scoring
from app.assessments.mastery import fold_attempt
from app.assessments.models import Assessment, Attempt, AttemptItem, Question
from app.extensions import core_execute, db
from app.models_base import utcnow
from app.records import rules
from app.records.models import CompletionRecord
from app.text import nfc

PAGE_SIZE = 5
MAX_TEXT_LENGTH = 500


class AttemptRefused(Exception):
    """Starting is not allowed now: ``message`` says why, ``retry_at`` when to come back."""

    def __init__(self, message: str, retry_at: datetime | None = None):
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


class AttemptClosed(Exception):
    """An answer arrived after submission or after the deadline: it is not saved."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidAnswers(ValueError):
    """Responses that do not fit their questions, by position, with a Vietnamese reason each."""

    def __init__(self, errors: dict[int, str]):
        super().__init__("; ".join(f"{p}: {m}" for p, m in sorted(errors.items())))
        self.errors = errors


class FormValues(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- Reading ----------------------------------------------------------------------------

def assessment_of(course_id: int) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.course_id == course_id))


def user_attempts(user, assessment: Assessment) -> list[Attempt]:
    """The learner's attempts at this assessment, first one first."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == user.id, Attempt.assessment_id == assessment.id)
        .order_by(Attempt.number)))


def find_open(user_id: int, assessment_id: int) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(
        Attempt.user_id == user_id, Attempt.assessment_id == assessment_id,
        Attempt.status == "open"))


def latest_attempt(user, assessment: Assessment) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(Attempt.user_id == user.id, Attempt.assessment_id == assessment.id)
        .order_by(Attempt.number.desc()).limit(1))


def is_expired(attempt: Attempt, now: datetime | None = None) -> bool:
    deadline = as_utc(attempt.deadline_at)
    return deadline is not None and (now or utcnow()) >= deadline


def seconds_left(attempt: Attempt, now: datetime | None = None) -> int | None:
    """Whole seconds until the deadline (never negative); None without a time limit."""
    deadline = as_utc(attempt.deadline_at)
    if deadline is None:
        return None
    return max(0, math.floor((deadline - (now or utcnow())).total_seconds()))


def planned_question_count(assessment: Assessment) -> int:
    """How many questions an attempt will hold: the draw map capped by the active bank."""
    counts = dict(db.session.execute(
        select(Question.competency_code, func.count(Question.id))
        .where(Question.course_id == assessment.course_id, Question.status == "active")
        .group_by(Question.competency_code)).all())
    if not assessment.draw:
        return sum(counts.values())
    return sum(min(max(0, int(n)), counts.get(str(code), 0)) for code, n in assessment.draw.items())


def has_passed(user, assessment: Assessment) -> bool:
    return db.session.scalar(select(exists().where(
        Attempt.user_id == user.id, Attempt.assessment_id == assessment.id,
        Attempt.is_passed.is_(True)))) or False


# --- Starting ---------------------------------------------------------------------------

def start_refusal(attempts: list[Attempt], assessment: Assessment,
                  now: datetime | None = None) -> AttemptRefused | None:
    """Why a new attempt may not begin now (max attempts, cool-down), or None when it may."""
    now = now or utcnow()
    finished = [a for a in attempts if a.status == "submitted"]
    if assessment.max_attempts and len(finished) >= assessment.max_attempts:
        return AttemptRefused(_("Bạn đã dùng hết %(count)d lần làm bài được phép.",
                                count=assessment.max_attempts))
    if assessment.cooldown_minutes and finished:
        last = max(as_utc(a.submitted_at) or as_utc(a.started_at) for a in finished)
        retry_at = last + timedelta(minutes=assessment.cooldown_minutes)
        if now < retry_at:
            return AttemptRefused(
                _("Giữa hai lần làm bài cần nghỉ %(minutes)d phút để ôn lại bài. Bạn có thể làm lại từ %(time)s ngày %(date)s.",
                  minutes=assessment.cooldown_minutes, time=format_datetime(retry_at, "HH:mm"),
                  date=format_date(retry_at, "dd/MM/yyyy")),
                retry_at)
    return None


def draw_questions(assessment: Assessment, rng: random.Random) -> list[Question]:
    """The questions of one attempt: ``draw`` per competency (empty = every active one)."""
    active = list(db.session.scalars(
        select(Question).where(Question.course_id == assessment.course_id,
                               Question.status == "active").order_by(Question.id)))
    if assessment.draw:
        by_code: dict[str, list[Question]] = {}
        for question in active:
            by_code.setdefault(question.competency_code, []).append(question)
        chosen = []
        for code, wanted in assessment.draw.items():
            pool = by_code.get(str(code), [])
            chosen.extend(rng.sample(pool, min(max(0, int(wanted)), len(pool))))
    else:
        chosen = active
    chosen.sort(key=lambda q: q.id)  # bank order, unless shuffled below
    if assessment.shuffle_questions:
        rng.shuffle(chosen)
    return chosen


def build_snapshot(question: Question, rng: random.Random, shuffle_options: bool) -> dict:
    """The question as this attempt shows it, key included: it never leaves the server
    before scoring. Options are stored in the order shown; matching answers are shuffled."""
    data = copy.deepcopy(question.data or {})
    snapshot = {"type": question.type, "key": question.key, "title": question.title,
                "stem_html": question.stem_html, "explanation_html": question.explanation_html,
                "data": data}
    if question.type in ("single", "multiple") and shuffle_options:
        rng.shuffle(data.get("options") or [])
    if question.type == "matching":
        pairs = data.get("pairs") or []
        if shuffle_options:
            rng.shuffle(pairs)
        rights = [str(p.get("right", "")) for p in pairs]
        rights = list(dict.fromkeys(rights + [str(d) for d in data.get("distractors") or []]))
        rng.shuffle(rights)  # always: in file order, the answers would line up with the pairs
        snapshot["choices"] = [{"id": f"r{i}", "text": text} for i, text in enumerate(rights, 1)]
    return snapshot


def start_attempt(user, assessment: Assessment, *, now: datetime | None = None) -> tuple[Attempt, bool]:
    """Resume the learner's open attempt, or begin a new one. Returns (attempt, created).

    :raise AttemptRefused: no attempts left, inside the cool-down, or no questions.
    """
    now = now or utcnow()
    current = find_open(user.id, assessment.id)
    if current is not None:
        if not is_expired(current, now):
            return current, False
        submit(current, now=now)  # time ran out while the learner was away
    attempts = user_attempts(user, assessment)
    refusal = start_refusal(attempts, assessment, now)
    if refusal is not None:
        raise refusal
    seed = secrets.randbelow(2**31)
    rng = random.Random(seed)
    questions = draw_questions(assessment, rng)
    if not questions:
        raise AttemptRefused(_("Bài kiểm tra này chưa có câu hỏi. Vui lòng quay lại sau."))
    deadline = (now + timedelta(minutes=assessment.time_limit_minutes)
                if assessment.time_limit_minutes else None)
    attempt = Attempt(
        assessment_id=assessment.id, user_id=user.id,
        number=max((a.number for a in attempts), default=0) + 1,
        status="open", open_marker=1, started_at=now, deadline_at=deadline,
        pass_percent=assessment.pass_percent, show_answers=assessment.show_answers,
        competency_scores={}, seed=seed)
    for position, question in enumerate(questions, 1):
        attempt.items.append(AttemptItem(
            position=position, question_id=question.id,
            competency_code=question.competency_code,
            snapshot=build_snapshot(question, rng, assessment.shuffle_options)))
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # A double click or a second tab opened one first: that one is the learner's attempt.
        current = find_open(user.id, assessment.id)
        if current is None:
            raise AttemptRefused(_("Không bắt đầu được bài làm. Vui lòng thử lại.")) from None
        return current, False
    return attempt, True


# --- Answering --------------------------------------------------------------------------

def _closed_reason(status: str, deadline: datetime | None, now: datetime) -> str | None:
    if status != "open":
        return _("Bài làm này đã nộp; không thể sửa câu trả lời nữa.")
    if deadline is not None and now >= as_utc(deadline):
        return _("Đã hết giờ làm bài: câu trả lời gửi sau giờ nộp không được tính.")
    return None


# Built once: the autosave runs them on every answer a learner changes. The guarded UPDATE
# counts a response only while the attempt is open and in time, whatever was read before.
_attempts, _items = Attempt.__table__, AttemptItem.__table__
_SAVE_RESPONSE = (
    update(_items)
    .where(_items.c.attempt_id == bindparam("attempt"), _items.c.position == bindparam("at"),
           exists().where(_attempts.c.id == bindparam("attempt"), _attempts.c.status == "open",
                          or_(_attempts.c.deadline_at.is_(None),
                              _attempts.c.deadline_at > bindparam("now"))))
    # none_as_null: a blank answer is SQL NULL, not the JSON text 'null'.
    .values(response=bindparam("new_response", type_=JSON(none_as_null=True)),
            answered_at=bindparam("saved_at", type_=DateTime(timezone=True))))
# The owner's attempt with its row lock (PostgreSQL; a submission waits for this save or
# this save for the submission) and the snapshot of the one question answered.
_ANSWER_TARGET = (
    select(_attempts.c.status, _attempts.c.deadline_at, _items.c.snapshot)
    .select_from(_attempts.outerjoin(_items, (_items.c.attempt_id == _attempts.c.id)
                                     & (_items.c.position == bindparam("at"))))
    .where(_attempts.c.id == bindparam("attempt"), _attempts.c.user_id == bindparam("owner"))
    .with_for_update(of=_attempts))
MAX_POSITION = 10_000  # beyond any attempt; keeps a forged number inside the column's range


def _store_response(attempt_id: int, position: int, response: dict | None, now: datetime) -> None:
    result = core_execute(_SAVE_RESPONSE, {
        "attempt": attempt_id, "at": position, "now": now, "new_response": response,
        "saved_at": now})
    if result.rowcount != 1:  # submitted or out of time since the check
        raise AttemptClosed(_("Bài làm đã nộp hoặc đã hết giờ; câu trả lời này không được tính."))


def save_answers(attempt: Attempt, responses: Mapping[int, dict | None],
                 *, now: datetime | None = None) -> None:
    """Store responses by position, all or none, while the attempt is open and in time.

    :raise AttemptClosed: submitted already, or past the deadline.
    :raise LookupError: a position the attempt does not have.
    """
    now = now or utcnow()
    # Lock the attempt row (PostgreSQL) so a submission waits for this save or vice versa.
    state = db.session.execute(select(Attempt.status, Attempt.deadline_at)
                               .where(Attempt.id == attempt.id).with_for_update()).one()
    reason = _closed_reason(state.status, state.deadline_at, now)
    if reason:
        raise AttemptClosed(reason)
    positions = {item.position for item in attempt.items}
    unknown = set(responses) - positions
    if unknown:
        raise LookupError(f"no position {sorted(unknown)} in attempt {attempt.id}")
    for position, response in sorted(responses.items()):
        _store_response(attempt.id, position, response, now)
    for item in attempt.items:
        if item.position in responses:
            db.session.expire(item)


def autosave_answer(attempt_id: int, user_id: int, position: int | None, values: FormValues,
                    *, now: datetime | None = None) -> bool:
    """The autosave of one question from its form fields, in two statements and without
    loading the attempt: the locked state with the one snapshot, then the guarded UPDATE.

    Returns False when ``attempt_id`` is not one of the user's attempts.
    :raise LookupError: no question at ``position``.
    :raise ValueError: the answer does not fit its question (a Vietnamese reason).
    :raise AttemptClosed: submitted already, or past the deadline.
    """
    now = now or utcnow()
    if position is not None and not 0 < position <= MAX_POSITION:
        position = None
    found = core_execute(_ANSWER_TARGET, {
        "attempt": attempt_id, "owner": user_id, "at": position}).first()
    if found is None:
        return False
    status, deadline, snapshot = found
    if snapshot is None:
        raise LookupError(f"no position {position} in attempt {attempt_id}")
    response = parse_response(snapshot, position, values)
    reason = _closed_reason(status, deadline, now)
    if reason:
        raise AttemptClosed(reason)
    _store_response(attempt_id, position, response, now)
    return True


def save_answer(attempt: Attempt, position: int, response: dict | None,
                *, now: datetime | None = None) -> None:
    """Store one response (the autosave of a single question)."""
    save_answers(attempt, {position: response}, now=now)


def parse_response(snapshot: Mapping[str, Any], position: int, values: FormValues) -> dict | None:
    """A form's fields for the question at ``position`` as a stored response (None = blank).

    Choice values are positions in the order shown, never option ids, so a page says
    nothing about the bank. :raise ValueError: with a Vietnamese reason.
    """
    kind = snapshot.get("type")
    name = f"q{position}"
    data = snapshot.get("data") or {}
    if kind in ("single", "multiple"):
        options = data.get("options") or []
        raw = values.getlist(name) if kind == "multiple" else [values.get(name) or ""]
        picked = []
        for value in raw:
            if value == "":
                continue
            if not re.fullmatch(r"[0-9]{1,3}", str(value)) or int(value) >= len(options):
                raise ValueError(_("Lựa chọn không có trong câu hỏi này."))
            picked.append(options[int(value)]["id"])
        if not picked:
            return None
        return {"choice": picked[0]} if kind == "single" else {"choices": sorted(set(picked))}
    if kind == "true_false":
        value = values.get(name) or ""
        if value == "":
            return None
        if value not in ("true", "false"):
            raise ValueError(_("Hãy chọn Đúng hoặc Sai."))
        return {"choice": value}
    if kind in ("short_answer", "numerical"):
        text = nfc(values.get(name) or "")
        if not text:
            return None
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(_("Câu trả lời quá dài (tối đa %(count)d ký tự).", count=MAX_TEXT_LENGTH))
        if kind == "numerical" and scoring.parse_number(text) is None:
            raise ValueError(_("Hãy nhập một con số, ví dụ 12 hoặc 3,5."))
        return {"text": text}
    if kind == "matching":
        choices = {c["id"]: c["text"] for c in snapshot.get("choices") or []}
        matches = {}
        for index in range(len(data.get("pairs") or [])):
            value = values.get(f"{name}-{index}") or ""
            if value == "":
                continue
            if value not in choices:
                raise ValueError(_("Lựa chọn không có trong câu hỏi này."))
            matches[str(index)] = choices[value]
        return {"matches": matches} if matches else None
    raise ValueError(_("Loại câu hỏi không được hỗ trợ."))


def parse_responses(items: Iterable[AttemptItem], values: FormValues) -> dict[int, dict | None]:
    """Every question's response from one submitted page; all problems raised together."""
    responses: dict[int, dict | None] = {}
    errors: dict[int, str] = {}
    for item in items:
        try:
            responses[item.position] = parse_response(item.snapshot, item.position, values)
        except ValueError as exc:
            errors[item.position] = str(exc)
    if errors:
        raise InvalidAnswers(errors)
    return responses


# --- Submitting and scoring -------------------------------------------------------------

# Built once: every submission runs them. The close is the guarded UPDATE that picks the one
# winner; it returns what scoring needs (and the course, for the completion rule).
_assessments = Assessment.__table__
_CLOSE = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt"), _attempts.c.user_id == bindparam("owner"),
           _attempts.c.status == "open")
    .values(status="submitted", open_marker=None,
            submitted_at=bindparam("closed_at", type_=DateTime(timezone=True)))
    .returning(_attempts.c.deadline_at, _attempts.c.pass_percent,
               select(_assessments.c.course_id)
               .where(_assessments.c.id == _attempts.c.assessment_id).scalar_subquery()))
_ITEMS_TO_SCORE = (
    select(_items.c.id, _items.c.competency_code, _items.c.snapshot, _items.c.response,
           _items.c.answered_at)
    .where(_items.c.attempt_id == bindparam("attempt")).order_by(_items.c.position))
_SCORE = (
    update(_attempts).where(_attempts.c.id == bindparam("attempt"))
    .values(score_percent=bindparam("total", type_=Float),
            is_passed=bindparam("passed", type_=Boolean),
            competency_scores=bindparam("per_competency", type_=JSON)))
_MARK = (update(_items).where(_items.c.id == bindparam("item"))
         .values(correct=bindparam("mark", type_=Float)))


@dataclass(frozen=True)
class Submitted:
    """A submission this call won: whether it passed, and the completion record that stands
    for the course when it did (made now, or found)."""

    passed: bool
    record: CompletionRecord | None = None


def submit_own(attempt_id: int, user_id: int, *, now: datetime | None = None) -> Submitted | None:
    """Close and score the user's open attempt ``attempt_id``: None when there is none (it
    was submitted already, by this call's twin, or it is not the user's).

    Read-only data comes as Core rows and writes are prebuilt statements: five statements,
    plus the completion rule's when the attempt passed. The items are read after the close,
    which holds the attempt's row lock (PostgreSQL; the write lock on SQLite): a save that
    got in first is scored, one that comes later finds the attempt submitted.
    """
    now = now or utcnow()
    db.session.flush()
    closed = core_execute(_CLOSE, {"attempt": attempt_id, "owner": user_id,
                                   "closed_at": now}).first()
    if closed is None:
        return None
    deadline, pass_percent, course_id = closed
    items = core_execute(_ITEMS_TO_SCORE, {"attempt": attempt_id}).all()
    deadline = as_utc(deadline)
    marks = [_mark(item.snapshot, item.response, item.answered_at, deadline) for item in items]
    total, per_competency = scoring.score_attempt(
        [(item.competency_code, mark) for item, mark in zip(items, marks, strict=True)])
    passed = scoring.is_passed(total, pass_percent)
    scores = {code: round(p, 2) for code, p in sorted(per_competency.items())}
    core_execute(_SCORE, {"attempt": attempt_id, "total": round(total, 2),
                          "passed": passed, "per_competency": scores})
    if items:
        core_execute(_MARK, [{"item": item.id, "mark": mark}
                             for item, mark in zip(items, marks, strict=True)])
    _forget_loaded(attempt_id)
    fold_attempt(user_id, attempt_id, passed, scores, Counter(i.competency_code for i in items),
                 now)
    if not passed:
        return Submitted(False)
    # A pass may complete the course: its record, in this transaction.
    from app.auth.models import User

    return Submitted(True, rules.record_completion_if_due(db.session.get(User, user_id), course_id))


def _forget_loaded(attempt_id: int) -> None:
    """The attempt and items this session may hold were written past the ORM: reload them
    when next read (the completion rule reads attempts through the ORM)."""
    for obj in list(db.session.identity_map.values()):
        if (isinstance(obj, Attempt) and obj.__dict__.get("id") == attempt_id) or (
                isinstance(obj, AttemptItem) and obj.__dict__.get("attempt_id") == attempt_id):
            db.session.expire(obj)


def submit(attempt: Attempt, *, now: datetime | None = None) -> bool:
    """Close and score the attempt. True for the one call that did it; False for repeats."""
    won = submit_own(attempt.id, attempt.user_id, now=now) is not None
    db.session.expire(attempt)
    return won


def _mark(snapshot: Mapping[str, Any], response: dict | None, answered_at: datetime | None,
          deadline: datetime | None) -> float:
    """One item's correctness from its snapshot; an answer saved after the deadline is none."""
    answered = as_utc(answered_at)
    if deadline is not None and (answered is None or answered > deadline):
        return 0.0
    return scoring.score_item(snapshot.get("type"), snapshot.get("data") or {}, response)


def score(attempt: Attempt) -> None:
    """Score every item from its snapshot; answers saved after the deadline count as none."""
    deadline = as_utc(attempt.deadline_at)
    marks = []
    for item in attempt.items:
        item.correct = _mark(item.snapshot, item.response, item.answered_at, deadline)
        marks.append((item.competency_code, item.correct))
    total, per_competency = scoring.score_attempt(marks)
    attempt.score_percent = round(total, 2)
    attempt.is_passed = scoring.is_passed(total, attempt.pass_percent)
    attempt.competency_scores = {code: round(p, 2) for code, p in sorted(per_competency.items())}
    db.session.flush()


def finish_if_expired(attempt: Attempt, *, now: datetime | None = None) -> bool:
    """Submit an open attempt whose time is up (when the learner next opens it)."""
    if attempt.status == "open" and is_expired(attempt, now):
        submit(attempt, now=now)
        return True
    return False


# --- What pages show --------------------------------------------------------------------

def page_count(attempt: Attempt) -> int:
    return max(1, math.ceil(len(attempt.items) / PAGE_SIZE))


def page_items(attempt: Attempt, page: int) -> list[AttemptItem]:
    return attempt.items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]


def page_of(position: int) -> int:
    return (position - 1) // PAGE_SIZE + 1


@dataclass
class ShownItem:
    """Only what the learner needs to answer: no weights, keys, feedback or explanations."""

    position: int
    type: str
    stem_html: str
    options: list[tuple[str, str]] = field(default_factory=list)  # (form value, html)
    lefts: list[str] = field(default_factory=list)  # matching: html of each left item
    choices: list[tuple[str, str]] = field(default_factory=list)  # matching: (value, text)
    selected: set[str] = field(default_factory=set)  # chosen form values
    text: str = ""
    matches: dict[int, str] = field(default_factory=dict)  # left index → chosen value
    error: str | None = None

    @property
    def is_answered(self) -> bool:
        return bool(self.selected or self.text or self.matches)


def shown_item(item: AttemptItem, values: FormValues | None = None, error: str | None = None) -> ShownItem:
    """The question for the attempt page, filled from the saved response or a re-shown form."""
    snap = item.snapshot
    data = snap.get("data") or {}
    shown = ShownItem(position=item.position, type=snap.get("type", ""),
                      stem_html=snap.get("stem_html", ""), error=error)
    if shown.type in ("single", "multiple"):
        shown.options = [(str(i), o.get("text_html", "")) for i, o in enumerate(data.get("options") or [])]
    elif shown.type == "true_false":
        shown.options = [("true", _("Đúng")), ("false", _("Sai"))]
    elif shown.type == "matching":
        shown.lefts = [p.get("left_html", "") for p in data.get("pairs") or []]
        shown.choices = [(c["id"], c["text"]) for c in snap.get("choices") or []]
    if values is not None:
        _fill_from_form(shown, values)
    else:
        _fill_from_response(shown, snap, item.response)
    return shown


def _fill_from_form(shown: ShownItem, values: FormValues) -> None:
    name = f"q{shown.position}"
    if shown.type == "multiple":
        shown.selected = {str(v) for v in values.getlist(name)}
    elif shown.type in ("single", "true_false"):
        shown.selected = {values.get(name)} if values.get(name) else set()
    elif shown.type == "matching":
        shown.matches = {i: values.get(f"{name}-{i}") for i in range(len(shown.lefts))
                         if values.get(f"{name}-{i}")}
    else:
        shown.text = values.get(name) or ""


def _fill_from_response(shown: ShownItem, snap: Mapping[str, Any], response: dict | None) -> None:
    if not response:
        return
    data = snap.get("data") or {}
    if shown.type in ("single", "multiple"):
        ids = [o.get("id") for o in data.get("options") or []]
        chosen = response.get("choices") or [response.get("choice")]
        shown.selected = {str(ids.index(c)) for c in chosen if c in ids}
    elif shown.type == "true_false":
        shown.selected = {str(response.get("choice"))}
    elif shown.type == "matching":
        by_text = {c["text"]: c["id"] for c in snap.get("choices") or []}
        shown.matches = {int(i): by_text[t] for i, t in (response.get("matches") or {}).items()
                         if t in by_text}
    else:
        shown.text = str(response.get("text") or "")


@dataclass
class ReviewedItem:
    """One question on the results page: the learner's answer beside the right one."""

    position: int
    type: str
    competency_code: str
    stem_html: str
    correct: float
    given: list[str]  # the learner's answer, as display lines (HTML-safe strings)
    right: list[str]  # the right answer(s), as display lines
    feedback: list[str]  # feedback HTML of the options the learner chose
    explanation_html: str

    @property
    def verdict(self) -> str:
        if not self.given:
            return "blank"
        if self.correct >= 1 - 1e-9:
            return "right"
        return "partial" if self.correct > 0 else "wrong"


def reviewed_item(item: AttemptItem) -> ReviewedItem:
    """What the results page shows for one item; called only once the attempt is scored."""
    from markupsafe import escape

    snap = item.snapshot
    data = snap.get("data") or {}
    kind = snap.get("type", "")
    response = item.response or {}
    given: list[str] = []
    right: list[str] = []
    feedback: list[str] = []
    if kind in ("single", "multiple"):
        options = data.get("options") or []
        chosen = set(response.get("choices") or [response.get("choice")])
        best = max((scoring.option_weight(o) for o in options), default=0)
        for option in options:
            if option.get("id") in chosen:
                given.append(option.get("text_html", ""))
                if option.get("feedback_html"):
                    feedback.append(option["feedback_html"])
            is_right = (scoring.is_key(option) if kind == "multiple"
                        else scoring.option_weight(option) >= best > 0)
            if is_right:
                right.append(option.get("text_html", ""))
    elif kind == "true_false":
        labels = {"true": _("Đúng"), "false": _("Sai")}
        if response.get("choice") in labels:
            given.append(labels[response["choice"]])
        right.append(labels["true" if data.get("answer") else "false"])
        key = "feedback_true_html" if response.get("choice") == "true" else "feedback_false_html"
        if response and data.get(key):
            feedback.append(data[key])
    elif kind == "short_answer":
        if response.get("text"):
            given.append(str(escape(response["text"])))
        right = [str(escape(text)) for text, weight in scoring.accepted_answers(data) if weight >= 100]
        feedback = _typed_feedback(data, response, "short_answer")
    elif kind == "numerical":
        if response.get("text"):
            given.append(str(escape(response["text"])))
        right = _numeric_keys(data)
        feedback = _typed_feedback(data, response, "numerical")
    elif kind == "matching":
        matches = response.get("matches") or {}
        for index, pair in enumerate(data.get("pairs") or []):
            left = pair.get("left_html", "")
            if str(index) in matches:
                given.append(f"{left} → {escape(matches[str(index)])}")
            right.append(f"{left} → {escape(pair.get('right', ''))}")
    return ReviewedItem(item.position, kind, item.competency_code, snap.get("stem_html", ""),
                        item.correct or 0.0, given, right, feedback,
                        snap.get("explanation_html", ""))


def _typed_feedback(data: Mapping[str, Any], response: Mapping[str, Any], kind: str) -> list[str]:
    """Feedback of the accepted answer the learner typed (GIFT ``=answer#feedback``), if any."""
    if not response:
        return []
    for answer in data.get("answers") or []:
        if not isinstance(answer, Mapping) or not answer.get("feedback_html"):
            continue
        single = dict(data, answers=[dict(answer, weight=100)])
        if kind == "numerical":
            single.pop("answer", None)
        if scoring.score_item(kind, single, response) > 0:
            return [answer["feedback_html"]]
    wrong = data.get("wrong_feedback_html")
    return [wrong] if wrong and scoring.score_item(kind, data, response) < 1 else []


def _numeric_keys(data: Mapping[str, Any]) -> list[str]:
    """Full-credit numerical answers as written: "15", "1,5 ± 0,5", "từ 1 đến 5"."""
    from flask_babel import format_decimal

    raw = data.get("answers")
    if not isinstance(raw, list):
        raw = [{"answer": data.get("answer"), "tolerance": data.get("tolerance", 0)}]
    labels = []
    for alt in raw:
        if not isinstance(alt, Mapping) or (alt.get("weight") is not None
                                            and scoring.option_weight(alt) < 100):
            continue
        if alt.get("min") is not None and alt.get("max") is not None:
            low, high = scoring.parse_number(alt["min"]), scoring.parse_number(alt["max"])
            if low is not None and high is not None:
                labels.append(_("từ %(low)s đến %(high)s", low=format_decimal(low),
                                high=format_decimal(high)))
            continue
        value = scoring.parse_number(alt.get("answer"))
        tolerance = abs(scoring.parse_number(alt.get("tolerance")) or 0.0)
        if value is None:
            continue
        labels.append(f"{format_decimal(value)} ± {format_decimal(tolerance)}" if tolerance
                      else format_decimal(value))
    return labels


def answers_visible(attempt: Attempt, passed_any: bool) -> bool:
    """show_answers snapshot: after_submit → yes; after_pass → once the learner passed; never."""
    if attempt.status != "submitted" or attempt.show_answers == "never":
        return False
    return attempt.show_answers == "after_submit" or passed_any
