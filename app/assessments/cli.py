"""`flask questions import-gift / export-gift` and `flask content coverage`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.assessments import bank, framework, gift
from app.assessments.models import Question
from app.audit import record_audit
from app.courses.cli import content_cli
from app.courses.content import ContentInvalid
from app.courses.models import Course
from app.extensions import db

questions_cli = AppGroup("questions", help="Ngân hàng câu hỏi (GIFT của Moodle).")


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.UsageError(f"không có khóa học '{slug}'")
    return course


@questions_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "slug", required=True, help="Khóa học nhận các câu hỏi.")
@click.option("--competency", default=None,
              help="Mã năng lực cho các câu không có dòng $CATEGORY: 757/<mã>.")
def import_gift_command(file: Path, slug: str, competency: str | None) -> None:
    """Import FILE (GIFT) into the bank of course SLUG; nothing is written if any error."""
    course = _course(slug)
    codes = bank.known_codes()
    if competency is not None and competency not in codes:
        raise click.UsageError(f"mã năng lực '{competency}' không có trong khung 757")
    try:
        text = gift.decode_gift(file.read_bytes())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    result = gift.import_gift(course, text, codes, competency)
    for problem in result.problems:
        tag = "" if problem.is_error else " [bỏ qua]"
        title = f" ({problem.title})" if problem.title else ""
        click.echo(f"{file.name}:{problem.line}{tag}{title}: {problem.reason}", err=True)
    if not result.ok:
        db.session.rollback()
        click.echo(f"Không nhập câu nào: tệp có {len(result.errors)} lỗi.", err=True)
        raise SystemExit(1)
    record_audit("questions.import_gift", target=f"course:{course.slug}", file=file.name,
                 created=result.counts.created, updated=result.counts.updated,
                 skipped=len(result.skipped))
    db.session.commit()
    click.echo(f"{course.slug}: {result.counts}"
               + (f", {len(result.skipped)} câu bỏ qua" if result.skipped else ""))


@questions_cli.command("export-gift")
@click.option("--course", "slug", required=True, help="Khóa học cần xuất.")
@click.option("--include-retired", is_flag=True, help="Xuất cả các câu đã ngừng dùng.")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
def export_gift_command(slug: str, include_retired: bool, out: Path) -> None:
    """Write the bank of course SLUG to OUT in GIFT (use - for the screen)."""
    course = _course(slug)
    stmt = select(Question).where(Question.course_id == course.id)
    if not include_retired:
        stmt = stmt.where(Question.status != "retired")
    specs = [bank.spec_of(q) for q in db.session.scalars(stmt)]
    text = gift.export_gift(specs, heading=f"Học vụ số — ngân hàng câu hỏi khóa {course.slug}")
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Đã xuất {len(specs)} câu hỏi của {course.slug} vào {out}")


@content_cli.command("coverage")
@click.argument("path", required=False, default=None,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
def coverage_command(path: Path | None) -> None:
    """For each framework competency: the lessons and active questions covering it."""
    fallback = None
    root = path or Path(current_app.config.get("CONTENT_DIR")
                        or Path(current_app.root_path).parent / "content")
    try:
        fallback = framework.load_framework(root / framework.FRAMEWORK_FILE)
    except ContentInvalid:
        fallback = None
    rows = framework.coverage(fallback)
    if not rows:
        click.echo("Chưa có khung năng lực: chạy `flask content import` trước.")
        return
    uncovered = 0
    for row in rows:
        click.echo(f"{row.code} {row.label}")
        for course_slug, lessons in row.lessons.items():
            listed = ", ".join(lessons) if lessons else "chưa có bài"
            click.echo(f"  bài học {course_slug}: {listed}")
        detail = ", ".join(f"{slug} {n}" for slug, n in row.questions.items())
        click.echo(f"  câu hỏi đang dùng: {row.question_total}" + (f" ({detail})" if detail else ""))
        if row.gaps:
            uncovered += 1
            click.echo(f"  CHƯA PHỦ: {'; '.join(row.gaps)}")
    click.echo(f"{len(rows) - uncovered}/{len(rows)} năng lực có cả bài học và câu hỏi; "
               f"{uncovered} năng lực chưa phủ đủ.")
