"""Program progress: the definitions every figure uses, and the per-team counts behind them.

Definitions (README, "Training programs"):
- The *population* of a program on day D: accounts holding the learner role whose unit on
  D (membership history) lies under the program's scope unit, who were active on D, and —
  when the program names an audience — whose audience is that one (audience and roles are
  taken as they are now; only unit and active flag have a history).
- A member has *completed* on D when they hold a record that is not revoked for every
  required course, each dated on or before D (local day; any version of the course).
  Their *completion date* is the date of the last of those records.

Two ways to the same numbers: ``member_statuses`` computes them for any day straight from
the tables (exports, the quarterly report, tests); ``program_unit_counts`` keeps them for
today per team, recounted for the teams that triggers marked dirty before any read
(``refresh_counts``), so a dashboard sums a few thousand rows whatever the province's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection

from app.assessments.models import CompetencyMastery
from app.auth.models import RoleGrant, User
from app.extensions import db
from app.orgs.models import Unit
from app.records.models import CompletionRecord
from app.reports.models import (
    MembershipPeriod,
    ProgramMember,
    ProgramUnitCount,
    ProgressDirtyUnit,
    TrainingProgram,
)

ADVISORY_LOCK_KEY = 757_2026  # serializes recounts on PostgreSQL
RECOUNT_BATCH = 400  # teams per recount query


# --- days ----------------------------------------------------------------------------------

def local_zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or "Asia/Ho_Chi_Minh")


def local_today() -> date:
    return datetime.now(local_zone()).date()


def local_day(moment: datetime) -> date:
    """The local calendar day of a stored (UTC) time; naive values are UTC (SQLite)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(local_zone()).date()


def end_of_day_utc(day: date) -> datetime:
    """The first instant after local ``day``, in UTC: records dated on ``day`` are before it."""
    start_next = datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone())
    return start_next.astimezone(UTC)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    first = date(year, 3 * quarter - 2, 1)
    last = (date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
            - timedelta(days=1))
    return first, last


# --- the definitions, straight from the tables -------------------------------------------

def _learner_exists() -> ColumnElement[bool]:
    return exists().where(RoleGrant.user_id == User.id, RoleGrant.role == "learner")


def _audience_clause(program: TrainingProgram) -> ColumnElement[bool]:
    return User.audience == program.audience if program.audience else literal(True)


def population_on(program: TrainingProgram, as_of: date,
                  within: Iterable[str] | None = None) -> Select:
    """(user_id, unit_id) of the population on ``as_of``, from the membership history.

    ``within``: optional unit paths (the viewer's scope); only units under one of them.
    """
    stmt = (
        select(MembershipPeriod.user_id.label("user_id"),
               MembershipPeriod.unit_id.label("unit_id"))
        .join(User, User.id == MembershipPeriod.user_id)
        .join(Unit, Unit.id == MembershipPeriod.unit_id)
        .where(MembershipPeriod.valid_from <= as_of,
               or_(MembershipPeriod.valid_to.is_(None), MembershipPeriod.valid_to > as_of),
               MembershipPeriod.is_active.is_(True),
               Unit.path.startswith(program.scope_unit.path),
               _audience_clause(program), _learner_exists())
    )
    if within is not None:
        inside = or_(*(Unit.path.startswith(path) for path in within))
        # The units first (a few thousand rows), then their members by the unit index:
        # without it the planner scans every membership period of the province.
        units = select(Unit.id).where(inside).scalar_subquery()
        stmt = stmt.where(inside, MembershipPeriod.unit_id.in_(units))
    return stmt


