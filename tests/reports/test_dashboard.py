"""The dashboard's reading functions: the pace rule, the monthly curve, sorting and filtering,
program cards scoped to the viewer, and the member list of a team."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.reports import dashboard
from app.reports.programs import ProgramFields, save_program
from app.reports.progress import UnitProgress, local_today
from app.text import fold
from tests.factories import make_unit, make_user
from tests.reports import scenario

FAR = date(2031, 1, 1)


class FakeProgram:
    def __init__(self, target=100, starts=date(2026, 1, 1), deadline=date(2026, 12, 31)):
        self.target_percent, self.starts_on, self.deadline = target, starts, deadline


# --- pace -----------------------------------------------------------------------------------

@pytest.mark.parametrize("today,share", [
    (date(2025, 12, 31), 0.0),  # not started
    (date(2026, 1, 1), 1 / 365),  # the first day counts as gone by at its end
    (date(2026, 7, 2), 183 / 365),
    (date(2026, 12, 31), 1.0),
    (date(2027, 3, 1), 1.0),  # past the deadline
])
def test_elapsed_share(today, share):
    assert dashboard.elapsed_share(date(2026, 1, 1), date(2026, 12, 31), today) == \
        pytest.approx(share)


def test_elapsed_share_of_a_one_day_program():
    day = date(2026, 5, 5)
    assert dashboard.elapsed_share(day, day, day) == 1.0
    assert dashboard.elapsed_share(day, day, date(2026, 5, 4)) == 0.0


def _figures(members, completed):
    return UnitProgress(unit=None, members=members, completed=completed)


def test_on_track_when_completed_share_reaches_target_times_elapsed():
    program = FakeProgram(target=80)
    midway = date(2026, 7, 2)  # 183/365 of the way: a steady pace needs 80 % × 0.501 ≈ 40.1 %
    behind = dashboard.pace(program, _figures(1000, 401), midway)
    ahead = dashboard.pace(program, _figures(1000, 402), midway)
    assert behind.expected == pytest.approx(80 * 183 / 365)
    assert (behind.on_track, ahead.on_track) == (False, True)
    assert dashboard.pace(program, _figures(0, 0), date(2025, 6, 1)).on_track  # not started
    late = dashboard.pace(program, _figures(10, 7), date(2027, 1, 5))
    assert late.expected == 80 and not late.on_track
    assert dashboard.pace(program, _figures(10, 8), date(2027, 1, 5)).on_track


def test_target_count_rounds_up():
    assert dashboard.target_count(171, 100) == 171
    assert dashboard.target_count(7, 90) == 7  # 6.3 people → 7
    assert dashboard.target_count(0, 100) == 0


# --- the monthly curve ----------------------------------------------------------------------

def test_cumulative_points_month_by_month_up_to_today():
    months = {"2025-11": 2, "2026-01": 3, "2026-03": 5, "2026-04": 1, "2026-09": 4}
    points = dashboard.cumulative_points(months, date(2026, 1, 1), date(2026, 4, 10))
    assert points == [(date(2026, 1, 31), 5), (date(2026, 2, 28), 5),
                      (date(2026, 3, 31), 10), (date(2026, 4, 10), 15)]
    # Completions before the start count from the first point; later ones (records dated
    # ahead) at the last, which equals everyone completed.
    assert points[-1][1] == sum(months.values())


def test_cumulative_points_before_the_start():
    assert dashboard.cumulative_points({"2025-12": 2}, date(2026, 1, 1), date(2025, 12, 20)) == [
        (date(2025, 12, 20), 2)]


# --- sort and filter --------------------------------------------------------------------------

def _rows():
    province = make_unit("T1", "Đồng Nai", kind="province")
    units = [make_unit("A", "Đak Lua", kind="xa", parent=province),
             make_unit("B", "Long Khánh", kind="phuong", parent=province),
             make_unit("C", "Định Quán", kind="xa", parent=province)]
    figures = [(30, 9, 1), (10, 8, 4), (20, 2, 0)]
    rows = [dashboard.Row(UnitProgress(u, m, c, q), 100, u.full_name)
            for u, (m, c, q) in zip(units, figures, strict=True)]
    rows.append(dashboard.Row(UnitProgress(province, 5, 5, 0), 100, "Trực thuộc", direct=True))
    return rows


def test_sort_rows_by_each_key_and_the_direct_row_stays_last(app):
    rows = _rows()

    def codes(key, desc=False):
        return [r.label for r in dashboard.sort_rows(rows, key, desc)]

    assert codes("name") == ["Phường Long Khánh", "Xã Đak Lua", "Xã Định Quán", "Trực thuộc"]
    assert codes("percent") == ["Xã Định Quán", "Xã Đak Lua", "Phường Long Khánh", "Trực thuộc"]
    assert codes("gap", True)[:3] == ["Xã Đak Lua", "Xã Định Quán", "Phường Long Khánh"]
    assert codes("quarter", True)[0] == "Phường Long Khánh"
    assert codes("group")[0] == "Phường Long Khánh"


@pytest.mark.parametrize("raw,parsed", [(None, ("name", False)), ("percent", ("percent", False)),
                                        ("-gap", ("gap", True)), ("drop table", ("name", False)),
                                        ("--members", ("members", True))])
def test_parse_sort(raw, parsed):
    assert dashboard.parse_sort(raw) == parsed


def test_filter_rows_by_group_and_name_without_accents(app):
    rows = _rows()
    assert [r.label for r in dashboard.filter_rows(rows, "II", None)] == [
        "Xã Đak Lua", "Xã Định Quán"]
    assert [r.label for r in dashboard.filter_rows(rows, None, "dinh quan")] == ["Xã Định Quán"]
    assert [r.label for r in dashboard.filter_rows(rows, "I", "dak")] == []
    assert fold("Đak") == "dak"


# --- reading the database ---------------------------------------------------------------------

@pytest.fixture
def world(app):
    return scenario.build(people=80)


def _program(world, slug="ct-tinh", scope=None):
    program = save_program(ProgramFields(
        slug=slug, name="Chương trình", scope_unit_code=(scope or world.province).code,
        course_slugs=[c.slug for c in world.courses], starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31)))
    db.session.commit()
    return program


def _truth(world, program, path):
    ids = [c.id for c in program.courses]
    members = completed = 0
    for person in world.people:
        unit = world.in_population(person, FAR, program.scope_unit.path)
        if unit is not None and world.path_of[unit].startswith(path):
            members += 1
            completed += world.completion(person, FAR, ids) is not None
    return members, completed


def test_program_cards_cover_only_what_the_viewer_sees(world):
    province_program = _program(world)
    commune = world.communes[1]
    commune_program = _program(world, slug="ct-xa", scope=commune)
    officer = make_user(commune, role="officer", phone="+84987300001")
    cards = {c.program.slug: c for c in dashboard.program_cards(officer)}
    assert set(cards) == {"ct-tinh", "ct-xa"}
    assert (cards["ct-tinh"].members, cards["ct-tinh"].completed) == _truth(world, province_program,
                                                                  commune.path)
    assert (cards["ct-xa"].members, cards["ct-xa"].completed) == _truth(
        world, commune_program, commune.path)
    boss = make_user(world.province, role="officer", phone="+84987300002")
    cards = {c.program.slug: c for c in dashboard.program_cards(boss)}
    assert (cards["ct-tinh"].members, cards["ct-tinh"].completed) == _truth(world, province_program,
                                                                  world.province.path)
    assert dashboard.program_cards(make_user(world.province, phone="+84987300003")) == []


def test_member_rows_put_those_still_missing_a_course_first(world):
    program = _program(world)
    team = world.teams[2][0]
    rows = dashboard.member_rows(program, team, local_today())
    assert rows, "the scenario puts people in every team"
    done = [r.completed_on is not None for r in rows]
    assert done == sorted(done)
    ids = [c.id for c in program.courses]
    by_id = {p.id: p for p in world.people}
    for row in rows:
        person = by_id[row.user_id]
        assert row.completed_on == world.completion(person, local_today(), ids)
        assert len(row.courses) == len(ids)


def test_chart_counts_sum_to_the_table(world):
    program = _program(world)
    months, scores = dashboard.chart_counts(program, world.province)
    members, completed = _truth(world, program, world.province.path)
    assert sum(months.values()) == completed
    assert len(scores) == 11 and sum(scores) > 0


def test_table_rows_add_up_to_the_total(world):
    program = _program(world)
    commune = world.communes[0]
    children = dashboard.children_of(commune)
    codes = [str(g) for g in range(7)]
    table = dashboard.build_table(program, commune, children,
                                  dashboard.team_counts(program, commune, local_today(), codes),
                                  codes, "Trực thuộc")
    assert sum(r.figures.members for r in table.rows) == table.total.figures.members
    assert sum(r.figures.completed for r in table.rows) == table.total.figures.completed
    assert table.groups == {}  # teams belong to no group
    assert (table.total.figures.members, table.total.figures.completed) == _truth(
        world, program, commune.path)
