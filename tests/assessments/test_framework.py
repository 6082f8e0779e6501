"""The 757 framework: the file checked with lines, loaded versioned, shown with counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assessments.framework import FRAMEWORK_FILE, YamlDoc, load_framework, parse_framework
from app.assessments.models import Competency, CompetencyGroup, Framework, Question
from app.courses.content import ContentInvalid
from app.courses.models import Course
from app.extensions import db
from tests.querycount import count_queries, forget_request_state

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "content" / FRAMEWORK_FILE


@pytest.fixture
def content_root(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    (root / "courses").mkdir()
    return root


def add_course(root: Path, slug: str, competencies: list[str], questions: dict[str, int],
               title: str | None = None) -> None:
    """A copy of the example course under another slug, with a bank of true/false questions."""
    target = root / "courses" / slug
    shutil.copytree(ROOT / "content" / "examples" / "khoa-hoc-mau", target)
    course_md = target / "course.md"
    text = course_md.read_text(encoding="utf-8")
    text = text.replace('competencies: ["4.1", "4.2"]', f"competencies: {competencies}".replace("'", '"'))
    text = text.replace("Khóa học mẫu: mật khẩu an toàn", title or f"Khóa {slug}")
    course_md.write_text(text, encoding="utf-8")
    lines = ["questions:"]
    for code, count in questions.items():
        for i in range(count):
            lines.append(f'  - {{id: {slug}-{code}-{i}, competency: "{code}", type: true_false, '
                         f"stem: Câu {slug} {code} số {i}, answer: true}}")
    (target / "assessment.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- The file --------------------------------------------------------------------------------

def test_the_shipped_file_has_groups_0_to_6_with_their_competencies():
    source = load_framework(FILE)
    assert (source.key, source.version) == ("vn-qd757-2025", "1.0")
    assert [g.code for g in source.groups] == ["0", "1", "2", "3", "4", "5", "6"]
    assert {"4.1", "4.2", "4.3", "4.4", "6.1", "6.2", "6.3", "2.3"} <= source.codes
    for group in source.groups:
        for comp in group.competencies:
            assert comp.code.startswith(group.code + ".")
            assert comp.label_vi and comp.label_en and comp.status and comp.audiences


BROKEN = """\
framework:
  id: test
  version: '1'
  title_vi: Thử
groups:
- code: '4'
  label_vi: An toàn
  status: inferred
  competencies:
  - code: '4.1'
    label_vi: Thiết bị
    status: inferred
  - code: '5.1'
    label_vi: Lạc nhóm
    status: inferred
  - code: '4.1'
    label_vi: Trùng
    status: inferred
    audiences: [citizen, alien]
  - code: '4.3'
    status: inferred
