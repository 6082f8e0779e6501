"""What the program pages show, read from the per-team counts (app/reports/progress.py).

Every function here costs a fixed number of queries whatever the province's size: the
counts are summed per team in SQL and rolled up into the current unit's children in Python
(a few thousand rows at most). Only the member list of one team reads the records, through
the one definition (``member_statuses``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import abort
from sqlalchemy import and_, case, func, or_, select

from app.auth.models import User
from app.auth.permissions import get_unit_or_404, scope_clause
from app.courses.services import newest_published_titles
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import vietnamese_key
from app.reports.models import ProgramUnitCount, TrainingProgram
from app.reports.programs import viewer_paths, visible_programs
from app.reports.progress import (
    UnitProgress,
    child_id_in,
    completion_day,
    local_day,
    member_statuses,
    quarter_bounds,
    quarter_of,
    refresh_counts,
    roll_up,
)
from app.text import fold

SORT_KEYS = ("name", "group", "members", "completed", "percent", "gap", "quarter")
GROUPS = ("I", "II")


# --- the list of programs -------------------------------------------------------------------

@dataclass
class ProgramCard:
    program: TrainingProgram
    members: int = 0
    completed: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.completed / self.members if self.members else 0.0


def program_cards(user) -> list[ProgramCard]:
    """The programs ``user`` sees, each with its figures over the part of it they see."""
    programs = visible_programs(user)
    if not programs:
        return []
    refresh_counts()
    cards = {p.id: ProgramCard(p) for p in programs}
    rows = db.session.execute(
        select(ProgramUnitCount.program_id, ProgramUnitCount.metric,
               func.sum(ProgramUnitCount.value))
        .join(Unit, Unit.id == ProgramUnitCount.unit_id)
        .where(ProgramUnitCount.program_id.in_(cards),
               ProgramUnitCount.metric.in_(("members", "completed")),
               scope_clause(user, "reports.view", Unit.path))
        .group_by(ProgramUnitCount.program_id, ProgramUnitCount.metric))
    for program_id, metric, value in rows:
        setattr(cards[program_id], metric, int(value or 0))
    return list(cards.values())


# --- pace: on track or behind -------------------------------------------------------------

@dataclass
class Pace:
    """Where the program stands against its target and against the calendar."""

    percent: float  # members who completed, % of the population
    target: int  # target %
    elapsed: float  # share of the program's days gone by, 0..1
    expected: float  # target % × elapsed: where a steady pace would be today
    on_track: bool


def elapsed_share(starts_on: date, deadline: date, today: date) -> float:
    """Days gone by (today included) over the program's days (both ends included), 0..1."""
    if today < starts_on:
        return 0.0
    days = (deadline - starts_on).days + 1
    return min(1.0, ((today - starts_on).days + 1) / days)


def pace(program: TrainingProgram, figures: UnitProgress, today: date) -> Pace:
    """On track when the completed % is at least target % × the share of time elapsed."""
    elapsed = elapsed_share(program.starts_on, program.deadline, today)
    expected = program.target_percent * elapsed
    return Pace(figures.percent, program.target_percent, elapsed, expected,
                figures.percent + 1e-9 >= expected)


# --- the unit being looked at --------------------------------------------------------------

def resolve_unit(user, program: TrainingProgram, code: str | None) -> tuple[Unit, list[Unit]]:
    """The unit to show (``?unit=``, else the program's scope, else the viewer's first unit
    under it) and the viewer's own top units under the program (to switch between them)."""
    paths = viewer_paths(user, program)
    if paths == [program.scope_unit.path]:
        tops = [program.scope_unit]
    else:
        tops = sorted(db.session.scalars(select(Unit).where(Unit.path.in_(paths))),
                      key=lambda u: vietnamese_key(u.name))
    if not code:
        if not tops:
            abort(404)
        return tops[0], tops
    unit = get_unit_or_404(user, code, "reports.view")
    if not unit.is_within(program.scope_unit):
        abort(404)
    return unit, tops


def breadcrumb(unit: Unit, tops: list[Unit]) -> list[Unit]:
    """The ancestors of ``unit`` from the viewer's top unit down (not the unit itself)."""
    top = next((t for t in tops if unit.is_within(t)), unit)
    ids = [int(part) for part in unit.path.strip("/").split("/")[top.depth:-1] if part]
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.depth)))


