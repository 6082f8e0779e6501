"""`flask bench seed`: a province-sized data set for the scale benchmarks (bench/).

What it writes, on an empty migrated database: the Đồng Nai units as of 30/04/2026 (95
communes and wards) with about 20 Tổ CNSCĐ each, N members spread unevenly over the teams,
the four shipped courses published, the sample program, and a year of learning: attempts,
completion records (a few revoked), competency mastery, lessons in progress, members who
moved or left. Everything is derived from ``--seed``: the same seed gives the same rows.

Speed comes from writing rows directly: ids are assigned here, rows go in with executemany
(SQLite) or COPY (PostgreSQL) in chunks, and the membership-history triggers are dropped for
the load (they would date everyone's history today) and re-installed in the same
transaction, which then writes the history the triggers would have kept. The per-team
counts are rebuilt at the end, so the dashboards are exact.
"""

from __future__ import annotations

import base64
import json
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate, count
from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from werkzeug.security import generate_password_hash

from app.auth.models import User
from app.extensions import db
from app.reports.triggers import drop_triggers, install_triggers

bench_cli = AppGroup("bench", help="Dữ liệu cho các phép đo hiệu năng (bench/).")

PROVINCE_FILE = Path("orgs") / "dong-nai-2026-04-30.csv"
PROVINCE_CODE = "75"
DEFAULT_PROGRAM = "to-cnscd-2026"
MEMBER_PHONE_PREFIX = "+8431"  # 031 x: no Vietnamese network uses it, no test either
OFFICER_PHONE_PREFIX = "+8432"
MAX_MEMBERS = 9_999_999
CHUNK = 5_000  # members per batch of INSERTs / COPY
UNITS_SEED = 757  # the teams are the same for every --seed
YEAR_START = date(2026, 1, 5)  # first records of the year
YEAR_END = date(2026, 12, 31)

# Who the members are (rough shares for a Tổ CNSCĐ roster).
AUDIENCES = (("citizen", 68), ("civil_servant", 14), ("student", 9), ("enterprise_worker", 9))
FAMILY = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4), ("Huỳnh", 4),
          ("Phan", 4), ("Vũ", 3), ("Võ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2),
          ("Ngô", 2), ("Dương", 1), ("Lý", 1), ("Trương", 1), ("Đinh", 1), ("Lâm", 1),
          ("Điểu", 1))
