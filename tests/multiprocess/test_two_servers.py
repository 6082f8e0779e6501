"""Two gunicorn servers over one PostgreSQL database and one Redis, as production runs them.

200 simulated learners, each with its own HTTP session, switch server at every request: they
sign in, read and mark the lessons of a course, take its assessment (parsing the attempt
pages), and submit; some double-start, double-mark or double-submit at the same moment on
both servers. The database must then hold exactly what the clients did, and the login limit
must count across both processes through Redis.

Skipped unless RUN_MULTIPROCESS=1 and TEST_DATABASE_URL is PostgreSQL (`.ci/run` does both).
Once asked to run, a missing Redis is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from bench.harness import ROOT, Gunicorn, free_port, prepare_database
from bench.seeding import member_login, member_phone
from tests.assessments.test_attempts_shipped import perfect_form
from tests.scratchdb import scratch_postgres

REDIS_URL = os.environ.get("MULTIPROCESS_REDIS_URL", "redis://127.0.0.1:6379/13")
LEARNERS = 200
PASSWORD = "HocVuSo2026multi"
COURSE = "ai-co-ban"
LOGIN_LIMIT = 3  # per identifier and minute, for these servers only
LIMITED_LOGIN = "0900000005"  # the demo learner: not one of the 200
TIME_BUDGET_S = 300.0  # the whole load phase; a request waits at most REQUEST_TIMEOUT_S
REQUEST_TIMEOUT_S = 60.0

_url = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.skipif(os.environ.get("RUN_MULTIPROCESS") != "1",
                       reason="two-server test: set RUN_MULTIPROCESS=1 (and a PostgreSQL "
                              "TEST_DATABASE_URL) to run it, as .ci/run does"),
    pytest.mark.skipif(not _url.startswith("postgres"),
                       reason="two-server test needs TEST_DATABASE_URL=postgresql+psycopg://…"),
]

requests = pytest.importorskip("requests", reason="pip install -e '.[test]' (requests)")

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT_URL = re.compile(r"/attempts/(\d+)/")


# --- Fixtures: Redis, a scratch database, two servers --------------------------------------

@pytest.fixture(scope="module")
def redis_url() -> str:
    """Redis index of our own, emptied; unreachable Redis fails loudly (never a skip)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}. The two-server test needs "
                    "it for the shared login limits (start redis-server on 127.0.0.1:6379).",
                    pytrace=False)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database next to TEST_DATABASE_URL, dropped at the end."""
    with scratch_postgres(_url, "hocvuso_multiproc") as scratch:
        yield scratch


@pytest.fixture(scope="module")
def server_env(scratch_database, redis_url, tmp_path_factory) -> dict[str, str]:
    instance = tmp_path_factory.mktemp("multiprocess")
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env.update(
        APP_ENV="production", SECRET_KEY=secrets.token_hex(32), DATABASE_URL=scratch_database,
        RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_ENABLED="1",
        LOGIN_LIMIT_PER_IDENTIFIER=f"{LOGIN_LIMIT} per minute",
        LOGIN_LIMIT_PER_IP="100000 per minute",  # every learner comes from 127.0.0.1
        UPLOAD_DIR=str(instance / "uploads"), SIGNING_KEY_DIR=str(instance / "keys"),
        SESSION_COOKIE_SECURE="0", TRUSTED_PROXIES="0",
    )
    prepare_database(env, LEARNERS, PASSWORD, progress_share=0)  # no lesson read yet
    return env


@pytest.fixture(scope="module")
def gunicorns(server_env, tmp_path_factory) -> Iterator[list[Gunicorn]]:
    logs = tmp_path_factory.mktemp("gunicorn")
    # The production settings (access log, worker recycling, timeouts) when the checkout has
    # them; -w/--threads/-b given here take precedence over the file.
    config = ROOT / "gunicorn.conf.py"
    config = config if config.exists() else None
    with (Gunicorn(server_env, free_port(), logs / "a.log", config=config) as first,
          Gunicorn(server_env, free_port(), logs / "b.log", config=config) as second):
        yield [first, second]


@pytest.fixture(scope="module")
def servers(gunicorns) -> list[str]:
    return [server.url for server in gunicorns]


@pytest.fixture(scope="module")
def database(scratch_database) -> Iterator[Callable[..., list[tuple]]]:
    """Run a query on the scratch database (one connection shared by every thread)."""
    conn = psycopg.connect(scratch_database, autocommit=True)
    lock = threading.Lock()

    def query(sql: str, *params: Any) -> list[tuple]:
        with lock:
            return conn.execute(sql, params).fetchall()

    yield query
    conn.close()


# --- Simulated learners ------------------------------------------------------------------

class Traffic:
    """Every response any client saw, and the unexpected ones in full."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []

    def note(self, response, expected: tuple[int, ...], what: str) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code not in expected:
                self.problems.append(f"{what}: {response.request.method} {response.url} → "
                                     f"{response.status_code} (expected {expected}) "
                                     f"{response.text[:300]!r}")


