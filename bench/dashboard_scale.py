"""Program dashboard and member export at province scale (issue 6).

For each database (a SQLite file in a temporary directory; a scratch PostgreSQL database
``hocvuso_bench_*`` created and dropped), it migrates, seeds with ``flask bench seed`` and
measures:

(a) the program dashboard a province officer opens (GET /reports/programs/to-cnscd-2026
    through the Flask test client, or the service calls the page makes while the page does
    not exist yet): median of warm runs, target ≤ 0.5 s;
(b) the member export of the whole province, ``flask reports export --kind members`` as a
    separate process (wall time and its peak RSS), CSV target ≤ 15 s and ≤ 150 MB; the
    XLSX too;
(c) the dashboard after a burst of changes (200 new records, 20 members moved): the
    recount of the teams the triggers marked, then the page.

Size and databases: ``python -m bench.dashboard_scale --members 1000000 --databases
sqlite,postgresql`` or, through ``python -m bench.run dashboard_scale``, the environment
variables SCALE_MEMBERS (default 10000), SCALE_DATABASES (default: sqlite, plus postgresql
when SCALE_PG_URL's server answers), SCALE_PG_URL (server, default
postgresql+psycopg://postgres@127.0.0.1:5432/), SCALE_KEEP=1 keeps the database.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = "to-cnscd-2026"
PASSWORD = "bench-scale-2026"
SEED = 757
WARM_RUNS = 7
DASHBOARD_TARGET = 0.5
EXPORT_SECONDS, EXPORT_RSS_MB = 15.0, 150.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"

# Runs the command given in argv and prints its wall time and peak RSS (kB): the children's
# rusage of this small process holds only that command.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
took = time.perf_counter() - start
if done.returncode:
    sys.stderr.write(done.stderr.decode())
print(done.returncode, took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: reported, no target


@dataclass
class Run:
    database: str
    members: int
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.figures.append(Figure(*args, **kwargs))

    @property
    def ok(self) -> bool:
        return all(f.ok is not False for f in self.figures)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# --- databases ----------------------------------------------------------------------------

def pg_server_answers(server: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(_libpq(server, "postgres"), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return False


def _libpq(server: str, name: str) -> str:
    return server.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/" + name


class ScratchDatabase:
    """A fresh, empty database: a SQLite file, or a PostgreSQL database made for this run."""

    def __init__(self, kind: str, workdir: Path, server: str):
        self.kind, self.server = kind, server
        if kind == "sqlite":
            self.path = workdir / "scale.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            import psycopg

            self.name = f"hocvuso_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(_libpq(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = server.rstrip("/") + "/" + self.name

    def size_mb(self) -> float:
        if self.kind == "sqlite":
            files = [self.path, Path(f"{self.path}-wal")]
            return sum(f.stat().st_size for f in files if f.exists()) / 2**20
        import psycopg

        with psycopg.connect(_libpq(self.server, self.name)) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(_libpq(self.server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def versions(server: str, kinds: list[str]) -> str:
    parts = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    if "postgresql" in kinds:
        import psycopg

        with psycopg.connect(_libpq(server, "postgres")) as conn:
            parts.append("PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0])
    return ", ".join(parts)


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        ram = int(handle.readline().split()[1]) / 2**20
    return f"{os.cpu_count()} cores ({cpu}), {ram:.0f} GB RAM"


# --- steps --------------------------------------------------------------------------------

def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit(f"flask {' '.join(args)} failed with exit status {done.returncode}")
    return done


def seed(env: dict[str, str], members: int, run: Run) -> dict[str, int]:
    from app.reports.scale import parse_totals

    flask(env, "db", "upgrade")
    start = time.perf_counter()
    done = flask(env, "bench", "seed", "--members", str(members), "--seed", str(SEED),
                 "--password-stdin", stdin=PASSWORD + "\n")
    took = time.perf_counter() - start
    totals = parse_totals(done.stdout.splitlines())
    phases = next((line for line in done.stdout.splitlines() if ":" in line
                   and line.split(":")[0].startswith("Thời gian")), "")
    run.add("seed (flask bench seed, whole process)", f"{took:.0f} s", "", None)
    run.notes.append(f"seed phases: {phases.split(':', 1)[-1].strip()}; load {load()}")
    return totals


def _app(url: str):
    from app import create_app

    return create_app({"APP_ENV": "production", "SECRET_KEY": "bench-only",
                       "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False})


def _timed(call, runs: int = WARM_RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def dashboard_call(app, client):
    """The page when it exists (checked in the url map), else the service calls it makes."""
    from app.extensions import db

    if "reports.program" in app.view_functions:
        def page(query: str = ""):
            response = client.get(f"/reports/programs/{PROGRAM}{query}")
            if response.status_code != 200:
                raise SystemExit(f"dashboard answered {response.status_code}")
            db.session.remove()
        return page, "GET /reports/programs/" + PROGRAM

    from sqlalchemy import select

    from app.orgs.models import Unit
    from app.reports.models import TrainingProgram
    from app.reports.progress import children_progress, count_rows, refresh_counts

    def services(query: str = ""):
        program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == PROGRAM))
        refresh_counts()
        parent = program.scope_unit
        children = list(db.session.scalars(select(Unit).where(Unit.parent_id == parent.id)))
        children_progress(program, parent, children, None)
        list(count_rows(program, None, ("month", "score", "mastery")))
        db.session.remove()
    return services, "refresh_counts + children_progress + count_rows (no page yet)"


def measure_dashboard(url: str, run: Run) -> None:
    from app.reports.scale import officer_phone

    app = _app(url)
    with app.app_context():
        client = app.test_client()
        login = client.post("/login", data={"identifier": "0" + officer_phone(0)[3:],
                                            "password": PASSWORD})
        if login.status_code != 302:
            raise SystemExit(f"login of the province officer failed ({login.status_code})")
        call, what = dashboard_call(app, client)
        cold = _timed(call, 1)[0]
        warm = _timed(call)
        median = statistics.median(warm)
        run.add(f"(a) dashboard, province officer: {what}; median of {WARM_RUNS} warm",
                f"{median:.3f} s (min {min(warm):.3f}, max {max(warm):.3f}, first {cold:.3f})",
                f"≤ {DASHBOARD_TARGET} s", median <= DASHBOARD_TARGET)
        if what.startswith("GET"):
            code = _first_commune_code()
            drill = statistics.median(_timed(lambda: call(f"?unit={code}")))
            run.add(f"(a) same page, one commune's teams (?unit={code}), median", f"{drill:.3f} s",
                    f"≤ {DASHBOARD_TARGET} s", drill <= DASHBOARD_TARGET)
        refresh, page = burst_then_dashboard(call)
        run.add("(c) after 200 new records + 20 moves: refresh_counts()",
                f"{refresh[0]:.2f} s ({refresh[1]} teams recounted)", "", None)
        run.add("(c) after another such burst: the dashboard (recount included)",
                f"{page:.2f} s", "", None)
        app_engine_dispose(app)


def _first_commune_code() -> str:
    from sqlalchemy import select

    from app.extensions import db
    from app.orgs.models import Unit

    return db.session.scalar(select(Unit.code).where(Unit.kind.in_(("phuong", "xa")))
                             .order_by(Unit.code).limit(1))


def app_engine_dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def burst(records: int = 200, moves: int = 20) -> None:
    """New records for members missing a course and members moved to another team, through
    ordinary INSERT/UPDATE statements so the triggers mark the teams dirty."""
    from sqlalchemy import and_, func, insert, select, update

    from app.auth.models import User
    from app.courses.models import Course, CourseVersion
    from app.extensions import db
    from app.orgs.models import Unit
    from app.records.models import CompletionRecord

    rng = __import__("random").Random(time.time_ns())
    courses = db.session.execute(
        select(Course.id, CourseVersion.id, CourseVersion.title)
        .join(CourseVersion, CourseVersion.course_id == Course.id)
        .where(CourseVersion.status == "published")).all()
    top = db.session.scalar(select(func.max(User.id)))
    rows, seen = [], set()
    while len(rows) < records:
        user_id = rng.randint(1, top)
        course_id, version_id, title = rng.choice(courses)
        if (user_id, course_id) in seen or db.session.scalar(select(CompletionRecord.id).where(
                CompletionRecord.user_id == user_id, CompletionRecord.course_id == course_id)):
            continue
        user = db.session.get(User, user_id)
        seen.add((user_id, course_id))
        rows.append({"user_id": user_id, "course_id": course_id, "course_version_id": version_id,
                     "completed_at": datetime.now(UTC), "score_percent": 90.0,
                     "competencies": [], "source": "online", "issuing_unit_id": user.unit_id,
                     "verification_code": secrets.token_urlsafe(16), "holder_name": user.full_name,
                     "course_title": title, "created_at": datetime.now(UTC)})
    db.session.execute(insert(CompletionRecord), rows)
    teams = db.session.scalars(select(Unit.id).where(Unit.kind == "team")).all()
    for _ in range(moves):
        db.session.execute(update(User).where(and_(User.id == rng.randint(1, top)))
                           .values(unit_id=rng.choice(teams)))
    db.session.commit()


def burst_then_dashboard(call) -> tuple[tuple[float, int], float]:
    from app.reports.progress import refresh_counts

    burst()
    start = time.perf_counter()
    teams = refresh_counts()
    refresh = time.perf_counter() - start
    burst()
    return (refresh, teams), _timed(call, 1)[0]


def export_command(env: dict[str, str], out: Path, fmt: str) -> tuple[list[str], str]:
    """`flask reports export` when the command exists, else a plain streamed CSV."""
    from app import create_app

    app = create_app({"APP_ENV": "production", "SECRET_KEY": "bench-only",
                      "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    reports = app.cli.commands.get("reports")
    if reports is not None and "export" in getattr(reports, "commands", {}):
        return ([sys.executable, "-m", "flask", "--app", "wsgi", "reports", "export",
                 "--program", PROGRAM, "--kind", "members", "--format", fmt, "--out", str(out)],
                f"flask reports export --program {PROGRAM} --kind members --format {fmt} "
                f"--out members.{fmt}")
    if fmt != "csv":
        return [], ""
    return ([sys.executable, "-m", "bench.dashboard_scale", "--plain-export", str(out)],
            "member_statuses streamed with yield_per into csv.writer (no export command yet)")


def plain_export(out: Path) -> None:
    """The fallback export: the definition's query, streamed, one CSV row per member."""
    import csv

    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.reports.models import TrainingProgram
    from app.reports.progress import local_today, member_statuses

    app = create_app()
    with app.app_context(), out.open("w", encoding="utf-8-sig", newline="") as handle:
        program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == PROGRAM))
        writer = csv.writer(handle)
        stmt = member_statuses(program, local_today())
        for row in db.session.execute(stmt.execution_options(yield_per=5000)):
            writer.writerow(row)


