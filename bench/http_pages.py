"""HTTP load on the pages members use most, against two ceilings on the same machine.

For each database size (``BENCH_MEMBERS``, default 10000; ``BENCH_GROWTH=1`` runs 10,000,
100,000 and 1,000,000) it seeds a database (``harness.prepare_province``: ``flask bench seed``), prepares sessions
and open attempts, starts ``gunicorn -k gthread -w 2 --threads 4`` and drives each page with
wrk (50 connections, 2 threads, a warm-up and then a fixed duration, 127.0.0.1 only):

- lesson, catalog, assessment page (an open attempt): GETs with a session cookie obtained by
  signing in once through the login form;
- answer autosave: POSTs with the CSRF token, cycling over 500 members' open attempts
  (``wrk_pool.lua``);
- submission: every request submits its own open attempt, pre-made in bulk (one per member,
  answers already saved); the pool is sized above what the duration can use and the script
  reports any repeat, so no figure silently includes the cheap "already submitted" path;
- the officers' program dashboard when ``app.reports`` serves one (``REPORT_PAGES``).

The same gunicorn command serves ``bench.ceilings:lookup`` (one primary-key lookup, a 5 KB
template) beside the app, and each page with a target is measured right after a run of that
ceiling: its share is taken against that neighbouring run, since this machine's speed drifts by
±20 % over minutes. ``bench.ceilings:minimal`` (165 bytes) and a last lookup run close the
size; pages without a target are reported against that last one. SQL statements per request are counted in-process with the
test client. ``BENCH_DATABASE_URL=postgresql://…`` runs on a scratch PostgreSQL database
created next to that URL (dropped afterwards); the default is a temporary SQLite file.
"""

from __future__ import annotations

import os
import platform
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import Gunicorn, flask_command, free_port, prepare_province
from bench.seeding import member_login, member_phone

CONNECTIONS = 50
WRK_THREADS = 2
WARMUP_S = 3
DURATION_S = 10
SUBMIT_DURATION_S = 5
SUBMIT_POOL = 4000  # > 5 s at 800 submissions/s
AUTOSAVE_POOL = 500
PASSWORD = "HocVuSoBench2026"
AGENT = "hocvuso-bench"
COURSE = "ai-co-ban"
LUA_POOL = Path(__file__).with_name("wrk_pool.lua")

# Targets as shares of the one-lookup ceiling, and the lesson page's p99 at 50 connections.
TARGETS = {"lesson": 0.50, "autosave": 0.40, "submit": 0.15}
LESSON_P99_MS = 50.0


@dataclass
class Page:
    """One measured page: a GET with a session cookie, or a pool of prepared requests."""

    name: str
    path: str = ""
    cookie: str = ""
    pool: list[dict] = field(default_factory=list)  # for wrk_pool.lua
    once: bool = False  # each pool entry usable once
    # Officers' pages: first drain the recount queue the runs before left, as the periodic
    # `flask reports refresh` does in production (README), and report how long that took.
    refresh_first: bool = False
    duration: int = DURATION_S
    expect: tuple[int, ...] = (200,)


@dataclass
class Measure:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses and socket errors
    repeats: int = 0
    queries: int | None = None
    cpu_ms: float | None = None  # the gunicorn workers' CPU time per request (user+system)
    reference: Measure | None = None  # the lookup ceiling's run just before this page's


# --- wrk ---------------------------------------------------------------------------------

def ensure_wrk() -> str | None:
    """Path to wrk; installs Debian's package when missing and allowed to."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get update && apt-get install -y wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, timeout=300)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"could not install wrk ({exc}); install it with: apt-get install -y wrk")
        return None
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def workers_cpu_s(master_pid: int) -> float:
    """User+system CPU seconds of the master's child processes (the workers), from /proc.

    Less sensitive than req/s to what else the shared machine runs at the moment."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master_pid:  # fields[1] is ppid; utime, stime at 11, 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(wrk: str, url: str, page: Page, duration: int, workdir: Path,
            master_pid: int | None = None) -> Measure:
    command = [wrk, "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{duration}s",
               "--latency", "--timeout", "10s", "-H", f"User-Agent: {AGENT}"]
    env = dict(os.environ)
    if page.pool:
        pool_file = workdir / f"pool-{page.name}.lua"
        if not pool_file.exists():
            pool_file.write_text(lua_table(page.pool), encoding="utf-8")
        env.update(BENCH_POOL=str(pool_file), BENCH_THREADS=str(WRK_THREADS),
                   BENCH_ONCE="1" if page.once else "0", BENCH_UA=AGENT)
        command += ["-s", str(LUA_POOL)]
    else:
        command += ["-H", f"Cookie: {page.cookie}"] if page.cookie else []
    cpu_before = workers_cpu_s(master_pid) if master_pid else 0.0
    done = subprocess.run([*command, url + (page.path if not page.pool else "/")], env=env,
                          capture_output=True, text=True, timeout=duration + 60)
    cpu = workers_cpu_s(master_pid) - cpu_before if master_pid else None
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed for {page.name}:\n{out}\n{done.stderr}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"no latency distribution from wrk for {page.name}:\n{out}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    repeats = re.search(r"pool repeats: (\d+)", out)
    count = int(re.search(r"(\d+) requests in", out).group(1))
    if count == 0:  # nothing answered within wrk's --timeout: never a figure
        bad = max(bad, 1)
    return Measure(page.name, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                   _ms(latency["50"]), _ms(latency["99"]), count, bad,
                   int(repeats.group(1)) if repeats else 0,
                   cpu_ms=1000 * cpu / count if cpu is not None and count else None)


