"""Trainer forms: filter the bank, edit one question, upload a GIFT file.

The question form only carries what was typed and turns it into a ``QuestionSpec``; the
rules (one key for a single choice, weights adding up to 100, three pairs…) live in
``bank.check_question``, the same function that checks assessment.yaml and GIFT files.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from app.assessments import bank
from app.assessments.models import DIFFICULTIES, QUESTION_STATUSES, QUESTION_TYPES

TYPE_LABELS = {
    "single": _l("Một đáp án đúng"),
    "multiple": _l("Nhiều đáp án đúng"),
    "true_false": _l("Đúng / Sai"),
    "short_answer": _l("Trả lời ngắn"),
    "matching": _l("Ghép đôi"),
    "numerical": _l("Điền số"),
}
DIFFICULTY_LABELS = {"easy": _l("Dễ"), "medium": _l("Vừa"), "hard": _l("Khó")}
STATUS_LABELS = {"draft": _l("Bản nháp"), "active": _l("Đang dùng"), "retired": _l("Ngừng dùng")}
MATCH_LABELS = {
    "loose": _l("Dễ tính: bỏ qua chữ hoa/thường, khoảng trắng và dấu tiếng Việt"),
    "exact": _l("Chính xác từng chữ"),
}
EXTRA_ROWS = 2  # empty rows offered for a new option or pair (no JavaScript needed)


class FilterForm(FlaskForm):
    """A GET form: it changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    competency = SelectField(_l("Năng lực"), validate_choice=False)
    status = SelectField(_l("Trạng thái"), validate_choice=False)
    type = SelectField(_l("Loại câu hỏi"), validate_choice=False)

    def fill(self, codes: list[tuple[str, str]]) -> None:
        self.competency.choices = [("", _l("Tất cả"))] + codes
        self.status.choices = [("", _l("Tất cả"))] + [(s, STATUS_LABELS[s]) for s in QUESTION_STATUSES]
        self.type.choices = [("", _l("Tất cả"))] + [(t, TYPE_LABELS[t]) for t in QUESTION_TYPES]

    def filters(self) -> bank.BankFilters:
        return bank.BankFilters(competency=self.competency.data or "",
                                status=self.status.data or "", type=self.type.data or "")


class OptionForm(Form):
    text = TextAreaField(_l("Phương án"), validators=[Optional(), Length(max=2000)])
    correct = BooleanField(_l("Đúng"))
    weight = StringField(_l("Trọng số % (không bắt buộc)"), validators=[Optional(), Length(max=12)])
    feedback = StringField(_l("Phản hồi khi chọn"), validators=[Optional(), Length(max=2000)])


class PairForm(Form):
    left = StringField(_l("Vế trái"), validators=[Optional(), Length(max=500)])
    right = StringField(_l("Vế phải"), validators=[Optional(), Length(max=500)])


