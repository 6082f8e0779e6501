"""`flask questions import-gift / export-gift`: all or nothing, idempotent, and a round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assessments.bank import row_hash, spec_of
from app.assessments.models import Assessment, Question
from app.courses.models import Course
from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
// Ngân hàng thử
$CATEGORY: 757/4.2

::g-001:: Ngân hàng gọi xin mã OTP. Bạn làm gì? {
  =Không đọc mã, gọi lại tổng đài in trên thẻ # Đúng
  ~Đọc mã cho nhanh # Sai: không ai được biết OTP
  ####Ngân hàng không bao giờ hỏi mã OTP.
}

::g-002:: Mã OTP được phép cho người thân. {F}

::e-001:: Kể lại một lần bạn gặp lừa đảo. {}
"""


@pytest.fixture
def courses(app) -> tuple[Course, Course]:
    a, b = Course(slug="khoa-a"), Course(slug="khoa-b")
    db.session.add_all([a, b])
    db.session.commit()
    return a, b


@pytest.fixture
def framework(runner, tmp_path):
    root = tmp_path / "fw"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    (root / "courses").mkdir()
    assert runner.invoke(args=["content", "import", str(root)]).exit_code == 0


def write(tmp_path, text: str, name: str = "bank.gift") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def gift_import(runner, path, course="khoa-a", *extra):
    return runner.invoke(args=["questions", "import-gift", str(path), "--course", course, *extra])


def keys() -> list[str]:
    return sorted(db.session.scalars(select(Question.key)))


