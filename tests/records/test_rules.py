"""The completion rule: exactly one record per learner and course, at the right moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.courses import services as course_services
from app.courses.models import Course
from app.extensions import db
from app.records import rules
from app.records.models import CompletionRecord
from tests.records.conftest import (
    COURSE_TITLE,
    HOLDER,
    add_assessment,
    add_attempt,
    complete,
    login,
    mark_all_lessons,
)


def record_count() -> int:
    return db.session.scalar(select(func.count(CompletionRecord.id)))


def test_lessons_only_course_completes_on_its_last_lesson(world, course):
    version = course_services.published_version(course.id)
    course_services.mark_lesson_done(world.learner, course, version, "gioi-thieu")
    assert not rules.is_course_complete(world.learner, course)
    assert rules.record_completion_if_due(world.learner, course) is None
    course_services.mark_lesson_done(world.learner, course, version, "dat-mat-khau")
    assert rules.is_course_complete(world.learner, course)
    record = rules.record_completion_if_due(world.learner, course)
    db.session.commit()
    assert record is not None and record.id
    assert record.user_id == world.learner.id
    assert record.course_version_id == version.id
    assert record.source == "online" and record.issuer_id is None
    assert record.issuing_unit_id == world.team_a.id
    assert record.holder_name == HOLDER and record.course_title == COURSE_TITLE
    assert record.score_percent is None
    assert record.competencies == ["4.1", "4.2"]  # the course's list: no test to narrow it
    assert len(record.verification_code) == 22  # token_urlsafe(16): 128 bits
    assert rules.created_now(record)


def test_the_rule_fires_exactly_once(world, course):
    first = complete(world.learner, course)
    second = rules.record_completion_if_due(world.learner, course)
    db.session.commit()
    assert second.id == first.id
    assert record_count() == 1


def test_each_learner_gets_their_own_code(world, course):
    one = complete(world.learner, course)
    two = complete(world.other_learner, course)
    assert one.verification_code != two.verification_code
    assert record_count() == 2


def test_no_record_without_a_published_version(world, course):
    mark_all_lessons(world.learner, course)
    for version in course.versions:
        version.status = "draft"
    db.session.commit()
    assert rules.record_completion_if_due(world.learner, course) is None
    assert record_count() == 0


def test_marking_the_last_lesson_in_the_reader_congratulates_once(client, world, course):
    login(client, world.learner)
    client.post("/courses/khoa-hoc-mau/lessons/gioi-thieu/done")
    assert record_count() == 0
    response = client.post("/courses/khoa-hoc-mau/lessons/dat-mat-khau/done",
                           follow_redirects=True)
    record = db.session.scalar(select(CompletionRecord))
    assert record is not None
    assert "Chúc mừng! Bạn đã hoàn thành khóa học" in response.text
    assert f'href="/certificates/{record.verification_code}"' in response.text
    again = client.post("/courses/khoa-hoc-mau/lessons/dat-mat-khau/done", follow_redirects=True)
    assert "Chúc mừng" not in again.text
    assert record_count() == 1


class TestWithAssessment:
    def test_lessons_alone_are_not_enough(self, world, course):
        add_assessment(course)
        mark_all_lessons(world.learner, course)
        assert not rules.is_course_complete(world.learner, course)
        assert rules.record_completion_if_due(world.learner, course) is None

    def test_a_failed_attempt_is_not_enough(self, world, course):
        assessment = add_assessment(course)
        mark_all_lessons(world.learner, course)
        add_attempt(world.learner, assessment, score=40, passed=False,
                    per_competency={"4.1": 50, "4.2": 33})
        assert rules.record_completion_if_due(world.learner, course) is None

    def test_an_open_attempt_is_not_enough(self, world, course):
        assessment = add_assessment(course)
        mark_all_lessons(world.learner, course)
        add_attempt(world.learner, assessment, score=100, passed=True, status="open",
                    per_competency={"4.1": 100, "4.2": 100})
        assert rules.record_completion_if_due(world.learner, course) is None

    def test_pass_then_lessons(self, client, world, course):
        """The test passed first; the record comes with the last lesson, in the reader."""
        assessment = add_assessment(course)
        attempt = add_attempt(world.learner, assessment, score=80, passed=True,
                              per_competency={"4.1": 100, "4.2": 66.67})
        assert rules.on_attempt_passed(attempt) is None  # lessons not done yet
        login(client, world.learner)
        client.post("/courses/khoa-hoc-mau/lessons/gioi-thieu/done")
        client.post("/courses/khoa-hoc-mau/lessons/dat-mat-khau/done")
        record = db.session.scalar(select(CompletionRecord))
        assert record.score_percent == 80
        assert record.attempt_id == attempt.id
        # 4.1: 100 % on 2 items → mastered; 4.2: 66.67 % → not (mastery.py's rule).
        assert record.competencies == ["4.1"]

    def test_lessons_then_pass_records_the_best_passed_score(self, world, course):
        assessment = add_assessment(course)
        mark_all_lessons(world.learner, course)
        add_attempt(world.learner, assessment, score=40, passed=False,
                    per_competency={"4.1": 100, "4.2": 0})
        add_attempt(world.learner, assessment, score=80, passed=True,
                    per_competency={"4.1": 50, "4.2": 100})
        best = add_attempt(world.learner, assessment, score=100, passed=True,
                           per_competency={"4.1": 100, "4.2": 100})
        record = rules.on_attempt_passed(best)
        db.session.commit()
        assert record.score_percent == 100 and record.attempt_id == best.id
        assert record.competencies == ["4.1", "4.2"]
        assert rules.on_attempt_passed(best).id == record.id
        assert record_count() == 1

    def test_a_failed_attempt_never_triggers(self, world, course):
        assessment = add_assessment(course)
        mark_all_lessons(world.learner, course)
        failed = add_attempt(world.learner, assessment, score=10, passed=False,
                             per_competency={"4.1": 0, "4.2": 20})
        assert rules.on_attempt_passed(failed) is None
        assert record_count() == 0


def _race(app, user_id: int, course_id: int, monkeypatch) -> list:
    """Two threads, each with its own app context and session, pass the rule's checks at the
    same moment (a barrier holds both just before the insert) and then both try to write."""
    barrier = threading.Barrier(2, timeout=20)
    original = rules.demonstrated_competencies

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        barrier.wait()  # both have seen "no record yet" and the rule holding
        return result

    monkeypatch.setattr(rules, "demonstrated_competencies", held)
    # The row lock would keep the second thread from the checks: this race is about the
    # unique constraint behind it.
    monkeypatch.setattr(rules, "serialize_per_learner", lambda user_id: None)
    outcomes: list = []

    def worker() -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                course = db.session.get(Course, course_id)
                record = rules.record_completion_if_due(user, course)
                db.session.commit()
                outcomes.append(("ok", record.id))
            except Exception as exc:  # reported to the test below, never swallowed
                db.session.rollback()
                outcomes.append(("error", repr(exc)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("with_assessment", [False, True])
def test_two_concurrent_completions_make_one_record(app, world, course, monkeypatch,
                                                    with_assessment):
    """On SQLite and PostgreSQL alike: the unique constraint picks one winner, the other call
    gets the winner's record back, and neither fails."""
    if with_assessment:
        assessment = add_assessment(course)
        add_attempt(world.learner, assessment, score=90, passed=True,
                    per_competency={"4.1": 100, "4.2": 83.33})
    mark_all_lessons(world.learner, course)
    user_id, course_id = world.learner.id, course.id
    db.session.commit()
    db.session.remove()  # let the threads' connections write freely
    outcomes = _race(app, user_id, course_id, monkeypatch)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]
    assert record_count() == 1


