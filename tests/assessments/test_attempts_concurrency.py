"""Races the database must decide: concurrent submissions and concurrent starts.

Each thread pushes its own (request and) app context, so it has its own session and
connection, as two requests in two server workers would. Run on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from app.assessments import attempts
from app.assessments.models import Attempt, AttemptItem, CompetencyMastery
from app.extensions import db
from tests.assessments.factories import (  # noqa: F401 (fixture)
    build_world,
    cold_requests,
    login,
)

THREADS = 4


def run_together(app, count, work):
    """Run ``work(i)`` in ``count`` threads released at the same instant; return the results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def runner(index: int) -> None:
        with app.test_request_context():
            try:
                barrier.wait(timeout=20)
                results[index] = work(index)
            except Exception as exc:  # reported below, with the thread's traceback
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    return results


def prepared_attempt(world) -> int:
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.save_answer(attempt, 3, {"choice": "false"})  # right (true/false, 4.2)
    attempts.save_answer(attempt, 1, {"choice": "a"})  # right (single, 4.1)
    db.session.commit()
    return attempt.id


def test_concurrent_submissions_score_once(app):
    world = build_world()
    attempt_id = prepared_attempt(world)

    def work(_index):
        attempt = db.session.get(Attempt, attempt_id)
        assert len(attempt.items) == 6  # loaded before the race, as a request would
        won = attempts.submit(attempt)
        db.session.commit()
        return won, attempt.status, attempt.score_percent, dict(attempt.competency_scores)

    results = run_together(app, THREADS, work)
    assert sorted(r[0] for r in results) == [False] * (THREADS - 1) + [True]
    assert {(r[1], r[2]) for r in results} == {("submitted", round(200 / 6, 2))}
    assert len({tuple(sorted(r[3].items())) for r in results}) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    assert db.session.scalar(select(func.count(CompetencyMastery.id))) == 2
    scored = db.session.scalars(select(AttemptItem.correct).order_by(AttemptItem.position)).all()
    assert scored == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_concurrent_submit_requests_from_two_tabs(app):
    world = build_world()
    attempt_id = prepared_attempt(world)
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, world.learner)

    def work(index):
        return clients[index].post(f"/attempts/{attempt_id}/submit")

    responses = run_together(app, 2, work)
    assert [r.status_code for r in responses] == [302, 302]
    assert {r.headers["Location"] for r in responses} == {f"/attempts/{attempt_id}/result"}
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "submitted" and attempt.score_percent == round(200 / 6, 2)
    assert db.session.scalar(select(func.count(CompetencyMastery.id))) == 2


def test_concurrent_starts_open_one_attempt(app):
    world = build_world()
    learner_id, assessment_id = world.learner.id, world.assessment.id

    def work(_index):
        from app.assessments.models import Assessment
        from app.auth.models import User

        attempt, created = attempts.start_attempt(db.session.get(User, learner_id),
                                                  db.session.get(Assessment, assessment_id))
        db.session.commit()
        return attempt.id, created

    results = run_together(app, THREADS, work)
    assert len({attempt_id for attempt_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    assert db.session.scalar(select(func.count(AttemptItem.id))) == 6


def test_concurrent_start_requests_double_click(app):
    world = build_world()
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, world.learner)

    def work(index):
        return clients[index].post("/courses/khoa-thu/assessment/start")

    responses = run_together(app, 2, work)
    ids = {re.search(r"/attempts/(\d+)/", r.headers["Location"]).group(1) for r in responses}
    assert len(ids) == 1
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def _save_numerical_key(attempt: Attempt, autosave: bool) -> None:
    if autosave:  # the view's path: ids and form fields, no attempt loaded
        from werkzeug.datastructures import MultiDict

        assert attempts.autosave_answer(attempt.id, attempt.user_id, 6,
                                        MultiDict({"q6": "1234,5"}))
    else:
        attempts.save_answer(attempt, 6, {"text": "1234,5"})


@pytest.mark.parametrize("autosave", [False, True], ids=["save_answer", "autosave_answer"])
def test_a_save_racing_the_submission_is_counted_entirely_or_not_at_all(app, autosave):
    world = build_world()
    attempt_id = prepared_attempt(world)

    def work(index):
        attempt = db.session.get(Attempt, attempt_id)
        if index == 0:
            attempts.submit(attempt)
            db.session.commit()
            return "submitted"
        try:
            _save_numerical_key(attempt, autosave)  # the numerical key
            db.session.commit()
            return "saved"
        except attempts.AttemptClosed:
            db.session.rollback()
            return "refused"

    outcome = run_together(app, 2, work)[1]
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    numerical = attempt.items[5]
    if outcome == "saved":  # the save won: it is in the score
        assert numerical.correct == 1.0 and attempt.score_percent == 50.0
    else:  # the submission won: the late save left no trace
        assert numerical.response is None and numerical.correct == 0.0
        assert attempt.score_percent == round(200 / 6, 2)


def test_an_autosave_waits_for_the_submission_that_holds_the_attempt(app, monkeypatch):
    """While a submission has closed the attempt and is scoring what it read (not committed
    yet), an autosave must wait for the attempt's row lock, never slip an answer in after
    the items were read. Given a short lock_timeout, the autosave times out waiting."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the save cannot overlap the submission")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    from werkzeug.datastructures import MultiDict

    world = build_world()
    attempt_id, user_id = prepared_attempt(world), world.learner.id
    scoring_started, finish = threading.Event(), threading.Event()
    score_attempt = attempts.scoring.score_attempt

    def paused(marks):
        scoring_started.set()
        assert finish.wait(timeout=20)
        return score_attempt(marks)

    monkeypatch.setattr(attempts.scoring, "score_attempt", paused)
    errors: list = []

    def submission() -> None:
        with app.app_context():
            try:
                assert attempts.submit_own(attempt_id, user_id) is not None
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=submission)
    thread.start()
    try:
        assert scoring_started.wait(timeout=20)
        with app.app_context():  # a session of its own, as another server's request
            db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                attempts.autosave_answer(attempt_id, user_id, 6, MultiDict({"q6": "1234,5"}))
            db.session.rollback()
            db.session.remove()
    finally:
        finish.set()
        thread.join(timeout=30)
    assert not errors, errors
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "submitted" and attempt.items[5].response is None
    assert attempt.score_percent == round(200 / 6, 2)
