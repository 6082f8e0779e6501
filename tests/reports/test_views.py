"""The officers' program pages: access, figures against the scenario, sort/filter, the form,
and a fixed number of SQL queries whatever the size of the province."""

from __future__ import annotations

import math
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.courses.models import Course
from app.extensions import db
from app.reports.models import TrainingProgram
from app.reports.programs import ProgramFields, save_program
from app.reports.progress import local_today, quarter_bounds, quarter_of
from tests.factories import PASSWORD, make_unit, make_user
from tests.querycount import count_queries, forget_request_state
from tests.reports import scenario

FAR = date(2031, 1, 1)


class Rows(HTMLParser):
    """{data-row: [data-value of each cell]} and {data-member: [cell texts]} of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}
        self._member: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-row" in attrs:
            self._current = self.rows.setdefault(attrs["data-row"], [])
        if tag == "tr" and "data-member" in attrs:
            self._member = attrs["data-member"]
            self.members[self._member] = []
        if tag == "td" and "data-value" in attrs:
            self._current.append(attrs["data-value"])
        if tag in ("td", "th") and self._member is not None:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._member is not None:
            self.members[self._member].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr":
            self._member = None


def figures(row: list[str]) -> tuple[int, int, int, int]:
    """(members, completed, gap, this quarter) from a row's data-values."""
    members, completed, _percent, gap, quarter = row
    return int(members), int(completed), int(gap), int(quarter)


@pytest.fixture
def world(app):
    return scenario.build()


def make_program(world, scope=None, slug="ct-test", audience=None, target=100):
    program = save_program(ProgramFields(
        slug=slug, name="Chương trình thử", scope_unit_code=(scope or world.province).code,
        course_slugs=[c.slug for c in world.courses], starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31), audience=audience, target_percent=target))
    db.session.commit()
    return program


@pytest.fixture
def program(world):
    return make_program(world)


@pytest.fixture
def people(world):
    """One account per kind of viewer, phones by name."""
    province_officer = make_user(world.province, role="officer", name="Cán bộ Tỉnh",
                                 phone="+84987100001")
    commune_officer = make_user(world.communes[0], role="officer", name="Cán bộ Xã",
                                phone="+84987100002")
    trainer = make_user(world.province, role="trainer", name="Giảng viên", phone="+84987100003")
    # A learner of another province: not in the program's population.
    learner = make_user(make_unit("NGOAI", "Tỉnh khác", kind="province"), role="learner",
                        name="Học viên", phone="+84987100004")
    return {"province": province_officer, "commune": commune_officer, "trainer": trainer,
            "learner": learner}


def expected(world, program, within: str, today: date):
    """{unit id → (members, completed, this quarter)} by the scenario's own rules: today's
    population (its last state) and every live record (counts are for today)."""
    ids = [c.id for c in program.courses]
    first, last = quarter_bounds(*quarter_of(today))
    out = {}
    for person in world.people:
        unit = world.in_population(person, FAR, program.scope_unit.path, program.audience)
        if unit is None or not world.path_of[unit].startswith(within):
            continue
        done = world.completion(person, FAR, ids)
        slot = out.setdefault(unit, [0, 0, 0])
        slot[0] += 1
        slot[1] += done is not None
        slot[2] += done is not None and first <= done <= last
    return out


def sum_under(per_unit, world, path: str) -> tuple[int, int, int]:
    totals = [0, 0, 0]
    for unit_id, values in per_unit.items():
        if world.path_of[unit_id].startswith(path):
            totals = [a + b for a, b in zip(totals, values, strict=True)]
    return tuple(totals)


def gap(members: int, completed: int, target: int) -> int:
    return max(0, math.ceil(members * target / 100) - completed)