@dataclass
class Learner:
    index: int
    servers: list[str]
    traffic: Traffic
    oracle: Callable[[int], dict[int, dict]]
    passes: bool
    skips_last_lesson: bool
    double_mark: bool
    double_start: bool
    double_submit: bool
    uses_autosave: bool
    done: set[str] = field(default_factory=set)
    attempt_id: int | None = None
    submitted: int = 0
    _turn: int = 0

    def __post_init__(self) -> None:
        self.http = requests.Session()
        # A new connection per request: a kept-alive one that gunicorn closes after its 2 s
        # idle limit while this learner talks to the other server would race the next send
        # (a browser retries that silently; a POST here must not be sent twice).
        self.http.headers["Connection"] = "close"

    def base(self) -> str:
        """Switch server at every request: the session must hold on both."""
        self._turn += 1
        return self.servers[(self.index + self._turn) % 2]

    def call(self, method: str, path: str, expected: tuple[int, ...], what: str,
             base: str | None = None, **kwargs):
        response = self.http.request(method, (base or self.base()) + path,
                                     allow_redirects=False, timeout=REQUEST_TIMEOUT_S, **kwargs)
        self.traffic.note(response, expected, f"learner {self.index} {what}")
        return response

    def both_at_once(self, method: str, path: str, expected: tuple[int, ...], what: str,
                     **kwargs) -> list:
        """The same request on both servers at the same moment (double click, two tabs)."""
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def send(slot: int) -> None:
            barrier.wait(timeout=30)
            results[slot] = self.call(method, path, expected, what, base=self.servers[slot],
                                      **kwargs)

        threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_S + 30)
        return results

    def csrf(self, html: str) -> str:
        match = CSRF.search(html)
        assert match, f"learner {self.index}: no CSRF token on the page"
        return match.group(1)

    def run(self) -> None:
        try:
            self._run()
        finally:
            self.http.close()

    def _run(self) -> None:
        page = self.call("GET", "/login", (200,), "login page")
        login = self.call("POST", "/login", (302,), "login", data={
            "identifier": member_login(self.index), "password": PASSWORD,
            "csrf_token": self.csrf(page.text)})
        if login.status_code != 302:
            return
        course = self.call("GET", f"/courses/{COURSE}/", (200,), "course page")
        slugs = list(dict.fromkeys(re.findall(rf'href="/courses/{COURSE}/lessons/([\w-]+)"',
                                              course.text)))
        assert len(slugs) >= 5, f"learner {self.index}: lessons not found on the course page"
        for number, slug in enumerate(slugs):
            if self.skips_last_lesson and number == len(slugs) - 1:
                break
            path = f"/courses/{COURSE}/lessons/{slug}"
            lesson = self.call("GET", path, (200,), "lesson")
            form = {"csrf_token": self.csrf(lesson.text)}
            if self.double_mark and number == 1:
                answers = self.both_at_once("POST", path + "/done", (302,), "double mark",
                                            data=form)
                ok = all(r is not None and r.status_code == 302 for r in answers)
            else:
                ok = self.call("POST", path + "/done", (302,), "mark done",
                               data=form).status_code == 302
            if ok:
                self.done.add(slug)
        self.take_assessment()

    def take_assessment(self) -> None:
        intro = self.call("GET", f"/courses/{COURSE}/assessment/", (200,), "assessment intro")
        form = {"csrf_token": self.csrf(intro.text)}
        path = f"/courses/{COURSE}/assessment/start"
        if self.double_start:
            started = self.both_at_once("POST", path, (302,), "double start", data=form)
            ids = {int(ATTEMPT_URL.search(r.headers.get("Location", "")).group(1))
                   for r in started if r is not None and r.status_code == 302}
            assert len(ids) == 1, f"learner {self.index}: two starts made attempts {ids}"
            self.attempt_id = ids.pop()
        else:
            start = self.call("POST", path, (302,), "start", data=form)
            self.attempt_id = int(ATTEMPT_URL.search(start.headers["Location"]).group(1))
        key = self.oracle(self.attempt_id)
        total = len(key)
        right_up_to = total if self.passes else int(total * 0.4)
        pages = None
        page_number = 1
        token = form["csrf_token"]
        while pages is None or page_number <= pages:
            html = self.call("GET", f"/attempts/{self.attempt_id}/?page={page_number}", (200,),
                             "attempt page").text
            if pages is None:
                pages = max(int(p) for p in re.findall(r'name="go" value="(\d+)"', html) or ["1"])
            token = self.csrf(html)
            positions = [int(p) for p in re.findall(r'id="q(\d+)" data-position', html)]
            assert positions, f"learner {self.index}: no questions on page {page_number}"
            fields: dict[str, Any] = {}
            for position in positions:
                answer = (perfect_form(SimpleNamespace(snapshot=key[position], position=position))
                          if position <= right_up_to else wrong_form(key[position], position))
                _check_offered(html, answer, self.index)
                fields.update(answer)
            if self.uses_autosave and page_number == 1:
                first = positions[0]
                own = {k: v for k, v in fields.items() if k == f"q{first}" or
                       k.startswith(f"q{first}-")}
                saved = self.call("POST", f"/attempts/{self.attempt_id}/answer", (200,),
                                  "autosave", data={"csrf_token": token, "position": first, **own})
                assert saved.status_code != 200 or saved.json()["ok"] is True
            self.call("POST", f"/attempts/{self.attempt_id}/", (302,), "save page",
                      data={"csrf_token": token, "page": page_number, "go": "next", **fields})
            page_number += 1
        submit = f"/attempts/{self.attempt_id}/submit"
        if self.double_submit:
            answers = self.both_at_once("POST", submit, (302,), "double submit",
                                        data={"csrf_token": token})
            ok = any(r is not None and r.status_code == 302 for r in answers)
        else:
            ok = self.call("POST", submit, (302,), "submit",
                           data={"csrf_token": token}).status_code == 302
        self.submitted += int(ok)
        self.call("GET", f"/attempts/{self.attempt_id}/result", (200,), "result")


