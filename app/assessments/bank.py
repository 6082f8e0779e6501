"""The question bank: assessment.yaml checked into plain data, then upserted by stable key.

``Question.data`` shapes (Markdown sources ``*_md`` are rendered ONCE, at import or save,
into the ``*_html`` beside them; weights are percents as in GIFT, −100…100):

- single / multiple: ``{"options": [{"id": "a", "text_md", "text_html", "weight": 100,
  "correct": true, "feedback_md", "feedback_html"}, …]}``; ids "a", "b", … by position.
  single: exactly one option weighs 100 (GIFT may give the others partial or negative
  weights). multiple: the positive weights add up to 100; an assessment.yaml question that
  marks k options ``correct`` gets 100/k for each of them and −100/k for each other option.
- true_false: ``{"answer": true, "feedback_true_md/html", "feedback_false_md/html"}`` (the
  feedback shown to a learner who answered true / false).
- short_answer: ``{"answers": ["x", {"text": "y", "weight": 50, "feedback_md", "feedback_html"}],
  "match": "exact" | "loose"}``: a bare string is a full-credit answer without feedback.
- matching: ``{"pairs": [{"left_md", "left_html", "right"}, …]}`` plus ``"distractors":
  ["…"]`` when GIFT gave extra right-hand answers.
- numerical: ``{"answer": 15, "tolerance": 0}``, or ``{"answers": [{"answer", "tolerance" |
  "min", "max", "weight", "feedback_md", "feedback_html"}, …], "wrong_feedback_md/html"}`` for
  GIFT ranges, several weighted answers or answer feedback.

The content hash covers everything but the rendered HTML, so an unchanged question is never
rewritten (or re-rendered). Services add and flush; the CLI command or view commits once.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import func, select

from app.assessments.framework import FRAMEWORK_FILE, YamlDoc, competency_codes, load_framework
from app.assessments.models import (
    DIFFICULTIES,
    QUESTION_STATUSES,
    QUESTION_TYPES,
    SHOW_ANSWERS,
    Assessment,
    Question,
)
from app.courses.content import ContentError, ContentInvalid
from app.courses.models import Course
from app.extensions import db
from app.markdown import render_markdown
from app.text import fold

ASSESSMENT_FILE = "assessment.yaml"
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
OPTION_IDS = "abcdefghijklmnopqrst"
MAX_OPTIONS = len(OPTION_IDS)
MIN_PAIRS = 3
WEIGHT_SLACK = 0.01  # GIFT thirds (33.33333 × 3) still add up to 100
SETTINGS_DEFAULTS: dict[str, Any] = {
    "pass_percent": 70, "time_limit_minutes": 0, "max_attempts": 0, "cooldown_minutes": 0,
    "draw": {}, "shuffle_questions": True, "shuffle_options": True,
    "show_answers": "after_submit",
}
# setting → (lowest, highest) for the numeric ones
SETTING_RANGES = {"pass_percent": (0, 100), "time_limit_minutes": (0, 600),
                  "max_attempts": (0, 100), "cooldown_minutes": (0, 60 * 24 * 30)}
COMMON_KEYS = {"id", "competency", "type", "difficulty", "status", "stem", "explanation"}
TYPE_KEYS = {
    "single": {"options"}, "multiple": {"options"}, "true_false": {"answer"},
    "short_answer": {"answers", "match"}, "matching": {"pairs"},
    "numerical": {"answer", "tolerance"},
}
OPTION_KEYS = {"text", "correct", "weight", "feedback"}

# --- Plain data -------------------------------------------------------------------------------


@dataclass
class QuestionSpec:
    """One question as checked data: Markdown sources only, no HTML yet."""

    key: str
    competency_code: str
    type: str
    stem_md: str
    data: dict
    explanation_md: str = ""
    difficulty: str = "medium"
    status: str = "active"
    title: str = ""
    line: int | None = None  # where it starts in its file, for messages

    def fields(self) -> dict:
        return {"key": self.key, "competency_code": self.competency_code, "type": self.type,
                "difficulty": self.difficulty, "status": self.status, "title": self.title,
                "stem_md": self.stem_md, "data": self.data,
                "explanation_md": self.explanation_md}

    @property
    def content_hash(self) -> str:
        return fields_hash(self.fields())


@dataclass
class AssessmentSpec:
    settings: dict
    questions: list[QuestionSpec]


def strip_html(value: Any) -> Any:
    """The data without its rendered ``*_html`` keys (what the hash and the editors see)."""
    if isinstance(value, dict):
        return {k: strip_html(v) for k, v in value.items() if not k.endswith("_html")}
    if isinstance(value, list):
        return [strip_html(v) for v in value]
    return value


def render_data(value: Any) -> Any:
    """Every ``*_md`` string gets its sanitized ``*_html`` twin, through the one pipeline."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[k] = render_data(v)
            if k.endswith("_md") and isinstance(v, str):
                out[k[:-3] + "_html"] = str(render_markdown(v)) if v.strip() else ""
        return out
    if isinstance(value, list):
        return [render_data(v) for v in value]
    return value


