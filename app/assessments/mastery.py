"""Mastery of the framework's competencies, per learner and per unit.

The rule (shown to learners on their "Hồ sơ năng lực số" page, and kept in one function,
``is_mastered``): a competency is **mastered** when, in a **passed** attempt, the learner
scored **at least 80 %** on the questions of that competency and the attempt held **at
least 2** of them. One lucky guess on a single question is not evidence; neither is a good
score on one competency inside a failed test. Mastery, once shown, is kept: a later weaker
attempt does not take it away (``best_percent`` keeps the best figure either way).

A competency the learner has met in some submitted attempt without mastering it is
**in progress**; one never met is **not started**.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import Insert, and_, case, func, not_, or_, select, union

from app.assessments.models import (
    Attempt,
    Competency,
    CompetencyGroup,
    CompetencyMastery,
    Framework,
)
from app.extensions import core_execute, db
from app.models_base import utcnow

MASTERY_PERCENT = 80.0
MASTERY_MIN_ITEMS = 2
FRAMEWORK_FILE = Path("content") / "frameworks" / "757-qd-bkhcn.yaml"

MASTERED, IN_PROGRESS, NOT_STARTED = "mastered", "in_progress", "not_started"


def is_mastered(percent: float, item_count: int, passed: bool) -> bool:
    """The mastery rule: ≥ 80 % on the competency's items, ≥ 2 items, in a passed attempt."""
    return bool(passed) and item_count >= MASTERY_MIN_ITEMS and percent >= MASTERY_PERCENT


def fold_attempt(user_id: int, attempt_id: int, passed: bool, scores: Mapping[str, float],
                 counts: Mapping[str, int], now: datetime) -> list[str]:
    """Fold one scored attempt into the learner's mastery rows, one per competency it held
    (``counts``: items per code; ``scores``: percent per code), in one statement.

    An upsert (INSERT … ON CONFLICT DO UPDATE, SQLite and PostgreSQL): a row the learner
    does not have yet is written with its final values; an existing one, or one another
    submission of the learner inserted meanwhile, gets the fold in SQL: the best percent
    of the two, and mastery once shown is kept (its date and evidence too). Returns the
    codes folded."""
    rows = []
    for code in sorted(counts):  # one order for every submission: no lock-order deadlock
        percent = float(scores.get(code, 0.0))
        mastered = is_mastered(percent, counts[code], passed)
        rows.append({"user_id": user_id, "competency_code": code,
                     "best_percent": max(0.0, percent), "is_mastered": mastered,
                     "mastered_at": now if mastered else None,
                     "evidence_attempt_id": attempt_id if mastered else None,
                     "updated_at": now})
    if rows:
        core_execute(_upsert(db.session.get_bind().dialect.name), rows)
    return [row["competency_code"] for row in rows]


_UPSERTS: dict[str, Insert] = {}


def _upsert(dialect: str) -> Insert:
    """The mastery upsert for ``dialect``, built once."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = CompetencyMastery.__table__
        upsert = insert(table)
        new = upsert.excluded
        gained = and_(not_(table.c.is_mastered), new.is_mastered)
        statement = _UPSERTS[dialect] = upsert.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.competency_code],
            set_={"best_percent": case((new.best_percent > table.c.best_percent, new.best_percent),
                                       else_=table.c.best_percent),
                  "is_mastered": or_(table.c.is_mastered, new.is_mastered),
                  "mastered_at": case((gained, new.mastered_at), else_=table.c.mastered_at),
                  "evidence_attempt_id": case((gained, new.evidence_attempt_id),
                                              else_=table.c.evidence_attempt_id),
                  "updated_at": new.updated_at})
    return statement


def update_mastery(attempt: Attempt) -> list[str]:
    """Fold a just-scored attempt (ORM object) into the learner's mastery rows; the codes."""
    counts = Counter(item.competency_code for item in attempt.items)
    codes = fold_attempt(attempt.user_id, attempt.id, bool(attempt.is_passed),
                         attempt.competency_scores or {}, counts, utcnow())
    for row in list(db.session.identity_map.values()):  # written past the ORM: reload them
        if isinstance(row, CompetencyMastery) and row.__dict__.get("user_id") == attempt.user_id:
            db.session.expire(row)
    return codes


# --- The learner's map ------------------------------------------------------------------

@dataclass
class CompetencyState:
    code: str
    label: str
    state: str  # mastered | in_progress | not_started
    best_percent: float | None = None
    mastered_at: object = None


@dataclass
class GroupState:
    code: str
    label: str
    competencies: list[CompetencyState] = field(default_factory=list)

    @property
    def mastered_count(self) -> int:
        return sum(c.state == MASTERED for c in self.competencies)


