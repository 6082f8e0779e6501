"""The roster upload page, its result and error tables, the report and errors.csv."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth.models import OneTimeCode, User
from app.extensions import db
from app.orgs.models import RosterImport
from app.orgs.roster import ROSTER_SPEC
from app.orgs.tabular import read_table
from tests.factories import get_user, make_unit, make_user
from tests.orgs.test_roster import csv_bytes, phone_reason, row
from tests.orgs.test_tabular import xlsx_bytes

CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")


@pytest.fixture(autouse=True)
def _cold_requests(fresh_request_state):
    """Each request starts with an empty ``g``, as in production (tests/conftest.py)."""
    yield


@pytest.fixture
def units(app):
    province = make_unit("TINH", kind="province")
    a = make_unit("XA-A", "An Bình", parent=province)
    b = make_unit("XA-B", "Bình Lợi", parent=province)
    db.session.commit()
    return {"province": province, "a": a, "b": b}


@pytest.fixture
def officer(units):
    return make_user(units["a"], role="officer", name="Cán Bộ Xã A", phone="+84988000001")


def upload(client, data: bytes, filename: str = "danh-sach.csv", **options):
    form = {"file": (io.BytesIO(data), filename)}
    form.update({k: "y" for k, v in options.items() if v})
    return client.post("/imports/new", data=form, content_type="multipart/form-data")


def users_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


# -- access ----------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, units):
    response = client.get("/imports/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_learner_gets_403(client, auth, units):
    make_user(units["a"], phone="+84988000002")
    auth.login("0988000002")
    assert client.get("/imports/new").status_code == 403
    assert upload(client, csv_bytes([row()])).status_code == 403
    assert client.get("/imports/template.csv").status_code == 403


def test_officer_sees_the_upload_form(client, auth, officer):
    auth.login("0988000001")
    response = client.get("/imports/new")
    assert response.status_code == 200
    text = response.text
    assert 'enctype="multipart/form-data"' in text
    assert 'type="file"' in text and 'accept=".xlsx,.csv' in text
    assert "Chỉ kiểm tra" in text and "Bỏ qua dòng lỗi" in text
    assert '<label for="file">' in text


def test_template_csv_is_a_valid_roster(client, auth, officer):
    auth.login("0988000001")
    response = client.get("/imports/template.csv")
    assert response.status_code == 200
    table = read_table("mau.csv", response.data, ROSTER_SPEC)
    assert table.columns == [c.key for c in ROSTER_SPEC.columns]


# -- upload ----------------------------------------------------------------------------------

def test_no_file_is_a_400_with_a_message(client, auth, officer):
    auth.login("0988000001")
    response = client.post("/imports/new", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Chọn tệp danh sách" in response.text


@pytest.mark.parametrize("filename,data,message", [
    ("trong.csv", b"", "Tệp trống"),
    ("tieu-de.csv", b"full_name,phone,unit_code\r\n", "chỉ có dòng tiêu đề"),
    ("ansi.csv", "Họ và tên,SĐT,Mã đơn vị\nẤn,0912345678,XA-A\n".encode("cp1258", "replace"),
     "CSV UTF-8"),
    ("danh-sach.pdf", b"%PDF-1.4", ".xlsx"),
    ("hong.xlsx", b"PK\x03\x04broken", "Không đọc được tệp Excel"),
])
def test_unreadable_files_are_a_422_with_a_vietnamese_reason(client, auth, officer, filename,
                                                             data, message):
    auth.login("0988000001")
    response = upload(client, data, filename)
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_errors_are_a_422_table_and_nothing_is_written(client, auth, officer):
    auth.login("0988000001")
    before = users_count()
    response = upload(client, csv_bytes([row(), row(phone="0912 34", name="Lỗi Số"),
                                         row(phone="0912345670", unit="XA-B")]))
    assert response.status_code == 422
    assert users_count() == before
    text = response.text
    assert "Chưa ghi gì" in text
    assert re.search(r'<th scope="col"[^>]*>Dòng</th>', text)
    cell = r"<td[^>]*>([^<]*)</td>\s*"
    rows = re.findall(r"<tr[^>]*>\s*" + cell * 4 + "</tr>", text)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("3", "Số điện thoại", "0912 34"), ("4", "Mã đơn vị", "XA-B")]
    assert rows[0][3] == phone_reason("0912 34")
    assert "ngoài phạm vi" in rows[1][3]
    assert 'type="file"' in text  # the form is there to upload the fixed file


def test_success_shows_counts_and_printable_codes_once(client, auth, officer):
    auth.login("0988000001")
    response = upload(client, csv_bytes([row(), row(name="Trần Thị Bình", phone="0912345679")],
                                        bom=True))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.text
    assert "Đã nhập danh sách" in text
    codes = CODE.findall(text)
    assert len(codes) == 2
    assert "Trần Thị Bình" in text and "0912 345 679" in text and "Xã An Bình" in text
    assert text.count("In danh sách") == 1
    assert "chỉ hiện một lần" in text
    assert "window.print()" in text
    record = db.session.scalars(select(RosterImport)).one()
    assert (record.created_count, record.source) == (2, "web")
    report = client.get(f"/imports/{record.id}")
    assert report.status_code == 200
    assert not set(CODE.findall(report.text)) & set(codes)


def test_activation_code_from_the_page_works_once_on_activate(client, auth, officer):
    auth.login("0988000001")
    response = upload(client, csv_bytes([row(name="Lê Văn Cường")]))
    code = CODE.findall(response.text)[0]
    auth.logout()
    form = {"identifier": "0912 345 678", "code": code.lower(), "new_password": "matkhau456",
            "confirm": "matkhau456"}
    assert client.post("/activate", data=form).status_code == 302
    person = get_user("+84912345678")
    assert person.check_password("matkhau456")
    auth.logout()
    assert client.post("/activate", data=form).status_code == 400  # single use
    assert db.session.scalars(select(OneTimeCode)).one().used_at is not None


def test_xlsx_upload(client, auth, officer):
    auth.login("0988000001")
    data = xlsx_bytes([["STT", "Họ và tên", "Số điện thoại", "Mã đơn vị", "Giới tính"],
                       [1, "Phạm Thị Dung", 912345678, "XA-A", "Nữ"], [],
                       [2, "Võ Văn Em", 912345679, "XA-A", "Nam"]])
    response = upload(client, data, "to-1.xlsx")
    assert response.status_code == 200
    assert get_user("+84912345678").gender == "female"
    assert get_user("+84912345679").full_name == "Võ Văn Em"
    assert "STT" in response.text  # the ignored column is mentioned


def test_dry_run_writes_nothing(client, auth, officer):
    auth.login("0988000001")
    before = users_count()
    response = upload(client, csv_bytes([row(), row(phone="0912345679")]), dry_run=True)
    assert response.status_code == 200
    assert "chưa ghi gì" in response.text
    assert not CODE.findall(response.text)
    assert users_count() == before
    assert db.session.scalars(select(RosterImport)).one().is_dry_run


def test_dry_run_with_errors_is_a_422(client, auth, officer):
    auth.login("0988000001")
    response = upload(client, csv_bytes([row(unit="KHONG-CO")]), dry_run=True)
    assert response.status_code == 422
    assert "Không có đơn vị mã" in response.text


def test_skip_invalid_writes_good_rows_and_errors_csv_has_the_bad(client, auth, officer):
    auth.login("0988000001")
    response = upload(client, csv_bytes([row(), row(phone="0912345679", unit="KHONG-CO",
                                                    name="Sai Mã")]), skip_invalid=True)
    assert response.status_code == 200
    assert get_user("+84912345678") is not None and get_user("+84912345679") is None
    record = db.session.scalars(select(RosterImport)).one()
    assert f"/imports/{record.id}/errors.csv" in response.text
    download = client.get(f"/imports/{record.id}/errors.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    body = download.data.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = body.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("3,Sai Mã,0912345679,,KHONG-CO,")
    assert "Không có đơn vị mã" in lines[1]
    export = db.session.scalars(select(AuditLog).where(AuditLog.action == "people.export")).one()
    assert export.actor_id == officer.id


# -- report ----------------------------------------------------------------------------------

def test_report_of_own_import(client, auth, officer):
    auth.login("0988000001")
    upload(client, csv_bytes([row(unit="KHONG-CO")]), filename="to-3.csv")
    record = db.session.scalars(select(RosterImport)).one()
    response = client.get(f"/imports/{record.id}")
    assert response.status_code == 200
    assert "to-3.csv" in response.text and "Cán Bộ Xã A" in response.text
    assert "Không có đơn vị mã" in response.text


def test_another_officers_import_is_404(client, auth, officer, units):
    auth.login("0988000001")
    upload(client, csv_bytes([row(unit="KHONG-CO")]))
    record = db.session.scalars(select(RosterImport)).one()
    auth.logout()
    make_user(units["b"], role="officer", phone="+84988000003")
    auth.login("0988000003")
    assert client.get(f"/imports/{record.id}").status_code == 404
    assert client.get(f"/imports/{record.id}/errors.csv").status_code == 404
    assert client.get("/imports/99999").status_code == 404


def test_province_officer_sees_imports_made_within_the_province(client, auth, officer, units):
    auth.login("0988000001")
    upload(client, csv_bytes([row()]))
    record = db.session.scalars(select(RosterImport)).one()
    auth.logout()
    make_user(units["province"], role="officer", phone="+84988000004")
    auth.login("0988000004")
    assert client.get(f"/imports/{record.id}").status_code == 200


def test_learner_cannot_read_a_report(client, auth, officer, units):
    auth.login("0988000001")
    upload(client, csv_bytes([row()]))
    record = db.session.scalars(select(RosterImport)).one()
    auth.logout()
    make_user(units["a"], phone="+84988000005")
    auth.login("0988000005")
    assert client.get(f"/imports/{record.id}").status_code == 404