def wrong_form(snapshot: dict, position: int) -> dict:
    """Fields that answer a drawn question wrongly (still well-formed for its type)."""
    name, data, kind = f"q{position}", snapshot["data"], snapshot["type"]
    if kind in ("single", "multiple"):
        wrong = [str(i) for i, o in enumerate(data["options"]) if o.get("weight", 0) <= 0]
        return {name: wrong[0] if kind == "single" else wrong[:1]}
    if kind == "true_false":
        return {name: "false" if data["answer"] else "true"}
    if kind == "numerical":
        return {name: "-987654"}
    if kind == "short_answer":
        return {name: "không biết"}
    return {}  # matching: left blank


def _check_offered(html: str, fields: dict, learner: int) -> None:
    """Choice values we send are among those the page offers for that field."""
    for name, value in fields.items():
        offered = set(re.findall(
            rf'type="(?:radio|checkbox)" name="{re.escape(name)}" value="([^"]*)"', html))
        if name.count("-"):  # matching: <select name="qN-i"> with <option value=…>
            start = html.index(f'name="{name}"')
            offered = set(re.findall(r'<option value="([^"]*)"',
                                     html[start:html.index("</select>", start)]))
        if not offered:  # a text input: anything goes
            continue
        for one in value if isinstance(value, list) else [value]:
            assert one in offered, f"learner {learner}: {name}={one!r} not in {sorted(offered)}"


# --- The test ----------------------------------------------------------------------------

def test_login_limit_counts_across_both_servers(servers):
    """Failed logins spread over two processes add up in Redis: the server that saw only
    some of them still refuses the one over the limit."""
    first, second = servers
    sessions = {url: requests.Session() for url in servers}
    seen: dict[str, list[int]] = {first: [], second: []}
    try:
        for attempt in range(LOGIN_LIMIT + 2):
            url = servers[attempt % 2]  # first, second, first, second, first
            http = sessions[url]
            page = http.get(url + "/login", timeout=REQUEST_TIMEOUT_S)
            token = CSRF.search(page.text).group(1)
            response = http.post(url + "/login", allow_redirects=False,
                                 timeout=REQUEST_TIMEOUT_S,
                                 data={"identifier": LIMITED_LOGIN, "password": "sai-mat-khau-9",
                                       "csrf_token": token})
            seen[url].append(response.status_code)
    finally:
        for http in sessions.values():
            http.close()
    # Limit 3: the second server saw one failure when the fourth attempt came to it.
    assert seen[first] == [401, 401, 429], seen
    assert seen[second] == [401, 429], seen


