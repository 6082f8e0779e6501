"""Moodle's GIFT format: read a file into checked questions, and write a bank back.

Follows Moodle's own importer (question/format/gift/format.php) in how it finds a question's
parts: questions are separated by blank lines; ``//`` lines are comments; ``::title::``;
the answers are the first ``{…}``; ``####`` starts the general feedback (our explanation);
``~`` means multiple choice (single when some answer is ``=``, multiple response otherwise),
``=a -> b`` matching, ``{#…}`` numerical, ``{T}``/``{F}``/``{TRUE}``/``{FALSE}`` true/false
(``#wrong#right`` feedback), anything else short answer; ``\\~ \\= \\# \\{ \\} \\: \\\\`` escape
and ``\\n`` is a new line. Our choices where Moodle leaves room:

- ``$CATEGORY: 757/4.2`` (or ``$course$/757/4.2``, ``$course$/top/757/4.2``) sets the
  competency of the questions after it; a category that names no 757 code leaves them
  without one (the ``--competency`` fallback, else an error). Unlike Moodle, a question may
  follow its ``$CATEGORY`` line without a blank line in between.
- Texts are Markdown: ``[markdown]`` and Moodle's default ``[moodle]`` are taken as Markdown,
  ``[html]`` is kept as HTML (the one sanitizer cleans it when rendered), ``[plain]`` has its
  Markdown characters escaped so it shows as typed.
- Missing-word questions (text after the answers) become the same type with "_____" where
  the answers were. Essays (``{}``) and descriptions (no answers) are skipped and reported.
- Short answers are matched loosely (Moodle ignores case by default; we also ignore accents).
- Answers before the first ``=``/``~`` of a choice, a ``{`` without ``}``, ``%x%`` that is not
  a number, a matching answer without ``->`` or a non-numeric number are syntax errors: with
  any error in the file nothing is imported, and the report lists every problem by line.
- A title that looks like an id (``ats-001``) becomes the question's key; otherwise the key is
  ``gift-`` + the first 10 hex digits of SHA-1(title + stem), so re-importing a file updates
  the same questions instead of adding copies.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from app.assessments.bank import (
    QuestionSpec,
    UpsertCounts,
    check_question,
    choice_options,
    ensure_assessment,
    md_text,
    upsert_questions,
)
from app.text import nfc

# Escaped specials become private-use characters while the question is taken apart.
_ESCAPES = {"\\": "\ue000", ":": "\ue001", "#": "\ue002", "=": "\ue003", "{": "\ue004",
            "}": "\ue005", "~": "\ue006", "n": "\n"}
_RESTORE = {v: k for k, v in _ESCAPES.items() if k != "n"}
_ESCAPE = re.compile(r"\\([\\:#={}~n])")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_LOOSE_WEIGHT = re.compile(r"^%[^%\n]{0,16}%")
_FORMAT = re.compile(r"^\[(markdown|moodle|html|plain)\]")
_ID_TITLE = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_MD_LINE_START = re.compile(r"^(\s*)([-+]|\d+\.)(?=\s)", re.M)
_BLANK = "\\_\\_\\_\\_\\_"  # "_____" in Markdown, never read as emphasis
_GAP = "\ue010"  # where a missing-word question's answers were, until formatted


@dataclass
class GiftProblem:
    line: int
    reason: str
    is_error: bool = True  # False: an unsupported question, skipped
    title: str = ""


@dataclass
class GiftResult:
    questions: list[QuestionSpec] = field(default_factory=list)
    problems: list[GiftProblem] = field(default_factory=list)
    counts: UpsertCounts | None = None  # set once written

    @property
    def errors(self) -> list[GiftProblem]:
        return [p for p in self.problems if p.is_error]

    @property
    def skipped(self) -> list[GiftProblem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


class GiftSyntaxError(Exception):
    def __init__(self, reason: str, line: int):
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass
class _Block:
    """One question's lines, escapes replaced, joined, with the file line of every offset."""

    text: str
    starts: list[tuple[int, int]]  # (offset in text, line in file)

    def line_at(self, offset: int) -> int:
        line = self.starts[0][1]
        for start, number in self.starts:
            if start > offset:
                break
            line = number
        return line


def _blocks(text: str) -> list[_Block]:
    blocks, lines, starts, offset = [], [], [], 0
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            if lines:
                blocks.append(_Block("\n".join(lines), starts))
            lines, starts, offset = [], [], 0
            continue
        if stripped.startswith("//"):
            continue
        line = _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], raw.rstrip())
        starts.append((offset, number))
        lines.append(line)
        offset += len(line) + 1
    if lines:
        blocks.append(_Block("\n".join(lines), starts))
    return blocks


