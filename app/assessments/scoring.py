"""Scoring: one pure function per question type, each saying how right a response is, in 0..1.

The registry keyed by question type follows CTFd's FLAG_CLASSES idea: adding a type means
adding one ``@scorer("type")`` function. Nothing here touches the database or the request,
so tests call these functions directly and persisting a score is the caller's business.

Shapes (``Question.data`` as the model comment defines it; responses as attempts.py saves them):

- single:       data ``{"options": [{"id": "a", "weight": 100, …}]}``, response ``{"choice": "a"}``
- multiple:     same options, response ``{"choices": ["a", "c"]}``
- true_false:   data ``{"answer": true}``, response ``{"choice": "true"}`` (or ``{"value": true}``)
- short_answer: data ``{"answers": ["x", {"text": "y", "weight": 50}], "match": "exact"|"loose"}``,
  response ``{"text": "…"}``
- matching:     data ``{"pairs": [{"left_md", "left_html", "right"}]}``,
  response ``{"matches": {"0": "<right text chosen for pair 0>", …}}``
- numerical:    data ``{"answer": 15, "tolerance": 0}`` or ``{"answers": [{"answer": 3,
  "tolerance": .5, "weight": 100}, {"min": 1, "max": 5, "weight": 50}]}``, response ``{"text": "3,5"}``

Weights are percents as in GIFT. An option may also carry ``"correct": true`` instead of a
weight (a file written by hand); both forms are understood.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from app.text import fold, nfc

Scorer = Callable[[Mapping[str, Any], Mapping[str, Any]], float]

SCORERS: dict[str, Scorer] = {}

# A total this close below the pass mark still passes: float sums of partial credit
# (1/3 + 1/3 + 1/3) must not fail a learner by 0.0000000001 %.
PASS_EPSILON = 1e-9


def scorer(kind: str) -> Callable[[Scorer], Scorer]:
    """Register the scoring function of one question type."""
    def register(function: Scorer) -> Scorer:
        SCORERS[kind] = function
        return function

    return register


def clamp(value: float) -> float:
    """Into 0..1; anything that is not a finite number counts as 0."""
    if not isinstance(value, int | float) or math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def score_item(kind: str, data: Mapping[str, Any], response: Mapping[str, Any] | None) -> float:
    """How right ``response`` is for a question of type ``kind``: 0..1, 0 when unanswered."""
    if not isinstance(response, Mapping) or not isinstance(data, Mapping):
        return 0.0
    try:
        function = SCORERS[kind]
    except KeyError:
        raise ValueError(f"unknown question type {kind!r}") from None
    return clamp(function(data, response))


# --- Choice questions -------------------------------------------------------------------

def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def option_weight(option: Mapping[str, Any]) -> float:
    """The option's credit in percent: its weight, or 100/0 from a ``correct`` flag."""
    if option.get("weight") is not None:
        return _number(option.get("weight"))
    return 100.0 if option.get("correct") is True else 0.0


def is_key(option: Mapping[str, Any]) -> bool:
    """True for an option that earns credit (the key, or one of the keys)."""
    if "correct" in option:
        return option.get("correct") is True
    return option_weight(option) > 0