def measure_export(env: dict[str, str], workdir: Path, run: Run, population: int) -> None:
    above = 1
    for fmt in ("csv", "xlsx"):
        out = workdir / f"members.{fmt}"
        command, what = export_command(env, out, fmt)
        if not command:
            continue
        done = subprocess.run([sys.executable, "-c", _MEASURE, *command], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        status, took, rss_kb = done.stdout.split()
        if status != "0":
            print(done.stderr[-3000:])
            raise SystemExit(f"export failed with exit status {status}")
        took, rss = float(took), int(rss_kb) / 1024
        rows, above = _rows(out, fmt, above)
        size = out.stat().st_size / 2**20
        run.notes.append(f"export {fmt}: {what}")
        right = rows == population
        if fmt == "csv":
            run.add(f"(b) member export CSV, {rows:,} rows ({size:.0f} MB), wall",
                    f"{took:.1f} s", f"≤ {EXPORT_SECONDS:.0f} s", took <= EXPORT_SECONDS and right)
        else:
            run.add(f"(b) member export XLSX, {rows:,} rows ({size:.0f} MB), wall",
                    f"{took:.1f} s", "", None if right else False)
        run.add(f"(b) member export {fmt.upper()}, peak RSS", f"{rss:.0f} MB",
                f"≤ {EXPORT_RSS_MB:.0f} MB", rss <= EXPORT_RSS_MB)
        if not right:
            run.notes.append(f"export {fmt}: {rows} rows, the population is {population}")
        out.unlink()


def _rows(out: Path, fmt: str, above: int) -> tuple[int, int]:
    """(data rows, rows above them) of an export. CSV: the rows after the header row (the
    one naming "Họ và tên"); XLSX, laid out the same: every row minus the CSV's ``above``,
    counted in the sheet's XML (openpyxl would take a minute to read a million rows)."""
    if fmt == "csv":
        with out.open(encoding="utf-8-sig") as handle:
            above = 0
            for line in handle:
                above += 1
                if "Họ và tên" in line:
                    break
            return sum(1 for line in handle if line.strip()), above
    import zipfile

    rows, tail = 0, b""
    with zipfile.ZipFile(out) as book, book.open("xl/worksheets/sheet1.xml") as xml:
        while chunk := xml.read(1 << 20):
            data = tail + chunk
            rows += data.count(b"<row ") + data.count(b"<row>")
            tail = data[-4:]
    return rows - above, above


def population(url: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.reports.models import TrainingProgram
    from app.reports.progress import local_today, population_on

    app = _app(url)
    with app.app_context():
        program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == PROGRAM))
        count = db.session.scalar(select(func.count()).select_from(
            population_on(program, local_today()).subquery()))
        db.session.remove()
        db.engine.dispose()
    return int(count)