"""


def test_errors_name_the_file_and_line():
    with pytest.raises(ContentInvalid) as caught:
        parse_framework(YamlDoc(BROKEN, FRAMEWORK_FILE))
    found = [(e.file, e.line, e.reason) for e in caught.value.errors]
    assert found == [
        (FRAMEWORK_FILE, 13, "mã năng lực 5.1 không thuộc nhóm 4"),
        (FRAMEWORK_FILE, 16, "trùng mã năng lực 4.1 (đã có ở dòng 10)"),
        (FRAMEWORK_FILE, 19, "đối tượng 'alien' không hợp lệ (chọn trong citizen, civil_servant, "
                             "student, enterprise_worker)"),
        (FRAMEWORK_FILE, 20, "thiếu label_vi"),
    ]


def test_codes_are_read_as_written():
    text = BROKEN.replace("- code: '4.1'\n    label_vi: Thiết bị", "- code: 4.10\n    label_vi: Mười")
    with pytest.raises(ContentInvalid) as caught:
        parse_framework(YamlDoc(text, FRAMEWORK_FILE))
    assert not any("4.10" in e.reason for e in caught.value.errors)  # 4.10, not the float 4.1


def test_a_broken_framework_stops_the_import(runner, content_root):
    (content_root / FRAMEWORK_FILE).write_text(BROKEN, encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert result.exit_code == 1
    assert f"{FRAMEWORK_FILE}:13: mã năng lực 5.1 không thuộc nhóm 4" in result.output
    assert count(Framework) == 0


# --- Loading -----------------------------------------------------------------------------

def test_import_loads_the_tables_and_an_unchanged_file_creates_nothing(runner, content_root):
    assert runner.invoke(args=["content", "import", str(content_root)]).exit_code == 0
    framework = db.session.scalar(select(Framework))
    assert (framework.key, framework.version, framework.is_current) == ("vn-qd757-2025", "1.0", True)
    assert (count(Framework), count(CompetencyGroup), count(Competency)) == (1, 7, 25)
    comp = db.session.scalar(select(Competency).where(Competency.code == "4.2"))
    assert comp.label_vi == "Bảo vệ dữ liệu cá nhân và quyền riêng tư"
    assert comp.label_en == "Protecting personal data and privacy"
    assert comp.audiences == ["citizen", "civil_servant", "student", "enterprise_worker"]
    loaded = (framework.id, framework.loaded_at, comp.id)
    db.session.expunge_all()
    with count_queries() as statements:
        assert runner.invoke(args=["content", "import", str(content_root)]).exit_code == 0
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    framework = db.session.scalar(select(Framework))
    comp = db.session.scalar(select(Competency).where(Competency.code == "4.2"))
    assert (framework.id, framework.loaded_at, comp.id) == loaded


def test_a_new_version_becomes_current_and_the_old_one_stays(runner, content_root):
    runner.invoke(args=["content", "import", str(content_root)])
    path = content_root / FRAMEWORK_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("version: '1.0'", "version: '1.1'")
                    .replace("label_vi: Bảo vệ môi trường", "label_vi: Bảo vệ môi trường sống"),
                    encoding="utf-8")
    assert runner.invoke(args=["content", "import", str(content_root)]).exit_code == 0
    versions = {f.version: f.is_current for f in db.session.scalars(select(Framework))}
    assert versions == {"1.0": False, "1.1": True}
    assert count(Competency) == 50
    from app.assessments.framework import current_competencies

    labels = {c.code: c.label_vi for _, c in current_competencies()}
    assert labels["4.4"] == "Bảo vệ môi trường sống"


def test_a_corrected_note_in_the_same_version_is_updated_in_place(runner, content_root):
    runner.invoke(args=["content", "import", str(content_root)])
    path = content_root / FRAMEWORK_FILE
    path.write_text(path.read_text(encoding="utf-8").replace(
        "label_vi: Bảo vệ môi trường", "label_vi: Bảo vệ môi trường (đã sửa)"), encoding="utf-8")
    runner.invoke(args=["content", "import", str(content_root)])
    assert count(Framework) == 1 and count(Competency) == 25
    comp = db.session.scalar(select(Competency).where(Competency.code == "4.4"))
    assert comp.label_vi == "Bảo vệ môi trường (đã sửa)"


# --- The page ------------------------------------------------------------------------------

def test_framework_page_lists_groups_competencies_courses_and_active_counts(
        runner, client, content_root):
    add_course(content_root, "khoa-a", ["4.1", "4.2"], {"4.1": 2, "4.2": 3}, "Khóa An toàn")
    add_course(content_root, "khoa-b", ["4.2"], {"4.2": 1}, "Khóa Chữ ký")
    assert runner.invoke(args=["content", "import", str(content_root), "--publish"]).exit_code == 0
    retired = db.session.scalar(select(Question).where(Question.key == "khoa-a-4.2-0"))
    retired.status = "retired"
    db.session.commit()
    response = client.get("/framework")
    assert response.status_code == 200
    page = response.text
    assert "Nhóm 4" in page and "Bảo vệ dữ liệu cá nhân và quyền riêng tư" in page
    row = page[page.index('id="c-4.2"'):page.index('id="c-4.3"')]
    assert "Khóa An toàn" in row and "Khóa Chữ ký" in row
    assert '<dd class="num">3</dd>' in row  # 2 active in khoa-a + 1 in khoa-b
    row41 = page[page.index('id="c-4.1"'):page.index('id="c-4.2"')]
    assert "Khóa An toàn" in row41 and "Khóa Chữ ký" not in row41
    assert '<dd class="num">2</dd>' in row41
    row01 = page[page.index('id="c-0.1"'):page.index('id="c-0.2"')]
    assert "đã xác nhận" in row01 and "Chưa có" in row01 and "Công văn 3139" in row01
    assert "suy luận" in row41


def test_framework_page_without_a_framework(client):
    response = client.get("/framework")
    assert response.status_code == 200 and "flask content import" in response.text


def test_framework_page_in_english(runner, client, content_root):
    runner.invoke(args=["content", "import", str(content_root)])
    client.get("/lang/en")
    page = client.get("/framework").text
    assert "Protecting personal data and privacy" in page
    assert "Bảo vệ dữ liệu cá nhân và quyền riêng tư" not in page


def test_draft_and_archived_courses_do_not_count(runner, client, content_root):
    add_course(content_root, "khoa-a", ["6.1"], {"6.1": 2}, "Khóa AI")
    runner.invoke(args=["content", "import", str(content_root)])  # a draft: not published
    row = client.get("/framework").text
    row = row[row.index('id="c-6.1"'):row.index('id="c-6.2"')]
    assert "Khóa AI" not in row and '<dd class="num">2</dd>' in row
    db.session.scalar(select(Course)).is_archived = True
    db.session.commit()
    row = client.get("/framework").text
    row = row[row.index('id="c-6.1"'):row.index('id="c-6.2"')]
    assert '<dd class="num">0</dd>' in row


def test_framework_page_query_count_does_not_grow(runner, client, content_root):
    add_course(content_root, "khoa-a", ["4.1"], {"4.1": 1})
    runner.invoke(args=["content", "import", str(content_root), "--publish"])
    forget_request_state()
    with count_queries() as small:
        assert client.get("/framework").status_code == 200
    for n, codes in enumerate((["1.1", "1.2"], ["2.3", "4.2"], ["6.1", "6.2", "6.3"])):
        add_course(content_root, f"khoa-{n}", codes, {code: 3 for code in codes})
    runner.invoke(args=["content", "import", str(content_root), "--publish"])
    forget_request_state()
    with count_queries() as large:
        assert client.get("/framework").status_code == 200
    assert len(large) == len(small) <= 5, large


# --- flask content coverage -----------------------------------------------------------------

def test_coverage_lists_lessons_and_questions_and_flags_gaps(runner, content_root):
    add_course(content_root, "khoa-a", ["4.1", "4.2"], {"4.1": 2})
    runner.invoke(args=["content", "import", str(content_root)])
    result = runner.invoke(args=["content", "coverage", str(content_root)])
    assert result.exit_code == 0, result.output
    out = result.output
    block41 = out[out.index("4.1 Bảo vệ thiết bị"):out.index("4.2 ")]
    assert "bài học khoa-a: gioi-thieu, dat-mat-khau" in block41
    assert "câu hỏi đang dùng: 2 (khoa-a 2)" in block41 and "CHƯA PHỦ" not in block41
    block42 = out[out.index("4.2 "):out.index("4.3 ")]
    assert "CHƯA PHỦ: chưa có câu hỏi" in block42
    block01 = out[out.index("0.1 "):out.index("0.2 ")]
    assert "CHƯA PHỦ: chưa có bài học; chưa có câu hỏi" in block01
    assert "1/25 năng lực có cả bài học và câu hỏi; 24 năng lực chưa phủ đủ." in out


def test_coverage_before_any_import_reads_the_file(runner, content_root):
    result = runner.invoke(args=["content", "coverage", str(content_root)])
    assert result.exit_code == 0
    assert "0/25 năng lực có cả bài học và câu hỏi" in result.output