# --- access ---------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, program):
    for url in ("/reports/programs", f"/reports/programs/{program.slug}",
                "/reports/programs/new", f"/reports/programs/{program.slug}/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["trainer", "learner"])
def test_trainers_and_learners_see_no_program_pages(client, auth, program, people, who):
    auth.login(people[who].phone)
    assert client.get("/reports/programs").status_code == 403
    assert client.get("/reports/programs/new").status_code == 403
    assert client.get(f"/reports/programs/{program.slug}").status_code == 404
    assert client.get(f"/reports/programs/{program.slug}/edit").status_code == 404


def test_province_officer_sees_every_commune(client, auth, world, program, people):
    auth.login(people["province"].phone)
    listing = client.get("/reports/programs")
    assert listing.status_code == 200 and "Chương trình thử" in listing.text
    assert "/reports/programs/new" in listing.text
    page = client.get(f"/reports/programs/{program.slug}")
    assert page.status_code == 200
    rows = Rows(page.text).rows
    assert {code for code in rows if not code.startswith(("group-", "total"))} == {
        c.code for c in world.communes}
    assert 'href="/reports/programs/ct-test/edit"' in page.text


def test_commune_officer_sees_only_their_commune(client, auth, world, program, people):
    own, other = world.communes[0], world.communes[1]
    auth.login(people["commune"].phone)
    page = client.get(f"/reports/programs/{program.slug}")
    assert page.status_code == 200
    rows = Rows(page.text).rows
    teams = {t.code for t, c in world.teams if c.id == own.id}
    assert set(rows) - {"total", "direct"} == teams
    assert other.full_name not in page.text
    for code in (other.code, world.province.code, world.teams[-1][0].code, "KHONG-CO"):
        assert client.get(f"/reports/programs/{program.slug}?unit={code}").status_code == 404
    own_team = next(t for t, c in world.teams if c.id == own.id)
    assert client.get(f"/reports/programs/{program.slug}?unit={own_team.code}").status_code == 200
    # Sees the province's program, but may not change it.
    assert client.get(f"/reports/programs/{program.slug}/edit").status_code == 404
    assert "/edit" not in page.text


def test_program_of_another_commune_is_not_found(client, auth, world, people):
    other = make_program(world, scope=world.communes[1], slug="ct-xa-khac")
    auth.login(people["commune"].phone)
    assert client.get(f"/reports/programs/{other.slug}").status_code == 404
    assert client.get(f"/reports/programs/{other.slug}/edit").status_code == 404
    assert "ct-xa-khac" not in client.get("/reports/programs").text


def test_drill_down_outside_the_program_scope_is_not_found(client, auth, world, people):
    program = make_program(world, scope=world.communes[0], slug="ct-xa")
    auth.login(people["province"].phone)
    assert client.get(f"/reports/programs/{program.slug}?unit={world.communes[1].code}"
                      ).status_code == 404
    assert client.get(f"/reports/programs/{program.slug}?unit={world.province.code}"
                      ).status_code == 404
    assert client.get(f"/reports/programs/{program.slug}").status_code == 200


# --- figures --------------------------------------------------------------------------------

def test_province_table_equals_plain_computation(client, auth, world, program, people):
    auth.login(people["province"].phone)
    today = local_today()
    truth = expected(world, program, world.province.path, today)
    rows = Rows(client.get(f"/reports/programs/{program.slug}").text).rows
    for commune in world.communes:
        members, completed, quarter = sum_under(truth, world, commune.path)
        assert figures(rows[commune.code]) == (members, completed, gap(members, completed, 100),
                                               quarter), commune.code
    members, completed, quarter = sum_under(truth, world, world.province.path)
    assert figures(rows["total"]) == (members, completed, gap(members, completed, 100), quarter)
    for group, kind in (("I", "phuong"), ("II", "xa")):
        subtotal = [0, 0, 0]
        for commune in (c for c in world.communes if c.kind == kind):
            subtotal = [a + b for a, b in zip(subtotal, sum_under(truth, world, commune.path),
                                              strict=True)]
        assert figures(rows[f"group-{group}"])[:2] == tuple(subtotal[:2])
    assert members > 0 and 0 < completed < members


def test_commune_page_has_teams_and_the_communes_own_members(client, auth, world, program,
                                                            people):
    commune = world.communes[0]
    auth.login(people["province"].phone)
    truth = expected(world, program, commune.path, local_today())
    rows = Rows(client.get(f"/reports/programs/{program.slug}?unit={commune.code}").text).rows
    for team, parent in world.teams:
        if parent.id == commune.id:
            assert figures(rows[team.code])[:2] == sum_under(truth, world, team.path)[:2]
    direct = truth.get(commune.id, [0, 0, 0])
    assert figures(rows["direct"])[:2] == tuple(direct[:2])
    assert figures(rows["total"])[:2] == sum_under(truth, world, commune.path)[:2]


def test_team_page_lists_members_with_status_per_course(client, auth, world, program, people):
    team = world.teams[0][0]
    auth.login(people["province"].phone)
    page = client.get(f"/reports/programs/{program.slug}?unit={team.code}")
    assert page.status_code == 200
    members = Rows(page.text).members
    ids = [c.id for c in program.courses]
    wanted = {}
    for person in world.people:
        if world.in_population(person, local_today(), world.province.path) == team.id:
            wanted[str(person.id)] = person
    assert set(members) == set(wanted) and wanted
    for user_id, cells in members.items():
        person = wanted[user_id]
        course_cells = cells[3:3 + len(ids)]
        for course_id, cell in zip(ids, course_cells, strict=True):
            record = person.records.get(course_id)
            live = record is not None and not record[1] and record[0].date() <= local_today()
            assert cell.startswith("✓") == live, (user_id, course_id, cell)
    assert "window.print()" in page.text and "Ghi chú" in page.text


def test_team_list_needs_people_view(client, auth, world, program, people):
    """A viewer of reports without people.view gets the figures, never the names."""
    from app.auth.permissions import ACTION_ROLES

    team = world.teams[0][0]
    auth.login(people["province"].phone)
    original = ACTION_ROLES["people.view"]
    ACTION_ROLES["people.view"] = frozenset({"admin"})
    try:
        page = client.get(f"/reports/programs/{program.slug}?unit={team.code}")
    finally:
        ACTION_ROLES["people.view"] = original
    assert page.status_code == 200 and Rows(page.text).members == {}
    assert "Người 0" not in page.text


# --- sort and filter ------------------------------------------------------------------------

def _order(html: str) -> list[str]:
    return [code for code in Rows(html).rows if not code.startswith(("group-", "total"))]


def test_sort_by_percent_both_ways_and_by_name(client, auth, world, program, people):
    auth.login(people["province"].phone)
    url = f"/reports/programs/{program.slug}"
    up = Rows(client.get(url + "?sort=percent").text).rows
    values = [float(up[code][2]) for code in up if not code.startswith(("group-", "total"))]
    assert values == sorted(values)
    down = client.get(url + "?sort=-percent").text
    values = [float(Rows(down).rows[c][2]) for c in _order(down)]
    assert values == sorted(values, reverse=True)
    assert 'aria-sort="descending"' in down
    names = _order(client.get(url + "?sort=name").text)
    assert names == ["P0", "P1", "X0", "X1", "X2"]  # Phường … before Xã …
    assert _order(client.get(url + "?sort=bogus").text) == names


def test_filter_by_group_and_by_name(client, auth, world, program, people):
    auth.login(people["province"].phone)
    url = f"/reports/programs/{program.slug}"
    assert _order(client.get(url + "?group=I").text) == ["P0", "P1"]
    assert _order(client.get(url + "?group=II&q=xa 1").text) == ["X1"]
    assert _order(client.get(url + "?q=phuong 0").text) == ["P0"]  # accents ignored
    page = client.get(url + "?q=khong-co").text
    assert _order(page) == [] and "Không có đơn vị nào khớp." in page
    # The totals stay the unit's totals.
    assert Rows(page).rows["total"] == Rows(client.get(url).text).rows["total"]


# --- fixed query counts -----------------------------------------------------------------------

def _queries(client, url: str) -> int:
    client.get(url)  # warm: recount anything dirty, load the framework file once
    forget_request_state()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _unit(code: str):
    from app.orgs.models import Unit

    return db.session.scalar(select(Unit).where(Unit.code == code))


def _grow(communes: int, teams: int, members: int) -> None:
    """More communes, teams and members under the province (the counts follow)."""
    from app.auth.models import RoleGrant, User

    province = _unit("T75")
    for i in range(communes):
        commune = make_unit(f"G{i}", f"Xã thêm {i}", kind="xa", parent=province)
        for j in range(teams):
            team = make_unit(f"G{i}-{j}", f"Tổ thêm {i}-{j}", kind="team", parent=commune)
            for k in range(members):
                user = User(full_name=f"Thêm {i}-{j}-{k}", phone=f"+8496{i:02d}{j:02d}{k:03d}",
                            unit_id=team.id, audience="citizen")
                db.session.add(user)
                db.session.flush()
                db.session.add(RoleGrant(user_id=user.id, unit_id=team.id, role="learner"))
    db.session.commit()


@pytest.mark.parametrize("who,level", [("province", "province"), ("province", "commune"),
                                       ("commune", "commune"), ("province", "team")])
def test_program_page_query_count_does_not_grow(client, auth, world, program, people, who,
                                                level):
    auth.login(people[who].phone)
    commune = world.communes[0]
    team = world.teams[0][0]
    unit = {"province": "", "commune": f"?unit={commune.code}",
            "team": f"?unit={team.code}"}[level]
    url = f"/reports/programs/{program.slug}{unit}"
    small = _queries(client, url)
    _grow(communes=4, teams=3, members=3)
    for i in range(3):  # and more teams in the commune looked at
        make_unit(f"X0-N{i}", f"Tổ mới {i}", kind="team", parent=_unit("X0"))
    db.session.commit()
    large = _queries(client, url)
    assert small == large
    assert large <= 16


def test_programs_list_query_count_does_not_grow(client, auth, world, program, people):
    auth.login(people["province"].phone)
    small = _queries(client, "/reports/programs")
    db.session.expunge_all()
    world.courses = list(db.session.scalars(select(Course)))
    world.province = _unit("T75")
    make_program(world, slug="ct-hai")
    make_program(world, scope=_unit("X1"), slug="ct-ba")
    _grow(communes=2, teams=2, members=2)
    assert _queries(client, "/reports/programs") == small


# --- the form -------------------------------------------------------------------------------

def _form(world, **changes) -> dict:
    data = {"name": "Chương trình mới", "slug": "ct-moi", "scope_unit_code": world.province.code,
            "course_slugs": [c.slug for c in world.courses[:2]], "audience": "",
            "target_percent": "90", "starts_on": "01/02/2026", "deadline": "2026-11-30",
            "description": ""}
    data.update(changes)
    return data


def _publish_courses(world):
    from app.courses.models import CourseVersion

    for version in db.session.scalars(select(CourseVersion)):
        version.status = "published"
    db.session.commit()


def test_create_program_with_both_date_forms(client, auth, world, people):
    _publish_courses(world)
    auth.login(people["province"].phone)
    form = client.get("/reports/programs/new")
    assert form.status_code == 200
    for course in world.courses:
        assert f'value="{course.slug}"' in form.text
    response = client.post("/reports/programs/new", data=_form(world))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/programs/ct-moi")
    saved = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == "ct-moi"))
    assert (saved.starts_on, saved.deadline, saved.target_percent) == (
        date(2026, 2, 1), date(2026, 11, 30), 90)
    assert sorted(c.slug for c in saved.courses) == ["khoa-a", "khoa-b"]
    assert client.get("/reports/programs/ct-moi").status_code == 200