def run_one(kind: str, members: int, server: str, keep: bool) -> Run:
    run = Run(kind, members)
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    database = ScratchDatabase(kind, workdir, server)
    env = dict(os.environ, APP_ENV="production", SECRET_KEY="bench-only",
               DATABASE_URL=database.url, RATELIMIT_ENABLED="0")
    env.pop("TEST_DATABASE_URL", None)
    try:
        run.notes.append(f"load average at start {load()}")
        totals = seed(env, members, run)
        run.notes.append("seeded: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
        run.add("database size after the seed", f"{database.size_mb():,.0f} MB")
        measure_dashboard(database.url, run)
        run.notes.append(f"load average after the dashboard {load()}")
        measure_export(env, workdir, run, population(database.url))
        run.notes.append(f"load average at the end {load()}")
    finally:
        if keep:
            print(f"kept: {database.url}")
        else:
            database.drop()
            shutil.rmtree(workdir, ignore_errors=True)
    return run


def report(runs: list[Run], server: str) -> None:
    kinds = [r.database for r in runs]
    print(f"{date.today():%Y-%m-%d}, {machine()}, {versions(server, kinds)}")
    for run in runs:
        print(f"-- {run.database}, {run.members:,} members")
        width = max(len(f.name) for f in run.figures)
        for f in run.figures:
            verdict = {True: "met", False: "MISSED", None: ""}[f.ok]
            print(f"  {f.name:<{width}}  {f.value:<40} {f.target:<9} {verdict}")
        for note in run.notes:
            print(f"  · {note}")


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int,
                        default=int(os.environ.get("SCALE_MEMBERS", "10000")))
    parser.add_argument("--databases", default=os.environ.get("SCALE_DATABASES"))
    parser.add_argument("--pg-url", default=os.environ.get("SCALE_PG_URL", DEFAULT_PG))
    parser.add_argument("--keep", action="store_true", default=bool(os.environ.get("SCALE_KEEP")))
    parser.add_argument("--plain-export", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.plain_export:
        plain_export(args.plain_export)
        return True
    kinds = (args.databases.split(",") if args.databases else
             ["sqlite"] + (["postgresql"] if pg_server_answers(args.pg_url) else []))
    runs = [run_one(kind.strip(), args.members, args.pg_url, args.keep) for kind in kinds]
    report(runs, args.pg_url)
    ok = all(run.ok for run in runs)
    print(f"targets: {'met' if ok else 'MISSED'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