def test_import_writes_the_questions_and_reports_the_skipped_ones(runner, courses, framework, tmp_path):
    result = gift_import(runner, write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "bank.gift:12 [bỏ qua] (e-001): câu tự luận ({}): chưa hỗ trợ, đã bỏ qua" in result.output
    assert "khoa-a: 2 câu mới, 0 câu cập nhật, 0 câu không đổi, 0 câu ngừng dùng, 1 câu bỏ qua" \
        in result.output
    assert keys() == ["g-001", "g-002"]
    q = db.session.scalar(select(Question).where(Question.key == "g-001"))
    assert (q.source, q.competency_code, q.status, q.difficulty) == ("gift", "4.2", "active", "medium")
    assert q.explanation_html == "<p>Ngân hàng không bao giờ hỏi mã OTP.</p>"
    assert db.session.scalar(select(func.count(Assessment.id))) == 1  # the course now has a test


def test_reimport_changes_nothing_and_keeps_the_trainers_status(runner, courses, framework, tmp_path):
    path = write(tmp_path, GOOD)
    gift_import(runner, path)
    q = db.session.scalar(select(Question).where(Question.key == "g-002"))
    q.status, q.difficulty = "retired", "hard"  # as the trainer's bank page does
    q.content_hash = row_hash(q)
    db.session.commit()
    result = gift_import(runner, path)
    assert "0 câu mới, 0 câu cập nhật, 2 câu không đổi" in result.output
    path.write_text(GOOD.replace("cho người thân", "cho con cháu"), encoding="utf-8")
    result = gift_import(runner, path)
    assert "0 câu mới, 1 câu cập nhật, 1 câu không đổi" in result.output
    q = db.session.scalar(select(Question).where(Question.key == "g-002"))
    assert (q.status, q.difficulty, q.stem_md) == ("retired", "hard", "Mã OTP được phép cho con cháu.")
    assert keys() == ["g-001", "g-002"]


def test_any_error_means_nothing_is_written(runner, courses, framework, tmp_path):
    bad = GOOD + "\n::g-003:: Câu hỏi lỗi {=A ~B\n\n::g-004:: Chọn {=A =B ~C}\n"
    result = gift_import(runner, write(tmp_path, bad))
    assert result.exit_code == 1
    assert "bank.gift:14 (g-003)" not in result.output  # a syntax error has no parsed title
    assert "bank.gift:14: phần đáp án mở bằng { nhưng thiếu dấu } đóng" in result.output
    assert "bank.gift:16 (g-004): câu một đáp án cần đúng một phương án đúng (đang có 2)" in result.output
    assert "Không nhập câu nào: tệp có 2 lỗi." in result.output
    assert keys() == []
    assert db.session.scalar(select(func.count(Assessment.id))) == 0


def test_default_competency(runner, courses, framework, tmp_path):
    path = write(tmp_path, "::g-1:: Một? {T}\n")
    result = gift_import(runner, path)
    assert result.exit_code == 1 and "chưa có năng lực" in result.output
    assert gift_import(runner, path, "khoa-a", "--competency", "6.1").exit_code == 0
    assert db.session.scalar(select(Question.competency_code)) == "6.1"
    result = gift_import(runner, path, "khoa-a", "--competency", "9.9")
    assert result.exit_code != 0 and "'9.9' không có trong khung 757" in result.output


def test_unknown_course_and_bad_encoding(runner, courses, framework, tmp_path):
    result = gift_import(runner, write(tmp_path, GOOD), "khong-co")
    assert result.exit_code != 0 and "không có khóa học 'khong-co'" in result.output
    path = tmp_path / "latin.gift"
    path.write_bytes("::g-1:: Câu? {T}".encode("cp1258"))
    result = gift_import(runner, path)
    assert result.exit_code != 0 and "UTF-8" in result.output and keys() == []


def test_export_to_a_file_and_to_the_screen(runner, courses, framework, tmp_path):
    gift_import(runner, write(tmp_path, GOOD))
    out = tmp_path / "out.gift"
    result = runner.invoke(args=["questions", "export-gift", "--course", "khoa-a", str(out)])
    assert result.exit_code == 0 and "Đã xuất 2 câu hỏi" in result.output
    text = out.read_text(encoding="utf-8")
    assert text.count("$CATEGORY: 757/4.2") == 1 and "::g-001::" in text and "::g-002::" in text
    screen = runner.invoke(args=["questions", "export-gift", "--course", "khoa-a", "-"])
    assert screen.output == text


def test_retired_questions_are_exported_only_when_asked(runner, courses, framework, tmp_path):
    gift_import(runner, write(tmp_path, GOOD))
    db.session.scalar(select(Question).where(Question.key == "g-002")).status = "retired"
    db.session.commit()
    screen = runner.invoke(args=["questions", "export-gift", "--course", "khoa-a", "-"]).output
    assert "::g-002::" not in screen
    screen = runner.invoke(args=["questions", "export-gift", "--course", "khoa-a",
                                 "--include-retired", "-"]).output
    assert "::g-002::" in screen


def shape(question: Question) -> tuple:
    spec = spec_of(question)
    return (spec.key, spec.type, spec.competency_code, spec.title, spec.stem_md, spec.data,
            spec.explanation_md)


@pytest.mark.parametrize("slug", ["ai-co-ban", "an-toan-so", "chu-ky-so", "dich-vu-cong-truc-tuyen"])
def test_round_trip_of_a_shipped_bank(runner, tmp_path, slug):
    """Export a real bank, import it into another course: the same questions come back."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    shutil.copytree(ROOT / "content" / "courses" / slug, root / "courses" / slug)
    assert runner.invoke(args=["content", "import", str(root)]).exit_code == 0
    source = db.session.scalar(select(Course).where(Course.slug == slug))
    copy = Course(slug="ban-sao")
    db.session.add(copy)
    db.session.commit()
    out = tmp_path / "bank.gift"
    assert runner.invoke(args=["questions", "export-gift", "--course", slug, str(out)]).exit_code == 0
    result = gift_import(runner, out, "ban-sao")
    assert result.exit_code == 0, result.output
    originals = db.session.scalars(select(Question).where(Question.course_id == source.id))
    copies = db.session.scalars(select(Question).where(Question.course_id == copy.id))
    before = sorted(shape(q) for q in originals if q.status != "retired")
    after = sorted(shape(q) for q in copies)
    assert len(after) >= 40
    assert after == before


def test_round_trip_of_every_gift_feature(runner, courses, framework, tmp_path):
    from tests.assessments.test_gift import ALL_FEATURES

    assert gift_import(runner, write(tmp_path, ALL_FEATURES)).exit_code == 0
    out = tmp_path / "out.gift"
    runner.invoke(args=["questions", "export-gift", "--course", "khoa-a", str(out)])
    assert gift_import(runner, out, "khoa-b").exit_code == 0
    a, b = courses
    first = sorted(shape(q) for q in db.session.scalars(select(Question).where(Question.course_id == a.id)))
    second = sorted(shape(q) for q in db.session.scalars(select(Question).where(Question.course_id == b.id)))
    assert len(first) == 8 and second == first
