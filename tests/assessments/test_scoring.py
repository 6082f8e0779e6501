"""Scoring functions, one type at a time, by direct calls (no database, no request)."""

from __future__ import annotations

import unicodedata

import pytest

from app.assessments.scoring import (
    SCORERS,
    is_passed,
    parse_number,
    score_attempt,
    score_item,
    uses_weights,
)


def opts(*weights, flags=False):
    """Options "a", "b", … with these weights (or ``correct`` flags when flags=True)."""
    letters = "abcdefgh"
    if flags:
        return {"options": [{"id": letters[i], "correct": bool(w)} for i, w in enumerate(weights)]}
    return {"options": [{"id": letters[i], "weight": w} for i, w in enumerate(weights)]}


def test_registry_covers_every_model_type():
    from app.assessments.models import QUESTION_TYPES

    assert set(SCORERS) == set(QUESTION_TYPES)


def test_unknown_type_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        score_item("essay", {}, {"text": "x"})


@pytest.mark.parametrize("response", [None, "a", ["a"], 3])
def test_missing_or_malformed_response_scores_zero(response):
    assert score_item("single", opts(100, 0), response) == 0.0


# --- single ---------------------------------------------------------------------------

@pytest.mark.parametrize(("choice", "expected"), [("a", 0.0), ("b", 1.0), ("c", 0.5), ("z", 0.0),
                                                  (None, 0.0)])
def test_single_scores_the_chosen_weight(choice, expected):
    assert score_item("single", opts(0, 100, 50), {"choice": choice}) == expected


def test_single_negative_weight_never_goes_below_zero():
    assert score_item("single", opts(100, -50), {"choice": "b"}) == 0.0


def test_single_with_correct_flags():
    assert score_item("single", opts(0, 1, flags=True), {"choice": "b"}) == 1.0
    assert score_item("single", opts(0, 1, flags=True), {"choice": "a"}) == 0.0


# --- multiple -------------------------------------------------------------------------

GIFT = opts(50, 50, -100, -100)


@pytest.mark.parametrize(("choices", "expected"), [
    (["a", "b"], 1.0),
    (["a"], 0.5),
    (["b"], 0.5),
    (["a", "c"], 0.0),  # 50 - 100 → clamped to 0, never negative
    (["a", "b", "c"], 0.0),
    (["a", "b", "c", "d"], 0.0),
    ([], 0.0),
    (["a", "a", "b"], 1.0),  # a repeated value counts once
    (["a", "zz"], 0.5),  # an unknown id is ignored
])
def test_multiple_with_gift_weights_sums_and_clamps(choices, expected):
    assert uses_weights(GIFT["options"])
    assert score_item("multiple", GIFT, {"choices": choices}) == pytest.approx(expected)


def test_multiple_gift_thirds_make_full_marks():
    data = opts(33.33333, 33.33333, 33.33333, -100)
    assert score_item("multiple", data, {"choices": ["a", "b", "c"]}) == 1.0
    assert score_item("multiple", data, {"choices": ["a"]}) == pytest.approx(1 / 3, abs=1e-6)


@pytest.mark.parametrize("data", [opts(1, 1, 0, 0, flags=True), opts(50, 50, 0, 0)],
                         ids=["correct-flags", "equal-weights"])
@pytest.mark.parametrize(("choices", "expected"), [
    (["a", "b"], 1.0),
    (["a"], 0.5),
    (["a", "c"], 0.0),  # +1/2 − 1/2
    (["a", "b", "c"], 0.5),  # +1 − 1/2
    (["a", "b", "c", "d"], 0.0),  # ticking every box earns nothing
    (["c", "d"], 0.0),  # −1 → clamped
])
def test_multiple_without_weights_plus_and_minus_one_over_k(data, choices, expected):
    assert not uses_weights(data["options"])
    assert score_item("multiple", data, {"choices": choices}) == pytest.approx(expected)


def test_multiple_with_unequal_positive_weights_is_gift_partial_credit():
    data = opts(70, 30, 0)
    assert uses_weights(data["options"])
    assert score_item("multiple", data, {"choices": ["a"]}) == pytest.approx(0.7)
    assert score_item("multiple", data, {"choices": ["a", "c"]}) == pytest.approx(0.7)


def test_multiple_ignores_a_non_list_response():
    assert score_item("multiple", GIFT, {"choices": "ab"}) == 0.0


# --- true/false -----------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "response", "expected"), [
    (True, {"choice": "true"}, 1.0), (True, {"choice": "false"}, 0.0),
    (False, {"choice": "false"}, 1.0), (False, {"value": False}, 1.0),
    (False, {"value": True}, 0.0), (False, {"choice": "maybe"}, 0.0), (False, {}, 0.0),
])
def test_true_false(answer, response, expected):
    assert score_item("true_false", {"answer": answer}, response) == expected


# --- short answer ---------------------------------------------------------------------

EXACT = {"answers": ["Lừa đảo"], "match": "exact"}
LOOSE = {"answers": ["Lừa đảo", {"text": "gian lận", "weight": 50}], "match": "loose"}