def _restore(text: str) -> str:
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text


def escape_markdown(text: str) -> str:
    """[plain] text: every Markdown character escaped, so it shows exactly as typed."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _MD_SPECIAL.sub(r"\\\1", text))


def _formatted(text: str, default: str) -> tuple[str, str]:
    """(Markdown source, format) of one text part, honouring a leading [format] tag."""
    text = text.strip()
    fmt = default
    match = _FORMAT.match(text)
    if match:
        fmt, text = match.group(1), text[match.end():]
    text = _restore(text).strip()
    if fmt == "plain":
        text = escape_markdown(text)
    return md_text(text), fmt


def _plain_answer(text: str) -> str:
    return nfc(_restore(text))


def _split_feedback(text: str, fmt: str) -> tuple[str, str]:
    """'answer#feedback' → (answer as written, feedback Markdown)."""
    head, _, feedback = text.partition("#")
    return head.strip(), _formatted(feedback, fmt)[0] if feedback.strip() else ""


def _weight(text: str, block: _Block, offset: int) -> tuple[float | None, str]:
    """A leading %n% weight and the rest of the answer."""
    match = _WEIGHT.match(text)
    if match:
        number = float(match.group(1))
        return (int(number) if number.is_integer() else number), text[match.end():]
    if _LOOSE_WEIGHT.match(text):
        raise GiftSyntaxError(f"trọng số '{_LOOSE_WEIGHT.match(text).group(0)}' không phải số "
                              "(viết như %50% hoặc %-25%)", block.line_at(offset))
    return None, text


def _number(text: str, block: _Block, offset: int) -> int | float:
    value = _restore(text).strip()
    if not _NUMBER.match(value):
        raise GiftSyntaxError(f"'{value}' không phải là số", block.line_at(offset))
    number = float(value)
    return int(number) if number.is_integer() and "e" not in value.lower() else number


# --- Reading ----------------------------------------------------------------------------------

def parse_gift(text: str, codes: set[str], default_competency: str | None = None) -> GiftResult:
    """Every question of a GIFT file, checked; problems (errors and skips) by line."""
    result = GiftResult()
    category: str | None = None
    category_bad = False
    keys: dict[str, int] = {}
    for block in _blocks(text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")):
        if block.text.lstrip().startswith("$CATEGORY:"):
            first, _, rest = block.text.lstrip().partition("\n")
            category, problem = _category(first[len("$CATEGORY:"):], codes)
            category_bad = problem is not None
            if problem:
                result.problems.append(GiftProblem(block.starts[0][1], problem))
            if not rest.strip():
                continue
            skip = len(block.text) - len(rest)
            block = _Block(rest, [(max(0, o - skip), n) for o, n in block.starts[1:]])
        competency = category or default_competency
        try:
            spec = _question(block)
        except GiftSyntaxError as exc:
            result.problems.append(GiftProblem(exc.line, exc.reason))
            continue
        if isinstance(spec, GiftProblem):
            result.problems.append(spec)
            continue
        label = spec.title or spec.key
        if not competency:
            if not category_bad:
                result.problems.append(GiftProblem(
                    spec.line, "câu hỏi chưa có năng lực: thêm dòng “$CATEGORY: 757/<mã>” phía "
                    "trên, hoặc chọn năng lực mặc định khi nhập", title=label))
            continue
        spec.competency_code = competency
        for _path, reason in check_question(spec, codes):
            result.problems.append(GiftProblem(spec.line, reason, title=label))
        if spec.key in keys:
            result.problems.append(GiftProblem(
                spec.line, f"câu hỏi trùng với câu ở dòng {keys[spec.key]} (mã {spec.key})",
                title=label))
        keys.setdefault(spec.key, spec.line)
        result.questions.append(spec)
    if not result.questions and not result.errors:
        result.problems.append(GiftProblem(1, "tệp không có câu hỏi nào nhập được"))
    return result


def _category(raw: str, codes: set[str]) -> tuple[str | None, str | None]:
    """($CATEGORY path → competency code or None, problem)."""
    parts = [p.strip() for p in _restore(raw).strip().split("/") if p.strip()]
    if "757" not in parts:
        return None, None
    index = parts.index("757")
    if index + 1 >= len(parts):
        return None, "danh mục “757/” thiếu mã năng lực (ví dụ $CATEGORY: 757/4.2)"
    code = parts[index + 1]
    if code not in codes:
        return None, f"mã năng lực '{code}' trong $CATEGORY không có trong khung 757"
    return code, None


def _question(block: _Block) -> QuestionSpec | GiftProblem:
    text = block.text
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    first_line = block.line_at(lead)
    title = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise GiftSyntaxError("tiêu đề thiếu dấu :: đóng", first_line)
        title = nfc(_restore(text[2:end]))
        text_offset = lead + end + 2
        text = text[end + 2:]
        text_offset += len(text) - len(text.lstrip())
        text = text.strip()
    else:
        text_offset = lead
    open_at, close_at = text.find("{"), text.find("}")
    if open_at < 0 and close_at < 0:
        return GiftProblem(first_line, "câu mô tả (không có phần đáp án {…}): chưa hỗ trợ, đã bỏ qua",
                           is_error=False, title=title)
    if close_at < 0:
        raise GiftSyntaxError("phần đáp án mở bằng { nhưng thiếu dấu } đóng",
                              block.line_at(text_offset + open_at))
    if open_at < 0 or close_at < open_at:
        raise GiftSyntaxError("dấu } không có dấu { mở tương ứng (viết \\} nếu là chữ)",
                              block.line_at(text_offset + close_at))
    after = text[close_at + 1:]
    if "{" in after or "}" in after:
        bad = close_at + 1 + min(i for i in (after.find("{"), after.find("}")) if i >= 0)
        raise GiftSyntaxError("mỗi câu hỏi chỉ có một phần đáp án {…} (viết \\{ \\} nếu là chữ)",
                              block.line_at(text_offset + bad))
    answer_text = text[open_at + 1:close_at]
    answer_base = text_offset + open_at + 1
    stem_source = text[:open_at] + (_GAP + after if after.strip() else "")
    stem, fmt = _formatted(stem_source, "moodle")
    stem = stem.replace(_GAP, _BLANK)
    explanation = ""
    gf = answer_text.rfind("####")
    if gf >= 0:
        explanation = _formatted(answer_text[gf + 4:], fmt)[0]
        answer_text = answer_text[:gf]
    lead_ws = len(answer_text) - len(answer_text.lstrip())
    answer_base += lead_ws
    answer_text = answer_text.strip()
    if not answer_text:
        return GiftProblem(first_line, "câu tự luận ({}): chưa hỗ trợ, đã bỏ qua",
                           is_error=False, title=title)
    if not stem:
        raise GiftSyntaxError("thiếu nội dung câu hỏi trước phần đáp án", first_line)
    kind, data = _answers(answer_text, answer_base, block, fmt)
    if title and _ID_TITLE.match(title) and len(title) <= 80:
        key, title = title, ""
    else:
        digest = hashlib.sha1((title + stem).encode("utf-8")).hexdigest()[:10]
        key = f"gift-{digest}"
    return QuestionSpec(key=key, competency_code="", type=kind, stem_md=stem, data=data,
                        explanation_md=explanation, title=title[:200], line=first_line)


def _answers(answer_text: str, base: int, block: _Block, fmt: str) -> tuple[str, dict]:
    if answer_text.startswith("#"):
        return "numerical", _numerical(answer_text[1:], base + 1, block, fmt)
    if "~" in answer_text:
        return _choices(answer_text, base, block, fmt)
    if "=" in answer_text and "->" in answer_text:
        return "matching", _matching(answer_text, base, block, fmt)
    head = answer_text.split("#", 1)[0].strip()
    if head.upper() in ("T", "TRUE", "F", "FALSE"):
        parts = answer_text.split("#", 2) + ["", ""]
        value = head.upper() in ("T", "TRUE")
        wrong = _formatted(parts[1], fmt)[0] if parts[1].strip() else ""
        right = _formatted(parts[2], fmt)[0] if parts[2].strip() else ""
        return "true_false", {
            "answer": value,
            "feedback_true_md": right if value else wrong,
            "feedback_false_md": wrong if value else right,
        }
    return "short_answer", _short_answer(answer_text, base, block, fmt)


def _marked(answer_text: str, base: int, marks: str) -> list[tuple[str, str, int]]:
    """(mark, text, offset) for each answer starting with one of ``marks``."""
    found: list[tuple[str, str, int]] = []
    start = None
    for index, char in enumerate(answer_text):
        if char in marks:
            if start is None:
                leading = answer_text[:index]
                if leading.strip():
                    found.append(("", leading, base))
            else:
                found.append((answer_text[start], answer_text[start + 1:index], base + start + 1))
            start = index
    if start is None:
        found.append(("", answer_text, base))
    else:
        found.append((answer_text[start], answer_text[start + 1:], base + start + 1))
    return found


def _choices(answer_text: str, base: int, block: _Block, fmt: str) -> tuple[str, dict]:
    single = "=" in answer_text
    texts, weights, feedback = [], [], []
    for mark, raw, offset in _marked(answer_text, base, "=~"):
        if not mark:
            raise GiftSyntaxError("mỗi phương án phải bắt đầu bằng = (đúng) hoặc ~ (sai)",
                                  block.line_at(offset))
        raw = raw.strip()
        if mark == "=":
            weight: float | None = 100
        else:
            weight, raw = _weight(raw, block, offset)
            weight = weight or 0
        answer, fb = _split_feedback(raw, fmt)
        texts.append(_formatted(answer, fmt)[0])
        weights.append(weight)
        feedback.append(fb)
    if len(texts) < 2:
        raise GiftSyntaxError("câu trắc nghiệm cần ít nhất hai phương án", block.line_at(base))
    kind = "single" if single else "multiple"
    options = choice_options(texts, [w > 0 for w in weights], weights, feedback, single)
    return kind, {"options": options}


def _matching(answer_text: str, base: int, block: _Block, fmt: str) -> dict:
    pairs, distractors = [], []
    for mark, raw, offset in _marked(answer_text, base, "="):
        if not mark:
            raise GiftSyntaxError("mỗi cặp ghép đôi phải bắt đầu bằng =", block.line_at(offset))
        left, arrow, right = raw.partition("->")
        if not arrow:
            raise GiftSyntaxError("cặp ghép đôi thiếu dấu -> giữa hai vế", block.line_at(offset))
        left_md = _formatted(left, fmt)[0]
        if left_md:
            pairs.append({"left_md": left_md, "right": _plain_answer(right)})
        else:
            distractors.append(_plain_answer(right))
    data: dict = {"pairs": pairs}
    if distractors:
        data["distractors"] = distractors
    return data


def _short_answer(answer_text: str, base: int, block: _Block, fmt: str) -> dict:
    answers: list = []
    for _mark, raw, offset in _marked(answer_text, base, "="):
        weight, raw = _weight(raw.strip(), block, offset)
        text, fb = _split_feedback(raw, fmt)
        text = _plain_answer(text)
        weight = 100 if weight is None else weight
        if weight == 100 and not fb:
            answers.append(text)
        else:
            answers.append({"text": text, "weight": weight, "feedback_md": fb})
    return {"answers": answers, "match": "loose"}


def _numerical(answer_text: str, base: int, block: _Block, fmt: str) -> dict:
    wrong_feedback = ""
    tilde = answer_text.find("~")
    if tilde >= 0:
        wrong_feedback = _split_feedback(answer_text[tilde + 1:], fmt)[1]
        answer_text = answer_text[:tilde]
    alternatives = []
    for _mark, raw, offset in _marked(answer_text, base, "="):
        if not raw.strip():
            continue
        weight, raw = _weight(raw.strip(), block, offset)
        value, fb = _split_feedback(raw, fmt)
        alt: dict = {}
        dots = value.find("..", 1)  # from 1: "-5..5" is a range, not "-" then ".5"
        if dots > 0:
            alt = {"min": _number(value[:dots], block, offset),
                   "max": _number(value[dots + 2:], block, offset)}
        elif ":" in value:
            answer, _, tolerance = value.partition(":")
            alt = {"answer": _number(answer, block, offset),
                   "tolerance": _number(tolerance, block, offset)}
        else:
            alt = {"answer": _number(value, block, offset), "tolerance": 0}
        alt["weight"] = 100 if weight is None else weight
        alt["feedback_md"] = fb
        alternatives.append(alt)
    if not alternatives:
        raise GiftSyntaxError("câu số cần ít nhất một đáp án (ví dụ {#15} hoặc {#1..5})",
                              block.line_at(base))
    only = alternatives[0]
    if len(alternatives) == 1 and "answer" in only and only["weight"] == 100 \
            and not only["feedback_md"] and not wrong_feedback:
        return {"answer": only["answer"], "tolerance": only["tolerance"]}
    data: dict = {"answers": alternatives}
    if wrong_feedback:
        data["wrong_feedback_md"] = wrong_feedback
    return data


# --- Importing --------------------------------------------------------------------------------

def decode_gift(raw: bytes) -> str:
    """UTF-8 (with or without BOM); anything else is refused with a clear reason."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("tệp không phải văn bản UTF-8 (hãy lưu lại với mã hóa UTF-8)") from exc