def lua_table(entries: list[dict]) -> str:
    """The pool as a Lua chunk; long brackets need no escaping for cookies and form bodies."""
    def quote(value: str) -> str:
        assert "]==]" not in value
        return f"[==[{value}]==]"

    rows = ["{" + ", ".join(f"{key} = {quote(str(value))}" for key, value in entry.items()) + "}"
            for entry in entries]
    return "return {\n" + ",\n".join(rows) + "\n}\n"


# --- Database and sessions ---------------------------------------------------------------

@contextmanager
def scratch_database(members: int, workdir: Path) -> Iterator[str]:
    """A new database for one size: a SQLite file, or a PostgreSQL database of our own."""
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{workdir / f'bench-{members}.sqlite3'}"
        return
    from tests.scratchdb import scratch_postgres

    with scratch_postgres(base, f"hocvuso_load_{members}") as url:
        yield url


def form_login(base_url: str, identifier: str, password: str) -> str:
    """Sign in through the login form as a phone would; returns the Cookie header value."""
    import requests

    with requests.Session() as http:
        http.headers["User-Agent"] = AGENT
        page = http.get(base_url + "/login", timeout=30)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        answer = http.post(base_url + "/login", allow_redirects=False, timeout=30,
                           data={"identifier": identifier, "password": password,
                                 "csrf_token": token})
        if answer.status_code != 302:
            raise RuntimeError(f"form login failed: {answer.status_code}")
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def answer_fields(snapshot: dict, position: int) -> dict:
    """Form fields answering a drawn question right (the values its page offers)."""
    name, data, kind = f"q{position}", snapshot["data"], snapshot["type"]
    if kind == "single":
        weights = [o["weight"] for o in data["options"]]
        return {name: str(weights.index(max(weights)))}
    if kind == "multiple":
        return {name: [str(i) for i, o in enumerate(data["options"]) if o["weight"] > 0]}
    if kind == "true_false":
        return {name: "true" if data["answer"] else "false"}
    if kind == "short_answer":
        first = data["answers"][0]
        return {name: first if isinstance(first, str) else first["text"]}
    if kind == "numerical":
        value = data["answer"] if "answer" in data else data["answers"][0]["answer"]
        return {name: str(value).replace(".", ",")}
    by_text = {c["text"]: c["id"] for c in snapshot["choices"]}
    return {f"{name}-{i}": by_text[p["right"]] for i, p in enumerate(data["pairs"])}


@dataclass
class Prepared:
    """What the pages need, made in-process on the bench database."""

    autosave: list[dict]
    submit: list[dict]


