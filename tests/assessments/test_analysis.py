"""Item analysis against a hand computation, with a fixed number of queries, and its page."""

from __future__ import annotations

import pytest

from app.assessments import attempts
from app.assessments.analysis import group_size, item_analysis
from app.extensions import db
from tests.assessments.factories import (  # noqa: F401 (fixture)
    build_world,
    cold_requests,
    login,
    make_question,
    options,
    quick_user,
    single,
)
from tests.querycount import count_queries

# Six learners answer six questions (the key of every choice question is "a"; Q6 is
# true/false with answer True). Totals: u1 5/6, u2 4/6, u3 4/6, u4 2/6, u5 2/6, u6 2/6, so
# with ties broken by attempt order the ranks are u1…u6; 27 % of 6 rounds to 2, so the
# upper group is {u1, u2} and the lower group {u5, u6}.
ANSWERS = {  # learner → choices for Q1…Q6
    "u1": ["a", "a", "a", "b", "a", "true"],
    "u2": ["a", "a", "b", "b", "a", "true"],
    "u3": ["a", "b", "a", "b", "a", "true"],
    "u4": ["a", "b", "c", "b", "a", "false"],
    "u5": ["a", "c", "b", "b", "a", "false"],
    "u6": ["b", "c", "b", "a", "a", "false"],
}
# By hand: facility = right answers / 6; D = mean(upper) − mean(lower); option counts.
EXPECTED = {
    "Q1": (5 / 6, 1 - 0.5, {"a": (5, 2), "b": (1, 0), "c": (0, 0)}, []),
    "Q2": (2 / 6, 1 - 0, {"a": (2, 2), "b": (2, 0), "c": (2, 0)}, []),
    "Q3": (2 / 6, 0.5 - 0, {"a": (2, 1), "b": (3, 1), "c": (1, 0)}, []),
    "Q4": (1 / 6, 0 - 0.5, {"a": (1, 0), "b": (5, 2), "c": (0, 0)},
           ["too_hard", "strong_distractor"]),
    "Q5": (1.0, 1 - 1, {"a": (6, 2), "b": (0, 0), "c": (0, 0)}, ["too_easy"]),
    "Q6": (3 / 6, 1 - 0, {"true": (3, 2), "false": (3, 0)}, []),
}


def take(world, user, choices):
    attempt, _ = attempts.start_attempt(user, world.assessment)
    for item, choice in zip(attempt.items, choices, strict=True):
        attempts.save_answer(attempt, item.position, {"choice": choice})
    attempts.submit(attempt)
    db.session.commit()
    return attempt


@pytest.fixture
def world(app):
    world = build_world(bank=False)
    for n in range(1, 6):
        single(world.course, f"Q{n}", wrong=("Sai b", "Sai c"))
    make_question(world.course, "Q6", "true_false", {"answer": True})
    world.learners = {name: quick_user(world.commune, name=f"Học viên {name}",
                                       phone=f"+8491200000{i}")
                      for i, name in enumerate(ANSWERS, 1)}
    for name, choices in ANSWERS.items():
        take(world, world.learners[name], choices)
    return world


@pytest.mark.parametrize(("count", "size"), [(0, 0), (1, 0), (2, 1), (3, 1), (6, 2), (10, 3),
                                             (50, 14), (100, 27)])
def test_group_size_is_27_percent_rounded_half_up(count, size):
    assert group_size(count) == size


def test_numbers_match_the_hand_computation(world):
    report = item_analysis(world.assessment)
    assert report.attempts == 6 and report.group_size == 2
    got = {item.question.key: item for item in report.items}
    assert list(got) == list(EXPECTED)
    for key, (facility, discrimination, chosen, flags) in EXPECTED.items():
        item = got[key]
        assert item.attempts == 6, key
        assert item.facility == pytest.approx(facility), key
        assert item.discrimination == pytest.approx(discrimination), key
        assert {o.id: (o.chosen, o.chosen_upper) for o in item.options} == chosen, key
        assert item.flags == flags, key
    assert [o.is_key for o in got["Q1"].options] == [True, False, False]
    assert [o.is_key for o in got["Q6"].options] == [True, False]
    assert report.flagged == 2


