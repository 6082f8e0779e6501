"""`flask bench seed` at a tiny size: what it prints is what it wrote, the same seed gives the
same rows, a database with people is refused, and the dashboard counts are exact afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from app.assessments.models import Attempt, CompetencyMastery
from app.auth.models import RoleGrant, User
from app.courses.models import Course, LessonProgress
from app.extensions import db
from app.orgs.models import Unit
from app.records.models import CompletionRecord
from app.reports import progress
from app.reports.models import MembershipPeriod, ProgressDirtyUnit, TrainingProgram
from app.reports.scale import member_phone, officer_phone, parse_totals
from tests.conftest import empty_all_tables
from tests.factories import make_unit, make_user

MEMBERS = 300


def run_seed(runner, seed: int = 5, members: int = MEMBERS, password: str | None = None):
    args = ["bench", "seed", "--members", str(members), "--seed", str(seed)]
    if password:
        args.append("--password-stdin")
    result = runner.invoke(args=args, input=f"{password}\n" if password else None)
    assert result.exit_code == 0, result.output
    return parse_totals(result.output.splitlines())


def count(stmt) -> int:
    return db.session.scalar(stmt)


def members_where(*conditions):
    return select(func.count(User.id)).where(User.phone.like("+8431%"), *conditions)


def test_printed_totals_are_what_was_written(runner):
    totals = run_seed(runner)
    teams = count(select(func.count(Unit.id)).where(Unit.kind == "team"))
    assert totals["xã/phường"] == 95 == count(select(func.count(Unit.id)).where(
        Unit.kind.in_(("phuong", "xa", "dac_khu"))))
    assert totals["Tổ CNSCĐ"] == teams and 1700 <= teams <= 2100
    assert totals["thành viên"] == MEMBERS == count(members_where())
    assert totals["cán bộ"] == 96 == count(select(func.count(RoleGrant.id)).where(
        RoleGrant.role == "officer"))
    assert totals["có vai trò học viên"] == count(select(func.count(RoleGrant.id)).where(
        RoleGrant.role == "learner"))
    assert totals["đã nghỉ (không còn hoạt động)"] == count(
        members_where(User.is_active_member.is_(False)))
    assert totals["lượt làm bài kiểm tra"] == count(select(func.count(Attempt.id)))
    assert totals["chứng nhận hoàn thành"] == count(select(func.count(CompletionRecord.id)))
    assert totals["chứng nhận bị thu hồi"] == count(select(func.count(CompletionRecord.id)).where(
        CompletionRecord.revoked_at.is_not(None)))
    assert totals["năng lực đã đạt"] == count(select(func.count(CompetencyMastery.id)).where(CompetencyMastery.is_mastered.is_(True)))
    assert totals["bài học đang học dở"] == count(select(func.count(LessonProgress.id)))
    assert totals["giai đoạn thành viên"] == count(select(func.count(MembershipPeriod.id)))
    # Realistic rates, loosely: most learn, ~3 records each, every member has a history.
    assert 2.0 * MEMBERS <= totals["chứng nhận hoàn thành"] <= 3.6 * MEMBERS
    assert totals["lượt làm bài kiểm tra"] > totals["chứng nhận hoàn thành"]
    assert count(select(func.count(func.distinct(MembershipPeriod.user_id)))) == MEMBERS + 96
    assert count(select(func.count(Course.id))) == 4
    assert db.session.scalar(select(TrainingProgram.slug)) == "to-cnscd-2026"


def test_rows_hold_together(runner, dialect):
    """SQLite loads with foreign keys unchecked: every reference must still resolve (on
    PostgreSQL COPY checks them), and the connection gets its checks back."""
    run_seed(runner)
    if dialect == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        db.session.remove()  # the pooled connection the load used
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    passed = db.session.execute(
        select(CompletionRecord.score_percent, Attempt.score_percent, Attempt.is_passed)
        .join(Attempt, Attempt.id == CompletionRecord.attempt_id)).all()
    assert passed and all(r == a and ok for r, a, ok in passed)
    assert all(70 <= r <= 100 for r, _a, _ok in passed)
    scores = db.session.scalars(select(Attempt.score_percent)).all()
    assert min(scores) < 70 and max(scores) == 100


def test_history_matches_the_members(runner):
    run_seed(runner)
    open_periods = db.session.execute(
        select(MembershipPeriod.unit_id, MembershipPeriod.is_active, User.unit_id,
               User.is_active_member)
        .join(User, User.id == MembershipPeriod.user_id)
        .where(MembershipPeriod.valid_to.is_(None))).all()
    assert len(open_periods) == MEMBERS + 96
    assert all(p_unit == u_unit and p_active == u_active
               for p_unit, p_active, u_unit, u_active in open_periods)
    # Moved or deactivated members have a closed period before the open one.
    changed = count(select(func.count(MembershipPeriod.id)).where(
        MembershipPeriod.valid_to.is_not(None)))
    assert changed == count(select(func.count(MembershipPeriod.id))) - MEMBERS - 96
    # Records are dated before the member left and never in the future.
    latest = db.session.scalar(select(func.max(CompletionRecord.completed_at)))
    assert latest.replace(tzinfo=latest.tzinfo or UTC) <= datetime.now(UTC)


def snapshot() -> tuple:
    people = db.session.execute(
        select(User.phone, User.full_name, Unit.code, User.audience, User.gender,
               User.birth_year, User.is_active_member)
        .join(Unit, Unit.id == User.unit_id).order_by(User.phone)).all()
    records = db.session.execute(
        select(User.phone, Course.slug, CompletionRecord.completed_at,
               CompletionRecord.score_percent, CompletionRecord.revoked_at,
               CompletionRecord.verification_code)
        .join(User, User.id == CompletionRecord.user_id)
        .join(Course, Course.id == CompletionRecord.course_id)
        .order_by(User.phone, Course.slug)).all()
    return people, records


def test_same_seed_same_rows(runner):
    run_seed(runner, seed=11, members=120)
    first = snapshot()
    empty_all_tables()
    run_seed(runner, seed=11, members=120)
    assert snapshot() == first
    empty_all_tables()
    run_seed(runner, seed=12, members=120)
    assert snapshot() != first


def test_refuses_a_database_with_people(runner):
    unit = make_unit("T1", "Tỉnh thử", kind="province")
    make_user(unit, role="officer")
    result = runner.invoke(args=["bench", "seed", "--members", "10"])
    assert result.exit_code == 1
    assert "đã có 1 người dùng" in result.output
    assert count(select(func.count(User.id))) == 1
    assert count(select(func.count(Course.id))) == 0


def test_counts_are_exact_after_the_bulk_load(runner):
    run_seed(runner)
    assert count(select(func.count(ProgressDirtyUnit.id))) == 0
    assert progress.refresh_counts() == 0
    program = db.session.scalar(select(TrainingProgram))
    today = progress.local_today()
    first, _last = progress.quarter_bounds(*progress.quarter_of(today))
    expected = progress.team_figures_on(program, today, since=first)
    assert sum(members for _p, members, _c, _r in expected) > 0.8 * MEMBERS
    assert sum(done for _p, _m, done, _r in expected) > 0.3 * MEMBERS
    kept: dict[str, list[int]] = {}
    for path, metric, _key, value in progress.count_rows(program, None, ("members", "completed")):
        kept.setdefault(path, [0, 0])[metric == "completed"] += value
    assert kept == {path: [members, done] for path, members, done, _r in expected if members}
    province = program.scope_unit
    communes = list(db.session.scalars(select(Unit).where(Unit.parent_id == province.id)))
    total, children = progress.children_progress(program, province, communes, None, today)
    assert (total.members, total.completed, total.this_quarter) == (
        sum(e[1] for e in expected), sum(e[2] for e in expected), sum(e[3] for e in expected))
    _total, straight = progress.roll_up(province, communes, expected)
    assert [(c.members, c.completed, c.this_quarter) for c in children] == [
        (c.members, c.completed, c.this_quarter) for c in straight]


def test_triggers_are_back_after_the_load(runner):
    run_seed(runner, members=50)
    member = db.session.scalar(select(User).where(User.phone == member_phone(0)))
    team = db.session.scalar(select(Unit).where(Unit.kind == "team", Unit.id != member.unit_id))
    member.unit_id = team.id
    db.session.commit()
    assert count(select(func.count(ProgressDirtyUnit.id))) == 2
    assert count(select(func.count(MembershipPeriod.id)).where(
        MembershipPeriod.user_id == member.id, MembershipPeriod.valid_to.is_(None))) == 1


@pytest.mark.parametrize("who", [officer_phone(0), member_phone(3)])
def test_password_stdin_lets_accounts_sign_in(runner, client, who):
    run_seed(runner, members=5, password="matkhau-do-2026")
    response = client.post("/login", data={"identifier": "0" + who[3:],
                                           "password": "matkhau-do-2026"})
    assert response.status_code == 302
