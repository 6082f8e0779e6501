"""A learner downloads everything kept about them; the download is audit-logged."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit import AuditLog
from app.extensions import db
from tests.records.conftest import (
    COURSE_TITLE,
    HOLDER,
    HOLDER_EMAIL,
    HOLDER_PHONE,
    add_assessment,
    add_attempt,
    complete,
    login,
)


def test_my_data_holds_profile_progress_attempts_and_records(client, world, course):
    assessment = add_assessment(course)
    add_attempt(world.learner, assessment, score=100, passed=True,
                per_competency={"4.1": 100, "4.2": 100})
    record = complete(world.learner, course)
    add_attempt(world.other_learner, assessment, score=0, passed=False,
                per_competency={"4.1": 0, "4.2": 0})
    login(client, world.learner)
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    profile = data["profile"]
    assert profile["full_name"] == HOLDER and profile["phone"] == HOLDER_PHONE
    assert profile["email"] == HOLDER_EMAIL and profile["birth_year"] == 1968
    assert profile["unit"]["code"] == "26734-T1"
    assert {p["lesson"] for p in data["lesson_progress"]} == {"gioi-thieu", "dat-mat-khau"}
    assert len(data["attempts"]) == 1  # someone else's attempt is not in my file
    assert data["attempts"][0]["score_percent"] == 100
    assert len(data["attempts"][0]["answers"]) == 5
    assert "snapshot" not in json.dumps(data)  # questions and keys are not personal data
    assert data["records"][0]["course_title"] == COURSE_TITLE
    assert data["records"][0]["verification_code"] == record.verification_code
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "people.export"))
    assert entry.actor_id == world.learner.id and entry.details["kind"] == "own_data"


def test_my_data_needs_login(client, world):
    response = client.get("/me/data.json")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "people.export")) is None


def test_account_page_links_to_the_download(client, world):
    login(client, world.learner)
    page = client.get("/account")
    assert 'href="/me/data.json"' in page.text and "Tải dữ liệu của tôi" in page.text
