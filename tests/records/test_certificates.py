"""Certificates (HTML and PDF), the learner's "Hồ sơ học tập", who may open them, and revocation."""

from __future__ import annotations

import io
import unicodedata

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit import AuditLog
from app.extensions import db
from app.records import credentials
from app.records.models import CompletionRecord
from tests.records.conftest import COURSE_TITLE, HOLDER, complete, login


@pytest.fixture
def record(world, course):
    return complete(world.learner, course)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_my_records_lists_every_record_with_its_certificate(client, world, record):
    login(client, world.learner)
    response = client.get("/me/records")
    assert response.status_code == 200
    assert "Hồ sơ học tập" in response.text and COURSE_TITLE in response.text
    assert f"/certificates/{record.verification_code}" in response.text
    assert f"/certificates/{record.verification_code}.pdf" in response.text


def test_my_records_when_empty_points_to_the_courses(client, world, course):
    login(client, world.learner)
    response = client.get("/me/records")
    assert "Bạn chưa hoàn thành khóa học nào" in response.text


def test_certificate_page_has_every_fact(client, world, record):
    login(client, world.learner)
    response = client.get(f"/certificates/{record.verification_code}")
    assert response.status_code == 200
    html = response.text
    assert HOLDER in html and COURSE_TITLE in html
    assert credentials.local_date(record.completed_at).strftime("%d/%m/%Y") in html
    assert "Tổ CNSCĐ khu phố 1" in html and record.verification_code in html
    assert "4.1" in html and "4.2" in html
    assert 'src="data:image/png;base64,' in html
    assert f'href="/verify/{record.verification_code}"' in html
    assert "Thu hồi chứng nhận" not in html  # the learner cannot revoke


def test_pdf_is_a4_landscape_with_the_exact_nfc_name(client, world, record):
    login(client, world.learner)
    response = client.get(f"/certificates/{record.verification_code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4, landscape
    text = unicodedata.normalize("NFC", pdf_text(response.data))
    assert "Nguyễn Thị Hồng Nhung" in text
    assert COURSE_TITLE in text
    assert credentials.local_date(record.completed_at).strftime("%d/%m/%Y") in text
    assert record.verification_code in text
    assert "Tổ CNSCĐ khu phố 1" in text
    assert "GIẤY CHỨNG NHẬN HOÀN THÀNH KHÓA HỌC" in text


def test_pdf_text_is_already_nfc(client, world, record):
    """The extracted characters are the precomposed ones, not letter + combining mark."""
    login(client, world.learner)
    text = pdf_text(client.get(f"/certificates/{record.verification_code}.pdf").data)
    assert HOLDER in text


@pytest.mark.parametrize("who, status", [
    ("learner", 200), ("officer_a", 200), ("admin", 200),
    ("other_learner", 404), ("officer_b", 404), ("trainer_a", 404), ("learner_b", 404),
])
def test_who_may_open_a_certificate(client, world, record, who, status):
    login(client, getattr(world, who))
    assert client.get(f"/certificates/{record.verification_code}").status_code == status
    assert client.get(f"/certificates/{record.verification_code}.pdf").status_code == status


def test_anonymous_visitors_see_the_verify_page_only(client, record):
    for path in (f"/certificates/{record.verification_code}",
                 f"/certificates/{record.verification_code}.pdf", "/me/records"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"/verify/{record.verification_code}").status_code == 200


class TestRevocation:
    def test_officer_in_scope_revokes_with_a_reason(self, client, world, record):
        login(client, world.officer_a)
        page = client.get(f"/certificates/{record.verification_code}")
        assert "Thu hồi chứng nhận" in page.text
        form = client.get(f"/certificates/{record.verification_code}/revoke")
        assert form.status_code == 200 and "Lý do thu hồi" in form.text
        response = client.post(f"/certificates/{record.verification_code}/revoke",
                               data={"reason": "  Gian lận khi làm bài  "}, follow_redirects=True)
        assert response.status_code == 200
        assert "đã bị thu hồi" in response.text
        db.session.refresh(record)
        assert record.revoked_by_id == world.officer_a.id
        assert record.revoke_reason == "Gian lận khi làm bài"
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "record.revoke"))
        assert entry.actor_id == world.officer_a.id and entry.target == f"record:{record.id}"
        assert db.session.scalar(select(func.count(CompletionRecord.id))) == 1  # never deleted

    @pytest.mark.parametrize("who", ["learner", "other_learner", "officer_b", "trainer_a"])
    def test_others_cannot_revoke(self, client, world, record, who):
        login(client, getattr(world, who))
        response = client.post(f"/certificates/{record.verification_code}/revoke",
                               data={"reason": "Thử thu hồi trái phép"})
        assert response.status_code == 404
        db.session.refresh(record)
        assert record.revoked_at is None

    @pytest.mark.parametrize("reason", ["", "   ", "abc", "x" * 501])
    def test_a_reason_is_required(self, client, world, record, reason):
        login(client, world.officer_a)
        response = client.post(f"/certificates/{record.verification_code}/revoke",
                               data={"reason": reason})
        assert response.status_code == 400
        assert 'class="field-error"' in response.text
        db.session.refresh(record)
        assert record.revoked_at is None
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "record.revoke")) is None

    def test_revoking_twice_keeps_the_first_revocation(self, client, world, record):
        login(client, world.officer_a)
        client.post(f"/certificates/{record.verification_code}/revoke",
                    data={"reason": "Lý do thứ nhất"})
        client.post("/logout")
        login(client, world.admin)
        response = client.post(f"/certificates/{record.verification_code}/revoke",
                               data={"reason": "Lý do thứ hai"})
        assert response.status_code == 409
        db.session.refresh(record)
        assert record.revoke_reason == "Lý do thứ nhất"
        assert db.session.scalar(select(func.count(AuditLog.id))
                                 .where(AuditLog.action == "record.revoke")) == 1

    def test_revoked_certificate_says_so_to_its_holder(self, client, world, record):
        login(client, world.officer_a)
        client.post(f"/certificates/{record.verification_code}/revoke",
                    data={"reason": "Cấp nhầm người"})
        client.post("/logout")
        login(client, world.learner)
        page = client.get(f"/certificates/{record.verification_code}")
        assert "Chứng nhận này đã bị thu hồi ngày" in page.text
        text = pdf_text(client.get(f"/certificates/{record.verification_code}.pdf").data)
        assert "ĐÃ BỊ THU HỒI" in text
        assert "Đã bị thu hồi" in client.get("/me/records").text


class TestOfficerLists:
    def test_officer_sees_records_of_their_units_only(self, client, world, course):
        mine = complete(world.learner, course)
        theirs = complete(world.learner_b, course)
        login(client, world.officer_a)
        response = client.get(f"/units/{world.commune_a.code}/records")
        assert response.status_code == 200
        assert mine.holder_name in response.text and theirs.holder_name not in response.text
        assert client.get(f"/units/{world.commune_b.code}/records").status_code == 404
        assert client.get("/records/").headers["Location"].endswith(
            f"/units/{world.commune_a.code}/records")

    def test_the_province_admin_sees_both(self, client, world, course):
        complete(world.learner, course)
        complete(world.learner_b, course)
        login(client, world.admin)
        response = client.get(f"/units/{world.province.code}/records")
        assert HOLDER in response.text and "Lê Thị Cúc" in response.text

    def test_learners_and_trainers_have_no_list(self, client, world, course):
        login(client, world.trainer_a)
        assert client.get("/records/").status_code == 403
        assert client.get(f"/units/{world.commune_a.code}/records").status_code == 404
