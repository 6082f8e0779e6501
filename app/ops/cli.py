"""`flask backup create OUT` / `flask backup restore IN`: the database, whole."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.ops import backup

backup_cli = AppGroup("backup", help="Sao lưu và khôi phục cơ sở dữ liệu (SQLite hoặc PostgreSQL).")


@contextmanager
def page_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar sized on the first report (SQLite page counts; PostgreSQL reports none)."""
    state: dict = {}

    def report(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            state["bar"].__enter__()
        bar = state["bar"]
        bar.update(done - bar.pos)

    try:
        yield report
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def _fail(error: backup.BackupError) -> None:
    click.echo(str(error), err=True)
    sys.exit(1)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024 / 1024:.1f} MB"


@backup_cli.command("create")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def create_command(out: Path) -> None:
    """Sao lưu nhất quán khi ứng dụng vẫn chạy: SQLite → tệp SQLite, PostgreSQL → pg_dump -Fc."""
    click.echo(_("Đang sao lưu cơ sở dữ liệu vào %(path)s…", path=out), err=True)
    try:
        with page_progress(_("Sao lưu")) as progress:
            backup.create_backup(out, progress)
    except backup.BackupError as error:
        _fail(error)
    click.echo(_("Đã sao lưu vào %(path)s (%(size)s).", path=out, size=_size(out)))


@backup_cli.command("restore")
@click.argument("archive", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Không hỏi lại (dùng trong script).")
def restore_command(archive: Path, yes: bool) -> None:
    """Thay toàn bộ cơ sở dữ liệu bằng bản sao lưu IN. Hãy dừng ứng dụng trước."""
    if not archive.is_file():
        _fail(backup.BackupError(_("Không tìm thấy tệp %(path)s.", path=archive)))
    if not yes and not click.confirm(_("Mọi dữ liệu hiện có sẽ bị thay bằng %(path)s. Tiếp tục?",
                                       path=archive)):
        click.echo(_("Đã hủy; không thay đổi gì."), err=True)
        sys.exit(1)
    try:
        with page_progress(_("Khôi phục")) as progress:
            backup.restore_backup(archive, progress)
    except backup.BackupError as error:
        _fail(error)
    click.echo(_("Đã khôi phục cơ sở dữ liệu từ %(path)s.", path=archive))