def prepare_pools(env: dict[str, str]) -> Prepared:
    """Sessions and open attempts for the POST pages, made with the app's own services.

    Sessions are signed with the app's session serializer (as a login would leave them)
    instead of 4,500 scrypt logins; ten draws are made with the attempt service's own
    ``draw_questions``/``build_snapshot`` and the open attempts (answers saved) are written
    with bulk INSERTs, each member's next attempt number.
    """
    os.environ.update(env)
    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import func, insert, select
    from werkzeug.datastructures import MultiDict

    from app import create_app
    from app.assessments import attempts
    from app.assessments.models import Assessment, Attempt, AttemptItem
    from app.auth.models import User
    from app.auth.services import password_fingerprint
    from app.courses.models import Course
    from app.extensions import db

    app = create_app()
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    wanted = AUTOSAVE_POOL + SUBMIT_POOL + 2
    with app.app_context():
        assessment = db.session.scalar(select(Assessment).join(Course).where(Course.slug == COURSE))
        # Members (not member 0, who signs in through the form) without an open attempt here;
        # those with a history get the next attempt number.
        numbers = dict(db.session.execute(
            select(Attempt.user_id, func.max(Attempt.number))
            .where(Attempt.assessment_id == assessment.id).group_by(Attempt.user_id)).all())
        busy = set(db.session.scalars(select(Attempt.user_id).where(
            Attempt.assessment_id == assessment.id, Attempt.status == "open")))
        users = [u for u in db.session.scalars(
            select(User).where(User.phone.like("+8431%"), User.phone != member_phone(0),
                               User.is_active_member.is_(True))  # the seed retires ~2 %
            .order_by(User.phone).limit(wanted + len(busy))) if u.id not in busy][:wanted]
        if len(users) < wanted:
            raise SystemExit(f"need {wanted} members, found {len(users)}")
        # Ten draws as start_attempt makes them (no rows written), shared round-robin.
        shapes = []
        for seed in range(10):
            rng = random.Random(seed)
            shapes.append([(position, q.id, q.competency_code,
                            attempts.build_snapshot(q, rng, assessment.shuffle_options))
                           for position, q in enumerate(attempts.draw_questions(assessment, rng), 1)])
        now = datetime.now(UTC)
        deadline = now + timedelta(minutes=assessment.time_limit_minutes or 60)
        rest = users
        db.session.execute(insert(Attempt), [{
            "assessment_id": assessment.id, "user_id": u.id, "number": numbers.get(u.id, 0) + 1,
            "status": "open", "open_marker": 1, "started_at": now, "deadline_at": deadline,
            "pass_percent": assessment.pass_percent, "show_answers": assessment.show_answers,
            "competency_scores": {}, "seed": n % len(shapes),
        } for n, u in enumerate(rest)])
        ids = dict(db.session.execute(select(Attempt.user_id, Attempt.id).where(
            Attempt.assessment_id == assessment.id, Attempt.status == "open")).all())
        items = []
        for n, user in enumerate(rest):
            for position, question_id, code, snapshot in shapes[n % len(shapes)]:
                response = attempts.parse_response(
                    snapshot, position, MultiDict(answer_fields(snapshot, position)))
                items.append({"attempt_id": ids[user.id], "position": position,
                              "question_id": question_id, "competency_code": code,
                              "snapshot": snapshot, "response": response, "answered_at": now})
        for start in range(0, len(items), 20_000):
            db.session.execute(insert(AttemptItem), items[start:start + 20_000])
        db.session.commit()

        def signed(user: User) -> tuple[str, str]:
            with app.test_request_context("/", headers={"User-Agent": AGENT},
                                          environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                # One app context for every member: drop what the previous one left in g
                # (Flask-WTF keeps the signed token there, Flask-Login the user).
                g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
                g.pop("_login_user", None)
                login_user(user)
                session["_pw"] = password_fingerprint(user)
                token = generate_csrf()
                return f"{cookie_name}={serializer.dumps(dict(session))}", token

        autosave, submit = [], []
        shape_of = {user.id: shapes[n % len(shapes)] for n, user in enumerate(rest)}
        autosave_users, submit_users = rest[:AUTOSAVE_POOL], rest[AUTOSAVE_POOL:]
        for n, user in enumerate(autosave_users):
            cookie, token = signed(user)
            position, _, _, snapshot = shape_of[user.id][n % len(shape_of[user.id])]
            body = urlencode({"csrf_token": token, "position": position,
                              **answer_fields(snapshot, position)}, doseq=True)
            autosave.append({"method": "POST", "path": f"/attempts/{ids[user.id]}/answer",
                             "cookie": cookie, "body": body})
        for user in submit_users:
            cookie, token = signed(user)
            submit.append({"method": "POST", "path": f"/attempts/{ids[user.id]}/submit",
                           "cookie": cookie, "body": urlencode({"csrf_token": token})})
    return Prepared(autosave=autosave, submit=submit)


# --- SQL per request ---------------------------------------------------------------------

def count_queries(env: dict[str, str], pages: list[Page]) -> dict[str, int]:
    """Statements one request of each page sends, with the app's test client (warm: the
    second request is counted). A pool page uses its last two entries (never sent by wrk
    within the duration)."""
    os.environ.update(env)
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    for page in pages:
        requests = ([page.pool[-1], page.pool[-2]] if page.pool
                    else [{"method": "GET", "path": page.path, "cookie": page.cookie}] * 2)
        seen: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany, seen=seen):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
                seen.append(statement)

        for number, entry in enumerate(requests):
            client = app.test_client(use_cookies=False)
            headers = {"User-Agent": AGENT, "Cookie": entry["cookie"]}
            if number == 1:
                event.listen(engine, "before_cursor_execute", before)
            try:
                response = client.open(entry["path"], method=entry["method"], headers=headers,
                                       data=entry.get("body"),
                                       content_type="application/x-www-form-urlencoded"
                                       if entry.get("body") else None)
            finally:
                if number == 1:
                    event.remove(engine, "before_cursor_execute", before)
            if response.status_code not in page.expect:
                raise RuntimeError(f"{page.name}: {entry['path']} answered "
                                   f"{response.status_code} in-process")
        counts[page.name] = len(seen)
    with app.app_context():
        db.engine.dispose()
    return counts


