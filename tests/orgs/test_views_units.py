"""Officer pages: the tree with member counts, members, person page, edit, CSV export."""

from __future__ import annotations

import csv
import functools
import io
from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from app.audit import AuditLog
from app.auth.models import User
from app.auth.services import grant_role
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import import_units
from tests.factories import PASSWORD, make_user

HEADER = "code,name,kind,parent_code,group\n"


def build_tree(extra_children: int = 0) -> dict[str, Unit]:
    """Province 75 → phường 26041 (teams A1, A2) and xã 26119 (team B1)."""
    rows = [
        {"code": "75", "name": "Đồng Nai", "kind": "province"},
        {"code": "26041", "name": "Trấn Biên", "kind": "phuong", "parent_code": "75"},
        {"code": "26119", "name": "Đak Lua", "kind": "xa", "parent_code": "75"},
        {"code": "A1", "name": "Tổ CNSCĐ khu phố 1", "kind": "team", "parent_code": "26041"},
        {"code": "A2", "name": "Tổ CNSCĐ khu phố 2", "kind": "team", "parent_code": "26041"},
        {"code": "B1", "name": "Tổ CNSCĐ ấp 3", "kind": "team", "parent_code": "26119"},
    ]
    rows += [{"code": f"X{i}", "name": f"Xã Thêm {i}", "kind": "xa", "parent_code": "75"}
             for i in range(extra_children)]
    report = import_units(rows)
    assert report.ok, report.errors
    db.session.commit()
    return {u.code: u for u in db.session.scalars(select(Unit))}


@functools.cache
def password_hash() -> str:
    """One scrypt hash of the test password for every account (each costs ~70 ms or more)."""
    return generate_password_hash(PASSWORD, method="scrypt")


def person(unit: Unit, role: str = "learner", name: str = "Nguyễn Văn An", *,
           activated: bool = True, **fields) -> User:
    """make_user without hashing a password per account."""
    user = make_user(unit, role, name, password=None, **fields)
    if activated:
        user.password_hash = password_hash()
        db.session.commit()
    return user


@pytest.fixture
def tree(app):
    units = build_tree()
    people = {
        "officer_p": person(units["75"], "officer", "Lê Thị Minh Thư", phone="+84900000002"),
        "officer_a": person(units["26041"], "officer", "Phạm Văn Đức", phone="+84900000003"),
        "trainer_a": person(units["26041"], "trainer", "Đỗ Thị Hồng", phone="+84900000004"),
        "hung": person(units["A1"], name="Nguyễn Văn Hùng", phone="+84912000001",
                       email="hung@example.org", activated=False),
        "lan": person(units["A1"], name="Trần Thị Lan", phone="+84912000002"),
        "anh": person(units["A2"], name="Vũ Thị Ngọc Ánh", phone="+84912000003"),
        "tam": person(units["B1"], name="Lâm Văn Tâm", phone="+84912000004"),
    }
    return units, people


def login(auth, person):
    """Sign in through the session (Flask-Login's keys): a form login costs a scrypt check."""
    with auth._client.session_transaction() as session:
        session.clear()
        session["_user_id"] = str(person.id)
        session["_fresh"] = True
    # The test's app context (and so ``g``) outlives each request: drop Flask-Login's cache.
    g.pop("_login_user", None)


@contextmanager
def count_queries():
    """Collect the SQL statements sent to the database inside the block.

    The session and ``g`` are reset first, so the block pays what a fresh request pays
    (loading the signed-in user and their grants included).
    """
    db.session.remove()
    g.pop("_login_user", None)
    g.pop("_grant_paths", None)
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


class TestTopUnits:
    def test_commune_officer_sees_their_commune_only(self, client, auth, tree):
        assert auth.login("0900 000 003").status_code == 302  # the real form, once
        page = client.get("/units/")
        assert page.status_code == 200
        assert "Phường Trấn Biên" in page.text
        assert "Đồng Nai" not in page.text and "Đak Lua" not in page.text

    def test_province_officer_sees_the_province_with_its_member_count(self, client, auth, tree):
        login(auth, tree[1]["officer_p"])
        page = client.get("/units/")
        assert "Tỉnh Đồng Nai" in page.text
        assert '<td class="num">7</td>' in page.text

    def test_learner_may_not_browse_units(self, client, auth, tree):
        login(auth, tree[1]["lan"])
        assert client.get("/units/").status_code == 403


