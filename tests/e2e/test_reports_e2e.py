"""The program dashboard in a real browser, as an officer, over a generated province with
Vietnamese unit names: full-page screenshots at 360 and 1280 px (tests/e2e/screenshots/),
nothing wider than the screen, the drill-down to a team's member list, and an export."""

from __future__ import annotations

import io
import random
from datetime import date

import pytest

from app.assessments.models import CompetencyMastery
from app.extensions import db
from app.reports.programs import ProgramFields, save_program
from tests.e2e.conftest import WIDTHS, screenshot
from tests.e2e.test_screenshots import login
from tests.factories import make_user
from tests.reports import scenario

pytestmark = [pytest.mark.e2e, pytest.mark.options(WTF_CSRF_ENABLED=True)]

COMMUNES = ["Xã Xuân Lộc", "Xã Định Quán", "Xã Tân Phú", "Phường Long Khánh",
            "Phường Trấn Biên"]
TEAMS = ["Tổ CNSCĐ ấp 1", "Tổ CNSCĐ khu phố Suối Tre"]


def _demo_like_world():
    """The report scenario with Đồng Nai-like names, mastery rows, and a program over it."""
    world = scenario.build(people=220)
    for unit, name in zip(world.communes, COMMUNES, strict=True):
        unit.name = name.split(" ", 1)[1]
    for index, (team, _commune) in enumerate(world.teams):
        team.name = TEAMS[index % 2]
    rng = random.Random(3)
    for person in world.people:
        for group in range(7):
            if rng.random() < 0.15 + 0.1 * (group % 3):
                db.session.add(CompetencyMastery(user_id=person.id,
                                                 competency_code=f"{group}.1",
                                                 best_percent=90.0, is_mastered=True))
    db.session.commit()
    program = save_program(ProgramFields(
        slug="to-cnscd-2026", name="Bồi dưỡng kỹ năng số cho thành viên Tổ CNSCĐ năm 2026",
        scope_unit_code=world.province.code, course_slugs=[c.slug for c in world.courses],
        starts_on=date(2026, 1, 1), deadline=date(2026, 12, 31)))
    db.session.commit()
    make_user(world.province, role="officer", name="Lê Thị Thu Hương", phone="+84987200001")
    return world, program


def _no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


@pytest.mark.parametrize("size", WIDTHS)
def test_dashboard_screenshots(app, new_page, size):
    world, program = _demo_like_world()
    page = new_page(WIDTHS[size])
    login(page, "0987200001")
    page.get_by_role("link", name="Chương trình").first.click()
    page.get_by_role("link", name=program.name).click()
    assert page.get_by_role("heading", level=1).inner_text() == program.name
    assert page.locator("svg.chart").count() == 3
    _no_horizontal_overflow(page)
    screenshot(page, f"reports-program-{WIDTHS[size]}")
    page.get_by_role("link", name="Xã Xuân Lộc").first.click()
    page.get_by_role("link", name="Tổ CNSCĐ ấp 1").first.click()
    assert page.locator("tr[data-member]").count() > 0
    _no_horizontal_overflow(page)
    screenshot(page, f"reports-team-{WIDTHS[size]}")
    page.emulate_media(media="print")
    screenshot(page, f"reports-team-print-{WIDTHS[size]}")


@pytest.mark.parametrize("size", WIDTHS)
def test_program_form_with_errors(app, new_page, size):
    world, _program = _demo_like_world()
    page = new_page(WIDTHS[size])
    login(page, "0987200001")
    page.goto("/reports/programs/new")
    page.get_by_label("Tên chương trình").fill("Chương trình thử")
    page.get_by_label("Ngày bắt đầu").fill("31/02/2026")
    page.get_by_role("button", name="Lưu chương trình").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() >= 3
    assert page.get_by_label("Tên chương trình").input_value() == "Chương trình thử"
    _no_horizontal_overflow(page)
    screenshot(page, f"reports-program-form-{WIDTHS[size]}")


@pytest.mark.parametrize("kind", ["units", "members"])
def test_download_export(app, new_page, kind):
    """The dashboard's XLSX and CSV links download the program's figures."""
    from openpyxl import load_workbook

    _demo_like_world()
    page = new_page(WIDTHS["desktop"])
    login(page, "0987200001")
    page.goto("/reports/programs/to-cnscd-2026")
    with page.expect_download() as info:
        page.locator(f'a[href*="/export/{kind}.xlsx"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert "to-cnscd-2026" in download.suggested_filename
    with open(download.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) > 2
    if kind == "units":  # numbers are numbers, not text
        assert any(isinstance(v, int) for row in rows for v in row)
    else:
        assert "Họ và tên" in rows[0]
    with page.expect_download() as info:
        page.locator(f'a[href*="/export/{kind}.csv"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), "rb") as handle:
        body = handle.read()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese right
    text = body.decode("utf-8-sig")
    assert len(text.splitlines()) > 2
    assert ("Xuân Lộc" in text) if kind == "units" else ("Người" in text)
