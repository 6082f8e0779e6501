"""`flask content …`: import the content folder, export a course back to files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.courses import services
from app.extensions import db

content_cli = AppGroup("content", help="Nội dung khóa học (tệp Markdown).")

STATUS_WORDS = {"created": "tạo mới", "updated": "phiên bản mới", "published": "đã xuất bản",
                "unchanged": "không đổi", "error": "LỖI, không nhập"}


@content_cli.command("import")
@click.argument("path", required=False, default="content",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--publish", "publish_now", is_flag=True,
              help="Xuất bản ngay phiên bản mới (mặc định: lưu bản nháp).")
def import_command(path: Path, publish_now: bool) -> None:
    """Import the framework and every course under PATH (default: content/)."""
    report = services.import_content_tree(path, publish_now=publish_now)
    db.session.commit()
    for slug, status in report.results.items():
        click.echo(f"{slug}: {STATUS_WORDS.get(status, status)}")
    for error in report.errors:
        click.echo(str(error), err=True)
    if not report.ok:
        raise SystemExit(1)


@content_cli.command("export")
@click.argument("slug")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export_command(slug: str, out_dir: Path) -> None:
    """Write course SLUG (its latest version) to OUT_DIR/SLUG in the file format."""
    try:
        target = services.export_course(slug, out_dir)
    except LookupError:
        raise click.UsageError(f"không có khóa học '{slug}'") from None
    click.echo(f"Đã xuất {slug} vào {target}")