# --- One size ----------------------------------------------------------------------------

# Officers' pages (app.reports): (name, path, the officer's phone as typed on the login form).
# flask bench seed makes officer 0 the province's and loads the program to-cnscd-2026.
REPORT_PAGES: list[tuple[str, str, str]] = [
    ("program dashboard", "/reports/programs/to-cnscd-2026", "0320000000"),
]


def measure_size(wrk: str, members: int, workdir: Path) -> tuple[list[Measure], dict]:
    facts: dict = {}
    with scratch_database(members, workdir) as url:
        env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
        env.update(APP_ENV="production", SECRET_KEY=secrets.token_hex(32), DATABASE_URL=url,
                   RATELIMIT_ENABLED="0", UPLOAD_DIR=str(workdir / "uploads"),
                   SIGNING_KEY_DIR=str(workdir / "keys"), SESSION_COOKIE_SECURE="0")
        started = time.perf_counter()
        seeded = prepare_province(env, members, PASSWORD)
        facts["seed_s"] = time.perf_counter() - started
        facts["seed"] = " ".join(seeded.strip().splitlines()[-1].split())
        print(f"  seeded {members:,} members in {facts['seed_s']:.0f} s: {facts['seed']}")
        prepared = prepare_pools(env)
        log = workdir / f"gunicorn-{members}.log"
        lookup_server = Gunicorn(env, free_port(), workdir / "ceiling-lookup-beside.log",
                                 app="bench.ceilings:lookup", ready_path="/")
        with Gunicorn(env, free_port(), log) as server, lookup_server:
            cookie = form_login(server.url, member_login(0), PASSWORD)
            lesson_path = first_lesson_path(server.url, cookie)
            attempt_path = start_attempt(server.url, cookie)
            pages = [
                Page("lesson", lesson_path, cookie),
                Page("catalog", "/courses/", cookie),
                Page("assessment page", attempt_path, cookie),
                Page("autosave", pool=prepared.autosave),
                Page("submit", pool=prepared.submit, once=True, duration=SUBMIT_DURATION_S,
                     expect=(302,)),
            ]
            pages += [Page(name, path, form_login(server.url, phone, PASSWORD), refresh_first=True)
                      for name, path, phone in REPORT_PAGES]
            results = []
            for page in pages:
                if page.refresh_first:
                    started = time.perf_counter()
                    said = flask_command(env, "reports", "refresh", timeout=3600).strip()
                    facts["refresh_s"] = time.perf_counter() - started
                    print(f"  flask reports refresh after the runs above: "
                          f"{facts['refresh_s']:.1f} s ({said.splitlines()[-1] if said else ''})")
                reference = None
                if page.name in TARGETS:
                    reference = ceiling_run(wrk, lookup_server, workdir,
                                            f"ceiling: lookup, before {page.name}")
                if not page.once:
                    run_wrk(wrk, server.url, page, WARMUP_S, workdir)
                results.append(run_wrk(wrk, server.url, page, page.duration, workdir,
                                       server.process.pid))
                results[-1].reference = reference
                print_line(results[-1])
        counts = count_queries(env, [p for p in pages if not p.once] + [
            Page("submit", pool=prepared.submit[-2:], once=True, expect=(302,))])
        for result in results:
            result.queries = counts.get(result.name)
        for app_name in ("minimal", "lookup"):
            with Gunicorn(env, free_port(), workdir / f"ceiling-{app_name}.log",
                          app=f"bench.ceilings:{app_name}", ready_path="/") as server:
                result = ceiling_run(wrk, server, workdir, f"ceiling: {app_name}")
            result.queries = 0 if app_name == "minimal" else 1
            results.append(result)
    return results, facts


def ceiling_run(wrk: str, server: Gunicorn, workdir: Path, name: str) -> Measure:
    """One ceiling measured as the pages are: a warm-up, then the fixed duration."""
    ceiling = Page(name, "/")
    run_wrk(wrk, server.url, ceiling, WARMUP_S, workdir)
    result = run_wrk(wrk, server.url, ceiling, DURATION_S, workdir, server.process.pid)
    result.queries = 1 if "lookup" in name else 0
    print_line(result)
    return result