def test_two_concurrent_passing_submissions_make_one_record(app, world, course):
    """The whole chain: the learner's attempt is submitted twice at once (double click, two
    tabs); attempts.submit lets one win, and the winner's hook writes the only record."""
    from app.assessments import attempts
    from app.assessments.models import Attempt

    assessment = add_assessment(course)
    mark_all_lessons(world.learner, course)
    attempt, _created = attempts.start_attempt(world.learner, assessment)
    attempts.save_answers(attempt, {item.position: {"choice": "true"} for item in attempt.items})
    db.session.commit()
    attempt_id = attempt.id
    db.session.remove()
    barrier = threading.Barrier(2, timeout=20)
    outcomes: list = []

    def worker() -> None:
        with app.app_context():
            try:
                mine = db.session.get(Attempt, attempt_id)
                barrier.wait()
                outcomes.append(attempts.submit(mine))
                db.session.commit()
            except Exception as exc:  # reported to the test below, never swallowed
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False, True], outcomes
    record = db.session.scalar(select(CompletionRecord))
    assert record_count() == 1
    assert record.attempt_id == attempt_id and record.score_percent == 100


@pytest.mark.parametrize("locked", [True, False])
def test_last_lesson_and_passing_submission_at_once_make_the_record(app, world, course, dialect,
                                                                   monkeypatch, locked):
    """Two servers: one marks the last lesson while the other scores a passing attempt. Both
    have written before either judges the rule; with the learner's row lock the second to
    judge sees the first's work and writes the record. Without it (the second case, kept to
    show the test can fail) no record is made."""
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two writes cannot overlap there")
    from app.assessments import attempts
    from app.assessments.models import Attempt

    assessment = add_assessment(course)
    version = course_services.published_version(course.id)
    first, last = version.lessons[0].slug, version.lessons[-1].slug
    course_services.mark_lesson_done(world.learner, course, version, first)
    attempt, _created = attempts.start_attempt(world.learner, assessment)
    attempts.save_answers(attempt, {item.position: {"choice": "true"} for item in attempt.items})
    db.session.commit()
    user_id, course_id, attempt_id = world.learner.id, course.id, attempt.id
    db.session.remove()

    barrier = threading.Barrier(2, timeout=20)
    original = rules.serialize_per_learner

    def both_written_first(uid: int) -> None:
        db.session.flush()
        barrier.wait()  # each request has written its part and not committed it
        if locked:
            original(uid)

    monkeypatch.setattr(rules, "serialize_per_learner", both_written_first)
    if not locked:  # make sure both judge before either commits (with the lock they cannot)
        judged = threading.Barrier(2, timeout=20)
        judge = rules.record_completion_if_due

        def judge_then_wait(*args, **kwargs):
            result = judge(*args, **kwargs)
            judged.wait()
            return result

        monkeypatch.setattr(rules, "record_completion_if_due", judge_then_wait)
    errors: list = []

    def run(work) -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception as exc:  # reported to the test below, never swallowed
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    def lesson() -> None:
        user, mine = db.session.get(User, user_id), db.session.get(Course, course_id)
        current = course_services.published_version(course_id)
        course_services.mark_lesson_done(user, mine, current, last)
        rules.record_completion_if_due(user, mine)

    def submission() -> None:
        assert attempts.submit(db.session.get(Attempt, attempt_id))

    threads = [threading.Thread(target=run, args=(work,)) for work in (lesson, submission)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert record_count() == (1 if locked else 0)
