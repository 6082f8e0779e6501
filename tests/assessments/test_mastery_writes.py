"""How a submission writes mastery rows: one upsert for all its competencies, with the fold
(best percent, mastery kept) decided in SQL against whatever row is there, including one
another submission of the same learner wrote at the same moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from app.assessments import attempts, mastery
from app.assessments.models import Attempt, CompetencyMastery
from app.auth.models import User
from app.extensions import db
from app.reports.models import ProgressDirtyUnit
from tests.assessments.factories import build_world, two_competency_world
from tests.querycount import count_queries

RIGHT, WRONG = {"choice": "a"}, {"choice": "b"}
EARLIER = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def scored_attempt(answers: dict[str, dict], world=None):
    """A submitted, scored attempt on 3 questions of 4.1 and 2 of 4.2, before its mastery."""
    if world is None:
        world = two_competency_world()
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    for item in attempt.items:
        attempts.save_answer(attempt, item.position, answers[item.snapshot["key"]])
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id)
                       .values(status="submitted", open_marker=None))
    attempts.score(attempt)
    return attempt


def by_code(user_id: int) -> dict[str, CompetencyMastery]:
    return {r.competency_code: r for r in db.session.scalars(
        select(CompetencyMastery).where(CompetencyMastery.user_id == user_id))}


def test_new_rows_are_written_in_one_statement_with_their_final_values(app):
    attempt = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT,
                              "b-1": WRONG})
    with count_queries() as statements:
        codes = mastery.update_mastery(attempt)
    assert codes == ["4.1", "4.2"]
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT"), statements
    db.session.commit()
    found = by_code(attempt.user_id)
    assert found["4.1"].is_mastered and found["4.1"].evidence_attempt_id == attempt.id
    assert found["4.1"].best_percent == 100.0 and found["4.1"].mastered_at is not None
    assert not found["4.2"].is_mastered and found["4.2"].best_percent == 50.0
    assert found["4.2"].mastered_at is None and found["4.2"].evidence_attempt_id is None


def test_a_row_inserted_meanwhile_by_another_submission_gets_the_fold(app):
    attempt = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT,
                              "b-1": RIGHT})
    # The other submission's row for 4.1 is there: this one folds into it, no conflict.
    db.session.add(CompetencyMastery(user_id=attempt.user_id, competency_code="4.1",
                                     best_percent=40.0, is_mastered=False))
    db.session.flush()
    mastery.update_mastery(attempt)
    db.session.commit()
    found = by_code(attempt.user_id)
    assert len(found) == 2
    assert found["4.1"].best_percent == 100.0 and found["4.1"].is_mastered
    assert found["4.1"].evidence_attempt_id == attempt.id
    assert found["4.2"].best_percent == 100.0 and found["4.2"].is_mastered


def test_mastery_once_shown_is_kept_with_its_date_and_evidence(app):
    world = two_competency_world(pass_percent=0)
    first = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": WRONG,
                            "b-1": WRONG}, world)
    mastery.update_mastery(first)
    db.session.execute(update(CompetencyMastery).values(mastered_at=EARLIER)
                       .where(CompetencyMastery.is_mastered.is_(True)))
    db.session.commit()
    # A weaker attempt: 4.1 drops to a third, 4.2 rises to a half (still not mastered).
    second = scored_attempt({"a-0": RIGHT, "a-1": WRONG, "a-2": WRONG, "b-0": RIGHT,
                             "b-1": WRONG}, world)
    mastery.update_mastery(second)
    db.session.commit()
    found = by_code(world.learner.id)
    kept = found["4.1"]
    assert kept.is_mastered and kept.best_percent == 100.0
    assert attempts.as_utc(kept.mastered_at) == EARLIER and kept.evidence_attempt_id == first.id
    assert not found["4.2"].is_mastered and found["4.2"].best_percent == 50.0
    assert found["4.2"].mastered_at is None and found["4.2"].evidence_attempt_id is None


def test_mastery_gained_on_an_existing_row_queues_the_learners_team(app):
    """The reports' trigger sees the upsert's UPDATE path (SQLite and PostgreSQL)."""
    attempt = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": WRONG,
                              "b-1": WRONG})
    db.session.add(CompetencyMastery(user_id=attempt.user_id, competency_code="4.1",
                                     best_percent=40.0, is_mastered=False))
    db.session.flush()
    db.session.execute(ProgressDirtyUnit.__table__.delete())
    mastery.update_mastery(attempt)
    queued = db.session.scalars(select(ProgressDirtyUnit.unit_id)).all()
    assert queued == [db.session.get(User, attempt.user_id).unit_id]


@pytest.mark.parametrize("passed", [True, False])
def test_fold_attempt_writes_the_rule(app, passed):
    world = build_world(bank=False)
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    codes = mastery.fold_attempt(world.learner.id, None, passed, {"4.1": 80.0, "4.2": 100.0},
                                 {"4.1": 2, "4.2": 1}, now)
    db.session.commit()
    found = by_code(world.learner.id)
    assert codes == ["4.1", "4.2"]
    assert found["4.1"].is_mastered is passed  # ≥ 80 % on ≥ 2 items, in a passed attempt
    assert not found["4.2"].is_mastered  # one item is not evidence
    assert db.session.scalar(select(func.count(CompetencyMastery.id))) == 2
