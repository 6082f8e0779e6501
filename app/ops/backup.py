"""Database backups: a consistent copy while the app runs, and a restore that replaces it whole.

SQLite: the sqlite3 online backup API, copying from one pinned read snapshot (WAL lets the
workers go on writing meanwhile; without the pin every write would restart the copy), into a
temporary file that is renamed into place. A restore copies the archive into a temporary
file next to the database, checks it, then swaps it in with one atomic rename, and refuses
while any process still has the database open.

PostgreSQL: ``pg_dump -Fc`` and ``pg_restore --clean --if-exists --no-owner
--single-transaction`` (all or nothing). The client tools must be of the server's major
version or newer (PG_BIN_DIR picks another installation); the password goes to them in
PGPASSWORD, never on the command line where ``ps`` would show it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PAGES_PER_STEP = 1024  # pages copied between two progress reports (4 MiB with 4 KiB pages)

# (pages done, pages in all): how a caller shows progress.
Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the administrator."""


def database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def dialect_of(url: URL) -> str:
    name = url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(_("Chưa hỗ trợ sao lưu cơ sở dữ liệu loại %(name)s.", name=name))
    return name


def create_backup(out: Path, progress: Progress | None = None) -> None:
    """Back up the app's database to ``out`` (SQLite file or pg_dump custom archive)."""
    url = database_url()
    if dialect_of(url) == "sqlite":
        backup_sqlite(sqlite_path(url), out, progress)
    else:
        dump_postgres(url, out)


def restore_backup(archive: Path, progress: Progress | None = None) -> None:
    """Replace the app's database with the content of ``archive``; stop the app first."""
    url = database_url()
    # Pooled connections would keep the old SQLite file open, or hold locks that
    # pg_restore's DROP TABLE waits on.
    db.session.remove()
    db.engine.dispose()
    if dialect_of(url) == "sqlite":
        restore_sqlite(archive, sqlite_path(url), progress)
    else:
        restore_postgres(url, archive)


# --- SQLite -----------------------------------------------------------------------------

def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(_("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được."))
    return Path(url.database)


def _temp_beside(path: Path, purpose: str) -> Path:
    """A temporary name in the same folder, so the final rename stays on one file system."""
    return path.with_name(f".{path.name}.{purpose}-{secrets.token_hex(4)}.tmp")


def _copy_sqlite(source: sqlite3.Connection, target: Path, progress: Progress | None) -> None:
    """Copy ``source`` page by page into a new file ``target`` and check the copy."""
    destination = sqlite3.connect(target)
    try:
        def report(_status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)

        source.backup(destination, pages=PAGES_PER_STEP, progress=report)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check = destination.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(_("Bản sao không toàn vẹn: %(detail)s", detail=check))
    finally:
        destination.close()


