"""A generated province for the report tests, and the figures computed the plain way.

The scenario is kept in Python (who was where when, which records exist) and written to the
database; ``expected_*`` recompute every figure from the Python side only, so a report query
and its counter tables are checked against something that shares none of their code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert

from app.auth.models import RoleGrant, User
from app.courses.models import Course, CourseVersion
from app.extensions import db
from app.records.models import CompletionRecord
from app.reports.models import MembershipPeriod
from tests.factories import make_unit

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Person:
    id: int
    audience: str
    learner: bool
    # (valid_from, unit_id, active); sorted by day; the last one holds today.
    history: list[tuple[date, int, bool]]
    # course_id → (completed_at UTC, revoked, score)
    records: dict[int, tuple[datetime, bool, float | None]] = field(default_factory=dict)

    def state_on(self, day: date) -> tuple[int, bool] | None:
        current = None
        for start, unit_id, active in self.history:
            if start <= day:
                current = (unit_id, active)
        return current


@dataclass
class Scenario:
    province: object
    communes: list
    teams: list  # (team, commune)
    courses: list[Course]
    people: list[Person]
    path_of: dict[int, str]

    def in_population(self, person: Person, day: date, scope_path: str,
                      audience: str | None = None) -> int | None:
        """The unit that counts ``person`` on ``day``, or None when they are not counted."""
        state = person.state_on(day)
        if state is None or not person.learner or not state[1]:
            return None
        if audience and person.audience != audience:
            return None
        return state[0] if self.path_of[state[0]].startswith(scope_path) else None

    def completion(self, person: Person, day: date, course_ids: list[int]) -> date | None:
        """The member's completion day as of ``day`` (None: not complete)."""
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN)
        days = []
        for course_id in course_ids:
            found = person.records.get(course_id)
            if found is None or found[1] or found[0] >= end:
                return None
            days.append(found[0].astimezone(VN).date())
        return max(days) if days else None


def make_course(slug: str, versions: int = 1) -> Course:
    course = Course(slug=slug)
    for number in range(1, versions + 1):
        course.versions.append(CourseVersion(
            number=number, status="published", title=f"Khóa {slug} v{number}",
            content_hash=f"{slug}-{number}".ljust(64, "0")))
    db.session.add(course)
    db.session.flush()
    return course


def build(seed: int = 7, people: int = 160, today: date | None = None) -> Scenario:
    """Units, courses (one with two versions), people with moves, deactivations, audiences,
    non-learners, records over the year (some revoked, some after ``today``)."""
    rng = random.Random(seed)
    today = today or date(2026, 12, 7)
    province = make_unit("T75", "Đồng Nai", kind="province")
    communes = [make_unit(f"X{i}", f"Xã {i}", kind="xa", parent=province) for i in range(3)]
    communes += [make_unit(f"P{i}", f"Phường {i}", kind="phuong", parent=province)
                 for i in range(2)]
    teams = [(make_unit(f"{c.code}-T{j}", f"Tổ {c.code}-{j}", kind="team", parent=c), c)
             for c in communes for j in range(2)]
    courses = [make_course("khoa-a", versions=2), make_course("khoa-b"), make_course("khoa-c")]
    versions = {c.id: [v.id for v in c.versions] for c in courses}
    path_of = {u.id: u.path for u in [province, *communes, *(t for t, _ in teams)]}
    unit_ids = [t.id for t, _ in teams] + [c.id for c in communes]
    start = date(2026, 1, 1)
    people_rows: list[Person] = []
    for _ in range(people):
        first_unit = rng.choice(unit_ids)
        history = [(start - timedelta(days=rng.randint(0, 60)), first_unit, True)]
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            day = history[-1][0] + timedelta(days=rng.randint(1, 150))
            if day >= today:
                break
            kind = rng.random()
            unit = rng.choice(unit_ids) if kind < 0.6 else history[-1][1]
            active = history[-1][2] if kind < 0.6 else not history[-1][2]
            history.append((day, unit, active))
        person = Person(id=0, audience=rng.choice(("citizen", "citizen", "civil_servant")),
                        learner=rng.random() > 0.05, history=history)
        for course in courses:
            if rng.random() < 0.7:
                day = date(2026, 1, 5) + timedelta(days=rng.randint(0, 345))
                moment = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)),
                                          tzinfo=VN).astimezone(UTC)
                score = rng.choice((None, 70.0, 85.5, 100.0, 62.0))
                person.records[course.id] = (moment, rng.random() < 0.07, score)
        people_rows.append(person)
    _write(people_rows, courses, versions)
    return Scenario(province, communes, teams, courses, people_rows, path_of)


def _write(people: list[Person], courses: list[Course], versions: dict[int, list[int]]) -> None:
    now = datetime.now(UTC)
    for index, person in enumerate(people):
        last_unit, last_active = person.history[-1][1], person.history[-1][2]
        user = User(full_name=f"Người {index:03d}", phone=f"+8497{index:07d}",
                    unit_id=last_unit, audience=person.audience, is_active_member=last_active)
        db.session.add(user)
        db.session.flush()
        person.id = user.id
        if person.learner:
            db.session.add(RoleGrant(user_id=user.id, unit_id=last_unit, role="learner"))
    db.session.flush()
    # Replace the history the triggers wrote (everyone "created today") with the scenario's.
    db.session.execute(delete(MembershipPeriod))
    rows = []
    for person in people:
        for i, (start, unit_id, active) in enumerate(person.history):
            end = person.history[i + 1][0] if i + 1 < len(person.history) else None
            rows.append({"user_id": person.id, "unit_id": unit_id, "is_active": active,
                         "valid_from": start, "valid_to": end})
    db.session.execute(insert(MembershipPeriod), rows)
    records = []
    for person in people:
        for course_id, (moment, revoked, score) in person.records.items():
            version_ids = versions[course_id]
            records.append(CompletionRecord(
                user_id=person.id, course_id=course_id,
                course_version_id=version_ids[person.id % len(version_ids)],
                completed_at=moment, score_percent=score, source="online",
                issuing_unit_id=person.history[-1][1],
                verification_code=f"v{person.id}-{course_id}", holder_name="x",
                course_title="x", revoked_at=now if revoked else None))
    db.session.add_all(records)
    db.session.commit()