def children_of(unit: Unit) -> list[Unit]:
    return sorted(db.session.scalars(select(Unit).where(Unit.parent_id == unit.id)),
                  key=lambda u: vietnamese_key(u.full_name))


# --- the table ------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table: a child unit, or the members attached to the unit itself."""

    figures: UnitProgress
    target: int
    label: str
    mastery: list[int] = field(default_factory=list)
    direct: bool = False

    @property
    def unit(self) -> Unit:
        return self.figures.unit

    @property
    def group(self) -> str | None:
        return None if self.direct else self.unit.unit_group

    @property
    def percent(self) -> float:
        return self.figures.percent

    @property
    def gap(self) -> int:
        return self.figures.gap(self.target)


@dataclass
class TeamCounts:
    members: int = 0
    completed: int = 0
    quarter: int = 0
    mastery: list[int] = field(default_factory=list)  # per framework group, in column order


def team_counts(program: TrainingProgram, unit: Unit, today: date,
                group_codes: list[str]) -> dict[str, TeamCounts]:
    """Per team under ``unit``: members, completed, completions this quarter, and members
    who mastered each framework group; pivoted in SQL, so one row per team comes back."""
    first, last = quarter_bounds(*quarter_of(today))
    months = [f"{first.year}-{m:02d}" for m in range(first.month, last.month + 1)]
    metric, key, value = ProgramUnitCount.metric, ProgramUnitCount.key, ProgramUnitCount.value

    def total(condition):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    columns = [total(metric == "members"), total(metric == "completed"),
               total(and_(metric == "month", key.in_(months)))]
    columns += [total(and_(metric == "mastery", key == code)) for code in group_codes]
    stmt = (select(Unit.path, *columns)
            .join(Unit, Unit.id == ProgramUnitCount.unit_id)
            .where(ProgramUnitCount.program_id == program.id, Unit.path.startswith(unit.path),
                   or_(metric.in_(("members", "completed", "mastery")),
                       and_(metric == "month", key.in_(months))))
            .group_by(Unit.path))
    return {row[0]: TeamCounts(int(row[1]), int(row[2]), int(row[3]), [int(v) for v in row[4:]])
            for row in db.session.execute(stmt)}


@dataclass
class Table:
    total: Row
    rows: list[Row]  # children (and the unit's own members when it has some), in name order
    groups: dict[str, Row]  # group I / II subtotals (only groups present among the children)


def build_table(program: TrainingProgram, unit: Unit, children: list[Unit],
                teams: dict[str, TeamCounts], group_codes: list[str],
                direct_label: str) -> Table:
    """Roll the team counts up into ``unit``'s children; members attached to ``unit`` itself
    (not to a child) get a row of their own so the rows add up to the total."""
    target = program.target_percent
    total, figures = roll_up(unit, children, ((p, t.members, t.completed, t.quarter)
                                              for p, t in teams.items()))
    width = len(group_codes)
    mastery: dict[int | None, list[int]] = defaultdict(lambda: [0] * width)
    for path, team in teams.items():
        if path.startswith(unit.path):
            into = mastery[child_id_in(path, unit)]
            for index, count in enumerate(team.mastery[:width]):
                into[index] += count

    def counts(key) -> list[int]:
        return list(mastery[key]) if key in mastery else [0] * width

    rows = [Row(f, target, f.unit.full_name, counts(f.unit.id)) for f in figures]
    direct = UnitProgress(unit, total.members - sum(f.members for f in figures),
                          total.completed - sum(f.completed for f in figures),
                          total.this_quarter - sum(f.this_quarter for f in figures))
    if direct.members or not children:
        rows.append(Row(direct, target, direct_label if children else unit.full_name,
                        counts(None), direct=True))
    groups = {}
    for code in GROUPS:
        members = [r for r in rows if r.group == code]
        if members:
            sub = UnitProgress(unit, sum(r.figures.members for r in members),
                               sum(r.figures.completed for r in members),
                               sum(r.figures.this_quarter for r in members))
            groups[code] = Row(sub, target, code)
    overall = [sum(values[i] for values in mastery.values()) for i in range(width)]
    return Table(Row(total, target, unit.full_name, overall), rows, groups)


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """``?sort=percent`` / ``?sort=-percent`` → (key, descending); anything else: by name."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    return (key, descending) if key in SORT_KEYS else ("name", False)


def sort_rows(rows: list[Row], key: str, descending: bool) -> list[Row]:
    """Sorted rows; the unit's own members always stay last."""
    def value(row: Row):
        return {
            "name": lambda: vietnamese_key(row.label),
            "group": lambda: (row.group or "", vietnamese_key(row.label)),
            "members": lambda: row.figures.members,
            "completed": lambda: row.figures.completed,
            "percent": lambda: row.percent,
            "gap": lambda: row.gap,
            "quarter": lambda: row.figures.this_quarter,
        }[key]()

    units = sorted((r for r in rows if not r.direct), key=value, reverse=descending)
    return units + [r for r in rows if r.direct]