@pytest.mark.parametrize("changes,field,message", [
    ({"name": "  "}, "name", "Nhập tên chương trình."),
    ({"starts_on": "31/02/2026"}, "starts_on", "Ngày “31/02/2026” không hợp lệ"),
    ({"deadline": "ngày mai"}, "deadline", "Ngày “ngày mai” không hợp lệ"),
    ({"starts_on": ""}, "starts_on", "Nhập ngày bắt đầu"),
    ({"deadline": "01/01/2026"}, "deadline", "Hạn hoàn thành không được trước ngày bắt đầu."),
    ({"target_percent": "0"}, "target_percent", "Chỉ tiêu là một số từ 1 đến 100"),
    ({"target_percent": "150"}, "target_percent", "Chỉ tiêu là một số từ 1 đến 100"),
    ({"target_percent": "nhiều"}, "target_percent", "Chỉ tiêu là một số từ 1 đến 100"),
    ({"scope_unit_code": "KHONG-CO"}, "scope_unit_code", "Chọn một đơn vị trong phạm vi"),
    ({"course_slugs": []}, "course_slugs", "Chọn ít nhất một khóa học bắt buộc."),
    ({"slug": "ct-test"}, "slug", "Đã có chương trình với mã này."),
    ({"slug": "Có Dấu"}, "slug", "Mã chương trình gồm"),
])
def test_bad_input_is_refused_and_kept(client, auth, world, program, people, changes, field,
                                       message):
    auth.login(people["province"].phone)
    before = db.session.scalar(select(TrainingProgram.id).where(TrainingProgram.slug == "ct-moi"))
    response = client.post("/reports/programs/new", data=_form(world, **changes))
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert 'value="Chương trình mới"' in response.text or changes.get("name") == "  "
    assert before is None
    db.session.expunge_all()
    assert db.session.scalar(select(TrainingProgram.id).where(
        TrainingProgram.slug == "ct-moi")) is None


