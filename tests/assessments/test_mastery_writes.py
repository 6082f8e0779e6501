"""How a submission writes mastery rows: new rows in one INSERT with their final values, and
the fold still lands when another submission of the same learner inserted a row first."""

from __future__ import annotations

from sqlalchemy import select, update

from app.assessments import attempts, mastery
from app.assessments.models import Attempt, CompetencyMastery
from app.extensions import db
from tests.assessments.factories import build_world, single
from tests.querycount import count_queries

RIGHT, WRONG = {"choice": "a"}, {"choice": "b"}


def scored_attempt(answers: dict[str, dict]):
    """A submitted, scored attempt on 3 questions of 4.1 and 2 of 4.2, before its mastery."""
    world = build_world({"pass_percent": 60}, bank=False)
    for n in range(3):
        single(world.course, f"a-{n}", competency="4.1")
    for n in range(2):
        single(world.course, f"b-{n}", competency="4.2")
    db.session.commit()
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


def test_new_rows_are_written_once_with_their_final_values(app):
    attempt = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT,
                              "b-1": WRONG})
    with count_queries() as statements:
        mastery.update_mastery(attempt)
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    # No blank insert followed by an UPDATE: only INSERTs, one statement on PostgreSQL
    # (insertmanyvalues), one per row on SQLite (which cannot order RETURNING rows).
    assert all(s.lstrip().upper().startswith("INSERT") for s in writes), writes
    assert len(writes) == (1 if db.engine.dialect.name == "postgresql" else 2), writes
    db.session.commit()
    found = by_code(attempt.user_id)
    assert found["4.1"].is_mastered and found["4.1"].evidence_attempt_id == attempt.id
    assert found["4.1"].best_percent == 100.0 and found["4.1"].mastered_at is not None
    assert not found["4.2"].is_mastered and found["4.2"].best_percent == 50.0


def test_a_row_inserted_meanwhile_by_another_submission_gets_the_fold(app, monkeypatch):
    attempt = scored_attempt({"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT,
                              "b-1": RIGHT})
    # The other submission's row for 4.1 exists, but our first read did not see it.
    db.session.add(CompetencyMastery(user_id=attempt.user_id, competency_code="4.1",
                                     best_percent=40.0, is_mastered=False))
    db.session.flush()
    real_scalars = db.session.scalars
    calls = []

    def first_read_sees_nothing(statement, *args, **kwargs):
        calls.append(statement)
        if len(calls) == 1:
            return real_scalars(select(CompetencyMastery).where(CompetencyMastery.id < 0))
        return real_scalars(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalars", first_read_sees_nothing)
    touched = mastery.update_mastery(attempt)
    monkeypatch.undo()
    db.session.commit()
    found = by_code(attempt.user_id)
    assert len(found) == 2 and {r.competency_code for r in touched} == {"4.1", "4.2"}
    assert found["4.1"].best_percent == 100.0 and found["4.1"].is_mastered
    assert found["4.2"].best_percent == 100.0 and found["4.2"].is_mastered
