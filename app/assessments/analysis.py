"""Item analysis for trainers: how each question of a course behaved in submitted attempts.

- **Facility** (p-value): the mean of ``correct`` (0..1) over every time the question was
  drawn: 0.85 means learners earned 85 % of its credit.
- **Discrimination**: the upper–lower 27 % index (Kelley). Submitted attempts are ranked by
  total score (ties: earlier attempt first); the top and bottom 27 % of them (rounded, at
  least one each; none below two attempts) form the upper and lower groups, and
  D = facility in the upper group − facility in the lower group, from −1 to 1. Around 0.3
  and above separates well; near 0 tells nothing; negative means the strongest learners
  do worse on it than the weakest. Chosen over point-biserial because a trainer can
  check it by hand.
- **Options**: how often each option was chosen, overall and by the upper group.

Flags: "quá dễ" (facility > 0.9), "quá khó" (facility < 0.2), "phương án nhiễu mạnh"
(a wrong option chosen by the upper group more often than a key).

Every retake counts as an attempt. The figures come from three aggregate statements
(count, per question, per question and option) plus one for the bank, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, case, cast, func, literal, select, union_all

from app.assessments import scoring
from app.assessments.models import Assessment, Attempt, AttemptItem, Question
from app.extensions import db

UPPER_LOWER_SHARE = 0.27
TOO_EASY = 0.9
TOO_HARD = 0.2
CHOICE_TYPES = ("single", "multiple", "true_false")
FLAG_LABELS = {
    "too_easy": _l("quá dễ"),
    "too_hard": _l("quá khó"),
    "strong_distractor": _l("phương án nhiễu mạnh"),
}


@dataclass
class OptionStat:
    id: str
    html: str
    is_key: bool
    chosen: int = 0
    chosen_upper: int = 0


@dataclass
class ItemStat:
    question: Question
    attempts: int = 0
    facility: float | None = None
    discrimination: float | None = None
    options: list[OptionStat] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def flag_labels(self) -> list[str]:
        return [str(FLAG_LABELS[f]) for f in self.flags]


@dataclass
class Report:
    attempts: int
    group_size: int
    items: list[ItemStat]

    @property
    def flagged(self) -> int:
        return sum(1 for item in self.items if item.flags)


def group_size(attempt_count: int) -> int:
    """Size of the upper (and of the lower) group: 27 % of the attempts, rounded half up."""
    if attempt_count < 2:
        return 0
    return max(1, int(UPPER_LOWER_SHARE * attempt_count + 0.5))


def may_analyse(user, course) -> bool:
    """The course's authors: the one rule of course authoring (app.courses.authoring)."""
    from app.courses.authoring import may_author

    return may_author(user, course)


def _option_stats(question: Question) -> list[OptionStat]:
    data = question.data or {}
    if question.type == "true_false":
        answer = bool(data.get("answer"))
        return [OptionStat("true", str(_l("Đúng")), answer), OptionStat("false", str(_l("Sai")), not answer)]
    options = [o for o in data.get("options") or [] if isinstance(o, dict) and o.get("id")]
    best = max((scoring.option_weight(o) for o in options), default=0)
    stats = []
    for option in options:
        key = (scoring.is_key(option) if question.type == "multiple"
               else scoring.option_weight(option) >= best > 0)
        stats.append(OptionStat(str(option["id"]), option.get("text_html", ""), key))
    return stats


def item_analysis(assessment: Assessment) -> Report:
    """Per question of the course's bank that was ever drawn: the figures above, and flags."""
    questions = list(db.session.scalars(select(Question).where(
        Question.course_id == assessment.course_id).order_by(Question.id)))
    submitted = (Attempt.assessment_id == assessment.id) & (Attempt.status == "submitted")
    count = db.session.scalar(select(func.count(Attempt.id)).where(submitted)) or 0
    g = group_size(count)
    ranked = (select(Attempt.id.label("attempt_id"),
                     func.row_number().over(order_by=(Attempt.score_percent.desc(), Attempt.id))
                     .label("rank"))
              .where(submitted).subquery("ranked"))
    upper = ranked.c.rank <= g
    lower = ranked.c.rank > count - g
    per_question = db.session.execute(
        select(AttemptItem.question_id, func.count(AttemptItem.id), func.avg(AttemptItem.correct),
               func.avg(case((upper, AttemptItem.correct))),
               func.avg(case((lower, AttemptItem.correct))))
        .join(ranked, ranked.c.attempt_id == AttemptItem.attempt_id)
        .group_by(AttemptItem.question_id)).all()
    stats = {row[0]: row[1:] for row in per_question}
    items = {}
    for question in questions:
        if question.id not in stats:
            continue
        n, facility, up, low = stats[question.id]
        item = ItemStat(question, int(n), float(facility or 0.0))
        if g and up is not None and low is not None:
            item.discrimination = float(up) - float(low)
        item.options = _option_stats(question) if question.type in CHOICE_TYPES else []
        items[question.id] = item
    _count_options(items, ranked, upper)
    for item in items.values():
        item.flags = _flags(item, g)
    return Report(count, g, list(items.values()))


def _count_options(items: dict[int, ItemStat], ranked, upper) -> None:
    """How often each option was chosen, for every choice question, in one statement.

    Stored responses name option ids as JSON strings ({"choice": "b"}, {"choices": ["a", "c"]},
    {"choice": "true"}), so "response mentions \"b\"" is a portable test on SQLite and PostgreSQL.
    """
    ids = sorted({o.id for item in items.values() for o in item.options})
    if not ids:
        return
    opts = union_all(*[select(cast(literal(i), String(40)).label("opt")) for i in ids]).subquery("opts") \
        if len(ids) > 1 else select(cast(literal(ids[0]), String(40)).label("opt")).subquery("opts")
    mentions = cast(AttemptItem.response, Text).like(literal('%"') + opts.c.opt + literal('"%'))
    rows = db.session.execute(
        select(AttemptItem.question_id, opts.c.opt, func.count(AttemptItem.id),
               func.sum(case((upper, 1), else_=0)))
        .join(ranked, ranked.c.attempt_id == AttemptItem.attempt_id)
        .join(opts, mentions)
        .where(AttemptItem.question_id.in_([i for i, item in items.items() if item.options]))
        .group_by(AttemptItem.question_id, opts.c.opt)).all()
    for question_id, option_id, chosen, chosen_upper in rows:
        for option in items[question_id].options:
            if option.id == option_id:
                option.chosen, option.chosen_upper = int(chosen), int(chosen_upper or 0)


def _flags(item: ItemStat, g: int) -> list[str]:
    flags = []
    if item.facility is not None and item.facility > TOO_EASY:
        flags.append("too_easy")
    if item.facility is not None and item.facility < TOO_HARD:
        flags.append("too_hard")
    keys = [o.chosen_upper for o in item.options if o.is_key]
    if g and keys and any(not o.is_key and o.chosen_upper > min(keys) for o in item.options):
        flags.append("strong_distractor")
    return flags