def test_commune_officer_cannot_put_a_program_on_another_unit(client, auth, world, people):
    auth.login(people["commune"].phone)
    form = client.get("/reports/programs/new").text
    assert f'value="{world.communes[0].code}"' in form
    assert f'value="{world.communes[1].code}"' not in form
    assert f'value="{world.province.code}"' not in form
    response = client.post("/reports/programs/new", data=_form(
        world, scope_unit_code=world.communes[1].code))
    assert response.status_code == 400 and "Chọn một đơn vị trong phạm vi" in response.text
    ok = client.post("/reports/programs/new", data=_form(
        world, scope_unit_code=world.communes[0].code))
    assert ok.status_code == 302


def test_edit_keeps_values_and_saves(client, auth, world, program, people):
    auth.login(people["province"].phone)
    page = client.get(f"/reports/programs/{program.slug}/edit")
    assert page.status_code == 200
    assert 'value="01/01/2026"' in page.text and 'value="31/12/2026"' in page.text
    response = client.post(f"/reports/programs/{program.slug}/edit", data=_form(
        world, slug=program.slug, name="Tên đã sửa"))
    assert response.status_code == 302
    db.session.expunge_all()
    saved = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == "ct-test"))
    assert saved.name == "Tên đã sửa" and saved.target_percent == 90


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_form_needs_csrf(client, world, program, people):
    token_re = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    token = token_re.search(client.get("/login").text).group(1)
    client.post("/login", data={"identifier": people["province"].phone,
                                "password": PASSWORD, "csrf_token": token})
    assert client.post("/reports/programs/new", data=_form(world)).status_code == 400
    assert client.post(f"/reports/programs/{program.slug}/edit",
                       data=_form(world, slug=program.slug)).status_code == 400
    token = token_re.search(client.get("/reports/programs/new").text).group(1)
    response = client.post("/reports/programs/new", data={**_form(world), "csrf_token": token})
    assert response.status_code == 302