def fields_hash(fields: dict) -> str:
    payload = dict(fields, data=strip_html(fields.get("data") or {}))
    payload.pop("key", None)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_hash(question: Question) -> str:
    return fields_hash({"competency_code": question.competency_code, "type": question.type,
                        "difficulty": question.difficulty, "status": question.status,
                        "title": question.title or "", "stem_md": question.stem_md,
                        "data": question.data or {},
                        "explanation_md": question.explanation_md or ""})


def spec_of(question: Question) -> QuestionSpec:
    """A stored question back as plain data (export, editing, round trips)."""
    return QuestionSpec(key=question.key, competency_code=question.competency_code,
                        type=question.type, stem_md=question.stem_md,
                        data=strip_html(question.data or {}),
                        explanation_md=question.explanation_md or "",
                        difficulty=question.difficulty, status=question.status,
                        title=question.title or "")


def md_text(value: str) -> str:
    """Markdown source as stored: NFC, Unix newlines, no surrounding blank space."""
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- Rules every question obeys, whatever it came from -------------------------------------

def option_weight(option: dict) -> float:
    return float(option.get("weight") or 0)


def short_answers(data: dict) -> list[tuple[str, float]]:
    """(text, weight) of every accepted short answer."""
    found = []
    for answer in data.get("answers") or []:
        if isinstance(answer, dict):
            found.append((str(answer.get("text", "")), float(answer.get("weight", 100))))
        else:
            found.append((str(answer), 100.0))
    return found


def check_question(spec: QuestionSpec, codes: set[str]) -> list[tuple[tuple, str]]:
    """Problems as (field path inside the question, Vietnamese reason); empty when valid."""
    problems: list[tuple[tuple, str]] = []

    def bad(path: tuple, reason: str) -> None:
        problems.append((path, reason))

    if not KEY.match(spec.key or ""):
        bad(("id",), f"mã câu hỏi '{spec.key}' không hợp lệ (chữ, số, dấu - _ ., tối đa 80 ký tự)")
    if spec.competency_code not in codes:
        bad(("competency",), f"mã năng lực '{spec.competency_code}' không có trong khung 757")
    if spec.type not in QUESTION_TYPES:
        bad(("type",), f"loại câu hỏi '{spec.type}' không hợp lệ (chọn trong {', '.join(QUESTION_TYPES)})")
        return problems
    if spec.difficulty not in DIFFICULTIES:
        bad(("difficulty",), f"độ khó '{spec.difficulty}' không hợp lệ (easy, medium, hard)")
    if spec.status not in QUESTION_STATUSES:
        bad(("status",), f"trạng thái '{spec.status}' không hợp lệ (draft, active, retired)")
    if not spec.stem_md.strip():
        bad(("stem",), "thiếu nội dung câu hỏi (stem)")
    if len(spec.title or "") > 200:
        bad(("title",), "tiêu đề dài quá 200 ký tự")
    CHECKS[spec.type](spec.data, bad)
    return problems