@pytest.mark.parametrize(("typed", "expected"), [
    ("Lừa đảo", 1.0),
    ("  Lừa   đảo ", 1.0),  # spacing is not a mistake
    (unicodedata.normalize("NFD", "Lừa đảo"), 1.0),  # a keyboard that types decomposed marks
    ("lừa đảo", 0.0),  # exact: case matters
    ("Lua dao", 0.0),  # exact: diacritics matter
    ("", 0.0),
])
def test_short_answer_exact(typed, expected):
    assert score_item("short_answer", EXACT, {"text": typed}) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("LỪA ĐẢO", 1.0), ("lua dao", 1.0), ("  lừa  đảo. ", 1.0), ("Lừa đảo!", 1.0),
    ("gian lan", 0.5), ("GIAN LẬN", 0.5), ("lừa", 0.0), ("luadao", 0.0), ("   ", 0.0),
])
def test_short_answer_loose_with_gift_weights(typed, expected):
    assert score_item("short_answer", LOOSE, {"text": typed}) == expected


def test_short_answer_best_weight_wins_when_two_answers_match():
    data = {"answers": [{"text": "ao giac", "weight": 40}, {"text": "Ảo giác", "weight": 100}],
            "match": "loose"}
    assert score_item("short_answer", data, {"text": "ảo giác"}) == 1.0


def test_short_answer_d_with_stroke_folds_to_d():
    assert score_item("short_answer", {"answers": ["Đồng Nai"], "match": "loose"},
                      {"text": "dong nai"}) == 1.0


# --- matching -------------------------------------------------------------------------

MATCHING = {"pairs": [{"left_html": "A", "right": "một"}, {"left_html": "B", "right": "hai"},
                      {"left_html": "C", "right": "ba"}]}


@pytest.mark.parametrize(("matches", "expected"), [
    ({"0": "một", "1": "hai", "2": "ba"}, 1.0),
    ({"0": "một", "1": "ba", "2": "hai"}, 1 / 3),
    ({"0": "một", "1": "hai"}, 2 / 3),  # one left unanswered
    ({0: "một", 1: "hai", 2: "ba"}, 1.0),  # integer keys too
    ({"0": "hai", "1": "một", "2": "một"}, 0.0),
    ({}, 0.0),
])
def test_matching_fraction_of_pairs(matches, expected):
    assert score_item("matching", MATCHING, {"matches": matches}) == pytest.approx(expected)


# --- numerical ------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "expected"), [
    ("15", 1.0), ("14,5", 1.0), ("15.5", 1.0), ("16", 0.0), ("14,49", 0.0), ("mười lăm", 0.0),
    ("", 0.0),
])
def test_numerical_answer_plus_minus_tolerance(typed, expected):
    assert score_item("numerical", {"answer": 15, "tolerance": 0.5}, {"text": typed}) == expected


def test_numerical_exact_with_float_noise():
    assert score_item("numerical", {"answer": 0.3, "tolerance": 0}, {"value": 0.1 + 0.2}) == 1.0


def test_numerical_ranges_and_weighted_alternatives():
    data = {"answers": [{"answer": 2024, "tolerance": 0, "weight": 100},
                        {"min": 2020, "max": 2026, "weight": 50},
                        {"answer": 1, "tolerance": 0, "weight": -100}]}
    assert score_item("numerical", data, {"text": "2024"}) == 1.0
    assert score_item("numerical", data, {"text": "2.023"}) == 0.5  # Vietnamese for 2023
    assert score_item("numerical", data, {"text": "2023"}) == 0.5
    assert score_item("numerical", data, {"text": "1"}) == 0.0  # a negative weight is 0, not −1
    assert score_item("numerical", data, {"text": "1999"}) == 0.0


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3.0), ("3,5", 3.5), ("3.5", 3.5), ("-2", -2.0), ("−2", -2.0), ("10.000", 10000.0),
    ("1.000.000", 1_000_000.0), ("1.000,5", 1000.5), ("1,000.5", 1000.5), (" 2 024 ", 2024.0),
    (".5", 0.5), ("12.", 12.0),
    ("", None), ("abc", None), ("1,2,3", None), ("1e5", None), ("nan", None), ("inf", None),
    ("3,5,", None), (None, None), (True, None),
])
def test_parse_number_reads_vietnamese_and_english_numbers(text, value):
    assert parse_number(text) == value


# --- whole attempt --------------------------------------------------------------------

def test_score_attempt_totals_and_per_competency():
    total, per = score_attempt([("4.1", 1.0), ("4.1", 0.5), ("4.2", 0.0), ("4.2", None),
                                ("1.2", 1.0)])
    assert total == pytest.approx(100 * 2.5 / 5)
    assert per == {"4.1": pytest.approx(75.0), "4.2": 0.0, "1.2": 100.0}


def test_score_attempt_clamps_bad_item_values():
    total, per = score_attempt([("4.1", -3.0), ("4.1", 7.0)])
    assert total == 50.0 and per == {"4.1": 50.0}


def test_score_attempt_of_nothing():
    assert score_attempt([]) == (0.0, {})


@pytest.mark.parametrize(("total", "mark", "passed"), [
    (70.0, 70, True), (69.99, 70, False), (0.0, 0, True), (100.0, 100, True),
    (99.9, 100, False),
])
def test_is_passed_against_the_mark(total, mark, passed):
    assert is_passed(total, mark) is passed


def test_seven_of_ten_passes_a_seventy_percent_mark():
    total, _ = score_attempt([("4.1", 1.0)] * 7 + [("4.1", 0.0)] * 3)
    assert is_passed(total, 70)


def test_float_noise_of_partial_credit_does_not_fail_a_learner():
    total, _ = score_attempt([("4.1", 0.7)] * 3)  # 69.99999999999999 in floating point
    assert total < 70 and is_passed(total, 70)