def backup_sqlite(database: Path, out: Path, progress: Progress | None = None) -> None:
    if not database.is_file():
        raise BackupError(_("Không tìm thấy tệp cơ sở dữ liệu %(path)s.", path=database))
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(out, "backup")
    source = sqlite3.connect(database, timeout=current_app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    try:
        source.execute("BEGIN")  # pin one snapshot: writers go on, the copy never restarts
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _copy_sqlite(source, temp, progress)
        source.rollback()
        os.replace(temp, out)
    finally:
        source.close()
        temp.unlink(missing_ok=True)


def check_sqlite_archive(archive: Path) -> None:
    """Refuse anything that is not a readable, intact SQLite database."""
    not_sqlite = BackupError(_("%(path)s không phải là tệp cơ sở dữ liệu SQLite; không khôi phục.",
                               path=archive))
    try:
        with archive.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                raise not_sqlite
    except OSError:
        raise BackupError(_("Không đọc được tệp %(path)s.", path=archive)) from None
    try:
        connection = sqlite3.connect(f"{archive.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise not_sqlite from None
    if check != "ok":
        raise BackupError(_("Tệp %(path)s bị hỏng (%(detail)s); không khôi phục.",
                            path=archive, detail=check))


def restore_sqlite(archive: Path, database: Path, progress: Progress | None = None) -> None:
    """Checked copy of ``archive`` beside ``database``, then one atomic rename over it.

    The file it replaces stays as ``<name>.pre-restore`` until the next restore.
    """
    check_sqlite_archive(archive)
    database.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(database, "restore")
    try:
        source = sqlite3.connect(f"{archive.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _copy_sqlite(source, temp, progress)
        finally:
            source.close()
        if not database.exists():
            os.replace(temp, database)
            return
        lock = _take_over(database)
        try:
            _keep_previous(database)
            os.replace(temp, database)
        finally:
            lock.close()
        for suffix in ("-wal", "-shm"):  # the old file's journal must never meet the new file
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    finally:
        temp.unlink(missing_ok=True)


def _take_over(database: Path) -> sqlite3.Connection:
    """Leave WAL mode (folding the log into the file) and hold the write lock for the swap.

    SQLite leaves WAL mode only when no other connection, in any process, has the file open:
    exactly the proof that the app is stopped, whose workers would go on using the old file.
    """
    in_use = BackupError(_("Cơ sở dữ liệu đang được dùng. Hãy dừng ứng dụng (gunicorn) "
                           "rồi khôi phục lại; chưa thay đổi gì."))
    if processes_holding(database):
        raise in_use
    connection = sqlite3.connect(database, timeout=1, isolation_level=None)
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode != "delete":
            raise sqlite3.OperationalError(mode)
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError:
        connection.close()
        raise in_use from None
    return connection


def processes_holding(path: Path) -> list[int]:
    """Other processes with ``path`` open, as far as /proc shows (Linux; others' processes
    only to root). Catches a worker that has connected but not yet read, so holds no lock."""
    target = os.path.realpath(path)
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_dir.parent.name)
        if pid == os.getpid():
            continue
        try:
            if any(os.readlink(fd) == target for fd in fd_dir.iterdir()):
                found.append(pid)
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return found


def _keep_previous(database: Path) -> None:
    previous = Path(f"{database}.pre-restore")
    previous.unlink(missing_ok=True)
    try:
        os.link(database, previous)  # same bytes, no copy; the rename below keeps it intact
    except OSError:
        shutil.copy2(database, previous)


# --- PostgreSQL -------------------------------------------------------------------------

def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password ("None" means "unchanged" there).
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)
    dsn = bare.render_as_string(hide_password=False)
    return dsn, env


def pg_tool(name: str) -> str:
    """The pg_dump/pg_restore to run: PG_BIN_DIR's, else the first on PATH."""
    directory = current_app.config.get("PG_BIN_DIR")
    path = str(Path(directory) / name) if directory else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise BackupError(_("Không tìm thấy %(tool)s. Cài gói postgresql-client "
                            "(apt-get install postgresql-client) hoặc đặt PG_BIN_DIR.", tool=name))
    return path


def tool_major_version(tool: str) -> int:
    output = subprocess.run([tool, "--version"], capture_output=True, text=True,
                            check=True).stdout
    match = re.search(r"\)\s*(\d+)", output)
    if not match:
        raise BackupError(_("Không đọc được phiên bản của %(tool)s: %(output)s",
                            tool=tool, output=output.strip()))
    return int(match.group(1))


def server_major_version() -> int:
    return int(db.session.scalar(text("SHOW server_version_num"))) // 10000


def check_client_version(tool: str) -> None:
    """pg_dump refuses a newer server; say so, and what to do, before it starts."""
    client, server = tool_major_version(tool), server_major_version()
    db.session.remove()
    if client < server:
        raise BackupError(_("%(tool)s là phiên bản %(client)s nhưng máy chủ PostgreSQL là "
                            "%(server)s: cần công cụ cùng phiên bản hoặc mới hơn (đặt "
                            "PG_BIN_DIR, ví dụ /usr/lib/postgresql/%(server)s/bin).",
                            tool=tool, client=client, server=server))


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s thất bại (mã %(code)s): %(detail)s",
                            tool=Path(command[0]).name, code=result.returncode,
                            detail=result.stderr.strip()))


def dump_postgres(url: URL, out: Path) -> None:
    pg_dump = pg_tool("pg_dump")
    check_client_version(pg_dump)
    dsn, env = libpq_target(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(out, "backup")
    try:
        _run([pg_dump, "--format=custom", "--no-password", f"--file={temp}",
              f"--dbname={dsn}"], env)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)


def check_pg_archive(archive: Path) -> None:
    try:
        with archive.open("rb") as handle:
            magic = handle.read(len(PGDUMP_MAGIC))
    except OSError:
        raise BackupError(_("Không đọc được tệp %(path)s.", path=archive)) from None
    if magic != PGDUMP_MAGIC:
        raise BackupError(_("%(path)s không phải là bản sao lưu PostgreSQL (pg_dump -Fc); "
                            "không khôi phục.", path=archive))


def restore_postgres(url: URL, archive: Path) -> None:
    check_pg_archive(archive)
    pg_restore = pg_tool("pg_restore")
    dsn, env = libpq_target(url)
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--no-password", f"--dbname={dsn}", str(archive)], env)
