"""`flask reports …`: exports for scheduled jobs, recounting, loading programs from files.

An export is written to a temporary file next to ``--out`` and renamed when complete, so a
job never leaves half a file where the previous good one was.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.orgs.models import Unit
from app.reports import exports, quarterly
from app.reports.models import TrainingProgram
from app.reports.programs import ProgramError, load_program_file
from app.reports.progress import local_today, quarter_of, rebuild_all, refresh_counts

reports_cli = AppGroup("reports", help="Báo cáo chương trình bồi dưỡng: xuất tệp, đếm lại, nạp chương trình.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _program(slug: str) -> TrainingProgram:
    program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == slug))
    if program is None:
        _fail(_("Không có chương trình mã %(slug)s. Xem các chương trình đã nạp, hoặc nạp bằng: "
                "flask reports load-programs", slug=slug))
    return program


def _unit(program: TrainingProgram, code: str | None) -> Unit:
    if not code:
        return program.scope_unit
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        _fail(_("Không có đơn vị mã %(code)s.", code=code))
    if not unit.is_within(program.scope_unit):
        _fail(_("Đơn vị %(code)s không thuộc phạm vi của chương trình (%(scope)s).",
                code=code, scope=program.scope_unit.full_name))
    return unit


def _write(out: str, fmt: str, sheet_or_chunks) -> None:
    """Write to stdout (``-``) or to a temporary file renamed to ``out`` once complete."""
    if out == "-":
        sys.stdout.flush()
        stream = sys.stdout.buffer
        if fmt == "csv":
            for chunk in exports.csv_chunks(sheet_or_chunks):
                stream.write(chunk.encode("utf-8"))
        else:
            exports.write_xlsx(sheet_or_chunks, stream)
        stream.flush()
        return
    target = Path(out)
    if not target.parent.is_dir():
        _fail(_("Không có thư mục %(dir)s.", dir=str(target.parent)))
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        if fmt == "csv":
            with open(temp, "w", encoding="utf-8", newline="") as file:
                for chunk in exports.csv_chunks(sheet_or_chunks):
                    file.write(chunk)
        else:
            exports.write_xlsx(sheet_or_chunks, temp)
        os.chmod(temp, 0o640)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@reports_cli.command("export")
@click.option("--program", "slug", required=True, help="Mã chương trình, ví dụ to-cnscd-2026.")
@click.option("--kind", type=click.Choice(["units", "members", "quarterly"]), required=True,
              help="units: tiến độ theo đơn vị; members: từng thành viên (dữ liệu cá nhân, "
                   "được ghi nhật ký); quarterly: báo cáo quý.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--quarter", help="Quý của báo cáo quý, ví dụ 2026Q2 (mặc định: quý hiện tại).")
@click.option("--as-of", "as_of_text", help="Ngày tính số liệu YYYY-MM-DD (mặc định: hôm nay).")
@click.option("--unit", "unit_code", help="Mã đơn vị (mặc định: đơn vị của chương trình).")
@click.option("--out", required=True, help="Tệp kết quả; '-' để in ra màn hình.")
def export_command(slug: str, kind: str, fmt: str, quarter: str | None, as_of_text: str | None,
                   unit_code: str | None, out: str) -> None:
    """Xuất số liệu của một chương trình ra CSV (UTF-8 có BOM) hoặc XLSX, cho tác vụ định kỳ."""
    program = _program(slug)
    unit = _unit(program, unit_code)
    within = None if unit.id == program.scope_unit_id else [unit.path]
    try:
        as_of = quarterly.parse_as_of(as_of_text, local_today())
        if kind == "quarterly":
            year, number = (quarterly.parse_quarter(quarter) if quarter
                            else quarter_of(as_of))
            report = quarterly.build_quarterly(program, unit, year, number, within, local_today())
    except quarterly.ReportArgumentError as error:
        _fail(str(error))
    if kind == "units":
        _write(out, fmt, exports.units_sheet(program, unit, as_of, within))
        written = _("tiến độ theo đơn vị, số liệu đến %(day)s", day=as_of.strftime("%d/%m/%Y"))
    elif kind == "quarterly":
        _write(out, fmt, quarterly.quarterly_sheet(report))
        written = _("báo cáo %(quarter)s, số liệu đến %(day)s", quarter=report.label,
                    day=report.as_of.strftime("%d/%m/%Y"))
    else:
        total = exports.member_count(program, as_of, within)
        with click.progressbar(length=total, label=_("Xuất danh sách thành viên"),
                               file=sys.stderr) as bar:
            export = exports.start_member_export(
                program, as_of, within, unit, fmt, actor=None, source="cli",
                on_rows=bar.update)
            _write(out, fmt, export.sheet)
        written = _("%(rows)s thành viên, số liệu đến %(day)s", rows=export.rows,
                    day=as_of.strftime("%d/%m/%Y"))
    if out != "-":
        click.echo(_("Đã ghi %(out)s: %(what)s.", out=out, what=written))


@reports_cli.command("refresh")
def refresh_command() -> None:
    """Đếm lại các tổ có thay đổi kể từ lần đếm trước (chạy định kỳ, ví dụ mỗi phút, để người
    xem bảng theo dõi không phải chờ)."""
    count = refresh_counts()
    click.echo(_("Đã đếm lại %(count)s tổ có thay đổi.", count=count))


@reports_cli.command("recount")
def recount_command() -> None:
    """Đếm lại toàn bộ số liệu tiến độ của mọi chương trình (sau khi khôi phục dữ liệu...)."""
    total = db.session.scalar(select(func.count(Unit.id))) or 0
    with click.progressbar(length=total, label=_("Đếm lại theo đơn vị")) as bar:
        count = rebuild_all(bar.update)
    db.session.commit()
    click.echo(_("Đã đếm lại %(count)s đơn vị.", count=count))


@reports_cli.command("load-programs")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def load_programs_command(path: Path | None) -> None:
    """Nạp chương trình bồi dưỡng từ tệp YAML (mặc định content/programs/*.yaml): tạo mới
    hoặc cập nhật chương trình cùng mã. Có lỗi thì không ghi gì."""
    root = path or Path(current_app.root_path).parent / "content"
    if root.is_file():
        files = [root]
    elif (root / "programs").is_dir():
        files = sorted((root / "programs").glob("*.yaml"))
    else:
        files = sorted(root.glob("*.yaml"))
    if not files:
        _fail(_("Không có tệp chương trình (*.yaml) trong %(path)s.", path=str(root)))
    existing = set(db.session.scalars(select(TrainingProgram.slug)))
    loaded = []
    for file in files:
        try:
            program = load_program_file(file)
        except ProgramError as error:
            db.session.rollback()
            lines = "\n".join(f"  {field}: {message}" for field, message in error.errors.items())
            _fail(_("Tệp %(file)s có lỗi, không nạp chương trình nào:", file=file.name)
                  + "\n" + lines)
        loaded.append(program)
    db.session.commit()
    for program in loaded:
        state = _("cập nhật") if program.slug in existing else _("tạo mới")
        click.echo(_("Chương trình %(slug)s (%(name)s): %(state)s.", slug=program.slug,
                     name=program.name, state=state))