def _check_choices(data: dict, bad, single: bool) -> None:
    options = data.get("options") or []
    if not 2 <= len(options) <= MAX_OPTIONS:
        bad(("options",), f"cần từ 2 đến {MAX_OPTIONS} phương án")
    texts = set()
    for i, option in enumerate(options):
        text = option.get("text_md", "")
        if not text.strip():
            bad(("options", i, "text"), f"phương án {i + 1} để trống")
        elif text in texts:
            bad(("options", i, "text"), f"phương án {i + 1} trùng với một phương án khác")
        texts.add(text)
        weight = option.get("weight")
        if not is_number(weight) or not -100 <= weight <= 100:
            bad(("options", i, "weight"), f"trọng số của phương án {i + 1} phải là số từ -100 đến 100")
    weights = [option_weight(o) for o in options if is_number(o.get("weight"))]
    if single:
        full = sum(1 for w in weights if abs(w - 100) < WEIGHT_SLACK)
        if full != 1:
            bad(("options",), "câu một đáp án cần đúng một phương án đúng"
                + (f" (đang có {full})" if full else " (chưa có phương án nào đúng)"))
    else:
        positive = sum(w for w in weights if w > 0)
        if positive <= 0:
            bad(("options",), "câu nhiều đáp án cần ít nhất một phương án đúng")
        elif abs(positive - 100) > WEIGHT_SLACK:
            bad(("options",), f"tổng trọng số các phương án đúng phải là 100 (đang là {positive:g})")


def _check_true_false(data: dict, bad) -> None:
    if not isinstance(data.get("answer"), bool):
        bad(("answer",), "câu đúng/sai cần answer: true hoặc answer: false")


def _check_short_answer(data: dict, bad) -> None:
    answers = short_answers(data)
    if not answers or any(not text.strip() for text, _ in answers):
        bad(("answers",), "câu trả lời ngắn cần ít nhất một đáp án, không đáp án nào để trống")
    if data.get("match") not in ("exact", "loose"):
        bad(("match",), "match phải là exact (đúng từng chữ) hoặc loose (bỏ qua hoa/thường, dấu)")
    seen = set()
    for text, weight in answers:
        if not 0 < weight <= 100:
            bad(("answers",), f"trọng số của đáp án '{text}' phải trong khoảng (0, 100]")
        norm = fold(text) if data.get("match") == "loose" else text
        if norm in seen:
            bad(("answers",), f"đáp án '{text}' bị lặp")
        seen.add(norm)
    if answers and not any(abs(w - 100) < WEIGHT_SLACK for _, w in answers):
        bad(("answers",), "cần ít nhất một đáp án được trọn điểm (100%)")


def _check_matching(data: dict, bad) -> None:
    pairs = data.get("pairs") or []
    if len(pairs) < MIN_PAIRS:
        bad(("pairs",), f"câu ghép đôi cần ít nhất {MIN_PAIRS} cặp")
    lefts = set()
    for i, pair in enumerate(pairs):
        left, right = pair.get("left_md", ""), pair.get("right", "")
        if not left.strip() or not str(right).strip():
            bad(("pairs", i), f"cặp {i + 1} thiếu vế trái hoặc vế phải")
        if left in lefts:
            bad(("pairs", i, "left"), f"vế trái của cặp {i + 1} bị trùng")
        lefts.add(left)
    for text in data.get("distractors") or []:
        if not str(text).strip():
            bad(("pairs",), "phương án gây nhiễu để trống")


def _check_numerical(data: dict, bad) -> None:
    alternatives = data.get("answers")
    if alternatives is None:
        alternatives = [{"answer": data.get("answer"), "tolerance": data.get("tolerance", 0),
                         "weight": 100}]
    if not alternatives:
        bad(("answer",), "câu số cần một đáp án là số")
    for alt in alternatives:
        if "min" in alt or "max" in alt:
            if not (is_number(alt.get("min")) and is_number(alt.get("max"))) \
                    or alt["min"] > alt["max"]:
                bad(("answer",), "khoảng đáp án phải là hai số, số nhỏ trước (ví dụ 1..5)")
        else:
            if not is_number(alt.get("answer")):
                bad(("answer",), "đáp án của câu số phải là một số")
            if not is_number(alt.get("tolerance", 0)) or alt.get("tolerance", 0) < 0:
                bad(("tolerance",), "sai số cho phép (tolerance) phải là số không âm")
        if not is_number(alt.get("weight", 100)) or not 0 < alt.get("weight", 100) <= 100:
            bad(("answer",), "trọng số của đáp án số phải trong khoảng (0, 100]")
    if alternatives and not any(is_number(a.get("weight", 100))
                                and abs(a.get("weight", 100) - 100) < WEIGHT_SLACK
                                for a in alternatives):
        bad(("answer",), "cần ít nhất một đáp án số được trọn điểm (100%)")


