"""The export pages: scope and permission, audit entries, streaming, file names, bad input."""

from __future__ import annotations

import csv
import io
from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit import AuditLog
from app.auth import permissions
from app.extensions import db
from app.reports import exports
from tests.factories import make_unit, make_user
from tests.reports import scenario
from tests.reports.test_exports import expected_member_rows, expected_unit_figures
from tests.reports.test_progress import make_program

DAY = date(2026, 9, 30)


@pytest.fixture
def world(app):
    world = scenario.build()
    elsewhere = make_unit("T99", "Bình Phước", kind="province")
    world.program = make_program(world)
    world.users = SimpleNamespace(
        province=make_user(world.province, "officer", name="Cán bộ tỉnh"),
        admin=make_user(world.province, "admin", name="Quản trị"),
        x0=make_user(world.communes[0], "officer", name="Cán bộ xã 0"),
        trainer=make_user(world.province, "trainer", name="Giảng viên"),
        learner=make_user(elsewhere, "learner", name="Học viên tỉnh khác"),
    )
    return world


def login(auth, user):
    response = auth.login(user.phone)
    assert response.status_code == 302


def url(kind: str, fmt: str = "csv", **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/reports/programs/ct-test/export/{kind}.{fmt}" + (f"?{query}" if query else "")


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def audit_entries() -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.action == "reports.export_members").order_by(AuditLog.id)))


def test_units_csv_for_the_province_officer(client, auth, world):
    login(auth, world.users.province)
    response = client.get(url("units", as_of=DAY.isoformat()))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ct-test_don-vi_2026-09-30.csv"'
    header, *body = csv_rows(response)
    expected = expected_unit_figures(world, world.program, DAY, world.province)
    assert {r[0]: (int(r[5]), int(r[6]), int(r[9]), int(r[8])) for r in body} == expected
    assert audit_entries() == []  # figures, not personal data: no audit entry


def test_units_xlsx_opens_with_numbers(client, auth, world):
    login(auth, world.users.province)
    response = client.get(url("units", "xlsx", as_of=DAY.isoformat(), unit="X1"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ct-test_don-vi_X1_2026-09-30.xlsx"'
    assert int(response.headers["Content-Length"]) == len(response.data)
    ws = load_workbook(io.BytesIO(response.data)).active
    expected = expected_unit_figures(world, world.program, DAY, world.communes[1])
    rows = {r[0]: (r[5], r[6], r[9], r[8]) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows == expected
    assert audit_entries() == []


def test_units_default_to_today(client, auth, world, monkeypatch):
    monkeypatch.setattr("app.reports.quarterly.local_today", lambda: date(2026, 12, 7))
    login(auth, world.users.province)
    response = client.get(url("units"))
    assert 'filename="ct-test_don-vi_2026-12-07.csv"' in response.headers["Content-Disposition"]


def test_members_csv_is_streamed_and_audited(client, auth, world):
    login(auth, world.users.province)
    response = client.get(url("members", as_of=DAY.isoformat()))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Cache-Control"] == "private, no-store"
    header, *body = csv_rows(response)
    expected = expected_member_rows(world, world.program, DAY)
    assert {r[3] for r in body} == set(expected)
    [entry] = audit_entries()
    assert entry.actor_id == world.users.province.id
    assert entry.target == "program:ct-test"
    assert entry.details == {"program": "ct-test", "unit": "T75", "as_of": "2026-09-30",
                             "format": "csv", "source": "web", "rows": len(body),
                             "complete": True}


def test_members_xlsx_is_written_write_only_and_audited(client, auth, world, monkeypatch):
    made = []
    real = exports.Workbook
    monkeypatch.setattr(exports, "Workbook",
                        lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    login(auth, world.users.x0)
    response = client.get(url("members", "xlsx", as_of=DAY.isoformat()))
    assert response.status_code == 200
    assert made and all(book.write_only for book in made)
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ct-test_thanh-vien_X0_2026-09-30.xlsx"'
    ws = load_workbook(io.BytesIO(response.data)).active
    names = {row[3] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert names == set(expected_member_rows(world, world.program, DAY, world.communes[0]))
    [entry] = audit_entries()
    assert entry.details["unit"] == "X0" and entry.details["format"] == "xlsx"
    assert entry.details["rows"] == len(names) and entry.details["complete"] is True


@pytest.mark.parametrize("who, unit, status", [
    ("province", None, 200), ("province", "X1", 200), ("admin", "P0-T1", 200),
    ("x0", None, 200), ("x0", "X0", 200), ("x0", "X0-T1", 200),
    ("x0", "X1", 404), ("x0", "T75", 404), ("x0", "NOPE", 404),
    ("trainer", None, 404), ("learner", None, 404),
])
@pytest.mark.parametrize("kind", ["members", "units"])
def test_who_may_export(client, auth, world, who, unit, status, kind):
    login(auth, getattr(world.users, who))
    args = {"unit": unit, "as_of": DAY} if unit else {"as_of": DAY}
    response = client.get(url(kind, **args))
    assert response.status_code == status
    entries = audit_entries()
    assert len(entries) == (1 if status == 200 and kind == "members" else 0)
    if status == 200 and kind == "members":
        root = next(u for u in [world.province, *world.communes, *(t for t, _c in world.teams)]
                    if u.code == (unit or ("X0" if who == "x0" else "T75")))
        _header, *body = csv_rows(response)
        assert {r[3] for r in body} == set(expected_member_rows(world, world.program, DAY, root))


def test_member_export_needs_its_own_permission(client, auth, world, monkeypatch):
    """Seeing the figures is not enough to take the names out."""
    monkeypatch.setitem(permissions.ACTION_ROLES, "reports.export_members", frozenset({"admin"}))
    login(auth, world.users.province)
    assert client.get(url("units")).status_code == 200
    assert client.get(url("members")).status_code == 403
    assert audit_entries() == []


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = client.get(url("members"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path, status, message", [
    (url("units", as_of="07-12-2026"), 400, "Ngày không hợp lệ: 07-12-2026"),
    (url("members", as_of="2026-02-30"), 400, "Ngày không hợp lệ"),
    ("/reports/programs/ct-test/export/quarterly-2026Q5.csv", 400, "Quý không hợp lệ: 2026Q5"),
    ("/reports/programs/ct-test/quarterly/Q2-2026", 400, "Quý không hợp lệ"),
    ("/reports/programs/ct-test/quarterly/2031Q1.pdf", 400, "chưa bắt đầu"),
    (url("units", "pdf"), 404, None),
    ("/reports/programs/khong-co/export/units.csv", 404, None),
])
def test_bad_input_gets_a_vietnamese_message(client, auth, world, path, status, message):
    login(auth, world.users.province)
    response = client.get(path)
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)
    assert audit_entries() == []