def member_statuses(program: TrainingProgram, as_of: date,
                    within: Iterable[str] | None = None) -> Select:
    """One row per member of the population on ``as_of``: user_id, unit_id, done (how many
    required courses they hold a live record for, dated by ``as_of``), last_at (the latest
    such record) and one ``c<course_id>`` column per required course (that record's time)."""
    people = population_on(program, as_of, within).subquery("people")
    course_ids = program.course_ids
    live = and_(CompletionRecord.user_id == people.c.user_id,
                CompletionRecord.course_id.in_(course_ids),
                CompletionRecord.revoked_at.is_(None),
                CompletionRecord.completed_at < end_of_day_utc(as_of))
    per_course = [func.max(case((CompletionRecord.course_id == course_id,
                                 CompletionRecord.completed_at))).label(f"c{course_id}")
                  for course_id in course_ids]
    return (select(people.c.user_id, people.c.unit_id,
                   func.count(CompletionRecord.id).label("done"),
                   func.max(CompletionRecord.completed_at).label("last_at"), *per_course)
            .select_from(people)
            .outerjoin(CompletionRecord, live)
            .group_by(people.c.user_id, people.c.unit_id))


def completion_day(program: TrainingProgram, done: int, last_at: datetime | None) -> date | None:
    """The member's completion date, or None while a required course is missing."""
    if last_at is None or done < len(program.courses) or not program.courses:
        return None
    return local_day(last_at)


# --- the per-team counts ------------------------------------------------------------------

def _programs_covering(conn: Connection, paths: dict[int, str]) -> list[TrainingProgram]:
    programs = list(db.session.scalars(select(TrainingProgram)))
    return [p for p in programs
            if any(path.startswith(p.scope_unit.path) for path in paths.values())]


# Dialect pieces of the recount: local days from stored UTC times, and small text keys.

def _utc_offset_hours() -> int:
    """The local zone's offset (Vietnam: +7, no daylight saving) for SQLite's date modifiers."""
    offset = datetime.now(local_zone()).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 3600)


def _local(column, dialect: str, sql_format: str, pg_format: str):
    if dialect == "postgresql":
        local = func.timezone(str(local_zone()), column)
        return func.to_char(local, pg_format)
    return func.strftime(sql_format, column, f"{_utc_offset_hours():+d} hours")


def _local_date(column, dialect: str):
    if dialect == "postgresql":
        return cast(func.timezone(str(local_zone()), column), Date)
    return func.date(column, f"{_utc_offset_hours():+d} hours")


def _score_bucket(column, dialect: str):
    """Tenth of a 0–100 score as text, 100 in its own bucket ("10")."""
    tenth = func.floor(column / 10) if dialect == "postgresql" else cast(column / 10, Integer)
    return cast(case((column >= 100, 10), else_=tenth), String)


def _group_of(code, dialect: str):
    """"4.2" → "4": the framework group of a competency code."""
    if dialect == "postgresql":
        return func.split_part(code, ".", 1)
    return func.substr(code, 1, func.instr(code, ".") - 1)


def _recount_batch(conn: Connection, program: TrainingProgram, unit_ids: list[int]) -> None:
    """Write the member rows, then the team counts, of ``program`` for these teams (all under
    its scope), today — all in SQL: a few grouped statements whatever the number of members."""
    _write_members(conn, program, unit_ids)
    _write_counts(conn, program, unit_ids)


def _write_members(conn: Connection, program: TrainingProgram, unit_ids: list[int],
                   user_ids: list[int] | None = None) -> None:
    """The member rows of these teams (only of ``user_ids`` when given): who is in the
    program's population today, with their required courses' days."""
    dialect = conn.dialect.name
    courses = program.courses  # slug order: the member list's column order
    course_ids = [course.id for course in courses]
    live = and_(CompletionRecord.user_id == User.id,
                CompletionRecord.course_id.in_(course_ids or [-1]),
                CompletionRecord.revoked_at.is_(None))
    done = func.count(CompletionRecord.id)
    days = [func.coalesce(_local(func.max(case((CompletionRecord.course_id == course_id,
                                                 CompletionRecord.completed_at))),
                                 dialect, "%d/%m/%Y", "DD/MM/YYYY"), "")
            for course_id in course_ids]
    course_days = days[0] if days else literal("")
    for day in days[1:]:
        course_days = course_days + "|" + day
    completed_on = case((and_(done >= len(course_ids), literal(bool(course_ids))),
                         _local_date(func.max(CompletionRecord.completed_at), dialect)))
    members = (select(literal(program.id), User.id, User.unit_id, done, completed_on,
                      course_days)
               .select_from(User).outerjoin(CompletionRecord, live)
               .where(User.unit_id.in_(unit_ids), User.is_active_member.is_(True),
                      _audience_clause(program), _learner_exists())
               .group_by(User.id, User.unit_id))
    if user_ids is not None:
        members = members.where(User.id.in_(user_ids))
    conn.execute(insert(ProgramMember).from_select(
        ["program_id", "user_id", "unit_id", "done", "completed_on", "course_days"], members))