class TestUnitPage:
    def test_children_with_subtree_member_counts_and_group_badges(self, client, auth, tree):
        login(auth, tree[1]["officer_p"])
        page = client.get("/units/75")
        assert page.status_code == 200
        text = page.text
        assert "7 thành viên" in text
        # Trấn Biên: two staff + three team members; Đak Lua: one.
        assert _row(text, "Phường Trấn Biên") == ["Phường Nhóm I", "5"]
        assert _row(text, "Xã Đak Lua") == ["Xã Nhóm II", "1"]
        # Vietnamese order: Đ comes after D, long before T (code-point order puts it last).
        assert text.index("Xã Đak Lua") < text.index("Phường Trấn Biên")

    def test_breadcrumb_stops_at_the_callers_scope(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        text = client.get("/units/A1").text
        crumbs = text.split('class="breadcrumb"')[1].split("</ol>")[0]
        assert "Phường Trấn Biên" in crumbs and "Đồng Nai" not in crumbs
        login(auth, tree[1]["officer_p"])
        crumbs = client.get("/units/A1").text.split('class="breadcrumb"')[1].split("</ol>")[0]
        assert crumbs.index("Tỉnh Đồng Nai") < crumbs.index("Phường Trấn Biên")

    def test_members_of_the_subtree_with_roles_and_states(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        text = client.get("/units/26041").text
        for name in ("Nguyễn Văn Hùng", "Trần Thị Lan", "Vũ Thị Ngọc Ánh", "Đỗ Thị Hồng"):
            assert name in text
        assert "Lâm Văn Tâm" not in text  # Đak Lua is another commune
        assert "0912 000 001" in text
        assert "Giảng viên" in text and "Cán bộ quản lý" in text
        assert "Chờ kích hoạt" in text and "Đã kích hoạt" in text

    @pytest.mark.parametrize("query, found, not_found", [
        ("nguyen van", ["Nguyễn Văn Hùng"], ["Trần Thị Lan"]),
        ("NGỌC ÁNH", ["Vũ Thị Ngọc Ánh"], ["Nguyễn Văn Hùng"]),
        ("thi", ["Trần Thị Lan", "Vũ Thị Ngọc Ánh", "Đỗ Thị Hồng"], ["Nguyễn Văn Hùng"]),
        ("0912 000 002", ["Trần Thị Lan"], ["Nguyễn Văn Hùng"]),
        ("+84912000003", ["Vũ Thị Ngọc Ánh"], ["Trần Thị Lan"]),
        ("hung@example", ["Nguyễn Văn Hùng"], ["Trần Thị Lan"]),
        ("%", [], ["Nguyễn Văn Hùng"]),
    ])
    def test_search_by_name_phone_or_email(self, client, auth, tree, query, found, not_found):
        login(auth, tree[1]["officer_a"])
        text = client.get("/units/26041", query_string={"q": query}).text
        table = text.split('id="members"')[1]
        for name in found:
            assert name in table
        for name in not_found:
            assert name not in table

    def test_search_never_leaves_the_subtree(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        text = client.get("/units/26041", query_string={"q": "Lâm Văn Tâm"}).text
        assert "Không có thành viên nào khớp" in text

    def test_overlong_search_is_refused(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        assert client.get("/units/26041", query_string={"q": "x" * 101}).status_code == 400

    def test_pagination(self, client, auth, tree):
        units, people = tree
        for i in range(30):
            make_user(units["A2"], name=f"Thành Viên {i:02d}", phone=f"+8493{i:07d}",
                      password=None)
        login(auth, people["officer_a"])
        first = client.get("/units/26041")
        assert "Trang 1 / 2" in first.text and 'rel="next"' in first.text
        second = client.get("/units/26041", query_string={"page": 2})
        assert "Trang 2 / 2" in second.text and "Trần Thị Lan" in second.text + first.text
        assert client.get("/units/26041", query_string={"page": 9}).status_code == 404
        assert client.get("/units/26041", query_string={"page": "abc"}).status_code == 200

    def test_trainer_sees_the_tree_but_not_the_people(self, client, auth, tree):
        login(auth, tree[1]["trainer_a"])
        page = client.get("/units/26041")
        assert page.status_code == 200
        assert "Tổ CNSCĐ khu phố 1" in page.text
        assert "Nguyễn Văn Hùng" not in page.text and "members.csv" not in page.text

    def test_unknown_unit_is_404(self, client, auth, tree):
        login(auth, tree[1]["officer_p"])
        assert client.get("/units/NOPE").status_code == 404


class TestQueryCount:
    def _measure(self, client, auth, units, officer, members: int) -> tuple[int, str]:
        for i in range(members):
            make_user(units["A1" if i % 2 else "B1"], name=f"Người {i}",
                      phone=f"+8497{members:03d}{i:04d}", password=None)
        login(auth, officer)
        client.get("/units/26041")  # warm-up: first-request work is not the page's cost
        with count_queries() as statements:
            response = client.get("/units/26041")
        assert response.status_code == 200
        return len(statements), response.text

    def test_unit_page_query_count_does_not_grow(self, app, client, auth):
        units = build_tree()
        officer = person(units["75"], "officer", "Cán Bộ Tỉnh", phone="+84900000009")
        small, _ = self._measure(client, auth, units, officer, members=2)
        # Twenty more children and a hundred more members (five pages' worth).
        units = build_tree(extra_children=20)
        import_units([{"code": f"A1-{i}", "name": f"Tổ con {i}", "kind": "team",
                       "parent_code": "26041"} for i in range(20)])
        db.session.commit()
        big, text = self._measure(client, auth, units, officer, members=100)
        assert "Tổ con 19" in text and "Trang 1 / 3" in text
        # user with their grants, unit, breadcrumb, children with counts, members, their
        # grants, total
        assert big == small == 7

    def test_top_units_page_query_count(self, app, client, auth):
        units = build_tree(extra_children=10)
        officer = person(units["75"], "officer", "Cán Bộ Tỉnh", phone="+84900000009")
        login(auth, officer)
        client.get("/units/")
        with count_queries() as statements:
            assert client.get("/units/").status_code == 200
        assert len(statements) == 3, statements  # user with grants, top units, their counts


class TestPersonPage:
    def test_shows_the_person(self, client, auth, tree):
        units, people = tree
        login(auth, people["officer_a"])
        text = client.get(f"/people/{people['hung'].id}").text
        for expected in ("Nguyễn Văn Hùng", "0912 000 001", "hung@example.org",
                         "Tổ CNSCĐ khu phố 1", "Người dân", "Học viên", "Chờ kích hoạt",
                         "Cấp mã kích hoạt", f"/people/{people['hung'].id}/edit",
                         f"/people/{people['hung'].id}/reset-code"):
            assert expected in text

    def test_reset_label_when_the_person_has_a_password(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        text = client.get(f"/people/{tree[1]['lan'].id}").text
        assert "Cấp mã đặt lại mật khẩu" in text and "Đã kích hoạt" in text

    def test_issue_code_from_the_person_page(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        response = client.post(f"/people/{tree[1]['hung'].id}/reset-code")
        assert response.status_code == 200 and "Mã kích hoạt" in response.text


def edit_data(person: User, **changes) -> dict:
    data = {"full_name": person.full_name, "phone": person.phone or "",
            "email": person.email or "", "unit_code": person.unit.code,
            "audience": person.audience, "gender": person.gender or "",
            "birth_year": str(person.birth_year or ""), "is_active_member": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


class TestEditPerson:
    def test_form_shows_current_values_and_units_in_scope(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        page = client.get(f"/people/{tree[1]['hung'].id}/edit")
        assert page.status_code == 200
        assert 'value="Nguyễn Văn Hùng"' in page.text and 'value="0912 000 001"' in page.text
        assert '<option selected value="A1">' in page.text
        assert 'value="A2"' in page.text and 'value="B1"' not in page.text
        assert 'value="75"' not in page.text

    def test_valid_edit_is_saved_and_audited(self, client, auth, tree):
        units, people = tree
        login(auth, people["officer_a"])
        hung = people["hung"]
        response = client.post(f"/people/{hung.id}/edit", data=edit_data(
            hung, full_name="Nguye\u0302\u0303n Văn  Hùng", phone="0987 654 321",
            email="HUNG.MOI@Example.org", unit_code="A2", gender="male", birth_year="1961",
            audience="civil_servant"))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/people/{hung.id}")
        db.session.expire_all()
        hung = db.session.get(User, hung.id)
        assert (hung.full_name, hung.phone, hung.email) == (
            "Nguyễn Văn Hùng", "+84987654321", "hung.moi@example.org")
        assert (hung.unit.code, hung.gender, hung.birth_year, hung.audience) == (
            "A2", "male", 1961, "civil_servant")
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "people.edit"))
        assert entry.actor_id == people["officer_a"].id and entry.target == f"user:{hung.id}"
        assert set(entry.details["fields"]) == {"phone", "email", "audience", "gender",
                                                "birth_year", "unit"}

    def test_unchanged_form_writes_no_audit_entry(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        lan = tree[1]["lan"]
        assert client.post(f"/people/{lan.id}/edit", data=edit_data(lan)).status_code == 302
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "people.edit")) is None

    @pytest.mark.parametrize("changes, message", [
        ({"phone": "+84912000002"}, "Số điện thoại này đã thuộc về một tài khoản khác."),
        ({"phone": "0912 abc"}, "Số điện thoại chỉ gồm chữ số"),
        ({"email": "hung@"}, "Email không hợp lệ."),
        ({"phone": "", "email": ""}, "Cần số điện thoại hoặc email"),
        ({"full_name": "   "}, "Nhập họ và tên."),
        ({"birth_year": "abc"}, "Năm sinh phải là số từ 1900 đến"),
        ({"birth_year": "1800"}, "Năm sinh phải là số từ 1900 đến"),
        ({"unit_code": "B1"}, "Chọn một đơn vị trong phạm vi bạn quản lý."),
        ({"unit_code": "NOPE"}, "Chọn một đơn vị trong phạm vi bạn quản lý."),
        ({"audience": "alien"}, "Chọn đối tượng trong danh sách."),
        ({"gender": "x"}, "Chọn giới tính trong danh sách."),
    ])
    def test_bad_input_is_refused_and_nothing_changes(self, client, auth, tree, changes, message):
        units, people = tree
        login(auth, people["officer_a"])
        hung = people["hung"]
        data = edit_data(hung, **{"full_name": "Tên Mới Đã Gõ", **changes})
        response = client.post(f"/people/{hung.id}/edit", data=data)
        assert response.status_code == 400
        assert message in response.text
        assert "Chưa lưu được" in response.text
        if changes.get("full_name") is None:
            assert 'value="Tên Mới Đã Gõ"' in response.text  # the input is kept
        db.session.expire_all()
        hung = db.session.get(User, hung.id)
        assert (hung.full_name, hung.phone, hung.unit.code) == (
            "Nguyễn Văn Hùng", "+84912000001", "A1")
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "people.edit")) is None

    def test_duplicate_email(self, client, auth, tree):
        units, people = tree
        person(units["A1"], name="Người Có Email", email="trung@example.org", activated=False)
        login(auth, people["officer_a"])
        response = client.post(f"/people/{people['lan'].id}/edit",
                               data=edit_data(people["lan"], email="Trung@Example.org"))
        assert response.status_code == 400
        assert "Email này đã thuộc về một tài khoản khác." in response.text

    def test_an_officer_cannot_lock_themselves_out(self, client, auth, tree):
        officer = tree[1]["officer_a"]
        login(auth, officer)
        data = edit_data(officer)
        del data["is_active_member"]
        response = client.post(f"/people/{officer.id}/edit", data=data)
        assert response.status_code == 400
        assert "Bạn không thể tự khóa tài khoản của chính mình." in response.text

    def test_people_holding_higher_roles_are_visible_but_not_editable(self, client, auth, tree):
        """A province officer who lives in the ward: the ward officer could otherwise change
        their phone, then issue a reset code, and take the account over."""
        units, people = tree
        boss = person(units["A1"], name="Cán Bộ Sở Ở Phường", phone="+84912000077")
        grant_role(boss, units["75"], "officer")
        db.session.commit()
        login(auth, people["officer_a"])
        page = client.get(f"/people/{boss.id}")
        assert page.status_code == 200
        assert f"/people/{boss.id}/edit" not in page.text and "reset-code" not in page.text
        assert "vai trò cao hơn quyền của bạn" in page.text
        assert client.get(f"/people/{boss.id}/edit").status_code == 403
        response = client.post(f"/people/{boss.id}/edit", data=edit_data(boss, phone="0987 000 111"))
        assert response.status_code == 403
        db.session.expire_all()
        assert db.session.get(User, boss.id).phone == "+84912000077"
        login(auth, people["officer_p"])  # the province officer may
        assert client.get(f"/people/{boss.id}/edit").status_code == 200

    def test_locked_member_gets_no_code_button(self, client, auth, tree):
        units, people = tree
        locked = person(units["A1"], name="Người Bị Khóa", phone="+84912000078")
        locked.is_active_member = False
        db.session.commit()
        login(auth, people["officer_a"])
        text = client.get(f"/people/{locked.id}").text
        assert "reset-code" not in text and "Tài khoản đang bị khóa" in text

    def test_deactivating_a_member(self, client, auth, tree):
        login(auth, tree[1]["officer_a"])
        lan = tree[1]["lan"]
        data = edit_data(lan)
        del data["is_active_member"]
        assert client.post(f"/people/{lan.id}/edit", data=data).status_code == 302
        db.session.expire_all()
        assert db.session.get(User, lan.id).is_active_member is False
        assert "Đã khóa" in client.get(f"/people/{lan.id}").text


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


class TestExport:
    def test_export_is_utf8_with_bom_and_audited(self, client, auth, tree):
        units, people = tree
        login(auth, people["officer_a"])
        response = client.get("/units/26041/members.csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.data.startswith(b"\xef\xbb\xbf")
        rows = read_csv(response)
        assert rows[0][:8] == ["Họ và tên", "Số điện thoại", "Email", "Mã đơn vị", "Vai trò",
                               "Đối tượng", "Giới tính", "Năm sinh"]
        names = {row[0] for row in rows[1:]}
        assert names == {"Phạm Văn Đức", "Đỗ Thị Hồng", "Nguyễn Văn Hùng", "Trần Thị Lan",
                         "Vũ Thị Ngọc Ánh"}
        hung = next(row for row in rows if row[0] == "Nguyễn Văn Hùng")
        assert hung[1:5] == ["0912 000 001", "hung@example.org", "A1", "learner"]
        assert hung[-2:] == ["chưa", "có"]
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "people.export"))
        assert entry.actor_id == people["officer_a"].id
        assert entry.details == {"unit_code": "26041", "rows": 5}

    def test_formulas_are_neutralized(self, client, auth, tree):
        units, people = tree
        person(units["A1"], name="=HYPERLINK(\"http://x\")", phone="+84912000099")
        login(auth, people["officer_a"])
        rows = read_csv(client.get("/units/A1/members.csv"))
        assert "'=HYPERLINK(\"http://x\")" in {row[0] for row in rows}

    def test_large_export_streams_every_row(self, client, auth, tree):
        units, people = tree
        db.session.add_all(User(full_name=f"Người {i}", phone=f"+8496{i:07d}",
                                unit_id=units["B1"].id) for i in range(1200))
        db.session.commit()
        login(auth, people["officer_p"])
        response = client.get("/units/26119/members.csv")
        assert len(read_csv(response)) == 1 + 1200 + 1
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "people.export"))
        assert entry.details["rows"] == 1201

    def test_trainer_cannot_export(self, client, auth, tree):
        login(auth, tree[1]["trainer_a"])
        assert client.get("/units/26041/members.csv").status_code == 404
        assert db.session.scalar(select(AuditLog)) is None


def _row(html: str, name: str) -> list[str]:
    """The other cells of the table row whose header cell links ``name`` (tags stripped)."""
    import re

    row = html.split(f">{name}</a></th>")[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