def test_nav_link_for_officers_only(client, auth, program, people):
    auth.login(people["province"].phone)
    assert 'href="/reports/programs"' in client.get("/").text
    auth.logout()
    auth.login(people["learner"].phone)
    assert 'href="/reports/programs"' not in client.get("/").text


def test_officer_of_two_communes_switches_between_them(client, auth, world, program):
    from app.auth.models import RoleGrant

    first, second, third = world.communes[0], world.communes[1], world.communes[2]
    officer = make_user(second, role="officer", name="Cán bộ hai xã", phone="+84987100009")
    db.session.add(RoleGrant(user_id=officer.id, unit_id=first.id, role="officer"))
    db.session.commit()
    auth.login(officer.phone)
    page = client.get(f"/reports/programs/{program.slug}")
    assert page.status_code == 200
    assert set(Rows(page.text).rows) - {"total", "direct"} == {
        t.code for t, c in world.teams if c.id == first.id}  # "Xã 0" comes first
    assert f"?unit={second.code}" in page.text
    assert client.get(f"/reports/programs/{program.slug}?unit={second.code}").status_code == 200
    assert client.get(f"/reports/programs/{program.slug}?unit={third.code}").status_code == 404


@pytest.mark.parametrize("shift,verdict", [(30, "Đúng tiến độ"), (-400, "Chậm tiến độ")])
def test_pace_verdict_on_the_page(client, auth, world, people, shift, verdict):
    """Not started yet: on track; past the deadline below the target: behind."""
    from datetime import timedelta

    start = local_today() + timedelta(days=shift)
    program = save_program(ProgramFields(
        slug="ct-nhip", name="Nhịp độ", scope_unit_code=world.province.code,
        course_slugs=[c.slug for c in world.courses], starts_on=start,
        deadline=start + timedelta(days=200)))
    db.session.commit()
    auth.login(people["province"].phone)
    page = client.get(f"/reports/programs/{program.slug}").text
    assert verdict in page
    other = {"Đúng tiến độ": "Chậm tiến độ", "Chậm tiến độ": "Đúng tiến độ"}[verdict]
    assert other not in page
