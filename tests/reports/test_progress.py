"""The program definitions (as-of, revocation, moved and inactive members, audience) against
a plain recomputation, and the per-team counts kept by triggers + recount."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.assessments.models import CompetencyMastery
from app.auth.models import User
from app.courses.models import CourseVersion
from app.extensions import db
from app.reports import progress
from app.reports.models import (
    MembershipPeriod,
    ProgramMember,
    ProgramUnitCount,
    ProgressDirtyUnit,
)
from app.reports.programs import ProgramFields, save_program
from tests.reports import scenario

FAR = date(2031, 1, 1)


@pytest.fixture
def world(app):
    return scenario.build()


def make_program(world, audience=None, courses=None, scope=None, slug="ct-test"):
    courses = courses or world.courses
    program = save_program(ProgramFields(
        slug=slug, name="Chương trình thử", scope_unit_code=(scope or world.province).code,
        course_slugs=[c.slug for c in courses], starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31), audience=audience))
    db.session.commit()
    return program


def expected_statuses(world, program, day):
    ids = [c.id for c in program.courses]
    out = {}
    for person in world.people:
        unit = world.in_population(person, day, program.scope_unit.path, program.audience)
        if unit is not None:
            out[person.id] = (unit, world.completion(person, day, ids))
    return out


def actual_statuses(program, day):
    rows = db.session.execute(progress.member_statuses(program, day)).all()
    return {r.user_id: (r.unit_id, progress.completion_day(program, r.done, r.last_at))
            for r in rows}


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2026, 3, 31), date(2026, 6, 30),
                                 date(2026, 9, 30), date(2026, 12, 7), FAR])
@pytest.mark.parametrize("audience", [None, "civil_servant"])
def test_member_statuses_match_plain_computation(world, day, audience):
    program = make_program(world, audience=audience)
    expected = expected_statuses(world, program, day)
    assert actual_statuses(program, day) == expected
    if day == FAR:  # the scenario is not degenerate: every case the definitions name occurs
        assert any(done for _unit, done in expected.values())
        assert any(done is None for _unit, done in expected.values())


def test_scenario_holds_every_hard_case(world):
    assert any(len({u for _d, u, _a in p.history}) > 1 for p in world.people)  # moved
    assert any(not a for p in world.people for _d, _u, a in p.history)  # deactivated
    assert any(r[1] for p in world.people for r in p.records.values())  # revoked
    assert any(r[0].date() > date(2026, 12, 7) for p in world.people for r in p.records.values())
    assert any(not p.learner for p in world.people)


def test_scope_below_province_counts_only_its_subtree(world):
    commune = world.communes[0]
    program = make_program(world, scope=commune, slug="ct-xa")
    expected = expected_statuses(world, program, FAR)
    assert actual_statuses(program, FAR) == expected
    assert all(world.path_of[unit].startswith(commune.path) for unit, _ in expected.values())


def counts_by_metric(program):
    totals: Counter = Counter()
    for _path, metric, key, value in progress.count_rows(
            program, None, ("members", "completed", "month", "score")):
        totals[(metric, key)] += value
    return totals


def expected_counts(world, program):
    ids = [c.id for c in program.courses]
    totals: Counter = Counter()
    for person in world.people:
        if world.in_population(person, FAR, program.scope_unit.path, program.audience) is None:
            continue
        totals[("members", "")] += 1
        day = world.completion(person, FAR, ids)
        if day is not None:
            totals[("completed", "")] += 1
            totals[("month", day.strftime("%Y-%m"))] += 1
        for course_id in ids:
            found = person.records.get(course_id)
            if found and not found[1] and found[2] is not None:
                totals[("score", str(min(10, int(found[2] // 10))))] += 1
    return totals


def test_counts_after_save_equal_plain_computation(world):
    program = make_program(world)
    assert counts_by_metric(program) == expected_counts(world, program)


def test_counts_follow_moves_deactivation_and_revocation(world):
    program = make_program(world)
    progress.refresh_counts()
    assert db.session.scalar(select(func.count()).select_from(ProgressDirtyUnit)) == 0
    complete = next(p for p in world.people
                    if world.in_population(p, FAR, program.scope_unit.path) is not None
                    and world.completion(p, FAR, program.course_ids))
    user = db.session.get(User, complete.id)
    other_team = next(t for t, _c in world.teams if t.id != user.unit_id)
    before = counts_by_metric(program)

    user.unit_id = other_team.id  # a move: history closes and reopens, both teams recounted
    db.session.commit()
    periods = db.session.scalars(select(MembershipPeriod).where(
        MembershipPeriod.user_id == user.id).order_by(MembershipPeriod.id)).all()
    assert periods[-1].unit_id == other_team.id and periods[-1].valid_to is None
    assert periods[-2].valid_to == periods[-1].valid_from
    assert progress.refresh_counts() == 2
    assert counts_by_metric(program) == before
    team_members = db.session.scalar(select(ProgramUnitCount.value).where(
        ProgramUnitCount.program_id == program.id, ProgramUnitCount.unit_id == other_team.id,
        ProgramUnitCount.metric == "completed"))
    assert team_members >= 1

    user.is_active_member = False
    db.session.commit()
    progress.refresh_counts()
    after = counts_by_metric(program)
    assert after[("members", "")] == before[("members", "")] - 1
    assert after[("completed", "")] == before[("completed", "")] - 1

    user.is_active_member = True
    db.session.commit()
    record = db.session.scalars(select(scenario.CompletionRecord).where(
        scenario.CompletionRecord.user_id == user.id,
        scenario.CompletionRecord.revoked_at.is_(None))).first()
    record.revoked_at = datetime.now(UTC)  # what revoke_record's UPDATE sets
    db.session.commit()
    progress.refresh_counts()
    final = counts_by_metric(program)
    assert final[("members", "")] == before[("members", "")]
    assert final[("completed", "")] == before[("completed", "")] - 1


def test_rebuild_all_equals_incremental(world):
    program = make_program(world)
    incremental = counts_by_metric(program)
    progress.rebuild_all()
    assert counts_by_metric(program) == incremental


@pytest.mark.parametrize("scope_index", [None, 0])
def test_dashboard_counts_equal_the_as_of_query(world, scope_index):
    """Today's figures from the counts equal the straight query (no record is dated after
    2026-12-16, so FAR is "today" for the records; the quarter is Q4 2026)."""
    program = make_program(world)
    parent = world.province if scope_index is None else world.communes[scope_index]
    children = sorted({u for u in ([c for c in world.communes] + [t for t, _ in world.teams])
                       if u.parent_id == parent.id}, key=lambda u: u.code)
    fast_total, fast = progress.children_progress(program, parent, children, None,
                                                  today=date(2026, 12, 7))
    slow_total, slow = progress.roll_up(parent, children, progress.team_figures_on(
        program, FAR, since=date(2026, 10, 1)))
    as_tuple = lambda f: (f.unit.id, f.members, f.completed, f.this_quarter)  # noqa: E731
    assert [as_tuple(f) for f in fast] == [as_tuple(f) for f in slow]
    assert as_tuple(fast_total) == as_tuple(slow_total)
    assert fast_total.members > 0 and fast_total.this_quarter > 0
    expected = expected_statuses(world, program, FAR)
    assert slow_total.completed == sum(1 for u, d in expected.values()
                                       if d and world.path_of[u].startswith(parent.path))


def _kept_figures(program):
    """Every team count and member row the recount keeps for ``program``, as plain tuples."""
    counts = set(db.session.execute(select(
        ProgramUnitCount.unit_id, ProgramUnitCount.metric, ProgramUnitCount.key,
        ProgramUnitCount.value).where(ProgramUnitCount.program_id == program.id)).all())
    members = set(db.session.execute(select(
        ProgramMember.user_id, ProgramMember.unit_id, ProgramMember.done,
        ProgramMember.completed_on, ProgramMember.course_days).where(
        ProgramMember.program_id == program.id)).all())
    return counts, members


def _add_record(world, person, course):
    version = db.session.scalar(select(CourseVersion.id).where(
        CourseVersion.course_id == course.id).limit(1))
    db.session.add(scenario.CompletionRecord(
        user_id=person.id, course_id=course.id, course_version_id=version,
        completed_at=datetime(2026, 12, 5, 3, tzinfo=UTC), score_percent=87.5, source="online",
        issuing_unit_id=person.history[-1][1], verification_code=f"new-{person.id}-{course.id}",
        holder_name="x", course_title="x"))


def test_a_record_or_mastery_queues_the_member_and_the_recount_equals_a_rebuild(world):
    program = make_program(world)
    progress.refresh_counts()
    counted = [p for p in world.people
               if world.in_population(p, FAR, program.scope_unit.path) is not None]
    missing = [(p, c) for p in counted for c in world.courses if c.id not in p.records][:6]
    for person, course in missing:
        _add_record(world, person, course)
    db.session.add(CompetencyMastery(user_id=counted[0].id, competency_code="4.2",
                                     best_percent=90.0, is_mastered=True,
                                     mastered_at=datetime.now(UTC)))
    db.session.commit()

    marks = db.session.execute(select(ProgressDirtyUnit.unit_id, ProgressDirtyUnit.user_id)).all()
    assert {user_id for _unit, user_id in marks} == {p.id for p, _c in missing} | {counted[0].id}
    assert progress.refresh_counts() == len({unit for unit, _user in marks})
    incremental = _kept_figures(program)
    progress.rebuild_all()
    assert _kept_figures(program) == incremental


def test_a_member_who_moved_after_a_record_is_counted_in_the_new_team_only(world):
    """The record queues (old team, member); the move queues both teams whole: the whole
    recount wins and nobody is counted twice or lost."""
    program = make_program(world)
    progress.refresh_counts()
    person = next(p for p in world.people
                  if world.in_population(p, FAR, program.scope_unit.path) is not None
                  and any(c.id not in p.records for c in world.courses))
    _add_record(world, person, next(c for c in world.courses if c.id not in person.records))
    db.session.commit()
    user = db.session.get(User, person.id)
    user.unit_id = next(t for t, _c in world.teams if t.id != user.unit_id).id
    db.session.commit()

    progress.refresh_counts()
    incremental = _kept_figures(program)
    assert [row for row in incremental[1] if row[0] == person.id][0][1] == user.unit_id
    progress.rebuild_all()
    assert _kept_figures(program) == incremental
