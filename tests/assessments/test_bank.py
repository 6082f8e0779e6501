"""assessment.yaml: every rule checked with file and line, imported by stable key, idempotent."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assessments.bank import parse_assessment
from app.assessments.framework import YamlDoc
from app.assessments.models import Assessment, Question
from app.courses.content import ContentInvalid
from app.courses.models import Course
from app.extensions import db
from tests.querycount import count_queries

ROOT = Path(__file__).resolve().parents[2]
CODES = {"1.2", "4.1", "4.2", "6.1"}

BANK = """\
settings:
  pass_percent: 80
  time_limit_minutes: 15
  max_attempts: 2
  cooldown_minutes: 30
  draw:
    "4.1": 1
  shuffle_questions: false
  shuffle_options: true
  show_answers: after_pass
questions:
  - id: mau-001
    competency: "4.1"
    type: single
    difficulty: easy
    status: active
    stem: |
      Mật khẩu nào **mạnh** nhất? <script>alert(1)</script>
    options:
      - text: "123456"
        feedback: "Quá dễ đoán."
      - text: "Lúa-chín-vàng-2025!"
        correct: true
    explanation: |
      Cụm từ dài, có số và ký hiệu.
  - id: mau-002
    competency: "4.2"
    type: multiple
    stem: Những gì không được cho người khác?
    options:
      - text: Mã OTP
        correct: true
      - text: Mật khẩu
        correct: true
      - text: Tên của bạn
    explanation: OTP và mật khẩu là bí mật.
  - id: mau-003
    competency: "4.2"
    type: true_false
    stem: Ngân hàng hỏi mã OTP qua điện thoại.
    answer: false
  - id: mau-004
    competency: "4.2"
    type: short_answer
    stem: Gõ tên loại mã gửi qua tin nhắn để xác nhận giao dịch.
    answers: ["OTP", "mã OTP"]
    match: loose
  - id: mau-005
    competency: "4.1"
    type: matching
    stem: Ghép nguy cơ với cách phòng.
    pairs:
      - {left: "Đoán mật khẩu", right: "Mật khẩu dài"}
      - {left: "Mất điện thoại", right: "Khóa màn hình"}
      - {left: "Phần mềm cũ", right: "Cập nhật"}
  - id: mau-006
    competency: "4.1"
    type: numerical
    status: draft
    stem: Mật khẩu nên dài ít nhất bao nhiêu ký tự?
    answer: 12
    tolerance: 0
