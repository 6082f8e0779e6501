"""Properties of scoring over generated questions and responses (Hypothesis).

Whatever the bank says and whatever a browser sends: every item scores within 0..1, a
total is never negative, and the perfect response to a well-formed question scores 1.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.assessments.scoring import normalize_text, score_attempt, score_item, uses_weights

IDS = list("abcdefgh")
weights = st.one_of(st.integers(-100, 100), st.floats(-100, 100, allow_nan=False),
                    st.sampled_from([0, 100, 50, 33.33333, -50, -100]))
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=10)


@st.composite
def choice_data(draw):
    count = draw(st.integers(1, 8))
    if draw(st.booleans()):
        return {"options": [{"id": IDS[i], "correct": draw(st.booleans())} for i in range(count)]}
    return {"options": [{"id": IDS[i], "weight": draw(weights)} for i in range(count)]}


@st.composite
def any_question(draw):
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "short_answer", "matching",
                                 "numerical"]))
    if kind in ("single", "multiple"):
        data = draw(choice_data())
    elif kind == "true_false":
        data = {"answer": draw(st.one_of(st.booleans(), junk))}
    elif kind == "short_answer":
        data = {"answers": draw(st.lists(st.one_of(
            st.text(max_size=10), st.fixed_dictionaries({"text": st.text(max_size=10),
                                                         "weight": weights})), max_size=4)),
                "match": draw(st.sampled_from(["exact", "loose", None]))}
    elif kind == "matching":
        data = {"pairs": draw(st.lists(st.fixed_dictionaries(
            {"left_html": st.text(max_size=5), "right": st.text(max_size=5)}), max_size=5))}
    else:
        data = draw(st.one_of(
            st.fixed_dictionaries({"answer": st.floats(allow_nan=False, allow_infinity=False),
                                   "tolerance": st.floats(0, 10)}),
            st.fixed_dictionaries({"answers": st.lists(st.fixed_dictionaries(
                {"min": st.integers(-50, 50), "max": st.integers(-50, 50), "weight": weights}),
                max_size=3)})))
    return kind, data


responses = st.one_of(
    junk,
    st.fixed_dictionaries({"choice": st.one_of(st.sampled_from(IDS + ["true", "false"]), junk)}),
    st.fixed_dictionaries({"choices": st.one_of(st.lists(st.sampled_from(IDS), max_size=8), junk)}),
    st.fixed_dictionaries({"text": st.one_of(st.text(max_size=20), junk)}),
    st.fixed_dictionaries({"value": junk}),
    st.fixed_dictionaries({"matches": st.one_of(
        st.dictionaries(st.sampled_from(["0", "1", "2", "3"]), st.text(max_size=5)), junk)}),
)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into failure
@given(any_question(), responses)
def test_every_item_scores_between_zero_and_one(question, response):
    kind, data = question
    score = score_item(kind, data, response)
    assert 0.0 <= score <= 1.0


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["4.1", "4.2", "1.2"]),
                          st.one_of(st.none(), st.floats(-5, 5, allow_nan=False))), max_size=30))
def test_total_is_never_negative_nor_above_100(items):
    total, per = score_attempt(items)
    assert 0.0 <= total <= 100.0
    assert all(0.0 <= p <= 100.0 for p in per.values())


@st.composite
def well_formed_with_perfect_response(draw):
    """A question with at least one fully right answer, and that answer."""
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "short_answer", "matching",
                                 "numerical"]))
    if kind == "single":
        count = draw(st.integers(2, 6))
        key = draw(st.integers(0, count - 1))
        others = st.sampled_from([0, 50, -50, -100])
        options = [{"id": IDS[i], "weight": 100 if i == key else draw(others)} for i in range(count)]
        return kind, {"options": options}, {"choice": IDS[key]}
    if kind == "multiple":
        count = draw(st.integers(2, 8))
        keys = draw(st.sets(st.integers(0, count - 1), min_size=1))
        if draw(st.booleans()):  # GIFT: keys share 100 %, the rest negative or zero
            share = 100 / len(keys)
            wrong = st.sampled_from([0, -50, -100])
            options = [{"id": IDS[i], "weight": share if i in keys else draw(wrong)}
                       for i in range(count)]
        else:
            options = [{"id": IDS[i], "correct": i in keys} for i in range(count)]
        return kind, {"options": options}, {"choices": [IDS[i] for i in sorted(keys)]}
    if kind == "true_false":
        answer = draw(st.booleans())
        return kind, {"answer": answer}, {"choice": "true" if answer else "false"}
    if kind == "short_answer":
        # Well formed: something is left once spacing (and, loosely, punctuation) is ignored.
        answer = draw(st.text(min_size=1, max_size=15).filter(
            lambda t: normalize_text(t, "exact") and normalize_text(t, "loose")))
        match = draw(st.sampled_from(["exact", "loose"]))
        return kind, {"answers": [answer], "match": match}, {"text": answer}
    if kind == "matching":
        rights = draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5))
        pairs = [{"left_html": f"L{i}", "right": right} for i, right in enumerate(rights)]
        return kind, {"pairs": pairs}, {"matches": {str(i): r for i, r in enumerate(rights)}}
    answer = draw(st.integers(-10**6, 10**6))
    tolerance = draw(st.sampled_from([0, 0.5, 2]))
    return kind, {"answer": answer, "tolerance": tolerance}, {"text": str(answer)}


@settings(deadline=None)
@given(well_formed_with_perfect_response())
def test_a_perfect_response_scores_one(case):
    kind, data, response = case
    assert score_item(kind, data, response) == 1.0


@settings(deadline=None)
@given(choice_data(), st.lists(st.sampled_from(IDS), max_size=8))
def test_choosing_more_wrong_options_never_helps_without_weights(data, chosen):
    """Without GIFT weights, adding a wrong option to a response never raises its score."""
    options = data["options"]
    if uses_weights(options):
        return
    ids = [o["id"] for o in options]
    keys = {o["id"] for o in options if o.get("correct") is True or (o.get("weight") or 0) > 0}
    wrong = [i for i in ids if i not in keys and i not in chosen]
    if not wrong:
        return
    before = score_item("multiple", data, {"choices": chosen})
    after = score_item("multiple", data, {"choices": chosen + wrong[:1]})
    assert after <= before