def _write_counts(conn: Connection, program: TrainingProgram, unit_ids: list[int]) -> None:
    """The team counts of these teams, from their member rows (written before)."""
    dialect = conn.dialect.name
    course_ids = [course.id for course in program.courses]
    mine = and_(ProgramMember.program_id == program.id, ProgramMember.unit_id.in_(unit_ids))
    month = (func.to_char(ProgramMember.completed_on, "YYYY-MM") if dialect == "postgresql"
             else func.strftime("%Y-%m", ProgramMember.completed_on))
    scored = and_(CompletionRecord.user_id == ProgramMember.user_id,
                  CompletionRecord.course_id.in_(course_ids or [-1]),
                  CompletionRecord.revoked_at.is_(None),
                  CompletionRecord.score_percent.is_not(None))
    mastered = and_(CompetencyMastery.user_id == ProgramMember.user_id,
                    CompetencyMastery.is_mastered.is_(True))

    def per_key(metric: str, key, rows: Select, distinct_people: bool = False) -> Select:
        """Count rows per (team, key); the key is computed in a subquery so the GROUP BY
        names a column (PostgreSQL will not match two copies of a parameterized expression)."""
        inner = rows.add_columns(ProgramMember.unit_id.label("unit_id"), key.label("key"),
                                 ProgramMember.user_id.label("user_id")).subquery()
        value = func.count(func.distinct(inner.c.user_id)) if distinct_people else func.count()
        return (select(inner.c.unit_id, literal(metric), inner.c.key, value)
                .group_by(inner.c.unit_id, inner.c.key))

    counts = [
        per_key("members", literal(""), select().select_from(ProgramMember).where(mine)),
        per_key("completed", literal(""), select().select_from(ProgramMember)
                .where(mine, ProgramMember.completed_on.is_not(None))),
        per_key("month", month, select().select_from(ProgramMember)
                .where(mine, ProgramMember.completed_on.is_not(None))),
        per_key("score", _score_bucket(CompletionRecord.score_percent, dialect),
                select().select_from(ProgramMember).join(CompletionRecord, scored).where(mine)),
        per_key("mastery", _group_of(CompetencyMastery.competency_code, dialect),
                select().select_from(ProgramMember).join(CompetencyMastery, mastered)
                .where(mine), distinct_people=True),
    ]
    for stmt in counts:
        conn.execute(insert(ProgramUnitCount).from_select(
            ["unit_id", "metric", "key", "value", "program_id"],
            stmt.add_columns(literal(program.id))))


def _teams_per_program(conn: Connection, ids: list[int],
                       programs: list[TrainingProgram] | None = None,
                       ) -> Iterator[tuple[TrainingProgram, list[int]]]:
    """Each program (covering these teams, unless given) with the teams under its scope."""
    paths = dict(conn.execute(select(Unit.id, Unit.path).where(Unit.id.in_(ids))).all())
    for program in programs if programs is not None else _programs_covering(conn, paths):
        yield program, [uid for uid in ids
                        if paths.get(uid, "").startswith(program.scope_unit.path)]


def recount_units(conn: Connection, unit_ids: Iterable[int],
                  programs: list[TrainingProgram] | None = None) -> int:
    """Rewrite the counts and member rows of these teams for every program whose scope
    holds them."""
    ids = sorted(set(unit_ids))
    if not ids:
        return 0
    for program, inside in _teams_per_program(conn, ids, programs):
        for start in range(0, len(ids), RECOUNT_BATCH):
            chunk = ids[start:start + RECOUNT_BATCH]
            for table in (ProgramUnitCount, ProgramMember):
                conn.execute(delete(table).where(table.program_id == program.id,
                                                 table.unit_id.in_(chunk)))
        for start in range(0, len(inside), RECOUNT_BATCH):
            _recount_batch(conn, program, inside[start:start + RECOUNT_BATCH])
    return len(ids)