"""


@pytest.fixture
def content_root(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    shutil.copytree(ROOT / "content" / "examples" / "khoa-hoc-mau", root / "courses" / "khoa-hoc-mau")
    (root / "courses" / "khoa-hoc-mau" / "assessment.yaml").write_text(BANK, encoding="utf-8")
    return root


@pytest.fixture
def bank_file(content_root) -> Path:
    return content_root / "courses" / "khoa-hoc-mau" / "assessment.yaml"


def run_import(runner, root):
    return runner.invoke(args=["content", "import", str(root), "--publish"])


def questions() -> dict[str, Question]:
    return {q.key: q for q in db.session.scalars(select(Question))}


# --- Import -------------------------------------------------------------------------------------

def test_import_creates_the_assessment_and_every_question(runner, content_root):
    result = run_import(runner, content_root)
    assert result.exit_code == 0, result.output
    assessment = db.session.scalar(select(Assessment))
    assert (assessment.pass_percent, assessment.time_limit_minutes, assessment.max_attempts,
            assessment.cooldown_minutes, assessment.draw, assessment.shuffle_questions,
            assessment.shuffle_options, assessment.show_answers) == (
        80, 15, 2, 30, {"4.1": 1}, False, True, "after_pass")
    found = questions()
    assert sorted(found) == [f"mau-00{i}" for i in range(1, 7)]
    assert {q.source for q in found.values()} == {"file"}
    assert found["mau-006"].status == "draft" and found["mau-002"].difficulty == "medium"


def test_markdown_is_rendered_once_and_sanitized(runner, content_root):
    run_import(runner, content_root)
    q = questions()["mau-001"]
    assert "<strong>mạnh</strong>" in q.stem_html and "<script" not in q.stem_html
    a, b = q.data["options"]
    assert (a["id"], a["weight"], a["correct"], a["text_md"]) == ("a", 0, False, "123456")
    assert (b["id"], b["weight"], b["correct"]) == ("b", 100, True)
    assert a["feedback_html"] == "<p>Quá dễ đoán.</p>" and b["feedback_html"] == ""
    assert q.explanation_html == "<p>Cụm từ dài, có số và ký hiệu.</p>"
    pairs = questions()["mau-005"].data["pairs"]
    assert pairs[0] == {"left_md": "Đoán mật khẩu", "left_html": "<p>Đoán mật khẩu</p>",
                        "right": "Mật khẩu dài"}


def test_multiple_response_marks_become_weights(runner, content_root):
    run_import(runner, content_root)
    data = questions()["mau-002"].data
    assert [(o["weight"], o["correct"]) for o in data["options"]] == [
        (50, True), (50, True), (-50, False)]


def test_the_other_types_keep_the_documented_shape(runner, content_root):
    run_import(runner, content_root)
    found = questions()
    assert found["mau-003"].data == {"answer": False, "feedback_true_md": "",
                                     "feedback_true_html": "", "feedback_false_md": "",
                                     "feedback_false_html": ""}
    assert found["mau-004"].data == {"answers": ["OTP", "mã OTP"], "match": "loose"}
    assert found["mau-006"].data == {"answer": 12, "tolerance": 0}


def test_unchanged_file_writes_nothing(runner, content_root):
    run_import(runner, content_root)
    before = {k: (q.content_hash, q.updated_at) for k, q in questions().items()}
    db.session.expunge_all()
    with count_queries() as statements:
        result = run_import(runner, content_root)
    assert result.exit_code == 0
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert {k: (q.content_hash, q.updated_at) for k, q in questions().items()} == before


def test_changed_questions_are_updated_and_missing_ones_retired(runner, content_root, bank_file):
    run_import(runner, content_root)
    ids = {k: q.id for k, q in questions().items()}
    text = bank_file.read_text(encoding="utf-8").replace("Ngân hàng hỏi mã OTP", "Ngân hàng xin mã OTP")
    cut = text.index("  - id: mau-006")
    bank_file.write_text(text[:cut], encoding="utf-8")
    result = run_import(runner, content_root)
    assert result.exit_code == 0, result.output
    found = questions()
    assert {k: q.id for k, q in found.items()} == ids  # nothing deleted, nothing re-created
    assert found["mau-003"].stem_md == "Ngân hàng xin mã OTP qua điện thoại."
    assert "xin mã OTP" in found["mau-003"].stem_html
    assert found["mau-006"].status == "retired"
    # Put it back: the same row comes back to life with the file's status.
    bank_file.write_text(text, encoding="utf-8")
    run_import(runner, content_root)
    assert questions()["mau-006"].status == "draft"


def test_questions_from_gift_or_the_web_are_not_retired_by_the_file(runner, content_root):
    run_import(runner, content_root)
    course = db.session.scalar(select(Course))
    template = questions()["mau-003"]
    db.session.add(Question(course_id=course.id, key="web-001", competency_code="4.2",
                            type="true_false", stem_md="x", stem_html="<p>x</p>",
                            data={"answer": True}, source="web", content_hash="h"))
    db.session.commit()
    assert template.status == "active"
    run_import(runner, content_root)
    assert questions()["web-001"].status == "active"


def test_an_invalid_bank_fails_the_course_as_a_whole(runner, content_root, bank_file):
    text = bank_file.read_text(encoding="utf-8").replace('competency: "4.2"\n    type: true_false',
                                                         'competency: "9.9"\n    type: true_false')
    bank_file.write_text(text, encoding="utf-8")
    line = text.splitlines().index('    competency: "9.9"') + 1
    result = run_import(runner, content_root)
    assert result.exit_code == 1
    assert (f"courses/khoa-hoc-mau/assessment.yaml:{line}: câu mau-003: mã năng lực '9.9' "
            "không có trong khung 757") in result.output
    assert "khoa-hoc-mau: LỖI, không nhập" in result.output
    assert db.session.scalar(select(func.count(Course.id))) == 0
    assert db.session.scalar(select(func.count(Question.id))) == 0


def test_a_course_without_assessment_yaml_imports_as_before(runner, content_root, bank_file):
    bank_file.unlink()
    assert run_import(runner, content_root).exit_code == 0
    assert db.session.scalar(select(func.count(Assessment.id))) == 0


# --- Validation, rule by rule (file, line, reason) -----------------------------------------

QUESTION = """\
questions:
  - id: q-1
    competency: "4.1"
    type: {type}
    stem: Câu hỏi?
{body}"""


def problems(yaml_text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ContentInvalid) as caught:
        parse_assessment(YamlDoc(yaml_text, "assessment.yaml"), CODES)
    return [(e.line, e.reason) for e in caught.value.errors]


def question(kind: str, body: str) -> str:
    return QUESTION.format(type=kind, body=textwrap.indent(textwrap.dedent(body), "    "))


CASES = [
    ("single", "options:\n  - text: A\n  - text: B\n", 6, "chưa có phương án nào đúng"),
    ("single", "options:\n  - text: A\n    correct: true\n  - text: B\n    correct: true\n",
     6, "cần đúng một phương án đúng (đang có 2)"),
    ("single", "options:\n  - text: A\n    correct: true\n", 6, "cần từ 2 đến"),
    ("single", "options:\n  - text: A\n    correct: yes please\n  - text: B\n", 8,
     "correct của phương án 1 phải là true hoặc false"),
    ("single", "options:\n  - text: A\n    correct: true\n  - text: A\n", 9,
     "phương án 2 trùng"),
    ("multiple", "options:\n  - text: A\n  - text: B\n", 6, "cần ít nhất một phương án đúng"),
    ("multiple", "options:\n  - text: A\n    weight: 60\n  - text: B\n    weight: 30\n", 6,
     "tổng trọng số các phương án đúng phải là 100 (đang là 90)"),
    ("multiple", "options:\n  - text: A\n    weight: 100\n    correct: true\n  - text: B\n", 7,
     "dùng một trong hai: correct hoặc weight"),
    ("multiple", "options:\n  - text: A\n    weight: 150\n  - text: B\n", 8,
     "trọng số của phương án 1 phải là số từ -100 đến 100"),
    ("multiple", "options:\n  - text: A\n    colour: red\n  - text: B\n", 8, "khóa lạ 'colour'"),
    ("true_false", "answer: \"false\"\n", 6, "answer: true hoặc answer: false"),
    ("true_false", "options:\n  - text: A\n", 6, "khóa 'options' không dùng cho loại 'true_false'"),
    ("short_answer", "answers: []\n", 6, "cần ít nhất một đáp án"),
    ("short_answer", "answers: [\"a\", \" \"]\n", 6, "không đáp án nào để trống"),
    ("short_answer", "answers: [\"a\"]\nmatch: fuzzy\n", 7, "match phải là exact"),
    ("short_answer", "answers: [\"Lúa\", \"lua\"]\nmatch: loose\n", 6, "đáp án 'lua' bị lặp"),
    ("matching", "pairs:\n  - {left: a, right: 1}\n  - {left: b, right: 2}\n", 6,
     "cần ít nhất 3 cặp"),
    ("matching", "pairs:\n  - {left: a, right: 1}\n  - {left: a, right: 2}\n  - {left: c, right: 3}\n",
     8, "vế trái của cặp 2 bị trùng"),
    ("matching", "pairs:\n  - {left: a}\n  - {left: b, right: 2}\n  - {left: c, right: 3}\n",
     7, "cặp 1 phải có đúng hai khóa left và right"),
    ("numerical", "answer: mười lăm\n", 6, "đáp án của câu số phải là một số"),
    ("numerical", "answer: 15\ntolerance: -1\n", 7, "tolerance) phải là số không âm"),
    ("ordering", "answer: 1\n", 4, "loại câu hỏi 'ordering' không hợp lệ"),
]


@pytest.mark.parametrize("kind, body, line, reason", CASES)
def test_type_rules(kind, body, line, reason):
    found = problems(question(kind, body))
    assert any(at == line and reason in text for at, text in found), found


@pytest.mark.parametrize("field, value, reason", [
    ("competency", '"9.9"', "mã năng lực '9.9' không có trong khung 757"),
    ("difficulty", "trung bình", "độ khó 'trung bình' không hợp lệ"),
    ("status", "published", "trạng thái 'published' không hợp lệ"),
    ("stem", '" "', "thiếu nội dung câu hỏi"),
    ("id", '"có dấu"', "mã câu hỏi 'có dấu' không hợp lệ"),
    ("tags", "[a]", "khóa 'tags' không dùng"),
])
def test_common_rules(field, value, reason):
    text = ("questions:\n  - type: true_false\n    id: q-1\n    competency: \"4.1\"\n"
            "    stem: Câu?\n    answer: true\n")
    if f"    {field}:" in text:
        text = "\n".join(f"    {field}: {value}" if line.startswith(f"    {field}:") else line
                         for line in text.splitlines())
    else:
        text += f"    {field}: {value}\n"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(f"    {field}:"))
    found = problems(text)
    assert any(at == line and reason in msg for at, msg in found), found


def test_duplicate_ids_name_both_lines():
    text = ("questions:\n"
            "  - {id: q-1, competency: \"4.1\", type: true_false, stem: Một, answer: true}\n"
            "  - {id: q-1, competency: \"4.1\", type: true_false, stem: Hai, answer: true}\n")
    assert problems(text) == [(3, "trùng mã câu hỏi 'q-1' (đã dùng ở dòng 2)")]


ONE = "questions:\n  - {id: q-1, competency: \"4.1\", type: true_false, stem: Một, answer: true}\n"


@pytest.mark.parametrize("setting, reason", [
    ("pass_percent: 150", "pass_percent phải là số từ 0 đến 100"),
    ("time_limit_minutes: -5", "time_limit_minutes phải là số nguyên từ 0 đến 600"),
    ("max_attempts: 1.5", "max_attempts phải là số nguyên"),
    ("cooldown_minutes: soon", "cooldown_minutes phải là số nguyên"),
    ("shuffle_options: yes please", "shuffle_options phải là true hoặc false"),
    ("show_answers: always", "show_answers phải là một trong"),
    ("colour: blue", "thiết lập lạ 'colour'"),
    ("draw: {\"9.9\": 1}", "draw: mã năng lực '9.9' không có trong khung 757"),
    ("draw: {\"4.1\": 2}", "draw: rút 2 câu năng lực 4.1 nhưng chỉ có 1 câu đang dùng"),
    ("draw: {\"4.1\": 0}", "draw '4.1': số câu phải là số nguyên dương"),
])
def test_settings_rules(setting, reason):
    found = problems(f"settings:\n  {setting}\n{ONE}")
    assert any(at == 2 and reason in msg for at, msg in found), found


def test_draw_counts_only_active_questions():
    text = ("settings:\n  draw:\n    \"4.1\": 1\nquestions:\n"
            "  - {id: q-1, competency: \"4.1\", type: true_false, stem: Một, answer: true, status: draft}\n")
    assert problems(text) == [(3, "draw: rút 1 câu năng lực 4.1 nhưng chỉ có 0 câu đang dùng (active)")]


def test_structure_errors():
    assert problems("- a\n- b\n")[0][1] == "assessment.yaml phải có settings và questions"
    assert problems("questions: []\n") == [(1, "questions phải là danh sách có ít nhất một câu hỏi")]
    assert (3, "khóa lạ 'extra' (chỉ có settings và questions)") in problems(ONE + "extra: 1\n")


def test_yaml_syntax_error_names_its_line():
    assert problems("questions:\n  - id: q-1\n    stem: [unclosed\n")[0][0] in (3, 4)


def test_every_problem_is_reported_at_once():
    text = ("settings:\n  pass_percent: 101\nquestions:\n"
            "  - {id: q-1, competency: \"9.1\", type: true_false, stem: Một, answer: true}\n"
            "  - {id: q-2, competency: \"4.1\", type: single, stem: Hai, options: [{text: a}, {text: b}]}\n")
    assert [line for line, _ in problems(text)] == [2, 4, 5]