MIDDLE = {"male": ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Hoàng", "Ngọc"),
          "female": ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Thị Kim", "Bích")}
GIVEN = {"male": ("Hùng", "Dũng", "Tuấn", "Nam", "Long", "Phúc", "Sơn", "Hải", "Tâm", "Thắng",
                  "Bình", "Cường", "Khoa", "Minh", "Quân", "Trung", "Vinh", "Hiếu", "Lộc",
                  "Tài", "Khải", "Bảo", "Toàn", "Hậu"),
         "female": ("Lan", "Hoa", "Mai", "Hương", "Hạnh", "Thảo", "Trang", "Yến", "Ngọc",
                    "Linh", "Nhung", "Phương", "Thủy", "Hà", "Oanh", "Tuyết", "Vy", "Nga",
                    "Diễm", "Xuân", "Ánh", "Liên")}

# Learning over the year.
ENGAGED = 0.86  # share of members with at least one attempt
COURSES_TAKEN = ((4, 86), (3, 7), (2, 4), (1, 3))  # among the engaged
FIRST_SCORE, RETRY_GAIN = (81.0, 11.0), 6.0  # mean/sd of a first attempt; later tries gain
REVOKED = 0.005
MOVED, LEFT = 0.015, 0.02  # members moved to another team / deactivated during 2026
TRAINERS = 0.02  # members holding the trainer role instead of learner
IN_PROGRESS = 0.35  # chance the next course (not yet completed) has some lessons read

_b64 = base64.urlsafe_b64encode


@dataclass
class SeedTotals:
    """What the seed wrote; the command prints it and the benchmark reads it."""

    communes: int = 0
    teams: int = 0
    members: int = 0
    learners: int = 0
    inactive: int = 0
    moved: int = 0
    officers: int = 0
    attempts: int = 0
    records: int = 0
    revoked: int = 0
    mastery: int = 0
    lesson_progress: int = 0
    membership_periods: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[tuple[str, int]]:
        return [
            (_("xã/phường"), self.communes), (_("Tổ CNSCĐ"), self.teams),
            (_("thành viên"), self.members), (_("có vai trò học viên"), self.learners),
            (_("đã nghỉ (không còn hoạt động)"), self.inactive),
            (_("đã chuyển tổ"), self.moved), (_("cán bộ"), self.officers),
            (_("lượt làm bài kiểm tra"), self.attempts),
            (_("chứng nhận hoàn thành"), self.records), (_("chứng nhận bị thu hồi"), self.revoked),
            (_("năng lực đã đạt"), self.mastery), (_("bài học đang học dở"), self.lesson_progress),
            (_("giai đoạn thành viên"), self.membership_periods),
        ]


@dataclass
class Team:
    id: int
    commune: int  # index into Province.communes


@dataclass
class Province:
    province_id: int
    communes: list[tuple[int, str, str]]  # (id, code, group)
    teams: list[Team]
    cum_weights: list[float]  # members' team draw, over ``teams``
    teams_of: list[list[int]]  # team indexes per commune


@dataclass
class CourseInfo:
    course_id: int
    version_id: int
    title: str
    assessment_id: int
    pass_percent: float
    items: int  # questions per attempt
    competencies: tuple[str, ...]
    lessons: tuple[str, ...]


def member_phone(index: int) -> str:
    """The stored phone of member ``index`` (0-based): +84 31 and seven digits."""
    return f"{MEMBER_PHONE_PREFIX}{index:07d}"


def officer_phone(index: int) -> str:
    """Officer 0 is the province's; officer k (1…95) is the k-th commune's, in code order."""
    return f"{OFFICER_PHONE_PREFIX}{index:07d}"


# --- units, courses, program ------------------------------------------------------------------

def content_root() -> Path:
    return Path(current_app.root_path).parent / "content"


def team_plan(communes: Sequence[tuple[str, str]]) -> list[tuple[str, str, str, float, float]]:
    """(team code, team name, commune code, commune weight, team weight) for every team.

    Wards (group I) get more teams and more people per team than communes; sizes vary
    (log-normal) so some teams are three times the size of others."""
    rng = random.Random(UNITS_SEED)
    plan = []
    for code, group in communes:
        ward = group == "I"
        count = max(12, min(30, round(rng.gauss(21 if ward else 19.5, 3))))
        weight = rng.lognormvariate(0, 0.45) * (1.6 if ward else 1.0)
        place = "khu phố" if ward else "ấp"
        for n in range(1, count + 1):
            plan.append((f"{code}-{n:02d}", f"Tổ CNSCĐ {place} {n}", code, weight,
                         rng.lognormvariate(0, 0.5)))
    return plan


def load_units(root: Path) -> Province:
    """The province file and the teams, through the units import (idempotent by code)."""
    from app.orgs.models import Unit
    from app.orgs.services import import_units, parse_unit_csv

    rows, errors = parse_unit_csv((root / PROVINCE_FILE).read_text(encoding="utf-8-sig"))
    if errors:
        raise click.ClickException("; ".join(map(str, errors)))
    communes = sorted((r.code, r.group or ("I" if r.kind == "phuong" else "II"))
                      for r in rows if r.parent_code == PROVINCE_CODE)
    plan = team_plan(communes)
    report = import_units([*rows, *({"code": code, "name": name, "kind": "team",
                                     "parent_code": parent}
                                    for code, name, parent, _cw, _tw in plan)])
    if not report.ok:
        raise click.ClickException("; ".join(map(str, report.errors)))
    db.session.commit()
    ids = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    index = {code: i for i, (code, _group) in enumerate(communes)}
    province = Province(ids[PROVINCE_CODE], [(ids[c], c, g) for c, g in communes], [], [],
                        [[] for _ in communes])
    team_totals: dict[str, float] = {}
    for _code, _name, parent, _cw, team_weight in plan:
        team_totals[parent] = team_totals.get(parent, 0.0) + team_weight
    weights = []
    for code, _name, parent, commune_weight, team_weight in plan:
        province.teams_of[index[parent]].append(len(province.teams))
        province.teams.append(Team(ids[code], index[parent]))
        weights.append(commune_weight * team_weight / team_totals[parent])
    province.cum_weights = list(accumulate(weights))
    return province


def load_courses(root: Path) -> list[CourseInfo]:
    """Import and publish the shipped courses (as `flask content import --publish`)."""
    from app.assessments.models import Assessment
    from app.courses.models import Course, CourseVersion, Lesson
    from app.courses.services import import_content_tree

    report = import_content_tree(root, publish_now=True)
    if not report.ok:
        db.session.rollback()
        raise click.ClickException(_("Nội dung có lỗi:") + "\n" + "\n".join(map(str, report.errors)))
    db.session.commit()
    courses = []
    for course, version, assessment in db.session.execute(
            select(Course, CourseVersion, Assessment)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .join(Assessment, Assessment.course_id == Course.id)
            .where(CourseVersion.status == "published").order_by(Course.slug)):
        draw = assessment.draw or {}
        lessons = tuple(db.session.scalars(select(Lesson.slug).where(
            Lesson.version_id == version.id).order_by(Lesson.position)))
        courses.append(CourseInfo(
            course.id, version.id, version.title, assessment.id, float(assessment.pass_percent),
            max(1, sum(int(n) for n in draw.values()) or 10),
            tuple(sorted(version.competencies or draw)), lessons))
    if not courses:
        raise click.ClickException(_("Không có khóa học nào được xuất bản trong content/."))
    return courses


def load_program(root: Path, slug: str):
    """The program file whose slug is ``slug`` under content/programs/."""
    from app.reports.programs import ProgramError, load_program_file

    for path in sorted((root / "programs").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("slug") == slug:
            try:
                program = load_program_file(path)
            except ProgramError as exc:
                db.session.rollback()
                raise click.ClickException(f"{path.name}: {exc}") from exc
            db.session.commit()
            return program
    raise click.ClickException(_("Không có chương trình %(slug)s trong content/programs/.",
                                 slug=slug))


# --- rows -------------------------------------------------------------------------------------

def _weighted(pairs: Sequence[tuple[object, int]]) -> tuple[list, list[int]]:
    return [value for value, _w in pairs], list(accumulate(w for _v, w in pairs))


COLUMNS = {
    "users": ("id", "full_name", "phone", "email", "password_hash", "unit_id", "audience",
              "gender", "birth_year", "is_active_member", "created_at", "updated_at"),
    "role_grants": ("id", "user_id", "unit_id", "role", "created_at"),
    "membership_periods": ("id", "user_id", "unit_id", "is_active", "valid_from", "valid_to"),
    "attempts": ("id", "assessment_id", "user_id", "number", "status", "open_marker",
                 "started_at", "deadline_at", "submitted_at", "pass_percent", "show_answers",
                 "score_percent", "is_passed", "competency_scores", "seed"),
    "completion_records": ("id", "user_id", "course_id", "course_version_id", "completed_at",
                           "score_percent", "competencies", "source", "issuing_unit_id",
                           "attempt_id", "verification_code", "holder_name", "course_title",
                           "revoked_at", "revoked_by_id", "revoke_reason", "created_at"),
    "competency_mastery": ("id", "user_id", "competency_code", "best_percent", "is_mastered",
                           "mastered_at", "evidence_attempt_id", "updated_at"),
    "lesson_progress": ("id", "user_id", "course_id", "lesson_slug", "version_id",
                        "completed_at"),
}


class Generator:
    """Members and their year, chunk by chunk; ids are assigned here, in member order.

    Hot loop: times are built from precomputed day and clock strings, ids come from
    counters, and every draw comes from one ``random.Random`` per chunk (deterministic)."""

    def __init__(self, province: Province, courses: list[CourseInfo], seed: int, today: date,
                 dialect: str, password_hash: str | None):
        self.province, self.courses, self.seed = province, courses, seed
        self.today, self.password_hash = today, password_hash
        self.revoker_id: int | None = None  # the province officer, once written
        self.end = min(today - timedelta(days=1), YEAR_END)  # nothing dated today or later
        suffix = "+00" if dialect == "postgresql" else ".000000"
        self.first_day = date(2025, 6, 1).toordinal()
        self.dates = [date.fromordinal(self.first_day + k).isoformat()
                      for k in range(max(self.end, YEAR_END).toordinal() + 62 - self.first_day)]
        self.prefixes = [f"{d} " for d in self.dates]
        # 0–17 h UTC is 7–24 h in Vietnam: the same calendar day.
        self.clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}"
                      for s in range(17 * 3600)]
        self.ids = {table: count(1) for table in COLUMNS}
        self.totals = SeedTotals(communes=len(province.communes), teams=len(province.teams))
        self.audiences = _weighted(AUDIENCES)
        self.families = _weighted(FAMILY)
        self.taken = _weighted(COURSES_TAKEN)
        self.json_codes: dict[tuple[str, ...], str] = {}

    def day(self, ordinal: int) -> str:
        return self.dates[ordinal - self.first_day]

    def ts(self, ordinal: int, seconds: int) -> str:
        """A UTC time on local day ``ordinal``, ``seconds`` after 7:00 local."""
        return self.prefixes[ordinal - self.first_day] + self.clock[min(seconds, 61_199)]

    def name(self, rng: random.Random, gender: str, family: str | None = None) -> str:
        if family is None:
            family = rng.choices(self.families[0], cum_weights=self.families[1])[0]
        if gender not in MIDDLE:
            gender = rng.choice(("female", "male"))
        return f"{family} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"

    def officers(self) -> dict[str, list[tuple]]:
        """One officer for the province and one per commune/ward (no learner role)."""
        rng = random.Random(self.seed * 7919 + 1)
        rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
        units = [self.province.province_id, *(c[0] for c in self.province.communes)]
        joined = date(2025, 7, 1).toordinal()
        for k, unit_id in enumerate(units):
            gender = rng.choice(("female", "male"))
            user_id = next(self.ids["users"])
            created = self.ts(joined, 3600)
            rows["users"].append((user_id, self.name(rng, gender), officer_phone(k), None,
                                  self.password_hash, unit_id, "civil_servant", gender,
                                  rng.randint(1970, 1995), 1, created, created))
            rows["role_grants"].append((next(self.ids["role_grants"]), user_id, unit_id,
                                        "officer", created))
            rows["membership_periods"].append((next(self.ids["membership_periods"]), user_id,
                                               unit_id, 1, self.day(joined), None))
            self.revoker_id = self.revoker_id or user_id
        self.totals.officers = len(units)
        self.totals.membership_periods += len(units)
        return rows

    def members(self, start: int, stop: int) -> dict[str, list[tuple]]:
        """Rows of every table for members ``start``…``stop - 1``."""
        rng = random.Random(self.seed * 1_000_003 + start)
        r = rng.random
        out: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
        users, grants, periods = out["users"], out["role_grants"], out["membership_periods"]
        province, totals, ids = self.province, self.totals, self.ids
        team_ids = [team.id for team in province.teams]
        size = stop - start
        teams = rng.choices(range(len(team_ids)), cum_weights=province.cum_weights, k=size)
        audiences = rng.choices(self.audiences[0], cum_weights=self.audiences[1], k=size)
        families = rng.choices(self.families[0], cum_weights=self.families[1], k=size)
        year_start, end = YEAR_START.toordinal(), self.end.toordinal()
        set_up = date(2025, 7, 1).toordinal()
        for offset in range(size):
            user_id = next(ids["users"])
            gender = "female" if r() < 0.53 else ("male" if r() < 0.998 else "other")
            audience = audiences[offset]
            if audience == "student":
                born = rng.randint(2000, 2008)
            elif audience == "civil_servant":
                born = rng.randint(1966, 2000)
            else:
                born = int(rng.triangular(1950, 2006, 1983))
            team = teams[offset]
            # Joined: most when the teams were set up in the second half of 2025, the rest
            # through 2026, more of them as the year went on.
            if r() < 0.75:
                joined = set_up + int(r() * 183)
            else:
                joined = year_start - 4 + int((end - 7 - year_start) * r() ** 0.7)
            history = [(joined, team, 1)]
            left = None
            if r() < MOVED and end - joined > 60:
                moved_on = joined + 30 + int(r() * (end - joined - 31))
                new = (rng.choice(province.teams_of[province.teams[team].commune])
                       if r() < 0.7 else
                       rng.choices(range(len(team_ids)), cum_weights=province.cum_weights)[0])
                if new != team:
                    history.append((moved_on, new, 1))
                    totals.moved += 1
            if r() < LEFT and end - history[-1][0] > 40:
                left = history[-1][0] + 20 + int(r() * (end - history[-1][0] - 21))
                history.append((left, history[-1][1], 0))
                totals.inactive += 1
            learner = r() >= TRAINERS
            created = self.ts(joined, int(r() * 57_600))
            updated = self.ts(history[-1][0], 36_000) if len(history) > 1 else created
            name = self.name(rng, gender, families[offset])
            users.append((user_id, name, member_phone(start + offset), None, self.password_hash,
                          team_ids[history[-1][1]], audience, gender, born, history[-1][2],
                          created, updated))
            grants.append((next(ids["role_grants"]), user_id, team_ids[team],
                           "learner" if learner else "trainer", created))
            totals.learners += learner
            for k, (since, where, active) in enumerate(history):
                until = self.day(history[k + 1][0]) if k + 1 < len(history) else None
                periods.append((next(ids["membership_periods"]), user_id, team_ids[where],
                                active, self.day(since), until))
            if r() < ENGAGED:
                last_day = min(end, left - 1 if left else end)
                self.learning(rng, out, user_id, name, history, max(year_start, joined + 1),
                              last_day)
        totals.membership_periods += len(periods)
        totals.attempts += len(out["attempts"])
        totals.records += len(out["completion_records"])
        totals.mastery += len(out["competency_mastery"])
        totals.lesson_progress += len(out["lesson_progress"])
        return out

    def learning(self, rng: random.Random, out: dict[str, list[tuple]], user_id: int, name: str,
                 history: list[tuple[int, int, int]], first: int, last: int) -> None:
        """Attempts, records and mastery of one engaged member between ``first`` and ``last``."""
        if first > last:
            return
        r, gauss, ids, ts = rng.random, rng.gauss, self.ids, self.ts
        attempts, records = out["attempts"], out["completion_records"]
        mastery = out["competency_mastery"]
        wanted = rng.choices(self.taken[0], cum_weights=self.taken[1])[0]
        order = rng.sample(self.courses, len(self.courses))
        day = first + int((last - first) * r() ** 0.6)  # more people start later in the year
        mastered: set[str] = set()
        for n, course in enumerate(order):
            if n:
                day += int(rng.expovariate(1 / 9))
            if n >= wanted or day > last:
                self.reading(rng, out, user_id, course, min(day, last))
                return
            moment = int(r() * 40_000)
            passed = None
            for number in (1, 2, 3):
                score = gauss(FIRST_SCORE[0] + RETRY_GAIN * (number - 1), FIRST_SCORE[1])
                right = round(min(100.0, max(50.0, score)) * course.items / 100)
                score = round(100.0 * right / course.items, 1)
                ok = score >= course.pass_percent
                attempt_id = next(ids["attempts"])
                submitted = ts(day, moment + 600 + int(r() * 540))
                attempts.append((attempt_id, course.assessment_id, user_id, number, "submitted",
                                 None, ts(day, moment), ts(day, moment + 1200), submitted,
                                 course.pass_percent, "after_submit", score, int(ok), "{}",
                                 rng.getrandbits(31)))
                if ok:
                    passed = (attempt_id, score, submitted)
                    break
                moment += 3600 + int(r() * 7200)  # the cooldown, then another try
            if passed is None:
                return  # three failed tries: this member stops here for now
            attempt_id, score, submitted = passed
            chance = min(0.9, max(0.05, (score - 75.0) / 30.0))
            shown = tuple(code for code in course.competencies if r() < chance)
            for code in shown:
                if code not in mastered:
                    mastered.add(code)
                    mastery.append((next(ids["competency_mastery"]), user_id, code,
                                    min(100.0, round(max(80.0, score + gauss(4, 6)), 1)), 1,
                                    submitted, attempt_id, submitted))
            unit = history[0][1]
            for since, where, _active in history:
                if since <= day:
                    unit = where
            revoked = None
            if r() < REVOKED:
                revoked = ts(min(self.end.toordinal(), day + 1 + int(r() * 20)), 20_000)
                self.totals.revoked += 1
            codes = self.json_codes.get(shown)
            if codes is None:
                codes = self.json_codes[shown] = json.dumps(list(shown))
            records.append((
                next(ids["completion_records"]), user_id, course.course_id, course.version_id,
                submitted, score, codes, "online", self.province.teams[unit].id, attempt_id,
                _b64(rng.getrandbits(128).to_bytes(16, "big"))[:22].decode(), name,
                course.title, revoked, self.revoker_id if revoked else None,
                "Cấp nhầm người" if revoked else None, submitted))

    def reading(self, rng: random.Random, out: dict[str, list[tuple]], user_id: int,
                course: CourseInfo, day: int) -> None:
        """Some members have read part of their next course."""
        if rng.random() >= IN_PROGRESS or len(course.lessons) < 2:
            return
        at = self.ts(day, 30_000)
        for slug in course.lessons[:rng.randint(1, len(course.lessons) - 1)]:
            out["lesson_progress"].append((next(self.ids["lesson_progress"]), user_id,
                                           course.course_id, slug, course.version_id, at))


