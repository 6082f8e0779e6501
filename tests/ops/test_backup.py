"""flask backup create/restore: a restore brings back exactly what was backed up.

Each round trip runs in a scratch database of its own (a SQLite file; on PostgreSQL a
database created next to TEST_DATABASE_URL and dropped afterwards), never the suite's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.assessments import attempts
from app.auth.models import User
from app.courses import services as course_services
from app.courses.models import Course
from app.extensions import db
from app.ops import backup
from app.orgs.models import Unit
from app.records import rules
from app.records.models import CompletionRecord
from tests.assessments.factories import build_world, quick_user
from tests.factories import make_unit
from tests.scratchdb import scratch_postgres

ROOT = Path(__file__).resolve().parents[2]


def scratch_app(url: str, tmp_path: Path):
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                       "UPLOAD_DIR": str(tmp_path / "uploads")})


@pytest.fixture
def sqlite_scratch(tmp_path) -> Iterator:
    app = scratch_app(f"sqlite:///{tmp_path / 'live.sqlite3'}", tmp_path)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def postgres_scratch(tmp_path) -> Iterator:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL=postgresql+psycopg://… to run it")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed (apt-get install postgresql-client)")
    with scratch_postgres(url, "hocvuso_opsbackup") as scratch:
        app = scratch_app(scratch, tmp_path)
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def scratch(request):
    return request.getfixturevalue(f"{request.param}_scratch")


def fill(app, tmp_path: Path) -> None:
    """Units, people, two courses, attempts (submitted and open), completion records."""
    world = build_world()
    for user in (world.learner, world.other):
        attempt, _ = attempts.start_attempt(user, world.assessment)
        if user is world.learner:
            attempts.submit(attempt)
        db.session.commit()
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", content / "frameworks")
    shutil.copytree(ROOT / "content" / "examples" / "khoa-hoc-mau",
                    content / "courses" / "khoa-hoc-mau")
    result = app.test_cli_runner().invoke(args=["content", "import", str(content), "--publish"])
    assert result.exit_code == 0, result.output
    course = db.session.scalar(select(Course).where(Course.slug == "khoa-hoc-mau"))
    version = course_services.published_version(course.id)
    team = make_unit("XA-1-T1", "Tổ CNSCĐ ấp 1", kind="team", parent=world.commune)
    people = [world.learner, world.other] + [
        quick_user(team, name=f"Thành viên {i}", phone=f"+8491100010{i}") for i in range(3)]
    for person in people:
        for lesson in version.lessons:
            course_services.mark_lesson_done(person, course, version, lesson.slug)
        assert rules.record_completion_if_due(person, course) is not None
    db.session.commit()


def snapshot() -> dict:
    """Row counts of every table and a hash over the completion records, row by row."""
    db.session.remove()
    counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
              for table in db.metadata.sorted_tables}
    rows = db.session.execute(select(CompletionRecord.__table__).order_by(CompletionRecord.id))
    digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    db.session.remove()
    return {"counts": counts, "completion_records": digest}


def damage() -> None:
    """What a restore has to undo: a deletion, an update, new rows."""
    record = db.session.scalar(select(CompletionRecord).order_by(CompletionRecord.id.desc()))
    db.session.delete(record)
    first = db.session.scalar(select(CompletionRecord).order_by(CompletionRecord.id))
    first.revoke_reason, first.holder_name = "nhầm", "Tên đã sửa"
    db.session.add(Unit(code="MOI", name="Đơn vị mới", kind="xa", path="/", depth=0))
    db.session.execute(text("DELETE FROM attempt_items"))
    db.session.commit()


def test_round_trip_brings_back_every_row(scratch, tmp_path):
    fill(scratch, tmp_path)
    before = snapshot()
    assert before["counts"]["completion_records"] == 5
    assert before["counts"]["attempts"] == 2 and before["counts"]["users"] == 5
    archive = tmp_path / "backups" / "hocvuso.backup"
    runner = scratch.test_cli_runner()

    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.is_file() and "Đã sao lưu" in result.output

    damage()
    assert snapshot() != before

    db.session.remove()
    result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Đã khôi phục" in result.output
    assert snapshot() == before
    # Identities/sequences came back too: new rows get fresh ids.
    make_unit("SAU-KHOI-PHUC")
    quick_user(db.session.scalar(select(Unit).where(Unit.code == "SAU-KHOI-PHUC")),
               phone="+84911000555")
    assert db.session.scalar(select(func.count()).select_from(User)) == 6


def test_restore_asks_before_replacing(sqlite_scratch, tmp_path):
    archive = tmp_path / "b.sqlite3"
    make_unit("A1")
    db.session.commit()
    runner = sqlite_scratch.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    make_unit("A2")
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["backup", "restore", str(archive)], input="n\n")
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 2


class TestRefusals:
    def test_sqlite_restore_refuses_a_file_that_is_not_sqlite(self, sqlite_scratch, tmp_path):
        make_unit("GIU-NGUYEN")
        db.session.commit()
        before = snapshot()
        bogus = tmp_path / "khong-phai.db"
        bogus.write_text("code,name\n75,Đồng Nai\n", encoding="utf-8")
        result = sqlite_scratch.test_cli_runner().invoke(
            args=["backup", "restore", str(bogus), "--yes"])
        assert result.exit_code == 1
        assert "không phải là tệp cơ sở dữ liệu SQLite" in result.output
        assert snapshot() == before

    def test_sqlite_restore_refuses_a_damaged_file(self, sqlite_scratch, tmp_path):
        damaged = tmp_path / "hong.sqlite3"
        damaged.write_bytes(backup.SQLITE_MAGIC + b"\x10\x00" + os.urandom(4000))
        result = sqlite_scratch.test_cli_runner().invoke(
            args=["backup", "restore", str(damaged), "--yes"])
        assert result.exit_code == 1
        assert str(damaged) in result.output

    def test_sqlite_restore_refuses_a_postgres_archive(self, sqlite_scratch, tmp_path):
        archive = tmp_path / "pg.backup"
        archive.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
        result = sqlite_scratch.test_cli_runner().invoke(
            args=["backup", "restore", str(archive), "--yes"])
        assert result.exit_code == 1 and "SQLite" in result.output

    def test_missing_file(self, sqlite_scratch, tmp_path):
        result = sqlite_scratch.test_cli_runner().invoke(
            args=["backup", "restore", str(tmp_path / "khong-co.db"), "--yes"])
        assert result.exit_code == 1 and "Không tìm thấy" in result.output

    def test_postgres_restore_refuses_a_sqlite_file(self, tmp_path):
        plain = tmp_path / "a.sqlite3"
        sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
        with pytest.raises(backup.BackupError, match="pg_dump -Fc"):
            backup.check_pg_archive(plain)

    def test_in_memory_database_cannot_be_backed_up(self):
        with pytest.raises(backup.BackupError):
            backup.sqlite_path(make_url("sqlite://"))


def test_sqlite_backup_is_one_snapshot_while_the_app_writes(sqlite_scratch, tmp_path, monkeypatch):
    """Writes land between the copy's steps; the copy neither restarts nor includes them."""
    for index in range(400):
        db.session.add(Unit(code=f"U{index}", name="Đơn vị " + "x" * 300, kind="xa",
                            path="/", depth=0))
    db.session.commit()
    db.session.remove()
    monkeypatch.setattr(backup, "PAGES_PER_STEP", 4)
    live = Path(make_url(sqlite_scratch.config["SQLALCHEMY_DATABASE_URI"]).database)
    writer = sqlite3.connect(live, isolation_level=None)
    steps = []

    def progress(done: int, total: int) -> None:
        steps.append((done, total))
        writer.execute("INSERT INTO units (code, name, kind, path, depth, created_at, updated_at) "
                       "VALUES (?, 'trong lúc sao lưu', 'xa', '/', 0, '2026-01-01', '2026-01-01')",
                       (f"W{len(steps)}",))

    out = tmp_path / "snapshot.sqlite3"
    backup.backup_sqlite(live, out, progress)
    writer.close()
    total = steps[-1][1]
    assert len(steps) == -(-total // 4) > 10  # one report per step: never restarted
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    copy = sqlite3.connect(out)
    assert copy.execute("SELECT count(*) FROM units").fetchone()[0] == 400
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 400 + len(steps)


def test_sqlite_restore_refuses_while_the_app_has_the_database_open(sqlite_scratch, tmp_path):
    """A running worker would go on writing to the replaced file: stop first, says the message."""
    make_unit("A1")
    db.session.commit()
    archive = tmp_path / "b.sqlite3"
    runner = sqlite_scratch.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    make_unit("A2")
    db.session.commit()
    db.session.remove()
    live = make_url(sqlite_scratch.config["SQLALCHEMY_DATABASE_URI"]).database
    worker = sqlite3.connect(live)  # another process's idle pooled connection
    worker.execute("SELECT count(*) FROM units").fetchone()
    try:
        result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    finally:
        worker.close()
    assert result.exit_code == 1
    assert "đang được dùng" in result.output and "dừng ứng dụng" in result.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 2
    assert not list(Path(live).parent.glob(".*.tmp"))


def test_sqlite_restore_refuses_while_another_process_has_the_file_open(sqlite_scratch,
                                                                          tmp_path):
    """Even a worker that connected but never read (no lock yet) keeps the old file open."""
    archive = tmp_path / "b.sqlite3"
    runner = sqlite_scratch.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    db.session.remove()
    live = make_url(sqlite_scratch.config["SQLALCHEMY_DATABASE_URI"]).database
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('PRAGMA user_version').fetchone(); print('ready', flush=True); "
         "sys.stdin.read()", live], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert backup.processes_holding(Path(live)) == [holder.pid]
        result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    finally:
        holder.communicate("")
    assert result.exit_code == 1 and "đang được dùng" in result.output
    assert backup.processes_holding(Path(live)) == []
    assert runner.invoke(args=["backup", "restore", str(archive), "--yes"]).exit_code == 0