def import_gift(course, text: str, codes: set[str],
                default_competency: str | None = None) -> GiftResult:
    """Parse, then write only when the whole file is valid (skipped questions aside)."""
    result = parse_gift(text, codes, default_competency)
    if result.ok and result.questions:
        ensure_assessment(course)
        result.counts = upsert_questions(course, result.questions, source="gift", keep_state=True)
    return result


# --- Writing ----------------------------------------------------------------------------------

def gift_escape(text: str) -> str:
    text = str(text).replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, float) else str(value)


def _fb(feedback: str) -> str:
    return f"#{gift_escape(feedback)}" if feedback else ""


def question_gift(spec: QuestionSpec) -> str:
    """One question in GIFT, answers on their own lines, the explanation as ####."""
    data = spec.data
    head = f"::{gift_escape(spec.title or spec.key)}::[markdown]{gift_escape(spec.stem_md)}"
    lines: list[str] = []
    if spec.type in ("single", "multiple"):
        for option in data["options"]:
            weight = option["weight"]
            if spec.type == "single" and weight == 100:
                mark = "="
            elif weight == 0:
                mark = "~"
            else:
                mark = f"~%{_num(weight)}%"
            lines.append(f"{mark}{gift_escape(option['text_md'])}{_fb(option.get('feedback_md'))}")
    elif spec.type == "true_false":
        value = data["answer"]
        right = data.get("feedback_true_md" if value else "feedback_false_md") or ""
        wrong = data.get("feedback_false_md" if value else "feedback_true_md") or ""
        body = "TRUE" if value else "FALSE"
        if wrong or right:
            body += f"#{gift_escape(wrong)}"
        if right:
            body += f"#{gift_escape(right)}"
        if spec.explanation_md:
            body += f"####{gift_escape(spec.explanation_md)}"
        return f"{head}{{{body}}}\n"
    elif spec.type == "short_answer":
        for answer in data["answers"]:
            if isinstance(answer, dict):
                weight = "" if answer.get("weight", 100) == 100 else f"%{_num(answer['weight'])}%"
                lines.append(f"={weight}{gift_escape(answer['text'])}{_fb(answer.get('feedback_md'))}")
            else:
                lines.append(f"={gift_escape(answer)}")
    elif spec.type == "matching":
        for pair in data["pairs"]:
            lines.append(f"={gift_escape(pair['left_md'])} -> {gift_escape(pair['right'])}")
        for right in data.get("distractors") or []:
            lines.append(f"= -> {gift_escape(right)}")
    elif spec.type == "numerical":
        alternatives = data.get("answers")
        if alternatives is None:
            body = f"#{_num(data['answer'])}:{_num(data.get('tolerance', 0))}"
            if spec.explanation_md:
                body += f"####{gift_escape(spec.explanation_md)}"
            return f"{head}{{{body}}}\n"
        lines.append("#")
        for alt in alternatives:
            value = (f"{_num(alt['min'])}..{_num(alt['max'])}" if "min" in alt
                     else f"{_num(alt['answer'])}:{_num(alt.get('tolerance', 0))}")
            lines.append(f"=%{_num(alt.get('weight', 100))}%{value}{_fb(alt.get('feedback_md'))}")
        if data.get("wrong_feedback_md"):
            lines.append(f"~#{gift_escape(data['wrong_feedback_md'])}")
    if spec.explanation_md:
        lines.append(f"####{gift_escape(spec.explanation_md)}")
    if lines and lines[0] == "#":
        return head + "{#\n" + "".join(f"\t{line}\n" for line in lines[1:]) + "}\n"
    return head + "{\n" + "".join(f"\t{line}\n" for line in lines) + "}\n"


def export_gift(specs: list[QuestionSpec], heading: str = "") -> str:
    """A bank as GIFT, grouped under ``$CATEGORY: 757/<code>`` lines."""
    out = [f"// {heading}\n\n"] if heading else []
    current = None
    for spec in sorted(specs, key=lambda s: (s.competency_code, s.key)):
        if spec.competency_code != current:
            current = spec.competency_code
            out.append(f"$CATEGORY: 757/{current}\n\n")
        out.append(f"// {spec.key} · {spec.difficulty} · {spec.status}\n")
        out.append(question_gift(spec) + "\n")
    return "".join(out)