def test_two_hundred_learners_on_two_servers(servers, database):
    def oracle(attempt_id: int) -> dict[int, dict]:
        return dict(database("SELECT position, snapshot FROM attempt_items WHERE attempt_id = %s",
                             attempt_id))

    traffic = Traffic()
    learners = [Learner(
        index=i, servers=servers, traffic=traffic, oracle=oracle,
        passes=i % 3 != 2, skips_last_lesson=i % 5 == 4, double_mark=i % 7 == 0,
        double_start=i % 6 == 1, double_submit=i % 4 == 3, uses_autosave=i % 2 == 0,
    ) for i in range(LEARNERS)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=LEARNERS) as pool:
        futures = [pool.submit(learner.run) for learner in learners]
        failures = []
        for learner, future in zip(learners, futures, strict=True):
            try:
                future.result(timeout=max(1.0, TIME_BUDGET_S - (time.monotonic() - started)))
            except Exception as exc:  # noqa: BLE001 (reported below, with the learner)
                failures.append(f"learner {learner.index}: {type(exc).__name__}: {exc}")
    took = time.monotonic() - started
    requests_made = sum(traffic.statuses.values())
    print(f"{LEARNERS} learners, {requests_made} requests in {took:.1f} s "
          f"({requests_made / took:.0f}/s): {dict(sorted(traffic.statuses.items()))}")

    server_errors = [p for p in traffic.problems if " → 5" in p]
    assert not server_errors, "\n".join(server_errors[:20])
    assert not failures, "\n".join(failures[:20])
    assert not traffic.problems, "\n".join(traffic.problems[:20])

    users = dict(database("SELECT phone, id FROM users WHERE phone LIKE '+8431%%'"))
    user_of = {learner.index: users[member_phone(learner.index)] for learner in learners}
    by_user = {user_of[learner.index]: learner for learner in learners}

    # One scored attempt per submission; every attempt a client saw is that one.
    attempts = database(
        "SELECT a.user_id, a.id, a.status, a.score_percent, a.is_passed FROM attempts a "
        "JOIN assessments s ON s.id = a.assessment_id JOIN courses c ON c.id = s.course_id "
        "WHERE c.slug = %s", COURSE)
    per_user = Counter(row[0] for row in attempts)
    assert set(per_user) == set(by_user)
    assert all(n == 1 for n in per_user.values()), [u for u, n in per_user.items() if n != 1]
    for user_id, attempt_id, status, score, passed in attempts:
        learner = by_user[user_id]
        assert learner.submitted == 1
        assert (attempt_id, status) == (learner.attempt_id, "submitted"), learner.index
        assert score is not None and passed is learner.passes, (learner.index, score)

    # Lesson progress: exactly the marks the clients made (double marks count once).
    rows = database("SELECT lp.user_id, lp.lesson_slug FROM lesson_progress lp "
                    "JOIN courses c ON c.id = lp.course_id WHERE c.slug = %s AND lp.user_id = "
                    "ANY(%s)", COURSE, list(by_user))
    assert Counter(rows).most_common(1)[0][1] == 1
    assert {(u, s) for u, s in rows} == {(user_of[learner.index], slug)
                                         for learner in learners for slug in learner.done}

    # Completion records: one for each learner who passed and read every lesson, none else.
    records = Counter(row[0] for row in database(
        "SELECT r.user_id FROM completion_records r JOIN courses c ON c.id = r.course_id "
        "WHERE c.slug = %s AND r.user_id = ANY(%s)", COURSE, list(by_user)))
    expected = {user_of[learner.index] for learner in learners
                if learner.passes and not learner.skips_last_lesson}
    assert set(records) == expected
    assert all(n == 1 for n in records.values())
    assert len(expected) > LEARNERS // 3  # the mix above really has both kinds
    assert len(expected) < LEARNERS


def test_servers_logged_no_tracebacks(gunicorns):
    """Last, after the load: nothing went wrong inside the servers either."""
    for server in gunicorns:
        log = server.log_tail(200_000)
        assert "Traceback" not in log, log[-6000:]


@pytest.fixture(autouse=True, scope="module")
def _module_time_report() -> Iterator[None]:
    started = time.monotonic()
    yield
    print(f"\ntwo-server test module: {time.monotonic() - started:.1f} s")
