"""The public verification page: genuine / revoked / unknown, and nothing personal on it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit import AuditLog
from app.extensions import db
from app.records import credentials
from tests.records.conftest import (
    COURSE_TITLE,
    HOLDER,
    HOLDER_BIRTH_YEAR,
    HOLDER_EMAIL,
    HOLDER_PHONE,
    complete,
    login,
)


@pytest.fixture
def record(world, course):
    return complete(world.learner, course)


def contact_spellings() -> list[str]:
    """Every way the holder's phone might be printed, the email, and the birth year."""
    national = "0" + HOLDER_PHONE[3:]
    return [HOLDER_PHONE, national, f"{national[:4]} {national[4:7]} {national[7:]}",
            HOLDER_PHONE[3:], HOLDER_EMAIL, "hong.nhung", str(HOLDER_BIRTH_YEAR)]


def test_genuine_record_shows_name_course_date_and_unit(client, record):
    response = client.get(f"/verify/{record.verification_code}")
    assert response.status_code == 200
    assert "Chứng nhận hợp lệ" in response.text
    assert HOLDER in response.text and COURSE_TITLE in response.text
    assert credentials.local_date(record.completed_at).strftime("%d/%m/%Y") in response.text
    assert "Tổ CNSCĐ khu phố 1" in response.text
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_the_page_never_shows_phone_email_or_birth_year(client, record):
    html = client.get(f"/verify/{record.verification_code}").text
    for text in contact_spellings():
        assert text not in html, text


def test_the_verdict_is_in_words_not_colour_alone(client, record):
    html = client.get(f"/verify/{record.verification_code}").text
    verdict = re.search(r'<section class="verdict verdict-ok"[^>]*>(.*?)</section>', html, re.S)
    assert verdict and "<h2" in verdict.group(1) and "Chứng nhận hợp lệ" in verdict.group(1)


@pytest.mark.parametrize("code", ["khongcomaxacminhnaytrongdb", "x", "a" * 41, "abc%2Fdef",
                                  "<script>alert(1)</script>"])
def test_unknown_or_malformed_codes_are_a_polite_404(client, record, code):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    assert "Không tìm thấy chứng nhận" in response.text or "Không tìm thấy trang" in response.text
    assert HOLDER not in response.text
    assert client.get(f"/verify/{code}.json").status_code == 404


def test_unknown_code_json_says_unknown(client, record):
    response = client.get("/verify/khongcomaxacminhnaytrongdb.json")
    assert response.status_code == 404
    assert response.get_json()["status"] == "unknown"


def test_revocation_shows_on_the_page_and_in_the_json(client, world, record):
    login(client, world.officer_a)
    response = client.post(f"/certificates/{record.verification_code}/revoke",
                           data={"reason": "Cấp nhầm người, đã xác minh lại"})
    assert response.status_code == 302
    client.post("/logout")
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoked_by_id == world.officer_a.id
    page = client.get(f"/verify/{record.verification_code}")
    assert page.status_code == 200
    assert "Chứng nhận đã bị thu hồi" in page.text
    assert "Chứng nhận hợp lệ" not in page.text
    assert credentials.local_date(record.revoked_at).strftime("%d/%m/%Y") in page.text
    assert "Cấp nhầm người" not in page.text  # the reason stays internal
    document = client.get(f"/verify/{record.verification_code}.json").get_json()
    assert document["status"] == "revoked" and document["revoked"] is True
    assert document["revokedAt"] == credentials.iso(record.revoked_at)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "record.revoke"))


@pytest.mark.options(VERIFY_LIMIT="3 per minute")
def test_verification_is_rate_limited(client, record):
    codes = [client.get(f"/verify/{record.verification_code}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Thao tác quá nhiều lần" in client.get(f"/verify/{record.verification_code}").text


def test_jwks_is_public_json(client, record):
    client.get(f"/verify/{record.verification_code}.json")  # the first signature makes a key
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = response.get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and "d" not in keys[0]
