"""In-person classes: creating one, attendance from the unit's roster, paper-test scores,
bulk entry from a spreadsheet, and the records that follow."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.records import classes, credentials
from app.records.models import ClassAttendance, CompletionRecord, InPersonClass
from tests.records.conftest import HOLDER, complete, login

YESTERDAY = date.today() - timedelta(days=1)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def class_form(course, unit_code: str = "26734", **overrides) -> dict:
    data = {"course_id": str(course.id), "unit_code": unit_code,
            "held_on": YESTERDAY.strftime("%d/%m/%Y"), "place": "Nhà văn hóa khu phố 1",
            "pass_percent": "70"}
    data.update(overrides)
    return data


@pytest.fixture
def klass(world, course) -> InPersonClass:
    klass = classes.create_class(world.trainer_a, course_id=course.id, unit_code="26734",
                                 held_on=YESTERDAY, place="Nhà văn hóa khu phố 1",
                                 pass_percent=70)
    db.session.commit()
    return klass


def upload(client, klass, name: str, data: bytes):
    return client.post(f"/classes/{klass.id}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


class TestCreating:
    def test_a_trainer_creates_a_class(self, client, world, course):
        login(client, world.trainer_a)
        page = client.get("/classes/new")
        assert page.status_code == 200 and "Khóa học mẫu: mật khẩu an toàn" in page.text
        assert "Phường Long Bình" in page.text and "Xã Đak Lua" not in page.text
        response = client.post("/classes/new", data=class_form(course))
        assert response.status_code == 302
        klass = db.session.scalar(select(InPersonClass))
        assert klass.trainer_id == world.trainer_a.id and klass.held_on == YESTERDAY
        assert klass.unit_id == world.commune_a.id and klass.pass_percent == 70
        assert "Nhà văn hóa khu phố 1" in client.get("/classes/").text

    @pytest.mark.parametrize("field, value, message", [
        ("unit_code", "26000", "Chọn đơn vị trong phạm vi bạn phụ trách."),
        ("unit_code", "khong-co", "Chọn đơn vị trong phạm vi bạn phụ trách."),
        ("held_on", (date.today() + timedelta(days=2)).strftime("%d/%m/%Y"),
         "Ngày học không được sau hôm nay"),
        ("held_on", "31/02/2026", "Ngày không hợp lệ"),
        ("held_on", "01/01/1999", "Ngày học quá xa trong quá khứ"),
        ("place", "   ", "Nhập địa điểm học"),
        ("pass_percent", "0", "Điểm đạt từ 1 đến 100."),
        ("pass_percent", "101", "Điểm đạt từ 1 đến 100."),
        ("pass_percent", "bảy mươi", "Nhập một số, ví dụ 70."),
        ("course_id", "999", "Chọn một khóa học đã xuất bản."),
    ])
    def test_bad_input_is_refused_and_nothing_is_created(self, client, world, course, field,
                                                         value, message):
        login(client, world.trainer_a)
        response = client.post("/classes/new", data=class_form(course, **{field: value}))
        assert response.status_code == 400
        assert message in response.text
        assert count(InPersonClass) == 0

    @pytest.mark.parametrize("who", ["learner", "officer_a"])
    def test_only_trainers_and_admins(self, client, world, course, who):
        login(client, getattr(world, who))
        assert client.get("/classes/").status_code == 403
        assert client.post("/classes/new", data=class_form(course)).status_code == 403
        assert count(InPersonClass) == 0

    def test_a_trainer_of_another_commune_cannot_open_the_class(self, client, world, klass):
        login(client, world.trainer_b)
        assert client.get(f"/classes/{klass.id}").status_code == 404
        assert client.post(f"/classes/{klass.id}/sheet", data={}).status_code == 404
        assert klass.id not in [k.id for k in db.session.scalars(
            classes.classes_query(world.trainer_b))]


class TestAttendance:
    def test_search_ignores_diacritics_and_stays_in_the_subtree(self, client, world, klass):
        login(client, world.trainer_a)
        page = client.get(f"/classes/{klass.id}?q=nguyen thi hong")
        assert HOLDER in page.text
        assert "Lê Thị Cúc" not in client.get(f"/classes/{klass.id}?q=le thi cuc").text
        by_phone = client.get(f"/classes/{klass.id}?q=0912 345")
        assert HOLDER in by_phone.text

    def test_add_members_then_enter_scores(self, client, world, course, klass):
        login(client, world.trainer_a)
        for person in (world.learner, world.other_learner):
            response = client.post(f"/classes/{klass.id}/attendees",
                                   data={"user_id": str(person.id)})
            assert response.status_code == 302
        client.post(f"/classes/{klass.id}/attendees", data={"user_id": str(world.learner.id)})
        rows = {a.user_id: a for a in db.session.scalars(select(ClassAttendance))}
        assert set(rows) == {world.learner.id, world.other_learner.id}
        mine, other = rows[world.learner.id], rows[world.other_learner.id]
        response = client.post(f"/classes/{klass.id}/sheet", data={
            f"present-{mine.id}": "1", f"score-{mine.id}": "8,5/10",
            f"present-{other.id}": "1", f"score-{other.id}": "55"}, follow_redirects=True)
        assert "Cấp 1 chứng nhận mới." in response.text
        record = db.session.scalar(select(CompletionRecord))
        assert record.user_id == world.learner.id and record.source == "in_person"
        assert record.issuer_id == world.trainer_a.id
        assert record.issuing_unit_id == world.commune_a.id
        assert record.in_person_class_id == klass.id and record.score_percent == 85
        assert credentials.local_date(record.completed_at) == YESTERDAY
        assert record.competencies == ["4.1", "4.2"]
        db.session.refresh(mine)
        assert mine.record_id == record.id
        # The verify page shows the class's unit as issuer, like any record.
        assert "Phường Long Bình" in client.get(f"/verify/{record.verification_code}").text

    def test_absent_people_get_no_record_whatever_the_score(self, client, world, klass):
        login(client, world.trainer_a)
        attendance = classes.add_attendee(klass, world.learner)
        db.session.commit()
        client.post(f"/classes/{klass.id}/sheet", data={f"score-{attendance.id}": "100"})
        assert count(CompletionRecord) == 0
        db.session.refresh(attendance)
        assert attendance.is_present is False and attendance.paper_score == 100

    def test_one_bad_score_saves_nothing(self, client, world, klass):
        login(client, world.trainer_a)
        good = classes.add_attendee(klass, world.learner)
        bad = classes.add_attendee(klass, world.other_learner)
        db.session.commit()
        response = client.post(f"/classes/{klass.id}/sheet", data={
            f"present-{good.id}": "1", f"score-{good.id}": "90",
            f"present-{bad.id}": "1", f"score-{bad.id}": "120"})
        assert response.status_code == 400
        assert "Điểm phải từ 0 đến 100." in response.text
        assert 'value="120"' in response.text  # what was typed comes back
        db.session.refresh(good)
        assert good.paper_score is None and count(CompletionRecord) == 0

    def test_an_issued_row_is_locked(self, client, world, klass):
        login(client, world.trainer_a)
        attendance = classes.add_attendee(klass, world.learner)
        db.session.commit()
        client.post(f"/classes/{klass.id}/sheet",
                    data={f"present-{attendance.id}": "1", f"score-{attendance.id}": "90"})
        response = client.post(f"/classes/{klass.id}/sheet",
                               data={f"present-{attendance.id}": "1",
                                     f"score-{attendance.id}": "40"})
        assert response.status_code == 400
        assert "Đã cấp chứng nhận cho người này" in response.text
        assert db.session.scalar(select(CompletionRecord)).score_percent == 90

    def test_an_online_record_is_kept_not_duplicated(self, client, world, course, klass):
        online = complete(world.learner, course)
        login(client, world.trainer_a)
        attendance = classes.add_attendee(klass, world.learner)
        db.session.commit()
        client.post(f"/classes/{klass.id}/sheet",
                    data={f"present-{attendance.id}": "1", f"score-{attendance.id}": "95"})
        assert count(CompletionRecord) == 1
        db.session.refresh(attendance)
        assert attendance.record_id == online.id

    def test_members_outside_the_class_unit_cannot_be_added(self, client, world, klass):
        login(client, world.trainer_a)
        response = client.post(f"/classes/{klass.id}/attendees",
                               data={"user_id": str(world.learner_b.id)})
        assert response.status_code == 404
        assert count(ClassAttendance) == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("85", 85.0), ("85,5", 85.5), ("85.5%", 85.5), ("8,5/10", 85.0), ("17/20", 85.0),
    ("0", 0.0), ("100", 100.0), ("", None), (" 9 / 10 ", 90.0),
])
def test_scores_as_people_write_them(app, text, expected):
    assert classes.parse_percent(text) == expected


@pytest.mark.parametrize("text", ["101", "-5", "abc", "11/10", "8/0", "8,5,5", "1e2"])
def test_impossible_scores(app, text):
    with pytest.raises(ValueError):
        classes.parse_percent(text)


class TestBulkEntry:
    CSV_OK = ("Họ và tên;Số điện thoại;Điểm;Có mặt\n"
              f"{HOLDER};0912 345 678;9/10;có\n"
              "Trần Văn Bình;0912000222;60;x\n")

    def test_a_csv_adds_people_scores_and_records(self, client, world, klass):
        login(client, world.trainer_a)
        response = upload(client, klass, "diem.csv", ("\ufeff" + self.CSV_OK).encode())
        assert response.status_code == 302
        rows = {a.user_id: a for a in db.session.scalars(select(ClassAttendance))}
        assert rows[world.learner.id].paper_score == 90
        assert rows[world.other_learner.id].paper_score == 60
        record = db.session.scalar(select(CompletionRecord))
        assert record.user_id == world.learner.id and record.in_person_class_id == klass.id
        assert count(CompletionRecord) == 1

    def test_an_xlsx_with_a_title_row_and_email_column(self, client, world, klass):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["DANH SÁCH ĐIỂM LỚP HỌC TRỰC TIẾP"])
        sheet.append(["Email", "Điểm kiểm tra", "Điểm danh"])
        sheet.append(["HONG.NHUNG@example.vn", 88, "Có"])
        sheet.append([None, None, None])
        buffer = io.BytesIO()
        workbook.save(buffer)
        login(client, world.trainer_a)
        response = upload(client, klass, "diem.xlsx", buffer.getvalue())
        assert response.status_code == 302
        assert db.session.scalar(select(CompletionRecord)).score_percent == 88

    def test_every_bad_row_is_reported_and_nothing_is_written(self, client, world, klass):
        text = ("Số điện thoại,Điểm,Có mặt\n"
                "0912 345 678,95,có\n"          # row 2: fine on its own
                "0912 999 999,80,có\n"          # row 3: nobody with this phone here
                "0912000333,80,có\n"            # row 4: a member of another commune
                "12345,80,có\n"                 # row 5: not a phone number
                "0912000222,tám mươi,có\n"      # row 6: not a score
                "0912000222,80,chắc có\n"       # row 7: not a yes/no
                "0912345678,70,có\n"            # row 8: the same person as row 2
                ",80,có\n")                     # row 9: nobody named
        login(client, world.trainer_a)
        response = upload(client, klass, "diem.csv", text.encode())
        assert response.status_code == 422
        html = response.text
        assert "Chưa ghi gì" in html
        for row in (3, 4, 5, 6, 7, 8, 9):
            assert f'<td class="num">{row}</td>' in html, row
        assert '<td class="num">2</td>' not in html
        assert "Không có thành viên nào với thông tin này trong Phường Long Bình." in html
        assert "Trùng với dòng 2." in html
        assert "Điểm phải là số từ 0 đến 100" in html
        assert "Cột có mặt chỉ nhận" in html
        assert count(ClassAttendance) == 0 and count(CompletionRecord) == 0

    @pytest.mark.parametrize(("name", "data", "message"), [
        ("diem.csv", b"", "Tệp trống"),
        ("diem.csv", "Họ và tên,Điểm\nAn,80\n".encode(), "Thiếu cột bắt buộc"),
        ("diem.xls", b"\xd0\xcf\x11\xe0", "chưa được hỗ trợ"),
        ("diem.xlsx", b"not a zip", "Không đọc được tệp Excel"),
        ("diem.csv", "Số điện thoại,Điểm\n".encode(), "chưa có dòng dữ liệu"),
    ])
    def test_unreadable_files(self, client, world, klass, name, data, message):
        login(client, world.trainer_a)
        response = upload(client, klass, name, data)
        assert response.status_code == 422
        assert message in response.text
        assert count(ClassAttendance) == 0

    def test_no_file(self, client, world, klass):
        login(client, world.trainer_a)
        response = client.post(f"/classes/{klass.id}/import", data={},
                               content_type="multipart/form-data")
        assert response.status_code == 400
        assert "Chọn tệp điểm để tải lên." in response.text