def recount_members(conn: Connection, by_team: dict[int, set[int]]) -> int:
    """Rewrite these members' rows, then their teams' counts, for every program whose scope
    holds the teams: a record or a mastery changed for a few members of a team of hundreds.

    Only rows in the marked teams are touched: a member who moved meanwhile has a team mark
    of their own, and the team they moved to is recounted from it.
    """
    ids = sorted(by_team)
    if not ids:
        return 0
    for program, inside in _teams_per_program(conn, ids):
        for start in range(0, len(inside), RECOUNT_BATCH):
            teams = inside[start:start + RECOUNT_BATCH]
            users = sorted({user for team in teams for user in by_team[team]})
            for first in range(0, len(users), RECOUNT_BATCH):
                some = users[first:first + RECOUNT_BATCH]
                conn.execute(delete(ProgramMember).where(
                    ProgramMember.program_id == program.id, ProgramMember.user_id.in_(some),
                    ProgramMember.unit_id.in_(teams)))
                _write_members(conn, program, teams, some)
            conn.execute(delete(ProgramUnitCount).where(
                ProgramUnitCount.program_id == program.id, ProgramUnitCount.unit_id.in_(teams)))
            _write_counts(conn, program, teams)
    return len(ids)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def refresh_counts() -> int:
    """Recount what the triggers queued, in a transaction of its own; returns how many teams.

    A team marked as a whole is recounted from its members; a team marked only for some
    members (records, mastery) gets those members' rows rewritten and its counts redone.
    Serialized (advisory lock on PostgreSQL; on SQLite the DELETE that opens the transaction
    takes the write lock) so a recount from an older snapshot never lands after a newer one.
    Marks committed meanwhile are not taken and stay for the next reader.
    """
    with db.engine.connect() as conn:
        if conn.execute(select(ProgressDirtyUnit.id).limit(1)).first() is None:
            return 0
    with db.engine.begin() as conn:
        _lock(conn)
        marks = conn.execute(delete(ProgressDirtyUnit).returning(
            ProgressDirtyUnit.unit_id, ProgressDirtyUnit.user_id)).all()
        whole = {unit_id for unit_id, user_id in marks if user_id is None}
        by_team: dict[int, set[int]] = {}
        for unit_id, user_id in marks:
            if user_id is not None and unit_id not in whole:
                by_team.setdefault(unit_id, set()).add(user_id)
        return recount_units(conn, whole) + recount_members(conn, by_team)


def rebuild_program(program: TrainingProgram, conn: Connection | None = None) -> int:
    """Recount every team under the program's scope (after it is created or changed)."""
    def run(conn: Connection) -> int:
        _lock(conn)
        for table in (ProgramUnitCount, ProgramMember):
            conn.execute(delete(table).where(table.program_id == program.id))
        ids = conn.execute(select(Unit.id).where(
            Unit.path.startswith(program.scope_unit.path))).scalars().all()
        return recount_units(conn, ids, [program])

    if conn is not None:
        return run(conn)
    db.session.flush()
    return run(db.session.connection())


def rebuild_all(progress=None) -> int:
    """Recount every team of every program and empty the queue (`flask reports recount`)."""
    with db.engine.begin() as conn:
        _lock(conn)
        conn.execute(delete(ProgressDirtyUnit))
        conn.execute(delete(ProgramUnitCount))
        conn.execute(delete(ProgramMember))
        ids = conn.execute(select(Unit.id).order_by(Unit.path)).scalars().all()
        programs = list(db.session.scalars(select(TrainingProgram)))
        for start in range(0, len(ids), RECOUNT_BATCH):
            recount_units(conn, ids[start:start + RECOUNT_BATCH], programs)
            if progress:
                progress(min(RECOUNT_BATCH, len(ids) - start))
    return len(ids)


# --- reading the counts -------------------------------------------------------------------