def filter_rows(rows: list[Row], group: str | None, query: str | None) -> list[Row]:
    """Rows of one group (I/II) and/or whose name holds ``query`` (accents ignored)."""
    wanted = fold(query)
    return [r for r in rows
            if (not group or r.group == group)
            and (not wanted or wanted in fold(r.label))]


# --- charts' numbers ------------------------------------------------------------------------

def chart_counts(program: TrainingProgram, unit: Unit) -> tuple[dict[str, int], list[int]]:
    """Completions per month (``YYYY-MM``) and required-course records per score tenth."""
    stmt = (select(ProgramUnitCount.metric, ProgramUnitCount.key,
                   func.sum(ProgramUnitCount.value))
            .join(Unit, Unit.id == ProgramUnitCount.unit_id)
            .where(ProgramUnitCount.program_id == program.id, Unit.path.startswith(unit.path),
                   ProgramUnitCount.metric.in_(("month", "score")))
            .group_by(ProgramUnitCount.metric, ProgramUnitCount.key))
    months: dict[str, int] = {}
    scores = [0] * 11
    for metric, key, value in db.session.execute(stmt):
        if metric == "month":
            months[key] = int(value or 0)
        elif key.isdigit() and int(key) <= 10:
            scores[int(key)] += int(value or 0)
    return months, scores


def month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def cumulative_points(months: dict[str, int], starts_on: date, today: date
                      ) -> list[tuple[date, int]]:
    """Completed members at the end of each month from the start to today (the last point
    is today). Completions before the start count from the first point; later ones at the
    last, so the last point equals the number completed."""
    if today < starts_on:
        return [(today, sum(months.values()))]
    first_key, last_key = starts_on.strftime("%Y-%m"), today.strftime("%Y-%m")
    running = sum(n for key, n in months.items() if key < first_key)
    points = []
    day = date(starts_on.year, starts_on.month, 1)
    while day <= today:
        key = day.strftime("%Y-%m")
        running += months.get(key, 0)
        if key == last_key:
            running += sum(n for k, n in months.items() if k > last_key)
        points.append((min(month_end(day), today), running))
        day = month_end(day) + timedelta(days=1)
    return points


def target_count(members: int, target_percent: int) -> int:
    """Members who must complete for the target to be met (rounded up)."""
    return math.ceil(members * target_percent / 100)


# --- the members of one team ---------------------------------------------------------------

@dataclass
class MemberRow:
    user_id: int
    name: str
    phone: str | None
    courses: list[date | None]  # the day of each required course's record, or None
    completed_on: date | None


def course_titles(program: TrainingProgram) -> list[tuple[int, str]]:
    """(course id, title of its newest published version) of the required courses."""
    ids = program.course_ids
    titles = {c.id: c.slug for c in program.courses} | newest_published_titles(ids)
    return [(course_id, titles[course_id]) for course_id in ids]


def member_rows(program: TrainingProgram, unit: Unit, today: date) -> list[MemberRow]:
    """Everyone of the population under ``unit`` today, with their status per required
    course: those still missing a course first, then by name. One query."""
    statuses = member_statuses(program, today, within=[unit.path]).subquery("statuses")
    course_cols = [statuses.c[f"c{course_id}"] for course_id in program.course_ids]
    stmt = (select(statuses.c.user_id, User.full_name, User.phone, statuses.c.done,
                   statuses.c.last_at, *course_cols)
            .join(User, User.id == statuses.c.user_id))
    rows = []
    for row in db.session.execute(stmt):
        days = [local_day(value) if value is not None else None for value in row[5:]]
        rows.append(MemberRow(row.user_id, row.full_name, row.phone, days,
                              completion_day(program, row.done, row.last_at)))
    rows.sort(key=lambda r: (r.completed_on is not None, vietnamese_key(r.name)))
    return rows


def is_leaf(children: list[Unit]) -> bool:
    """The unit has no child units: its page lists its members."""
    return not children