def _options(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = data.get("options")
    if not isinstance(options, list):
        return []
    return [o for o in options if isinstance(o, Mapping) and isinstance(o.get("id"), str)]


def uses_weights(options: list[Mapping[str, Any]]) -> bool:
    """Does a multiple-response question carry real GIFT weights (partial or negative)?

    Weights are "given" when some weight is negative or the positive weights differ from
    one another. Keys marked with ``correct`` flags, or with equal weights and 0 elsewhere,
    are a plain set of right answers, scored +1/k per key chosen and -1/k per wrong choice,
    so ticking every box never earns full marks.
    """
    if any("correct" in o and o.get("weight") is None for o in options):
        return False
    weights = [option_weight(o) for o in options]
    positive = {w for w in weights if w > 0}
    return any(w < 0 for w in weights) or len(positive) > 1


@scorer("single")
def score_single(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """The chosen option's weight (100 for the key; GIFT may give a partial weight)."""
    choice = response.get("choice")
    for option in _options(data):
        if option["id"] == choice:
            return clamp(option_weight(option) / 100)
    return 0.0


def _chosen(response: Mapping[str, Any]) -> set[str]:
    choices = response.get("choices")
    if not isinstance(choices, list | tuple):
        return set()
    return {c for c in choices if isinstance(c, str)}


@scorer("multiple")
def score_multiple(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """GIFT weights summed, or +1/k per key and -1/k per wrong choice; never below 0."""
    options = _options(data)
    chosen = _chosen(response) & {o["id"] for o in options}
    if not chosen:
        return 0.0
    if uses_weights(options):
        total = sum(option_weight(o) for o in options if o["id"] in chosen) / 100
        # GIFT thirds and sixths (%33.33333%) add up to 0.9999999: that is full marks.
        return 1.0 if abs(total - 1) < 1e-4 else clamp(total)
    keys = {o["id"] for o in options if is_key(o)}
    if not keys:
        return 0.0
    right = len(chosen & keys)
    wrong = len(chosen - keys)
    return clamp((right - wrong) / len(keys))


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


@scorer("true_false")
def score_true_false(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    given = _truth(response.get("choice", response.get("value")))
    expected = _truth(data.get("answer"))
    return 1.0 if given is not None and given == expected else 0.0


# --- Typed answers ----------------------------------------------------------------------

_EDGE_PUNCTUATION = ".,;:!?\"'“”‘’()[] "


def normalize_text(value: Any, match: str = "exact") -> str:
    """Exact: NFC with spaces trimmed and collapsed. Loose: also case, diacritics, end dots."""
    text = nfc(value if isinstance(value, str) else "")
    if match == "loose":
        return fold(text).strip(_EDGE_PUNCTUATION)
    return text


def accepted_answers(data: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(text, weight %) for every accepted short answer; a bare string is worth 100."""
    found: list[tuple[str, float]] = []
    for answer in data.get("answers") or []:
        if isinstance(answer, str):
            found.append((answer, 100.0))
        elif isinstance(answer, Mapping) and isinstance(answer.get("text"), str):
            weight = answer.get("weight")
            found.append((answer["text"], 100.0 if weight is None else _number(weight)))
    return found


@scorer("short_answer")
def score_short_answer(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """The best weight among accepted answers equal to the typed text (exactly or loosely)."""
    match = "loose" if data.get("match") == "loose" else "exact"
    typed = normalize_text(response.get("text"), match)
    if not typed:
        return 0.0
    weights = [w for text, w in accepted_answers(data) if normalize_text(text, match) == typed]
    return clamp(max(weights) / 100) if weights else 0.0


@scorer("matching")
def score_matching(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """The fraction of pairs matched right."""
    pairs = [p for p in data.get("pairs") or [] if isinstance(p, Mapping)]
    matches = response.get("matches")
    if not pairs or not isinstance(matches, Mapping):
        return 0.0
    right = 0
    for index, pair in enumerate(pairs):
        chosen = matches.get(str(index), matches.get(index))
        if isinstance(chosen, str) and nfc(chosen) == nfc(str(pair.get("right", ""))):
            right += 1
    return right / len(pairs)


_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_number(text: Any) -> float | None:
    """A number as Vietnamese or English speakers type it: "3,5", "3.5", "10.000", "1.000,5".

    A comma alone is the decimal mark (Vietnamese); dots in groups of three are thousands;
    with both, the last one is the decimal mark. Returns None for anything else.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text) if math.isfinite(text) else None
    if not isinstance(text, str):
        return None
    value = re.sub(r"[\s\u00a0]", "", text).replace("−", "-")
    if not value or len(value) > 40:
        return None
    if "," in value and "." in value:
        decimal = "," if value.rfind(",") > value.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        value = value.replace(thousands, "").replace(decimal, ".")
    elif "," in value:
        if value.count(",") > 1:
            return None
        value = value.replace(",", ".")
    elif _THOUSANDS_DOT.match(value):
        value = value.replace(".", "")
    if not _PLAIN_NUMBER.match(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def numeric_alternatives(data: Mapping[str, Any]) -> list[dict[str, float]]:
    """Every accepted value as {"low", "high", "weight"} (answer ± tolerance, or a range)."""
    raw = data.get("answers")
    if not isinstance(raw, list):
        raw = [{"answer": data.get("answer"), "tolerance": data.get("tolerance", 0)}]
    found = []
    for alt in raw:
        if not isinstance(alt, Mapping):
            continue
        weight = 100.0 if alt.get("weight") is None else _number(alt.get("weight"))
        if alt.get("min") is not None and alt.get("max") is not None:
            low, high = parse_number(alt.get("min")), parse_number(alt.get("max"))
        else:
            centre = parse_number(alt.get("answer"))
            tolerance = abs(parse_number(alt.get("tolerance")) or 0.0)
            low = high = None
            if centre is not None:
                low, high = centre - tolerance, centre + tolerance
        if low is not None and high is not None:
            found.append({"low": min(low, high), "high": max(low, high), "weight": weight})
    return found


@scorer("numerical")
def score_numerical(data: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    """The best weight among the accepted values (answer ± tolerance, or min..max) it falls in."""
    value = parse_number(response.get("text", response.get("value")))
    if value is None:
        return 0.0
    weights = []
    for alt in numeric_alternatives(data):
        slack = 1e-9 * max(1.0, abs(alt["low"]), abs(alt["high"]))  # 0.1 + 0.2 is 0.3
        if alt["low"] - slack <= value <= alt["high"] + slack:
            weights.append(alt["weight"])
    return clamp(max(weights) / 100) if weights else 0.0


# --- A whole attempt --------------------------------------------------------------------

def score_attempt(items: Iterable[tuple[str, float | None]]) -> tuple[float, dict[str, float]]:
    """(total %, {competency code: %}) from (competency code, correct 0..1) per item.

    Every item weighs the same; an unanswered item counts as 0. Percents are not rounded
    here, so the pass decision never depends on display rounding.
    """
    totals: dict[str, list[float]] = {}
    for code, correct in items:
        totals.setdefault(str(code), []).append(clamp(correct or 0.0))
    values = [v for per_code in totals.values() for v in per_code]
    if not values:
        return 0.0, {}
    total = 100.0 * sum(values) / len(values)
    per_competency = {code: 100.0 * sum(v) / len(v) for code, v in totals.items()}
    return total, per_competency


def is_passed(total_percent: float, pass_percent: float) -> bool:
    """Pass when the total reaches the pass mark snapshotted on the attempt."""
    return total_percent + PASS_EPSILON >= pass_percent