def print_line(result: Measure) -> None:
    cpu = f"{result.cpu_ms:5.2f}" if result.cpu_ms is not None else "  -  "
    print(f"  {result.name:18} {result.rps:8.0f} req/s  p50 {result.p50_ms:7.1f} ms  "
          f"p99 {result.p99_ms:7.1f} ms  cpu {cpu} ms/req  bad {result.bad}  "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)


def first_lesson_path(base_url: str, cookie: str) -> str:
    import requests

    page = requests.get(f"{base_url}/courses/{COURSE}/", timeout=30,
                        headers={"Cookie": cookie, "User-Agent": AGENT})
    return re.search(rf'href="(/courses/{COURSE}/lessons/[\w-]+)"', page.text).group(1)


def start_attempt(base_url: str, cookie: str) -> str:
    """Member 0 starts the assessment through the intro page's form; the attempt's page 1."""
    import requests

    headers = {"Cookie": cookie, "User-Agent": AGENT}
    intro = requests.get(f"{base_url}/courses/{COURSE}/assessment/", headers=headers, timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', intro.text).group(1)
    started = requests.post(f"{base_url}/courses/{COURSE}/assessment/start", headers=headers,
                            data={"csrf_token": token}, allow_redirects=False, timeout=30)
    attempt_id = re.search(r"/attempts/(\d+)/", started.headers["Location"]).group(1)
    return f"/attempts/{attempt_id}/?page=1"


# --- Report ------------------------------------------------------------------------------

def machine() -> str:
    model = "?"
    with suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    postgres = "-"
    if os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = make_url(os.environ["BENCH_DATABASE_URL"]).set(drivername="postgresql")
        with psycopg.connect(dsn.render_as_string(hide_password=False)) as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]
    return (f"{platform.machine()}, {os.cpu_count()} cores ({model}), Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL {postgres}")


def report(members: int, results: list[Measure]) -> bool:
    last_lookup = next(r for r in results if r.name == "ceiling: lookup")
    ok = True
    print(f"\n  {members:,} members\n  | page | req/s | share of one-lookup ceiling (req/s) | "
          f"CPU ms/request (share by CPU) | p50 ms | p99 ms | SQL/request | target |")
    for result in results:
        lookup = result.reference or last_lookup
        share = result.rps / lookup.rps if lookup.rps else 0.0
        by_cpu = (f"{result.cpu_ms:.2f} ({lookup.cpu_ms / result.cpu_ms:.0%})"
                  if result.cpu_ms and lookup.cpu_ms else "-")
        verdict = ""
        target = TARGETS.get(result.name)
        if target is not None:
            met = share >= target
            verdict = f"≥ {target:.0%}: {'met' if met else 'MISSED'}"
            ok = ok and met
        if result.name == "lesson":
            met = result.p99_ms < LESSON_P99_MS
            verdict += f"; p99 < {LESSON_P99_MS:.0f} ms: {'met' if met else 'MISSED'}"
            ok = ok and met
        if result.bad:
            verdict += f"; {result.bad} bad responses/errors"
            ok = False
        if result.repeats:
            verdict += f"; pool ran out ({result.repeats} repeats): figure invalid"
            ok = False
        queries = "-" if result.queries is None else str(result.queries)
        if result.reference:
            verdict += f" (against the lookup run just before: {lookup.rps:.0f} req/s)"
        print(f"  | {result.name} | {result.rps:.0f} | {share:.0%} | {by_cpu} | "
              f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {queries} | {verdict} |")
    return ok


def sizes() -> list[int]:
    if os.environ.get("BENCH_GROWTH") == "1":
        return [10_000, 100_000, 1_000_000]
    return [int(n) for n in os.environ.get("BENCH_MEMBERS", "10000").split(",")]


def main() -> bool:
    wrk = ensure_wrk()
    if wrk is None:
        return False
    print(f"machine: {machine()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"server: gunicorn -k gthread -w 2 --threads 4 (no config file); wrk -t{WRK_THREADS} "
          f"-c{CONNECTIONS} -d{DURATION_S}s (submission {SUBMIT_DURATION_S}s) after "
          f"{WARMUP_S}s warm-up; database: "
          f"{'PostgreSQL' if os.environ.get('BENCH_DATABASE_URL', '').startswith('postgres') else 'SQLite'}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        for members in sizes():
            print(f"== {members:,} members")
            workdir = Path(tmp) / str(members)
            workdir.mkdir()
            results, _ = measure_size(wrk, members, workdir)
            ok = report(members, results) and ok
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

