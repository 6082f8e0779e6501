"""`flask reports export / recount / load-programs`: happy paths, audit, and clear errors."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit import AuditLog
from app.auth.models import RoleGrant, User
from app.extensions import db
from app.reports import progress
from app.reports.models import TrainingProgram
from tests.factories import make_unit
from tests.reports import scenario
from tests.reports.test_exports import expected_member_rows, expected_unit_figures
from tests.reports.test_progress import counts_by_metric, make_program
from tests.reports.test_quarterly import expected_report


@pytest.fixture
def world(app):
    world = scenario.build()
    world.program = make_program(world)
    return world


def export(runner, *args):
    return runner.invoke(args=["reports", "export", "--program", "ct-test", *args])


def read_csv(path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def audit_entries():
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.action == "reports.export_members")))


def test_units_csv_to_a_file(runner, world, tmp_path):
    out = tmp_path / "don-vi.csv"
    result = export(runner, "--kind", "units", "--as-of", "2026-09-30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Đã ghi" in result.output and "30/09/2026" in result.output
    _header, *body = read_csv(out)
    expected = expected_unit_figures(world, world.program, date(2026, 9, 30), world.province)
    assert {r[0]: (int(r[5]), int(r[6]), int(r[9]), int(r[8])) for r in body} == expected
    assert [p.name for p in tmp_path.iterdir()] == ["don-vi.csv"]  # no temporary file left
    assert audit_entries() == []


def test_members_xlsx_for_a_unit_is_audited(runner, world, tmp_path):
    out = tmp_path / "thanh-vien.xlsx"
    result = export(runner, "--kind", "members", "--format", "xlsx", "--as-of", "2026-06-30",
                    "--unit", "X1", "--out", str(out))
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    names = {row[3] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert names == set(expected_member_rows(world, world.program, date(2026, 6, 30),
                                             world.communes[1]))
    [entry] = audit_entries()
    assert entry.actor_id is None
    assert entry.details == {"program": "ct-test", "unit": "X1", "as_of": "2026-06-30",
                             "format": "xlsx", "source": "cli", "rows": len(names),
                             "complete": True}


def test_members_csv_to_stdout(runner, world):
    result = export(runner, "--kind", "members", "--as-of", "2026-12-07", "--out", "-")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][3] == "Họ và tên"
    assert {r[3] for r in rows[1:]} == set(expected_member_rows(world, world.program,
                                                               date(2026, 12, 7)))
    assert audit_entries()[0].details["rows"] == len(rows) - 1


def test_quarterly_xlsx(runner, world, tmp_path):
    out = tmp_path / "quy.xlsx"
    result = export(runner, "--kind", "quarterly", "--quarter", "2026Q2", "--format", "xlsx",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Quý II/2026" in result.output
    ws = load_workbook(out).active
    assert ws["B4"].value == "Tỉnh Đồng Nai"
    lines = {r[1]: (r[3], r[4], r[5], r[7], r[8])
             for r in ws.iter_rows(min_row=12, values_only=True) if r[1]}
    assert lines == expected_report(world, world.program, 2026, 2, world.province)


@pytest.mark.parametrize("args, message", [
    (["--program", "khong-co", "--kind", "units"], "Không có chương trình mã khong-co"),
    (["--program", "ct-test", "--kind", "quarterly", "--quarter", "2026Q7"],
     "Quý không hợp lệ: 2026Q7"),
    (["--program", "ct-test", "--kind", "units", "--as-of", "30/09/2026"],
     "Ngày không hợp lệ: 30/09/2026"),
    (["--program", "ct-test", "--kind", "quarterly", "--quarter", "2030Q1"], "chưa bắt đầu"),
    (["--program", "ct-test", "--kind", "units", "--unit", "ZZZ"], "Không có đơn vị mã ZZZ"),
    (["--program", "ct-test", "--kind", "units", "--unit", "T99"], "không thuộc phạm vi"),
])
def test_errors_exit_1_and_write_nothing(runner, world, tmp_path, args, message):
    make_unit("T99", "Tỉnh khác", kind="province")
    db.session.commit()
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["reports", "export", *args, "--out", str(out)])
    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert audit_entries() == []


def test_recount_rebuilds_the_counts(runner, world):
    before = counts_by_metric(world.program)
    db.session.execute(progress.delete(progress.ProgramUnitCount))
    db.session.commit()
    assert counts_by_metric(world.program) != before
    result = runner.invoke(args=["reports", "recount"])
    assert result.exit_code == 0, result.output
    assert "Đã đếm lại" in result.output
    assert counts_by_metric(world.program) == before


def test_refresh_recounts_only_the_queued_teams(runner, world):
    """What a periodic job runs: the teams changed since the last count, then nothing."""
    progress.refresh_counts()  # what building the world queued
    before = counts_by_metric(world.program)
    member = db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                               .where(RoleGrant.role == "learner", User.is_active_member))
    member.is_active_member = False
    db.session.commit()
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Đã đếm lại 1 tổ" in result.output
    assert counts_by_metric(world.program)[("members", "")] == before[("members", "")] - 1
    again = runner.invoke(args=["reports", "refresh"])
    assert "Đã đếm lại 0 tổ" in again.output


PROGRAM_YAML = """\
slug: ct-thu
name: Chương trình thử nạp từ tệp
scope_unit: "75"
courses: [khoa-a, khoa-b]
target_percent: 90
starts_on: 2026-01-01
deadline: 2026-12-31
"""


def test_load_programs_creates_then_updates(runner, app, tmp_path):
    make_unit("75", "Đồng Nai", kind="province")
    scenario.make_course("khoa-a")
    scenario.make_course("khoa-b")
    db.session.commit()
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "ct-thu.yaml").write_text(PROGRAM_YAML, encoding="utf-8")
    first = runner.invoke(args=["reports", "load-programs", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "ct-thu (Chương trình thử nạp từ tệp): tạo mới" in first.output
    program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == "ct-thu"))
    assert program.target_percent == 90 and [c.slug for c in program.courses] == [
        "khoa-a", "khoa-b"]
    second = runner.invoke(args=["reports", "load-programs",
                                 str(tmp_path / "programs" / "ct-thu.yaml")])
    assert second.exit_code == 0 and "cập nhật" in second.output


def test_load_programs_with_an_error_writes_nothing(runner, app, tmp_path):
    make_unit("75", "Đồng Nai", kind="province")
    scenario.make_course("khoa-a")
    db.session.commit()
    (tmp_path / "a.yaml").write_text(PROGRAM_YAML.replace("ct-thu", "ct-a").replace(
        "[khoa-a, khoa-b]", "[khoa-a]"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(PROGRAM_YAML.replace("ct-thu", "ct-b"), encoding="utf-8")
    result = runner.invoke(args=["reports", "load-programs", str(tmp_path)])
    assert result.exit_code == 1
    assert "b.yaml" in result.output and "Không tìm thấy khóa học: khoa-b" in result.output
    assert db.session.scalars(select(TrainingProgram)).all() == []


def test_demo_seed_loads_the_sample_program(runner, app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    program = db.session.scalar(select(TrainingProgram).where(
        TrainingProgram.slug == "to-cnscd-2026"))
    assert program.name == "Bồi dưỡng kỹ năng số cho thành viên Tổ CNSCĐ năm 2026"
    assert len(program.courses) == 4 and program.target_percent == 100
    assert program.deadline == date(2026, 12, 31) and program.scope_unit.code == "75"
    assert "to-cnscd-2026" in result.output
    assert progress.count_rows(program, None, ("members",))  # counted, so make run shows it