class QuestionForm(FlaskForm):
    key = StringField(_l("Mã câu hỏi"), validators=[Optional(), Length(max=80)])
    title = StringField(_l("Tiêu đề (không bắt buộc)"), validators=[Optional(), Length(max=200)])
    competency = SelectField(_l("Năng lực (khung 757)"), validate_choice=False)
    difficulty = SelectField(_l("Độ khó"), validate_choice=False)
    status = SelectField(_l("Trạng thái"), validate_choice=False)
    stem = TextAreaField(_l("Nội dung câu hỏi (Markdown)"), validators=[Length(max=10000)])
    options = FieldList(FormField(OptionForm), min_entries=0, max_entries=bank.MAX_OPTIONS)
    tf_answer = RadioField(_l("Đáp án"), validate_choice=False)
    feedback_true = StringField(_l("Phản hồi khi học viên chọn “Đúng”"),
                                validators=[Optional(), Length(max=2000)])
    feedback_false = StringField(_l("Phản hồi khi học viên chọn “Sai”"),
                                 validators=[Optional(), Length(max=2000)])
    answers = TextAreaField(_l("Các đáp án được chấp nhận, mỗi dòng một đáp án"),
                            validators=[Optional(), Length(max=5000)])
    match = SelectField(_l("Cách so đáp án"), validate_choice=False)
    pairs = FieldList(FormField(PairForm), min_entries=0, max_entries=20)
    distractors = TextAreaField(_l("Vế phải gây nhiễu (không bắt buộc), mỗi dòng một"),
                                validators=[Optional(), Length(max=2000)])
    numbers = TextAreaField(_l("Đáp án số, mỗi dòng một"),
                            validators=[Optional(), Length(max=2000)])
    explanation = TextAreaField(_l("Giải thích đáp án (Markdown)"),
                                validators=[Optional(), Length(max=10000)])
    content_hash = HiddenField()
    preview = SubmitField(_l("Xem trước"))
    save = SubmitField(_l("Lưu câu hỏi"))

    # field of the form that shows a problem of bank.check_question (by its path's head)
    PROBLEM_FIELDS = {"id": "key", "competency": "competency", "difficulty": "difficulty",
                      "status": "status", "stem": "stem", "title": "title",
                      "options": "options", "answers": "answers", "match": "match",
                      "pairs": "pairs", "tolerance": "numbers"}

    def fill_choices(self, codes: list[tuple[str, str]]) -> None:
        """Choices are set here, not on the class (WTForms 3.3 deprecates tuples there)."""
        self.competency.choices = codes
        self.difficulty.choices = [(d, DIFFICULTY_LABELS[d]) for d in DIFFICULTIES]
        self.status.choices = [(s, STATUS_LABELS[s]) for s in QUESTION_STATUSES]
        self.tf_answer.choices = [("true", _l("Đúng")), ("false", _l("Sai"))]
        self.match.choices = list(MATCH_LABELS.items())

    def pad_rows(self, kind: str) -> None:
        """Offer empty rows for one more option or pair (GET and preview)."""
        rows = self.options if kind in ("single", "multiple") else self.pairs \
            if kind == "matching" else None
        if rows is None:
            return
        target = min(len(rows) + EXTRA_ROWS, rows.max_entries)
        if kind in ("single", "multiple") and len(rows) < 4:
            target = max(target, 4)
        if kind == "matching":
            target = max(target, bank.MIN_PAIRS + 1)
        while len(rows) < target:
            rows.append_entry()

    def to_spec(self, kind: str, key: str, previous: bank.QuestionSpec | None = None
                ) -> tuple[bank.QuestionSpec, dict]:
        """The typed question as plain data, plus {field: reason} for text that is not a
        number where one is needed. Feedback the form does not show is kept from ``previous``."""
        problems: dict = {}
        old = previous.data if previous is not None and previous.type == kind else {}
        data: dict = {}
        if kind in ("single", "multiple"):
            rows = [row for row in self.options if (row.text.data or "").strip()]
            weights = []
            for index, row in enumerate(rows, start=1):
                raw = (row.weight.data or "").strip().replace(",", ".").rstrip("%")
                weights.append(_number(raw) if raw else None)
                if raw and weights[-1] is None:
                    problems["options"] = _("Trọng số của phương án %(n)s phải là một số.", n=index)
            data["options"] = bank.choice_options(
                [bank.md_text(r.text.data) for r in rows], [bool(r.correct.data) for r in rows],
                weights, [bank.md_text(r.feedback.data or "") for r in rows], kind == "single")
        elif kind == "true_false":
            answer = {"true": True, "false": False}.get(self.tf_answer.data or "")
            data = {"answer": answer,
                    "feedback_true_md": bank.md_text(self.feedback_true.data or ""),
                    "feedback_false_md": bank.md_text(self.feedback_false.data or "")}
        elif kind == "short_answer":
            kept = {text: a for a in old.get("answers") or [] if isinstance(a, dict)
                    for text in [a.get("text")]}
            answers: list = []
            for line in _lines(self.answers.data):
                text, weight = _weighted(line)
                if weight is None:
                    problems["answers"] = _("Trọng số sau dấu | phải là một số: “%(line)s”.", line=line)
                    continue
                feedback = (kept.get(text) or {}).get("feedback_md", "")
                answers.append(text if weight == 100 and not feedback else
                               {"text": text, "weight": weight, "feedback_md": feedback})
            data = {"answers": answers, "match": self.match.data or "exact"}
        elif kind == "matching":
            data["pairs"] = [{"left_md": bank.md_text(p.left.data or ""),
                              "right": " ".join((p.right.data or "").split())}
                             for p in self.pairs
                             if (p.left.data or "").strip() or (p.right.data or "").strip()]
            distractors = _lines(self.distractors.data)
            if distractors:
                data["distractors"] = distractors
        elif kind == "numerical":
            data = self._numbers(old, problems)
        spec = bank.QuestionSpec(
            key=key, competency_code=self.competency.data or "", type=kind,
            stem_md=bank.md_text(self.stem.data or ""), data=data,
            explanation_md=bank.md_text(self.explanation.data or ""),
            difficulty=self.difficulty.data or "medium", status=self.status.data or "active",
            title=" ".join((self.title.data or "").split()))
        return spec, problems

    def _numbers(self, old: dict, problems: dict) -> dict:
        kept = {numeric_line(dict(a, weight=100)): a for a in old.get("answers") or []}
        alternatives = []
        for line in _lines(self.numbers.data):
            value, weight = _weighted(line)
            alt = _numeric_value(value)
            if alt is None or weight is None:
                problems["numbers"] = _("“%(line)s” không phải đáp án số (ví dụ 15, 15:0,5 hoặc 1..5).",
                                         line=line)
                continue
            alt["weight"] = weight
            alt["feedback_md"] = (kept.get(numeric_line(dict(alt, weight=100))) or {}).get("feedback_md", "")
            alternatives.append(alt)
        if len(alternatives) == 1 and "answer" in alternatives[0] \
                and alternatives[0]["weight"] == 100 and not alternatives[0]["feedback_md"] \
                and not old.get("wrong_feedback_md"):
            return {"answer": alternatives[0]["answer"], "tolerance": alternatives[0]["tolerance"]}
        data: dict = {"answers": alternatives}
        if old.get("wrong_feedback_md"):
            data["wrong_feedback_md"] = old["wrong_feedback_md"]
        return data

    def problem_field(self, head: str, kind: str):
        if head == "answer":
            return self.tf_answer if kind == "true_false" else self.numbers
        return getattr(self, self.PROBLEM_FIELDS.get(head, "stem"))