class BulkWriter:
    """executemany on SQLite, COPY on PostgreSQL, on the caller's connection and transaction."""

    def __init__(self, conn: Connection):
        self.raw = conn.connection.driver_connection
        self.postgres = conn.dialect.name == "postgresql"

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        if self.postgres:
            with self.raw.cursor() as cursor, cursor.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                 rows)


def check_empty_database() -> None:
    """Exit 1 unless the schema exists and holds no people."""
    tables = set(inspect(db.engine).get_table_names())
    if not {"users", "membership_periods", "program_unit_counts"} <= tables:
        raise click.ClickException(_("Cơ sở dữ liệu chưa có bảng: chạy `flask db upgrade` trước."))
    users = db.session.scalar(select(func.count(User.id)))
    if users:
        raise click.ClickException(_(
            "Cơ sở dữ liệu đã có %(n)s người dùng. Lệnh này chỉ chạy trên cơ sở dữ liệu trống "
            "(mới tạo bằng `flask db upgrade`); nó không xóa dữ liệu nào.", n=users))


def _reset_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in COLUMNS:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"GREATEST((SELECT max(id) FROM {table}), 1))"))


def _produce(generator: Generator, members: int, chunks: queue.Queue, stop: threading.Event
             ) -> None:
    """Generate chunk after chunk (in order, so the rows do not depend on timing)."""
    try:
        for start in range(0, members, CHUNK):
            rows = generator.members(start, min(members, start + CHUNK))
            while not stop.is_set():
                try:
                    chunks.put(rows, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        chunks.put(None)
    except BaseException as exc:  # handed to the writer, which raises it
        chunks.put(exc)


def _write_members(writer: BulkWriter, generator: Generator, members: int,
                   progress: Callable[[int], None] | None) -> None:
    """Write chunks while the next ones are generated: SQLite and psycopg release the GIL
    while the database works, so generating and writing overlap on two cores."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(generator, members, chunks, stop),
                                daemon=True)
    producer.start()
    try:
        while (rows := chunks.get()) is not None:
            if isinstance(rows, BaseException):
                raise rows
            for table in COLUMNS:
                writer.write(table, rows[table])
            if progress:
                progress(len(rows["users"]))
    finally:
        stop.set()
        producer.join()


def bulk_load(generator: Generator, members: int,
              progress: Callable[[int], None] | None = None) -> None:
    """Everyone's rows in one transaction, the history triggers off meanwhile (they would
    date every history today; the rows written here carry the real dates instead).

    SQLite: foreign keys are not checked during the load (every id is assigned here, and
    the tests run ``PRAGMA foreign_key_check``); a bigger page cache for the indexes."""
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
            conn.exec_driver_sql("PRAGMA cache_size=-1048576")
            conn.commit()
        try:
            with conn.begin():
                # pysqlite opens its transaction at the first DML: the DDL below is in it.
                conn.exec_driver_sql("DELETE FROM progress_dirty_units")
                drop_triggers(conn)
                writer = BulkWriter(conn)
                officers = generator.officers()
                for table in ("users", "role_grants", "membership_periods"):
                    writer.write(table, officers[table])
                _write_members(writer, generator, members, progress)
                install_triggers(conn)
                _reset_sequences(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
                conn.commit()


def analyze() -> None:
    """Planner statistics after the load (PostgreSQL's autovacuum would get there later)."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")


def seed(members: int, seed_value: int = 757, program_slug: str = DEFAULT_PROGRAM,
         password: str | None = None, echo: Callable[[str], None] = click.echo,
         bar: Callable[..., object] | None = None) -> SeedTotals:
    """Write the province; ``bar(length, label)`` is a progress-bar context manager."""
    from app.reports.progress import local_today, rebuild_all

    check_empty_database()
    bar = bar or (lambda length, label: click.progressbar(length=length, label=label,
                                                          file=sys.stderr))
    root = content_root()
    clock: dict[str, float] = {}
    started = time.perf_counter()
    province = load_units(root)
    clock["units"] = time.perf_counter() - started
    mark = time.perf_counter()
    courses = load_courses(root)
    load_program(root, program_slug)
    clock["content"] = time.perf_counter() - mark
    password_hash = generate_password_hash(password, method="scrypt") if password else None
    generator = Generator(province, courses, seed_value, local_today(),
                          db.engine.dialect.name, password_hash)
    mark = time.perf_counter()
    with bar(members, _("Thành viên, bài kiểm tra, chứng nhận")) as progress:
        bulk_load(generator, members, progress.update)
    clock["members"] = time.perf_counter() - mark
    mark = time.perf_counter()
    analyze()
    clock["analyze"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with bar(len(province.teams) + len(province.communes) + 1,
             _("Đếm lại tiến độ theo tổ")) as progress:
        rebuild_all(progress.update)
    clock["counts"] = time.perf_counter() - mark
    clock["total"] = time.perf_counter() - started
    generator.totals.members = members
    generator.totals.seconds = clock
    return generator.totals


def format_count(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@bench_cli.command("seed")
@click.option("--members", type=click.IntRange(1, MAX_MEMBERS), required=True,
              help="Số thành viên Tổ CNSCĐ cần tạo.")
@click.option("--seed", "seed_value", type=int, default=757, show_default=True,
              help="Hạt giống ngẫu nhiên: cùng hạt giống cho cùng dữ liệu.")
@click.option("--program", "program_slug", default=DEFAULT_PROGRAM, show_default=True,
              help="Mã chương trình đào tạo nạp từ content/programs/.")
@click.option("--password-stdin", is_flag=True,
              help="Đọc từ stdin một mật khẩu chung cho mọi tài khoản tạo ra (mặc định: "
                   "không ai đăng nhập được).")
def seed_command(members: int, seed_value: int, program_slug: str, password_stdin: bool) -> None:
    """Tạo một tỉnh cỡ thật cho các phép đo hiệu năng, trên cơ sở dữ liệu TRỐNG đã migrate.

    \b
    Tạo ra:
      - đơn vị Đồng Nai sau 30/04/2026 (content/orgs/dong-nai-2026-04-30.csv):
        95 xã/phường, mỗi nơi 12–30 Tổ CNSCĐ (khoảng 1.900 tổ, mã <mã xã>-NN),
        giống nhau với mọi --seed;
      - N thành viên chia không đều giữa các tổ (phường đông hơn xã), số điện
        thoại giả +84 31 xxx xxxx theo thứ tự (thành viên i: 031 + i, 7 chữ số),
        98 % có vai trò học viên, còn lại giảng viên; ~1,5 % chuyển tổ và ~2 %
        nghỉ trong năm 2026, có lịch sử thành viên tương ứng;
      - cán bộ: +84 32 000 0000 quản lý cả tỉnh, +84 32 000 00kk quản lý xã/phường
        thứ kk (theo mã);
      - bốn khóa học trong content/ được xuất bản và chương trình --program;
      - khoảng 86 % thành viên làm bài kiểm tra trong năm 2026 (điểm 50–100, trượt
        thì làm lại), trung bình ~3 chứng nhận mỗi thành viên, 0,5 % bị thu hồi,
        năng lực đạt được và một số bài học đang học dở;
      rồi đếm lại toàn bộ tiến độ để bảng điều khiển chính xác.

    Không có --force: lệnh từ chối cơ sở dữ liệu đã có người dùng (thoát với mã 1)
    và không xóa gì. Tạo cơ sở dữ liệu mới rồi chạy `flask db upgrade` trước.
    """
    password = None
    if password_stdin:
        from app.auth.passwords import password_problems

        password = sys.stdin.readline().rstrip("\r\n")
        problems = password_problems(password)
        if problems:
            raise click.ClickException(_("mật khẩu:") + " " + " ".join(map(str, problems)))
    totals = seed(members, seed_value, program_slug, password)
    click.echo(_("Đã tạo dữ liệu đo hiệu năng (--seed %(seed)s) trong %(s)s giây:",
                 seed=seed_value, s=f"{totals.seconds['total']:.1f}"))
    for label, value in totals.lines():
        click.echo(f"  {label}: {format_count(value)}")
    click.echo(_("Thời gian (giây): %(parts)s", parts=", ".join(
        f"{name} {seconds:.1f}" for name, seconds in totals.seconds.items())))


def parse_totals(output: Iterable[str]) -> dict[str, int]:
    """The label → count lines the command printed (for the benchmark and the tests)."""
    found = {}
    for line in output:
        if line.startswith("  ") and ": " in line:
            label, _sep, value = line.strip().rpartition(": ")
            if value.replace(".", "").isdigit():
                found[label] = int(value.replace(".", ""))
    return found