def framework_outline(locale: str = "vi") -> list[tuple[str, str, list[tuple[str, str, list]]]]:
    """[(group code, label, [(competency code, label, audiences)])] of the current framework.

    Read from the framework tables; before any framework was loaded, from the file itself.
    """
    label = "label_en" if locale == "en" else "label_vi"
    framework_id = db.session.scalar(
        select(Framework.id).where(Framework.is_current.is_(True))
        .order_by(Framework.loaded_at.desc()).limit(1))
    if framework_id is None:
        return _outline_from_file(label)
    rows = db.session.execute(
        select(CompetencyGroup.code, getattr(CompetencyGroup, label), Competency.code,
               getattr(Competency, label), Competency.audiences)
        .join(Competency, Competency.group_id == CompetencyGroup.id)
        .where(CompetencyGroup.framework_id == framework_id)
        .order_by(CompetencyGroup.position, Competency.position)).all()
    outline: dict[str, tuple[str, str, list]] = {}
    for group_code, group_label, code, comp_label, audiences in rows:
        outline.setdefault(group_code, (group_code, group_label, []))[2].append(
            (code, comp_label, list(audiences or [])))
    return list(outline.values())


def _outline_from_file(label: str) -> list:
    path = Path(current_app.root_path).parent / FRAMEWORK_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        current_app.logger.warning("framework file %s unreadable: no competency map", path)
        return []
    outline = []
    for group in data.get("groups") or []:
        competencies = [(str(c.get("code")), str(c.get(label) or c.get("label_vi") or ""),
                         list(c.get("audiences") or []))
                        for c in group.get("competencies") or []]
        outline.append((str(group.get("code")), str(group.get(label) or group.get("label_vi")
                                                    or ""), competencies))
    return outline


def learner_map(user, locale: str = "vi") -> list[GroupState]:
    """Groups × competencies for the learner's audience, each mastered / in progress / not started."""
    rows = {row.competency_code: row for row in db.session.scalars(
        select(CompetencyMastery).where(CompetencyMastery.user_id == user.id))}
    groups = []
    for group_code, group_label, competencies in framework_outline(locale):
        group = GroupState(group_code, group_label)
        for code, label, audiences in competencies:
            if audiences and user.audience not in audiences:
                continue
            row = rows.get(code)
            if row is None:
                group.competencies.append(CompetencyState(code, label, NOT_STARTED))
            else:
                state = MASTERED if row.is_mastered else IN_PROGRESS
                group.competencies.append(CompetencyState(code, label, state, row.best_percent,
                                                          row.mastered_at))
        if group.competencies:
            groups.append(group)
    return groups


# --- Per unit, for the reports ----------------------------------------------------------

def unit_mastery(unit) -> dict[str, tuple[int, int]]:
    """{competency code: (members who mastered it, members)} over the unit's subtree.

    Members are the active accounts whose unit lies under ``unit`` (materialized path
    prefix). Every competency of the current framework is listed, plus any code someone
    mastered outside it. One aggregate SQL statement, whatever the size of the unit.
    """
    from app.auth.models import User
    from app.orgs.models import Unit

    in_subtree = (Unit.path.startswith(unit.path)) & User.is_active_member.is_(True)
    mastered = (select(CompetencyMastery.competency_code.label("code"),
                       CompetencyMastery.user_id.label("user_id"))
                .join(User, User.id == CompetencyMastery.user_id)
                .join(Unit, Unit.id == User.unit_id)
                .where(in_subtree, CompetencyMastery.is_mastered.is_(True))
                .subquery("mastered"))
    framework_codes = (select(Competency.code.label("code"))
                       .join(CompetencyGroup, CompetencyGroup.id == Competency.group_id)
                       .join(Framework, Framework.id == CompetencyGroup.framework_id)
                       .where(Framework.is_current.is_(True)))
    codes = union(framework_codes, select(mastered.c.code)).subquery("codes")
    members = (select(func.count(User.id)).join(Unit, Unit.id == User.unit_id)
               .where(in_subtree).scalar_subquery())
    stmt = (select(codes.c.code, func.count(mastered.c.user_id), members.label("members"))
            .select_from(codes)
            .outerjoin(mastered, mastered.c.code == codes.c.code)
            .group_by(codes.c.code))
    return {code: (int(done), int(total)) for code, done, total in db.session.execute(stmt)}


def competency_labels(locale: str = "vi") -> dict[str, str]:
    """{code: label} of the current framework, for captions beside competency codes."""
    return {code: label for _code, _label, competencies in framework_outline(locale)
            for code, label, _audiences in competencies}