CHECKS = {
    "single": lambda data, bad: _check_choices(data, bad, single=True),
    "multiple": lambda data, bad: _check_choices(data, bad, single=False),
    "true_false": _check_true_false,
    "short_answer": _check_short_answer,
    "matching": _check_matching,
    "numerical": _check_numerical,
}


def choice_options(texts: list[str], correct: list[bool], weights: list[float | None],
                   feedback: list[str], single: bool) -> list[dict]:
    """Options with ids a, b, …; weights from ``correct`` marks when none is given."""
    if any(w is not None for w in weights):
        final = [w if w is not None else 0 for w in weights]
    elif single:
        final = [100 if c else 0 for c in correct]
    else:
        k = sum(correct)
        final = [(100 / k if c else -100 / k) if k else 0 for c in correct]
    return [{"id": OPTION_IDS[i] if i < MAX_OPTIONS else f"o{i + 1}", "text_md": text,
             "weight": _tidy(w), "correct": is_number(w) and w > 0, "feedback_md": fb}
            for i, (text, w, fb) in enumerate(zip(texts, final, feedback, strict=True))]


def _tidy(number: Any) -> Any:
    """Whole floats as ints (100.0 → 100) so files, GIFT and forms agree on the value."""
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


# --- assessment.yaml ---------------------------------------------------------------------------

def _plain(doc: YamlDoc, value: Any, *path) -> str | None:
    """A scalar as text: strings as they are, numbers as written in the file."""
    if isinstance(value, str):
        return value
    if is_number(value):
        return doc.scalar_text(*path)
    return None


def parse_question(doc: YamlDoc, index: int, raw: Any, codes: set[str],
                   errors: list[ContentError]) -> QuestionSpec | None:
    where = ("questions", index)

    def err(reason: str, *path) -> None:
        errors.append(doc.error(reason, *where, *path))

    if not isinstance(raw, dict):
        err("mỗi câu hỏi phải là các cặp khóa: giá trị (id, competency, type, stem…)")
        return None
    key = str(doc.scalar_text(*where, "id") or "")
    kind = str(raw.get("type") or "")
    allowed = COMMON_KEYS | TYPE_KEYS.get(kind, set())
    for name in raw:
        if name not in allowed:
            err(f"câu {key or index + 1}: khóa '{name}' không dùng cho loại '{kind}'", name)
    stem = raw.get("stem")
    explanation = raw.get("explanation") or ""
    if stem is not None and not isinstance(stem, str):
        err(f"câu {key}: stem phải là văn bản", "stem")
        stem = ""
    if not isinstance(explanation, str):
        err(f"câu {key}: explanation phải là văn bản", "explanation")
        explanation = ""
    data: dict | None = {}
    if kind in ("single", "multiple"):
        data = _yaml_options(doc, raw, where, key, kind == "single", err)
    elif kind == "true_false":
        data = {"answer": raw.get("answer"), "feedback_true_md": "", "feedback_false_md": ""}
    elif kind == "short_answer":
        answers = raw.get("answers")
        if not isinstance(answers, list) or not all(_plain(doc, a, *where, "answers", i) is not None
                                                    for i, a in enumerate(answers)):
            err(f"câu {key}: answers phải là danh sách các đáp án", "answers")
            answers = []
        data = {"answers": [unicodedata.normalize("NFC", _plain(doc, a, *where, "answers", i)).strip()
                            for i, a in enumerate(answers)],
                "match": raw.get("match", "exact")}
    elif kind == "matching":
        data = _yaml_pairs(doc, raw, where, key, err)
    elif kind == "numerical":
        data = {"answer": raw.get("answer"), "tolerance": raw.get("tolerance", 0)}
    if data is None:
        return None
    spec = QuestionSpec(
        key=key, competency_code=str(doc.scalar_text(*where, "competency") or ""), type=kind,
        stem_md=md_text(stem or ""), data=data, explanation_md=md_text(explanation),
        difficulty=str(raw.get("difficulty", "medium")), status=str(raw.get("status", "active")),
        line=doc.line(*where))
    for path, reason in check_question(spec, codes):
        yaml_path = {"options": "options", "pairs": "pairs"}.get(path[0], path[0])
        err(f"câu {key or index + 1}: {reason}", yaml_path, *path[1:])
    return spec