def _lines(text: str | None) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _number(text: str):
    """A number typed with a dot or a Vietnamese decimal comma; None when it is not one."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() else value


def _weighted(line: str) -> tuple[str, float | None]:
    """"text | 50" → ("text", 50); "text" → ("text", 100); a bad weight → (text, None)."""
    text, bar, weight = line.rpartition("|") if "|" in line else (line, "", "")
    if not bar:
        return line.strip(), 100
    return text.strip(), _number(weight.strip().rstrip("%"))


def _numeric_value(text: str) -> dict | None:
    """"15", "15:0,5" (± tolerance) or "1..5" (a range)."""
    dots = text.find("..", 1)
    if dots > 0:
        low, high = _number(text[:dots]), _number(text[dots + 2:])
        return None if low is None or high is None else {"min": low, "max": high}
    value, _, tolerance = text.partition(":")
    answer = _number(value)
    spread = _number(tolerance) if tolerance.strip() else 0
    return None if answer is None or spread is None else {"answer": answer, "tolerance": spread}


def number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def form_data(spec: bank.QuestionSpec) -> dict:
    """What the edit form shows for a stored question."""
    data = spec.data
    out = {"key": spec.key, "title": spec.title, "competency": spec.competency_code,
           "difficulty": spec.difficulty, "status": spec.status, "stem": spec.stem_md,
           "explanation": spec.explanation_md}
    if spec.type in ("single", "multiple"):
        options = data.get("options") or []
        derived = bank.choice_options([o["text_md"] for o in options],
                                      [bool(o.get("correct")) for o in options],
                                      [None] * len(options), [""] * len(options),
                                      spec.type == "single")
        plain = [d["weight"] for d in derived] == [o["weight"] for o in options]
        out["options"] = [{"text": o["text_md"], "correct": bool(o.get("correct")),
                           "weight": "" if plain else number_text(o["weight"]),
                           "feedback": o.get("feedback_md", "")} for o in options]
    elif spec.type == "true_false":
        out.update(tf_answer="true" if data.get("answer") else "false",
                   feedback_true=data.get("feedback_true_md", ""),
                   feedback_false=data.get("feedback_false_md", ""))
    elif spec.type == "short_answer":
        out["answers"] = "\n".join(
            text if weight == 100 else f"{text} | {number_text(weight)}"
            for text, weight in bank.short_answers(data))
        out["match"] = data.get("match", "exact")
    elif spec.type == "matching":
        out["pairs"] = [{"left": p["left_md"], "right": p["right"]} for p in data.get("pairs") or []]
        out["distractors"] = "\n".join(data.get("distractors") or [])
    elif spec.type == "numerical":
        out["numbers"] = "\n".join(numeric_line(alt) for alt in numeric_alternatives(data))
    return out


def numeric_alternatives(data: dict) -> list[dict]:
    if data.get("answers") is not None:
        return list(data["answers"])
    return [{"answer": data.get("answer"), "tolerance": data.get("tolerance", 0), "weight": 100}]


def numeric_line(alt: dict) -> str:
    if "min" in alt:
        value = f"{number_text(alt['min'])}..{number_text(alt['max'])}"
    else:
        value = number_text(alt.get("answer"))
        if alt.get("tolerance"):
            value += f":{number_text(alt['tolerance'])}"
    weight = alt.get("weight", 100)
    return value if weight == 100 else f"{value} | {number_text(weight)}"


class GiftUploadForm(FlaskForm):
    file = FileField(_l("Tệp GIFT (.txt hoặc .gift, mã hóa UTF-8)"),
                     validators=[FileRequired(_l("Chọn tệp GIFT để tải lên."))])
    competency = SelectField(_l("Năng lực cho các câu không có dòng $CATEGORY"),
                             validate_choice=False)

    def fill_choices(self, codes: list[tuple[str, str]]) -> None:
        self.competency.choices = [("", _l("— Không đặt: báo lỗi những câu thiếu năng lực —"))] + codes
