"""A member sees, on the home page, the programs that count them and what is left to do."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.extensions import db
from app.records.models import CompletionRecord
from app.reports.programs import ProgramFields, member_programs, save_program
from tests.factories import make_unit, make_user
from tests.reports.scenario import make_course


def _record(user, course, revoked=False):
    db.session.add(CompletionRecord(
        user_id=user.id, course_id=course.id, course_version_id=course.versions[0].id,
        completed_at=datetime.now(UTC), source="online", issuing_unit_id=user.unit_id,
        verification_code=f"c{user.id}-{course.id}", holder_name=user.full_name,
        course_title="x", revoked_at=datetime.now(UTC) if revoked else None))
    db.session.commit()


def _setup(audience=None):
    province = make_unit("T1", kind="province")
    commune = make_unit("X1", parent=province)
    elsewhere = make_unit("X2", parent=province)
    courses = [make_course("khoa-a"), make_course("khoa-b"), make_course("khoa-c")]
    save_program(ProgramFields(
        slug="ct-xa", name="Chương trình của xã", scope_unit_code="X1",
        course_slugs=[c.slug for c in courses], starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31), audience=audience))
    db.session.commit()
    return commune, elsewhere, courses


def test_member_in_scope_sees_done_and_missing_courses(app):
    commune, _elsewhere, courses = _setup()
    member = make_user(commune)
    _record(member, courses[0])
    _record(member, courses[1], revoked=True)  # a revoked record does not count
    [item] = member_programs(member)
    assert (item.done, item.total, item.percent) == (1, 3, 33)
    assert [done for _slug, _title, done in item.courses] == [True, False, False]


def test_members_outside_scope_audience_or_role_see_nothing(app):
    commune, elsewhere, _courses = _setup(audience="civil_servant")
    assert member_programs(make_user(elsewhere, audience="civil_servant")) == []
    assert member_programs(make_user(commune, audience="citizen")) == []
    assert member_programs(make_user(commune, role="officer", audience="civil_servant",
                                     phone="+84911000999")) == []
    assert len(member_programs(make_user(commune, audience="civil_servant",
                                         phone="+84911000998"))) == 1


def test_home_page_shows_the_program(app, client, auth):
    commune, _elsewhere, courses = _setup()
    member = make_user(commune, phone="+84912000111")
    _record(member, courses[2])
    auth.login("0912000111")
    page = client.get("/").get_data(as_text=True)
    assert "Chương trình của xã" in page
    assert "31/12/2026" in page
    assert "1/3" in page
    assert page.count('class="is-done"') == 1 and page.count('class="is-todo"') == 2