@dataclass
class UnitProgress:
    """Figures of one unit (a subtree) of a program, today."""

    unit: Unit
    members: int = 0
    completed: int = 0
    this_quarter: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.completed / self.members if self.members else 0.0

    def gap(self, target_percent: int) -> int:
        """Members still to complete for the unit to reach the target (never negative)."""
        needed = -(-self.members * target_percent // 100)  # ceiling
        return max(0, needed - self.completed)


def count_rows(program: TrainingProgram, within: Iterable[str] | None,
               metrics: tuple[str, ...]) -> Iterator[tuple[str, str, str, int]]:
    """(team path, metric, key, value) of the program's counts under the viewer's scope."""
    stmt = (select(Unit.path, ProgramUnitCount.metric, ProgramUnitCount.key,
                   ProgramUnitCount.value)
            .join(Unit, Unit.id == ProgramUnitCount.unit_id)
            .where(ProgramUnitCount.program_id == program.id,
                   ProgramUnitCount.metric.in_(metrics)))
    if within is not None:
        stmt = stmt.where(or_(*(Unit.path.startswith(path) for path in within)))
    return iter(db.session.execute(stmt).all())


def child_id_in(path: str, parent: Unit) -> int | None:
    """Id of the child of ``parent`` whose subtree holds ``path`` (None: ``parent`` itself)."""
    parts = path.strip("/").split("/")
    return int(parts[parent.depth + 1]) if len(parts) > parent.depth + 1 else None


def roll_up(parent: Unit, children: list[Unit],
            per_team: Iterable[tuple[str, int, int, int]]) -> tuple[UnitProgress, list[UnitProgress]]:
    """Sum (team path, members, completed, completed in the period) into ``parent``'s total
    and into the child subtree each team lies in."""
    total = UnitProgress(parent)
    by_child = {child.id: UnitProgress(child) for child in children}
    for path, members, completed, recent in per_team:
        if not path.startswith(parent.path):
            continue
        child_id = child_id_in(path, parent)
        for figure in (total, by_child.get(child_id) if child_id is not None else None):
            if figure is not None:
                figure.members += members
                figure.completed += completed
                figure.this_quarter += recent
    return total, [by_child[child.id] for child in children]


def children_progress(program: TrainingProgram, parent: Unit, children: list[Unit],
                      within: Iterable[str] | None, today: date | None = None
                      ) -> tuple[UnitProgress, list[UnitProgress]]:
    """Today's figures of ``parent`` (total) and of each child subtree, from the counts;
    ``this_quarter`` counts completions dated in the current quarter."""
    today = today or local_today()
    first, last = quarter_bounds(*quarter_of(today))
    months = {f"{first.year}-{m:02d}" for m in range(first.month, last.month + 1)}
    teams: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for path, metric, key, value in count_rows(program, within,
                                               ("members", "completed", "month")):
        slot = {"members": 0, "completed": 1}.get(metric, 2)
        if slot < 2 or key in months:
            teams[path][slot] += value
    return roll_up(parent, children, ((p, *v) for p, v in teams.items()))


def team_figures_on(program: TrainingProgram, as_of: date, within: Iterable[str] | None = None,
                    since: date | None = None) -> list[tuple[str, int, int, int]]:
    """(team path, members, completed, completed on or after ``since``) on ``as_of``, straight
    from the tables: one grouped query over the members, for exports and past quarters."""
    rows = member_statuses(program, as_of, within).subquery("statuses")
    needed = len(program.courses)
    complete = and_(rows.c.done >= needed, literal(needed > 0))
    recent = complete
    if since is not None:
        recent = and_(complete, rows.c.last_at >= end_of_day_utc(since - timedelta(days=1)))
    stmt = (select(Unit.path, func.count(),
                   func.sum(case((complete, 1), else_=0)),
                   func.sum(case((recent, 1), else_=0)))
            .select_from(rows).join(Unit, Unit.id == rows.c.unit_id)
            .group_by(Unit.path))
    return [(path, int(n), int(done or 0), int(new or 0))
            for path, n, done, new in db.session.execute(stmt)]