def _yaml_options(doc, raw, where, key, single, err) -> dict | None:
    options = raw.get("options")
    if not isinstance(options, list):
        err(f"câu {key}: options phải là danh sách phương án", "options")
        return None
    texts, correct, weights, feedback = [], [], [], []
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            err(f"câu {key}: phương án {i + 1} phải có text", "options", i)
            return None
        for name in option:
            if name not in OPTION_KEYS:
                err(f"câu {key}: phương án {i + 1} có khóa lạ '{name}'", "options", i, name)
        text = _plain(doc, option.get("text"), *where, "options", i, "text")
        if text is None:
            err(f"câu {key}: phương án {i + 1} thiếu text", "options", i)
            text = ""
        mark = option.get("correct", False)
        if not isinstance(mark, bool):
            err(f"câu {key}: correct của phương án {i + 1} phải là true hoặc false",
                "options", i, "correct")
        weight = option.get("weight")
        if weight is not None and not is_number(weight):
            err(f"câu {key}: weight của phương án {i + 1} phải là số", "options", i, "weight")
            weight = None
        if weight is not None and "correct" in option:
            err(f"câu {key}: phương án {i + 1} dùng một trong hai: correct hoặc weight",
                "options", i)
        fb = option.get("feedback") or ""
        if not isinstance(fb, str):
            err(f"câu {key}: feedback của phương án {i + 1} phải là văn bản", "options", i)
            fb = ""
        texts.append(md_text(text))
        correct.append(mark is True)
        weights.append(weight)
        feedback.append(md_text(fb))
    return {"options": choice_options(texts, correct, weights, feedback, single)}


def _yaml_pairs(doc, raw, where, key, err) -> dict | None:
    pairs = raw.get("pairs")
    if not isinstance(pairs, list):
        err(f"câu {key}: pairs phải là danh sách các cặp left/right", "pairs")
        return None
    out = []
    for i, pair in enumerate(pairs):
        left = _plain(doc, pair.get("left"), *where, "pairs", i, "left") \
            if isinstance(pair, dict) else None
        right = _plain(doc, pair.get("right"), *where, "pairs", i, "right") \
            if isinstance(pair, dict) else None
        if left is None or right is None or set(pair) - {"left", "right"}:
            err(f"câu {key}: cặp {i + 1} phải có đúng hai khóa left và right", "pairs", i)
            continue
        out.append({"left_md": md_text(left), "right": " ".join(right.split())})
    return {"pairs": out}


def _setting_errors(doc: YamlDoc, settings: Any) -> tuple[dict, list[ContentError]]:
    errors: list[ContentError] = []
    values = dict(SETTINGS_DEFAULTS)
    if settings is None:
        return values, errors
    if not isinstance(settings, dict):
        return values, [doc.error("settings phải là các cặp khóa: giá trị", "settings")]
    for name, value in settings.items():
        if name not in SETTINGS_DEFAULTS:
            errors.append(doc.error(f"thiết lập lạ '{name}'", "settings", name))
        elif name in SETTING_RANGES:
            low, high = SETTING_RANGES[name]
            whole = name != "pass_percent"
            if not is_number(value) or (whole and not float(value).is_integer()) \
                    or not low <= value <= high:
                errors.append(doc.error(
                    f"{name} phải là {'số nguyên' if whole else 'số'} từ {low} đến {high}",
                    "settings", name))
            else:
                values[name] = int(value) if whole else value
        elif name in ("shuffle_questions", "shuffle_options"):
            if not isinstance(value, bool):
                errors.append(doc.error(f"{name} phải là true hoặc false", "settings", name))
            else:
                values[name] = value
        elif name == "show_answers":
            if value not in SHOW_ANSWERS:
                errors.append(doc.error(f"show_answers phải là một trong {', '.join(SHOW_ANSWERS)}",
                                        "settings", name))
            else:
                values[name] = value
        elif name == "draw":
            values[name] = _draw(doc, value, errors)
    return values, errors


