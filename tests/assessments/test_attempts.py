"""Attempt services: draw, resume, limits, deadline, idempotent submission, per-competency scores."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.assessments import attempts
from app.assessments.models import Attempt, AttemptItem, CompetencyMastery
from app.extensions import db
from app.models_base import utcnow
from tests.assessments.factories import (  # noqa: F401 (fixture)
    build_world,
    cold_requests,
    make_question,
    options,
    single,
)


@pytest.fixture
def world(app):
    return build_world()


def age(attempt, minutes):
    """Move an attempt (start, deadline, saved answers) into the past instead of sleeping."""
    shift = timedelta(minutes=minutes)
    attempt.started_at = attempts.as_utc(attempt.started_at) - shift
    if attempt.deadline_at is not None:
        attempt.deadline_at = attempts.as_utc(attempt.deadline_at) - shift
    for item in attempt.items:
        if item.answered_at is not None:
            item.answered_at = attempts.as_utc(item.answered_at) - shift
    db.session.commit()


def item_of(attempt, key):
    return next(i for i in attempt.items if i.snapshot["key"] == key)


def key_value(item):
    """The form value (shown position) of the option with weight 100."""
    return str(next(i for i, o in enumerate(item.snapshot["data"]["options"]) if o["weight"] == 100))


def answer_all_right(attempt):
    """Save the perfect response of every sample-bank item through the form parser."""
    form = MultiDict()
    for item in attempt.items:
        name = f"q{item.position}"
        kind = item.snapshot["type"]
        if kind == "single":
            form[name] = key_value(item)
        elif kind == "multiple":
            for i, o in enumerate(item.snapshot["data"]["options"]):
                if o["weight"] > 0:
                    form.add(name, str(i))
        elif kind == "true_false":
            form[name] = "false"
        elif kind == "short_answer":
            form[name] = "LỪA ĐẢO bimat"
        elif kind == "numerical":
            form[name] = "1.234,7"
        elif kind == "matching":
            by_text = {c["text"]: c["id"] for c in item.snapshot["choices"]}
            for i, pair in enumerate(item.snapshot["data"]["pairs"]):
                form[f"{name}-{i}"] = by_text[pair["right"]]
    attempts.save_answers(attempt, attempts.parse_responses(attempt.items, form))


def test_start_draws_every_active_question_and_snapshots_it(world):
    make_question(world.course, "q-draft", "true_false", {"answer": True}, status="draft")
    make_question(world.course, "q-old", "true_false", {"answer": True}, status="retired")
    attempt, created = attempts.start_attempt(world.learner, world.assessment)
    db.session.commit()
    assert created and attempt.number == 1 and attempt.status == "open" and attempt.open_marker == 1
    assert attempt.deadline_at is None and attempt.pass_percent == 70
    assert attempt.show_answers == "after_submit"
    assert [i.snapshot["key"] for i in attempt.items] == [
        "q-single", "q-multiple", "q-tf", "q-short", "q-match", "q-num"]
    single_item = item_of(attempt, "q-single")
    assert single_item.snapshot["data"] == world.bank["single"].data
    assert single_item.competency_code == "4.1" and single_item.question_id == world.bank["single"].id
    # The snapshot keeps the attempt's result stable when the bank changes later.
    world.bank["single"].data = {"options": []}
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AttemptItem, single_item.id).snapshot["data"]["options"]


def test_draw_per_competency(world):
    for n in range(4):
        single(world.course, f"extra-{n}", competency="1.2")
    world.assessment.draw = {"4.2": 2, "1.2": 3, "6.1": 5}
    world.assessment.shuffle_questions = True
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    assert Counter(i.competency_code for i in attempt.items) == {"4.2": 2, "1.2": 3}
    assert [i.position for i in attempt.items] == [1, 2, 3, 4, 5]
    assert attempts.planned_question_count(world.assessment) == 5


def test_shuffled_options_keep_their_ids_and_still_score(world):
    world.assessment.shuffle_options = True
    for n in range(6):
        single(world.course, f"s-{n}", wrong=("w1", "w2", "w3", "w4", "w5"))
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    orders = {tuple(o["id"] for o in i.snapshot["data"]["options"])
              for i in attempt.items if i.snapshot["type"] == "single"}
    assert len(orders) > 1  # 7 questions of 6 options: the same order every time is 1 in 720**6
    answer_all_right(attempt)
    assert attempts.submit(attempt)
    assert attempt.score_percent == 100.0


def test_matching_choices_are_shuffled_even_without_shuffle_options(world):
    rights = [f"Ý {n}" for n in range(8)]
    make_question(world.course, "m8", "matching",
                  {"pairs": [{"left_html": f"<p>{n}</p>", "right": r} for n, r in enumerate(rights)]})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    choices = [c["text"] for c in item_of(attempt, "m8").snapshot["choices"]]
    assert sorted(choices) == sorted(rights) and choices != rights


def test_resume_returns_the_open_attempt_with_its_answers(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.save_answer(attempt, 3, {"choice": "false"})
    db.session.commit()
    db.session.expire_all()
    again, created = attempts.start_attempt(world.learner, world.assessment)
    assert not created and again.id == attempt.id
    assert item_of(again, "q-tf").response == {"choice": "false"}
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_max_attempts_refuses_with_a_reason(world):
    world.assessment.max_attempts = 2
    for _ in range(2):
        attempt, _ = attempts.start_attempt(world.learner, world.assessment)
        attempts.submit(attempt)
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.start_attempt(world.learner, world.assessment)
    assert "hết 2 lần" in refused.value.message and refused.value.retry_at is None
    # Another learner is not affected.
    assert attempts.start_attempt(world.other, world.assessment)[1]


def test_cooldown_says_when_to_come_back(world):
    world.assessment.cooldown_minutes = 60
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.submit(attempt)
    db.session.commit()
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.start_attempt(world.learner, world.assessment)
    submitted = attempts.as_utc(attempt.submitted_at)
    assert refused.value.retry_at == submitted + timedelta(minutes=60)
    assert "60 phút" in refused.value.message and "làm lại từ" in refused.value.message
    later = submitted + timedelta(minutes=61)
    new, created = attempts.start_attempt(world.learner, world.assessment, now=later)
    assert created and new.number == 2


def test_no_questions_no_attempt(app):
    world = build_world(bank=False)
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.start_attempt(world.learner, world.assessment)
    assert "chưa có câu hỏi" in refused.value.message
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


def test_time_limit_sets_a_server_deadline(app):
    world = build_world({"time_limit_minutes": 20})
    before = utcnow()
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    deadline = attempts.as_utc(attempt.deadline_at)
    assert before + timedelta(minutes=20) <= deadline <= utcnow() + timedelta(minutes=20)
    assert 1190 <= attempts.seconds_left(attempt) <= 1200


def test_a_save_after_the_deadline_is_refused_and_submit_scores_what_was_saved(app):
    world = build_world({"time_limit_minutes": 20})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    tf = item_of(attempt, "q-tf")
    attempts.save_answer(attempt, tf.position, {"choice": "false"})  # right, in time
    db.session.commit()
    age(attempt, 21)  # the 20 minutes ran out a minute ago
    single_item = item_of(attempt, "q-single")
    with pytest.raises(attempts.AttemptClosed) as closed:
        attempts.save_answer(attempt, single_item.position, {"choice": "a"})
    assert "hết giờ" in closed.value.message
    db.session.rollback()
    assert db.session.get(AttemptItem, single_item.id).response is None
    assert attempts.submit(attempt)
    db.session.commit()
    assert item_of(attempt, "q-tf").correct == 1.0
    assert item_of(attempt, "q-single").correct == 0.0
    assert attempt.score_percent == pytest.approx(100 / 6, abs=0.01)


def test_an_answer_stamped_after_the_deadline_does_not_count(app):
    """Belt and braces: even a row written late by other means scores 0."""
    world = build_world({"time_limit_minutes": 20})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    tf = item_of(attempt, "q-tf")
    attempts.save_answer(attempt, tf.position, {"choice": "false"})
    tf = db.session.get(AttemptItem, tf.id)
    tf.answered_at = attempts.as_utc(attempt.deadline_at) + timedelta(seconds=5)
    db.session.commit()
    attempts.submit(attempt, now=attempts.as_utc(attempt.deadline_at) + timedelta(minutes=1))
    assert tf.correct == 0.0 and attempt.score_percent == 0.0


def test_expired_attempt_is_submitted_when_the_learner_comes_back(app):
    world = build_world({"time_limit_minutes": 5})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.save_answer(attempt, item_of(attempt, "q-tf").position, {"choice": "false"})
    db.session.commit()
    age(attempt, 6)
    new, created = attempts.start_attempt(world.learner, world.assessment)
    db.session.commit()
    assert created and new.number == 2
    db.session.refresh(attempt)
    assert attempt.status == "submitted" and attempt.open_marker is None
    assert attempt.score_percent == pytest.approx(100 / 6, abs=0.01)


def test_submit_is_idempotent(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    answer_all_right(attempt)
    assert attempts.submit(attempt) is True
    db.session.commit()
    first = (attempt.score_percent, attempt.submitted_at, dict(attempt.competency_scores))
    assert attempts.submit(attempt) is False
    db.session.commit()
    assert (attempt.score_percent, attempt.submitted_at, dict(attempt.competency_scores)) == first
    assert first[0] == 100.0 and attempt.is_passed


def test_submit_own_is_for_the_owner_only_and_hands_the_rule_the_course(app, monkeypatch):
    from app.records import rules
    from tests.assessments.factories import make_course

    make_course("mot-khoa-khac", "Một khóa khác")  # so the course id is not the assessment's
    world = build_world({"pass_percent": 0})
    assert world.course.id != world.assessment.id
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    db.session.commit()
    judged = []
    monkeypatch.setattr(rules, "record_completion_if_due",
                        lambda user, course, **_kw: judged.append((user.id, course)))
    assert attempts.submit_own(attempt.id, world.other.id) is None  # not theirs: untouched
    assert db.session.get(Attempt, attempt.id).status == "open" and judged == []
    submitted = attempts.submit_own(attempt.id, world.learner.id)
    assert submitted is not None and submitted.passed
    assert judged == [(world.learner.id, world.course.id)]
    assert attempts.submit_own(attempt.id, world.learner.id) is None  # the repeat
    assert len(judged) == 1


def test_save_after_submit_is_refused(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.submit(attempt)
    with pytest.raises(attempts.AttemptClosed) as closed:
        attempts.save_answer(attempt, 1, {"choice": "a"})
    assert "đã nộp" in closed.value.message


def test_save_unknown_position_writes_nothing(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    with pytest.raises(LookupError):
        attempts.save_answers(attempt, {1: {"choice": "a"}, 99: {"choice": "a"}})
    db.session.rollback()
    assert all(i.response is None for i in db.session.scalars(select(AttemptItem)))


def test_per_competency_scores_and_pass_fail(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    form = MultiDict()
    for item in attempt.items:  # everything of 4.1 right, everything of 4.2 blank
        if item.snapshot["key"] == "q-single":
            form[f"q{item.position}"] = key_value(item)
        elif item.snapshot["key"] == "q-multiple":
            form.setlist(f"q{item.position}", ["0"])  # half the credit (50 %)
        elif item.snapshot["key"] == "q-num":
            form[f"q{item.position}"] = "1234"
    attempts.save_answers(attempt, attempts.parse_responses(attempt.items, form))
    attempts.submit(attempt)
    assert attempt.competency_scores == {"4.1": pytest.approx(83.33, abs=0.01), "4.2": 0.0}
    assert attempt.score_percent == pytest.approx(250 / 6, abs=0.01)
    assert attempt.is_passed is False


def test_clearing_an_answer_stores_none(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.save_answer(attempt, 1, {"choice": "a"})
    attempts.save_answer(attempt, 1, None)
    db.session.commit()
    assert db.session.get(AttemptItem, attempt.items[0].id).response is None


@pytest.mark.parametrize(("key", "values", "message"), [
    ("q-single", {"": "9"}, "Lựa chọn không có"),
    ("q-single", {"": "-1"}, "Lựa chọn không có"),
    ("q-single", {"": "²"}, "Lựa chọn không có"),  # a digit to str.isdigit, not to int()
    ("q-multiple", {"": ["0", "x"]}, "Lựa chọn không có"),
    ("q-tf", {"": "yes"}, "Đúng hoặc Sai"),
    ("q-num", {"": "mười hai"}, "con số"),
    ("q-short", {"": "x" * 501}, "quá dài"),
    ("q-match", {"-0": "r99"}, "Lựa chọn không có"),
])
def test_parse_response_refuses_what_does_not_fit(world, key, values, message):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    item = item_of(attempt, key)
    form = MultiDict()
    for suffix, value in values.items():
        form.setlist(f"q{item.position}{suffix}", value if isinstance(value, list) else [value])
    with pytest.raises(ValueError, match=message):
        attempts.parse_response(item.snapshot, item.position, form)


def test_parse_responses_reports_every_problem_at_once(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    num, tf = item_of(attempt, "q-num"), item_of(attempt, "q-tf")
    form = MultiDict({f"q{num.position}": "abc", f"q{tf.position}": "có lẽ"})
    with pytest.raises(attempts.InvalidAnswers) as invalid:
        attempts.parse_responses(attempt.items, form)
    assert set(invalid.value.errors) == {num.position, tf.position}


def test_mastery_follows_the_submission(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    answer_all_right(attempt)
    attempts.submit(attempt)
    db.session.commit()
    rows = {r.competency_code: r for r in db.session.scalars(select(CompetencyMastery))}
    assert set(rows) == {"4.1", "4.2"}
    assert all(r.is_mastered and r.evidence_attempt_id == attempt.id for r in rows.values())


def test_review_shows_given_and_right_answers_with_feedback(world):
    make_question(world.course, "q-range", "numerical",
                  {"answers": [{"min": 1, "max": 5, "weight": 100}], "wrong_feedback_html": "<p>Xa quá</p>"})
    make_question(world.course, "q-tf2", "true_false",
                  {"answer": True, "feedback_false_html": "<p>Nhớ lại bài 2</p>"})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    answer_all_right(attempt)
    attempts.save_answer(attempt, item_of(attempt, "q-range").position, {"text": "9"})
    attempts.save_answer(attempt, item_of(attempt, "q-tf2").position, {"choice": "false"})
    attempts.submit(attempt)
    reviewed = {i.snapshot["key"]: attempts.reviewed_item(i) for i in attempt.items}
    assert reviewed["q-single"].verdict == "right"
    assert reviewed["q-single"].right == reviewed["q-single"].given == ["<p>Phương án đúng</p>"]
    assert "BIMAT-FB-q-single" in reviewed["q-single"].feedback[0]
    assert len(reviewed["q-multiple"].right) == 2 and "BIMAT-FB-M1" in reviewed["q-multiple"].feedback[0]
    assert reviewed["q-tf"].right == ["Sai"] and reviewed["q-tf"].given == ["Sai"]
    assert reviewed["q-short"].right == ["Lừa đảo BIMAT"]  # the 50 % answer is not "the" answer
    assert reviewed["q-short"].given == ["LỪA ĐẢO bimat"]
    assert reviewed["q-num"].right == ["1.234,5 ± 0,5"] and reviewed["q-num"].given == ["1.234,7"]
    assert reviewed["q-match"].right[0] == "<p>Mật khẩu bị lộ</p> → Đổi mật khẩu ngay"
    assert reviewed["q-range"].right == ["từ 1 đến 5"] and reviewed["q-range"].verdict == "wrong"
    assert reviewed["q-range"].feedback == ["<p>Xa quá</p>"]
    assert reviewed["q-tf2"].feedback == ["<p>Nhớ lại bài 2</p>"]


def test_review_of_a_partly_right_and_a_blank_item(world):
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    attempts.save_answer(attempt, item_of(attempt, "q-multiple").position, {"choices": ["a"]})
    attempts.submit(attempt)
    assert attempts.reviewed_item(item_of(attempt, "q-multiple")).verdict == "partial"
    blank = attempts.reviewed_item(item_of(attempt, "q-short"))
    assert blank.verdict == "blank" and blank.given == []


def test_matching_distractors_are_offered(world):
    make_question(world.course, "m-dis", "matching", {
        "pairs": [{"left_html": "A", "right": "1"}, {"left_html": "B", "right": "2"},
                  {"left_html": "C", "right": "3"}], "distractors": ["4", "5"]})
    attempt, _ = attempts.start_attempt(world.learner, world.assessment)
    choices = sorted(c["text"] for c in item_of(attempt, "m-dis").snapshot["choices"])
    assert choices == ["1", "2", "3", "4", "5"]
