"""Who may reach which officer page: role × where the target is × what is asked.

The caller holds one role on phường Trấn Biên (commune A). Targets lie in their own
commune, in another commune (xã Đak Lua) or at the province. Anything out of reach answers
404, never 403, so guessing ids or codes reveals nothing.
"""

from __future__ import annotations

import functools

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.audit import AuditLog
from app.auth.models import OneTimeCode, User
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import import_units
from tests.factories import PASSWORD, make_user

ROLES = ("learner", "trainer", "officer", "admin")
TARGETS = ("own", "other", "province")
# (action, method, url template); {code} is the target unit, {id} a member there.
ACTIONS = (
    ("list", "GET", "/units/{code}"),
    ("view", "GET", "/people/{id}"),
    ("edit", "GET", "/people/{id}/edit"),
    ("edit", "POST", "/people/{id}/edit"),
    ("export", "GET", "/units/{code}/members.csv"),
    ("issue-code", "POST", "/people/{id}/reset-code"),
)
# Which roles may do what inside their subtree (app/auth/permissions.py ACTION_ROLES).
ALLOWED = {
    "list": {"trainer", "officer", "admin"},
    "view": {"officer", "admin"},
    "edit": {"officer", "admin"},
    "export": {"officer", "admin"},
    "issue-code": {"officer", "admin"},
}
SUCCESS = {("edit", "POST"): 302}


@functools.cache
def password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


@pytest.fixture
def world(app):
    """Province 75 → phường 26041 (team A1) and xã 26119 (team B1), one member in each place."""
    report = import_units([
        {"code": "75", "name": "Đồng Nai", "kind": "province"},
        {"code": "26041", "name": "Trấn Biên", "kind": "phuong", "parent_code": "75"},
        {"code": "26119", "name": "Đak Lua", "kind": "xa", "parent_code": "75"},
        {"code": "A1", "name": "Tổ CNSCĐ khu phố 1", "kind": "team", "parent_code": "26041"},
        {"code": "B1", "name": "Tổ CNSCĐ ấp 3", "kind": "team", "parent_code": "26119"},
    ])
    assert report.ok
    db.session.commit()
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    members = {
        "own": make_user(units["A1"], name="Thành Viên Trấn Biên", phone="+84912100001",
                         password=None),
        "other": make_user(units["B1"], name="Thành Viên Đak Lua", phone="+84912100002",
                           password=None),
        "province": make_user(units["75"], "trainer", name="Giảng Viên Tỉnh",
                              phone="+84912100003", password=None),
    }
    target_units = {"own": units["26041"], "other": units["26119"], "province": units["75"]}
    return units, members, target_units


def sign_in(client, user: User) -> None:
    """Give ``user`` a password and a session (the login form itself is tested in tests/auth)."""
    user.password_hash = password_hash()
    db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    g.pop("_login_user", None)


def request(client, method: str, url: str, member: User):
    if method == "GET":
        return client.get(url)
    data = {"full_name": "Tên Đã Sửa", "phone": "", "email": "sua@example.org",
            "unit_code": member.unit.code, "audience": "citizen", "is_active_member": "y"}
    return client.post(url, data=data)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("action, method, template", ACTIONS)
def test_commune_role_matrix(client, world, role, target, action, method, template):
    units, members, target_units = world
    caller = make_user(units["26041"], role, name="Người Gọi", phone="+84912100009",
                       password=None)
    sign_in(client, caller)
    member = members[target]
    url = template.format(code=target_units[target].code, id=member.id)
    response = request(client, method, url, member)
    allowed = target == "own" and role in ALLOWED[action]
    expected = SUCCESS.get((action, method), 200) if allowed else 404
    assert response.status_code == expected, (role, target, action, method)
    db.session.expire_all()
    member = db.session.get(User, member.id)
    written = db.session.scalars(select(AuditLog.action)).all()
    if role == "trainer" and action == "list":
        assert member.full_name.encode() not in response.data  # the tree, not the people
    if not allowed:
        # Nothing leaks and nothing is written.
        assert member.full_name != "Tên Đã Sửa"
        assert db.session.scalar(select(OneTimeCode.id)) is None
        assert written == []
        assert member.full_name.encode() not in response.data


@pytest.mark.parametrize("role, expected", [("officer", 200), ("admin", 200), ("trainer", 404),
                                            ("learner", 404)])
@pytest.mark.parametrize("target", TARGETS)
def test_province_roles_see_every_commune(client, world, role, expected, target):
    units, members, target_units = world
    caller = make_user(units["75"], role, name="Cán Bộ Tỉnh", phone="+84912100010",
                       password=None)
    sign_in(client, caller)
    assert client.get(f"/people/{members[target].id}").status_code == expected
    assert client.get(f"/units/{target_units[target].code}/members.csv").status_code == expected


def test_commune_officer_cannot_find_other_communes_people_by_guessing(client, world):
    """Every id in the table: only the caller's own subtree answers."""
    units, members, target_units = world
    officer = make_user(units["26041"], "officer", name="Cán Bộ Phường", phone="+84912100011",
                        password=None)
    sign_in(client, officer)
    ids = db.session.scalars(select(User.id)).all()
    reachable = {i for i in ids + [max(ids) + 1, 0]
                 if client.get(f"/people/{i}").status_code == 200}
    assert reachable == {officer.id, members["own"].id}


def test_out_of_scope_people_never_appear_in_lists_or_exports(client, world):
    units, members, target_units = world
    officer = make_user(units["26041"], "officer", name="Cán Bộ Phường", phone="+84912100011",
                        password=None)
    sign_in(client, officer)
    page = client.get("/units/26041", query_string={"q": "Thành Viên"})
    assert "Thành Viên Trấn Biên" in page.text and "Thành Viên Đak Lua" not in page.text
    export = client.get("/units/26041/members.csv").data.decode("utf-8-sig")
    assert "Thành Viên Trấn Biên" in export and "Đak Lua" not in export
    assert "Giảng Viên Tỉnh" not in export


def test_edit_cannot_move_a_person_out_of_scope(client, world):
    units, members, target_units = world
    officer = make_user(units["26041"], "officer", name="Cán Bộ Phường", phone="+84912100011",
                        password=None)
    sign_in(client, officer)
    own = members["own"]
    response = client.post(f"/people/{own.id}/edit", data={
        "full_name": own.full_name, "phone": own.phone, "unit_code": "B1",
        "audience": "citizen", "is_active_member": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, own.id).unit.code == "A1"


def test_learner_and_anonymous_cannot_list_units(client, world):
    units, members, target_units = world
    assert client.get("/units/").status_code == 302
    sign_in(client, members["own"])
    assert client.get("/units/").status_code == 403


@pytest.mark.parametrize("method, url", [
    ("GET", "/units/"),
    ("GET", "/units/26041"),
    ("GET", "/units/26041/members.csv"),
    ("GET", "/people/1"),
    ("GET", "/people/1/edit"),
    ("POST", "/people/1/edit"),
    ("POST", "/people/1/reset-code"),
])
def test_login_required(client, world, method, url):
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