def _draw(doc: YamlDoc, value: Any, errors: list[ContentError]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(doc.error("draw phải là các cặp mã năng lực: số câu", "settings", "draw"))
        return {}
    draw = {}
    node = doc.node_at(("settings", "draw"))[0]
    if len(node.value) != len(value):
        errors.append(doc.error("draw: một mã năng lực được ghi hai lần", "settings", "draw"))
        return {}
    # Keys as written ("4.10" stays "4.10"); the values in file order beside them.
    for (key_node, value_node), count in zip(node.value, value.values(), strict=False):
        code = key_node.value
        if not is_number(count) or not float(count).is_integer() or count < 1:
            errors.append(ContentError(doc.filename, value_node.start_mark.line + 1,
                                       f"draw '{code}': số câu phải là số nguyên dương"))
            continue
        draw[code] = int(count)
    return draw


def parse_assessment(doc: YamlDoc, codes: set[str]) -> AssessmentSpec:
    """Check a whole assessment.yaml; every problem is raised at once, with its line."""
    errors: list[ContentError] = []
    data = doc.data
    if not isinstance(data, dict):
        raise ContentInvalid([doc.error("assessment.yaml phải có settings và questions")])
    for name in data:
        if name not in ("settings", "questions"):
            errors.append(doc.error(f"khóa lạ '{name}' (chỉ có settings và questions)", name))
    settings, setting_errors = _setting_errors(doc, data.get("settings"))
    errors.extend(setting_errors)
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        errors.append(doc.error("questions phải là danh sách có ít nhất một câu hỏi", "questions"))
        raw_questions = []
    questions: list[QuestionSpec] = []
    first_line: dict[str, int | None] = {}
    for index, raw in enumerate(raw_questions):
        spec = parse_question(doc, index, raw, codes, errors)
        if spec is None:
            continue
        if spec.key in first_line:
            errors.append(doc.error(f"trùng mã câu hỏi '{spec.key}' (đã dùng ở dòng "
                                    f"{first_line[spec.key]})", "questions", index, "id"))
        first_line.setdefault(spec.key, doc.line("questions", index, "id"))
        questions.append(spec)
    active: dict[str, int] = {}
    for spec in questions:
        if spec.status == "active":
            active[spec.competency_code] = active.get(spec.competency_code, 0) + 1
    draw_node = doc.node_at(("settings", "draw"))[0]
    for key_node, _value in (draw_node.value if isinstance(draw_node, yaml.MappingNode) else []):
        code = key_node.value
        line = key_node.start_mark.line + 1
        if code not in codes:
            errors.append(ContentError(doc.filename, line,
                                       f"draw: mã năng lực '{code}' không có trong khung 757"))
        elif settings["draw"].get(code, 0) > active.get(code, 0):
            errors.append(ContentError(
                doc.filename, line, f"draw: rút {settings['draw'][code]} câu năng lực {code} "
                f"nhưng chỉ có {active.get(code, 0)} câu đang dùng (active)"))
    if errors:
        raise ContentInvalid(errors)
    return AssessmentSpec(settings, questions)



def load_assessment(directory: Path, codes: set[str]) -> AssessmentSpec | None:
    """The course folder's assessment.yaml checked, or None when the course has none."""
    from app.assessments.framework import read_yaml

    path = directory / ASSESSMENT_FILE
    if not path.is_file():
        return None
    return parse_assessment(read_yaml(path, f"courses/{directory.name}/{ASSESSMENT_FILE}"), codes)


# --- Writing ----------------------------------------------------------------------------------

@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # key → created/updated/unchanged

    def __str__(self) -> str:
        return (f"{self.created} câu mới, {self.updated} câu cập nhật, "
                f"{self.unchanged} câu không đổi, {self.retired} câu ngừng dùng")


def ensure_assessment(course: Course) -> Assessment:
    """The course's assessment row, created with default settings the first time."""
    assessment = db.session.scalar(select(Assessment).where(Assessment.course_id == course.id))
    if assessment is None:
        assessment = Assessment(course_id=course.id, draw={})
        db.session.add(assessment)
        db.session.flush()
    return assessment


def apply_settings(assessment: Assessment, settings: dict) -> bool:
    """Copy the file's settings; True when anything changed (untouched rows stay untouched)."""
    changed = False
    for name, value in settings.items():
        if getattr(assessment, name) != value:
            setattr(assessment, name, value)
            changed = True
    return changed


def write_question(row: Question, spec: QuestionSpec) -> None:
    """Copy a checked question onto its row, rendering its Markdown now (and only now)."""
    row.competency_code = spec.competency_code
    row.type = spec.type
    row.difficulty = spec.difficulty
    row.status = spec.status
    row.title = spec.title or ""
    row.stem_md = spec.stem_md
    row.stem_html = str(render_markdown(spec.stem_md))
    row.data = render_data(spec.data)
    row.explanation_md = spec.explanation_md
    row.explanation_html = str(render_markdown(spec.explanation_md)) if spec.explanation_md else ""
    row.content_hash = spec.content_hash


def upsert_questions(course: Course, specs: list[QuestionSpec], *, source: str,
                     keep_state: bool = False) -> UpsertCounts:
    """Insert new keys, update changed ones; ``keep_state`` keeps a stored question's
    difficulty and status (GIFT carries neither)."""
    counts = UpsertCounts()
    existing = {q.key: q for q in db.session.scalars(
        select(Question).where(Question.course_id == course.id))}
    for spec in specs:
        row = existing.get(spec.key)
        if row is not None and keep_state:
            spec = replace(spec, difficulty=row.difficulty, status=row.status)
        if row is None:
            row = Question(course_id=course.id, key=spec.key, source=source)
            write_question(row, spec)
            db.session.add(row)
            existing[spec.key] = row
            counts.created += 1
            counts.keys[spec.key] = "created"
        elif row.content_hash != spec.content_hash:
            write_question(row, spec)
            row.source = source
            counts.updated += 1
            counts.keys[spec.key] = "updated"
        else:
            counts.unchanged += 1
            counts.keys[spec.key] = "unchanged"
    db.session.flush()
    return counts


def import_assessment(course: Course, spec: AssessmentSpec) -> UpsertCounts:
    """assessment.yaml → the course's Assessment and questions. File questions missing from
    the file are retired, never deleted (attempts point at them); GIFT and web questions stay."""
    assessment = ensure_assessment(course)
    apply_settings(assessment, spec.settings)
    counts = upsert_questions(course, spec.questions, source="file")
    in_file = {q.key for q in spec.questions}
    for row in db.session.scalars(select(Question).where(
            Question.course_id == course.id, Question.source == "file",
            Question.status != "retired")):
        if row.key not in in_file:
            row.status = "retired"
            row.content_hash = row_hash(row)
            counts.retired += 1
            counts.keys[row.key] = "retired"
    db.session.flush()
    return counts


def import_course_assessment(slug: str, spec: AssessmentSpec | None) -> str | None:
    """Hook for ``flask content import``: load the course's bank after the course itself."""
    if spec is None:
        return None
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    return str(import_assessment(course, spec))


# --- Who may edit a bank, and what the editors see ---------------------------------------------

def can_author_course(user, course: Course) -> bool:
    """The course-authoring rule (app.courses.authoring.may_author) decides for the bank too."""
    from app.courses.authoring import may_author

    return bool(getattr(user, "is_authenticated", False)) and may_author(user, course)


def authorable_courses(user) -> list[tuple[Course, str, int, int]]:
    """(course, title, active questions, all questions) for every course ``user`` may edit."""
    from app.courses.authoring import courses_for

    rows = courses_for(user)
    ids = [r.course.id for r in rows]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        stmt = (select(Question.course_id,
                       func.count(Question.id).filter(Question.status == "active"),
                       func.count(Question.id))
                .where(Question.course_id.in_(ids)).group_by(Question.course_id))
        counts = {cid: (active, total) for cid, active, total in db.session.execute(stmt)}
    return [(r.course, r.latest.title, *counts.get(r.course.id, (0, 0))) for r in rows]


def course_title(course: Course) -> str:
    """The latest version's title (drafts included: trainers see what they are writing)."""
    from app.courses.services import latest_version

    version = latest_version(course)
    return version.title if version is not None else course.slug


def known_codes() -> set[str]:
    """The current framework's codes from the tables, or from the file before any import."""
    codes = competency_codes()
    if codes:
        return codes
    root = current_app.config.get("CONTENT_DIR") or Path(current_app.root_path).parent / "content"
    try:
        return load_framework(Path(root) / FRAMEWORK_FILE).codes
    except ContentInvalid:
        return set()


@dataclass
class BankFilters:
    competency: str = ""
    status: str = ""
    type: str = ""


def bank_questions(course: Course, filters: BankFilters) -> list[Question]:
    stmt = select(Question).where(Question.course_id == course.id)
    if filters.competency:
        stmt = stmt.where(Question.competency_code == filters.competency)
    if filters.status:
        stmt = stmt.where(Question.status == filters.status)
    if filters.type:
        stmt = stmt.where(Question.type == filters.type)
    return list(db.session.scalars(stmt.order_by(Question.competency_code, Question.key)))


def draw_shortfalls(course: Course) -> list[tuple[str, int, int]]:
    """(code, drawn, active) where the assessment draws more than the bank has active."""
    assessment = db.session.scalar(select(Assessment).where(Assessment.course_id == course.id))
    if assessment is None or not assessment.draw:
        return []
    stmt = (select(Question.competency_code, func.count(Question.id))
            .where(Question.course_id == course.id, Question.status == "active")
            .group_by(Question.competency_code))
    active = dict(db.session.execute(stmt).all())
    return [(code, n, active.get(code, 0)) for code, n in sorted(assessment.draw.items())
            if n > active.get(code, 0)]


def get_question(course: Course, question_id: int) -> Question | None:
    return db.session.scalar(select(Question).where(Question.id == question_id,
                                                    Question.course_id == course.id))


def next_web_key(course: Course) -> str:
    """web-001, web-002, … : the first free key for a question typed in the browser."""
    keys = set(db.session.scalars(select(Question.key).where(Question.course_id == course.id)))
    number = 1
    while f"web-{number:03d}" in keys:
        number += 1
    return f"web-{number:03d}"


class QuestionRejected(Exception):
    """The question is invalid; ``problems`` maps a field to its Vietnamese reasons."""

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__("; ".join(r for rs in problems.values() for r in rs))
        self.problems = problems


def save_question(course: Course, spec: QuestionSpec, question: Question | None = None) -> Question:
    """Create or update one question from the browser; checked with the file's rules."""
    problems: dict[str, list[str]] = {}
    for path, reason in check_question(spec, known_codes()):
        problems.setdefault(str(path[0]), []).append(reason)
    if question is None and get_by_key(course, spec.key) is not None:
        problems.setdefault("id", []).append(f"mã câu hỏi '{spec.key}' đã có trong ngân hàng")
    if problems:
        raise QuestionRejected(problems)
    if question is None:
        ensure_assessment(course)
        question = Question(course_id=course.id, key=spec.key, source="web")
        db.session.add(question)
    write_question(question, spec)
    db.session.flush()
    return question


def get_by_key(course: Course, key: str) -> Question | None:
    return db.session.scalar(select(Question).where(Question.course_id == course.id,
                                                    Question.key == key))
