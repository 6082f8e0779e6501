"""Mastery: the rule, its update at submission, the learner's map and the per-unit figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.assessments import attempts, mastery
from app.assessments.mastery import is_mastered, unit_mastery
from app.assessments.models import CompetencyMastery
from app.extensions import db
from app.models_base import utcnow
from tests.assessments.factories import (  # noqa: F401 (fixture)
    cold_requests,
    login,
    make_framework,
    quick_user,
    two_competency_world,
)
from tests.factories import make_unit
from tests.querycount import count_queries


@pytest.mark.parametrize(("percent", "items", "passed", "expected"), [
    (80.0, 2, True, True), (100.0, 5, True, True),
    (79.99, 2, True, False),  # below 80 %
    (100.0, 1, True, False),  # a single question is not evidence
    (100.0, 4, False, False),  # inside a failed attempt
    (0.0, 0, True, False),
])
def test_the_rule(percent, items, passed, expected):
    assert is_mastered(percent, items, passed) is expected


def rows(user):
    return {r.competency_code: r for r in db.session.scalars(
        select(CompetencyMastery).where(CompetencyMastery.user_id == user.id))}


def take(world, answers: dict[str, dict], user=None, now=None):
    """Start, answer by question key, submit; return the attempt."""
    attempt, _ = attempts.start_attempt(user or world.learner, world.assessment, now=now)
    for item in attempt.items:
        if item.snapshot["key"] in answers:
            attempts.save_answer(attempt, item.position, answers[item.snapshot["key"]], now=now)
    attempts.submit(attempt, now=now)
    db.session.commit()
    return attempt


@pytest.fixture
def world(app):
    """A bank of 3 questions on 4.1 and 2 on 4.2 (single choice, key "a"), pass mark 60 %."""
    return two_competency_world()


RIGHT, WRONG = {"choice": "a"}, {"choice": "b"}


def test_passed_attempt_masters_strong_competencies_only(world):
    attempt = take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT, "b-1": WRONG})
    assert attempt.is_passed and attempt.competency_scores == {"4.1": 100.0, "4.2": 50.0}
    found = rows(world.learner)
    assert found["4.1"].is_mastered and found["4.1"].evidence_attempt_id == attempt.id
    assert found["4.1"].mastered_at is not None
    assert not found["4.2"].is_mastered and found["4.2"].best_percent == 50.0


def test_failed_attempt_masters_nothing(world):
    world.assessment.pass_percent = 90
    attempt = take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": WRONG})
    assert not attempt.is_passed
    found = rows(world.learner)
    assert found["4.1"].best_percent == 100.0 and not found["4.1"].is_mastered


def test_mastery_is_kept_and_best_percent_grows(world):
    first = take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT})
    later = utcnow() + timedelta(days=1)
    second = take(world, {"a-0": WRONG, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT, "b-1": RIGHT},
                  now=later)
    assert second.is_passed and second.competency_scores["4.1"] == pytest.approx(66.67, abs=0.01)
    found = rows(world.learner)
    assert found["4.1"].is_mastered and found["4.1"].evidence_attempt_id == first.id
    assert found["4.1"].best_percent == 100.0
    assert found["4.2"].is_mastered and found["4.2"].best_percent == 100.0
    assert len(found) == 2  # one row per competency, never duplicated


def test_learner_map_by_audience(world):
    make_framework()
    db.session.commit()
    take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": WRONG})
    groups = mastery.learner_map(world.learner)  # audience: citizen
    states = {c.code: c.state for g in groups for c in g.competencies}
    assert states == {"1.2": "not_started", "4.1": "mastered", "4.2": "in_progress"}
    assert [g.code for g in groups] == ["1", "4"] and groups[1].mastered_count == 1
    world.learner.audience = "student"
    assert {c.code for g in mastery.learner_map(world.learner) for c in g.competencies} == {
        "1.2", "4.1", "4.3"}


def test_learner_map_reads_the_framework_file_until_it_is_loaded(world):
    groups = mastery.learner_map(world.learner)
    assert [g.code for g in groups] == ["0", "1", "2", "3", "4", "5", "6"]
    codes = {c.code for g in groups for c in g.competencies}
    assert {"4.1", "4.2", "6.1"} <= codes
    assert all(c.label for g in groups for c in g.competencies)


def test_competency_page(client, world):
    make_framework()
    db.session.commit()
    take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": WRONG})
    login(client, world.learner)
    page = client.get("/me/competencies").text
    assert "Hồ sơ năng lực số" in page
    assert "từ 80% trở lên" in page and "ít nhất 2 câu" in page  # the rule, on the page
    assert page.count("comp comp-mastered") == 1 and page.count("comp comp-in_progress") == 1
    assert page.count("comp comp-not_started") == 1
    assert "cao nhất 0%" in page
    assert "Năng lực 4.3" not in page  # students only


@pytest.fixture
def tree(world):
    """Commune A (a team under it) and commune B; members with and without mastery."""
    make_framework()
    a = make_unit("XA-A", "Xã A", kind="xa", parent=world.province)
    team = make_unit("TO-A", "Tổ A1", kind="team", parent=a)
    b = make_unit("XA-B", "Xã B", kind="xa", parent=world.province)
    people = {
        "a1": quick_user(a, phone="+84911100001"), "a2": quick_user(a, phone="+84911100002"),
        "t1": quick_user(team, phone="+84911100003"), "b1": quick_user(b, phone="+84911100004"),
        "gone": quick_user(team, phone="+84911100005"),
    }
    full = {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT, "b-1": RIGHT}
    take(world, full, user=people["a1"])
    take(world, {"a-0": RIGHT, "a-1": RIGHT, "a-2": RIGHT, "b-0": RIGHT}, user=people["t1"])
    take(world, full, user=people["b1"])
    take(world, full, user=people["gone"])
    people["gone"].is_active_member = False
    db.session.commit()
    return a, b


def test_unit_mastery_over_the_subtree_in_one_query(world, tree):
    a, b = tree
    assert a.path  # the unit itself is loaded already; count only the aggregate
    with count_queries() as statements:
        figures = unit_mastery(a)
    assert len(statements) == 1
    # Members of A's subtree: a1, a2, t1 (gone is inactive). a1 mastered both; t1 only 4.1.
    assert figures == {"1.2": (0, 3), "4.1": (2, 3), "4.2": (1, 3), "4.3": (0, 3)}
    assert unit_mastery(b)["4.2"] == (1, 1)
    whole = unit_mastery(world.province)  # + the world's two learners of XA-1
    assert whole["4.1"] == (3, 6)


def test_unit_mastery_of_an_empty_unit(world):
    lonely = make_unit("XA-Z", "Xã Z", kind="xa", parent=world.province)
    assert unit_mastery(lonely) == {}
    make_framework()
    assert unit_mastery(lonely) == {"1.2": (0, 0), "4.1": (0, 0), "4.2": (0, 0), "4.3": (0, 0)}