def test_restore_keeps_the_replaced_file(sqlite_scratch, tmp_path):
    make_unit("CU")
    db.session.commit()
    archive = tmp_path / "empty.sqlite3"
    runner = sqlite_scratch.test_cli_runner()
    db.session.execute(text("DELETE FROM units"))
    db.session.commit()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    make_unit("CU")
    db.session.commit()
    db.session.remove()
    assert runner.invoke(args=["backup", "restore", str(archive), "--yes"]).exit_code == 0
    live = make_url(sqlite_scratch.config["SQLALCHEMY_DATABASE_URI"]).database
    previous = sqlite3.connect(f"{live}.pre-restore")
    assert previous.execute("SELECT code FROM units").fetchall() == [("CU",)]
    previous.close()
    assert not list(Path(live).parent.glob(".*.tmp"))


class TestPostgresCommands:
    def test_password_goes_in_the_environment_not_the_command_line(self):
        url = make_url("postgresql+psycopg://hocvuso:m%40t%20khau@db.example:5433/hocvuso"
                       "?sslmode=require")
        dsn, env = backup.libpq_target(url)
        assert dsn == "postgresql://hocvuso@db.example:5433/hocvuso?sslmode=require"
        assert env["PGPASSWORD"] == "m@t khau"
        assert "khau" not in dsn

    def test_older_client_than_server_is_refused_with_advice(self, app, monkeypatch):
        monkeypatch.setattr(backup, "tool_major_version", lambda tool: 15)
        monkeypatch.setattr(backup, "server_major_version", lambda: 17)
        with pytest.raises(backup.BackupError, match="/usr/lib/postgresql/17/bin"):
            backup.check_client_version("pg_dump")

    def test_missing_tool_says_how_to_install_it(self, app, tmp_path):
        app.config["PG_BIN_DIR"] = str(tmp_path)
        with pytest.raises(backup.BackupError, match="postgresql-client"):
            backup.pg_tool("pg_dump")

    def test_client_version_is_read(self):
        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump is not installed")
        assert backup.tool_major_version(shutil.which("pg_dump")) >= 10