def test_multiple_response_options_are_counted_from_arrays(app):
    world = build_world(bank=False)
    make_question(world.course, "M1", "multiple", {"options": options(
        ("Đúng 1", 50), ("Đúng 2", 50), ("Sai", -100))})
    for user, choices in ((world.learner, ["a", "b"]), (world.other, ["a", "c"])):
        attempt, _ = attempts.start_attempt(user, world.assessment)
        attempts.save_answer(attempt, 1, {"choices": choices})
        attempts.submit(attempt)
    db.session.commit()
    (item,) = item_analysis(world.assessment).items
    assert {o.id: (o.chosen, o.chosen_upper) for o in item.options} == {
        "a": (2, 1), "b": (1, 1), "c": (1, 0)}
    assert [o.is_key for o in item.options] == [True, True, False]
    assert item.facility == pytest.approx(0.5) and item.discrimination == pytest.approx(1.0)


def test_query_count_does_not_grow_with_the_bank(app):
    world = build_world(bank=False)
    make_question(world.course, "TF", "true_false", {"answer": False})
    counts = []
    for phase, (added, size) in enumerate(((2, 2), (10, 12))):
        for n in range(added):
            single(world.course, f"K{phase}-{n}", wrong=("b", "c"))
        for i in range(3):
            user = quick_user(world.commune, phone=f"+8491300{phase}00{i}")
            attempt, _ = attempts.start_attempt(user, world.assessment)
            for item in attempt.items:
                kind = item.snapshot["type"]
                attempts.save_answer(attempt, item.position,
                                     {"choice": ("true" if i % 2 else "false") if kind == "true_false"
                                      else "ab"[i % 2]})
            attempts.submit(attempt)
        db.session.commit()
        db.session.expire_all()
        assessment = attempts.assessment_of(world.course.id)
        with count_queries() as statements:
            report = item_analysis(assessment)
        assert len(report.items) == size + 1
        assert all(sum(o.chosen for o in item.options) == item.attempts for item in report.items)
        counts.append(len(statements))
    assert counts[0] == counts[1] == 4, counts


def test_analysis_page_for_trainers_only(client, world):
    trainer = quick_user(world.province, role="trainer", phone="+84913999001")
    login(client, trainer)
    page = client.get("/courses/khoa-thu/assessment/analysis")
    assert page.status_code == 200
    html = page.text
    assert "6 lượt làm bài đã nộp" in html and "mỗi nhóm 2 lượt (27%)" in html
    assert "quá khó" in html and "phương án nhiễu mạnh" in html and "quá dễ" in html
    assert "0,83" in html and ("-0,5" in html or "−0,5" in html)
    client.post("/logout")
    login(client, world.learners["u1"])
    assert client.get("/courses/khoa-thu/assessment/analysis").status_code == 403


def test_unit_course_analysis_needs_a_trainer_of_that_unit(client, world):
    from tests.factories import make_unit

    elsewhere = make_unit("XA-KHAC", "Xã Khác", kind="xa", parent=world.province)
    world.course.unit_id = world.commune.id
    db.session.commit()
    outsider = quick_user(elsewhere, role="trainer", phone="+84913999002")
    login(client, outsider)
    assert client.get("/courses/khoa-thu/assessment/analysis").status_code == 403
    client.post("/logout")
    insider = quick_user(world.commune, role="trainer", phone="+84913999003")
    login(client, insider)
    assert client.get("/courses/khoa-thu/assessment/analysis").status_code == 200


def test_course_page_links_the_analysis_for_trainers_only(client, world):
    login(client, world.learners["u1"])
    assert "/assessment/analysis" not in client.get("/courses/khoa-thu/").text
    client.post("/logout")
    login(client, quick_user(world.province, role="trainer", phone="+84913999004"))
    assert "/courses/khoa-thu/assessment/analysis" in client.get("/courses/khoa-thu/").text


def test_shared_course_analysis_is_for_province_level_authors(client, world):
    """A shared course (no unit) reaches the whole province: authoring's rule, root grants only."""
    commune_trainer = quick_user(world.commune, role="trainer", phone="+84913999005")
    login(client, commune_trainer)
    assert client.get("/courses/khoa-thu/assessment/analysis").status_code == 403
    assert "/assessment/analysis" not in client.get("/courses/khoa-thu/").text
