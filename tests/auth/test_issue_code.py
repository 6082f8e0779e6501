"""Officers and admins issue one-time codes to members in their scope, and only there."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth import services
from app.auth.models import OneTimeCode
from app.extensions import db
from app.models_base import utcnow
from tests.auth.conftest import quick_user
from tests.factories import PASSWORD

CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")


@pytest.fixture
def people(units):
    from types import SimpleNamespace

    return SimpleNamespace(
        officer_a=quick_user(units.a, role="officer", name="Cán bộ A", phone="+84900000001"),
        officer_b=quick_user(units.b, role="officer", name="Cán bộ B", phone="+84900000002"),
        admin=quick_user(units.province, role="admin", name="Quản trị", phone="+84900000003"),
        trainer_a=quick_user(units.a, role="trainer", name="Giảng viên", phone="+84900000004"),
        learner_a=quick_user(units.team_a, name="Học viên A", phone="+84900000005"),
        new_a=quick_user(units.team_a, name="Chưa kích hoạt", phone="+84900000006",
                         with_password=False),
        learner_b=quick_user(units.b, name="Học viên B", phone="+84900000007"),
    )


def sign_in(client, user):
    response = client.post("/login", data={"identifier": user.phone, "password": PASSWORD})
    assert response.status_code == 302


def issue(client, person):
    return client.post(f"/people/{person.id}/reset-code")


def code_count() -> int:
    return db.session.scalar(select(func.count(OneTimeCode.id)))


class TestAllowed:
    def test_officer_issues_a_reset_code_shown_once_and_printable(self, client, people):
        sign_in(client, people.officer_a)
        response = issue(client, people.learner_a)
        assert response.status_code == 200
        codes = CODE.findall(response.text)
        assert len(set(codes)) == 1
        assert "Mã đặt lại mật khẩu" in response.text
        assert "Học viên A" in response.text and "0900 000 005" in response.text
        assert "24 giờ" in response.text
        assert "window.print()" in response.text
        assert "no-store" in response.headers["Cache-Control"]
        record = db.session.scalar(select(OneTimeCode))
        assert record.purpose == "reset"
        assert record.created_by_id == people.officer_a.id
        expires = record.expires_at.replace(tzinfo=record.expires_at.tzinfo or UTC)
        assert timedelta(hours=23, minutes=59) < expires - utcnow() <= timedelta(hours=24)
        # …and the member can use it.
        other = client.application.test_client()
        redeemed = other.post("/activate", data={
            "identifier": "0900000005", "code": codes[0],
            "new_password": "moi-moi-2025", "confirm": "moi-moi-2025"})
        assert redeemed.status_code == 302

    def test_issuing_is_audit_logged(self, client, people):
        sign_in(client, people.officer_a)
        issue(client, people.learner_a)
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "code.issued"))
        assert entry.actor_id == people.officer_a.id
        assert entry.target == f"user:{people.learner_a.id}"
        assert entry.details == {"purpose": "reset"}
        assert entry.ip_address == "127.0.0.1"

    def test_member_without_password_gets_an_activation_code(self, client, people):
        sign_in(client, people.officer_a)
        response = issue(client, people.new_a)
        assert response.status_code == 200
        assert "Mã kích hoạt" in response.text
        assert "30 ngày" in response.text
        assert db.session.scalar(select(OneTimeCode.purpose)) == "activation"

    def test_admin_above_can_issue(self, client, people):
        sign_in(client, people.admin)
        assert issue(client, people.learner_b).status_code == 200
        assert issue(client, people.officer_a).status_code == 200

    def test_officer_may_issue_for_a_peer_officer_they_could_appoint(self, client, people, units):
        peer = quick_user(units.a, role="officer", name="Cán bộ A2", phone="+84900000008")
        sign_in(client, people.officer_a)
        assert issue(client, peer).status_code == 200

    def test_a_new_code_voids_the_previous_one(self, client, people):
        sign_in(client, people.officer_a)
        first = CODE.search(issue(client, people.learner_a).text).group(0)
        second = CODE.search(issue(client, people.learner_a).text).group(0)
        assert first != second
        with pytest.raises(services.CodeError):
            services.redeem_code("0900000005", first, "moi-moi-2025")
        services.redeem_code("0900000005", second, "moi-moi-2025")


class TestRefused:
    @pytest.mark.parametrize("who, whom", [
        ("officer_b", "learner_a"),    # another commune
        ("officer_a", "learner_b"),
        ("learner_a", "learner_a"),    # learners and trainers issue nothing, even to themselves
        ("learner_a", "new_a"),
        ("trainer_a", "learner_a"),
    ])
    def test_outside_scope_or_role_is_not_found(self, client, people, who, whom):
        sign_in(client, getattr(people, who))
        response = issue(client, getattr(people, whom))
        assert response.status_code == 404
        assert "Không tìm thấy trang" in response.text
        assert code_count() == 0
        assert db.session.scalar(select(func.count(AuditLog.id))) == 0

    def test_unknown_id_is_not_found(self, client, people):
        sign_in(client, people.admin)
        assert client.post("/people/999999/reset-code").status_code == 404

    def test_anonymous_is_sent_to_login(self, client, people):
        response = issue(client, people.learner_a)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
        assert code_count() == 0

    def test_get_is_not_allowed(self, client, people):
        sign_in(client, people.officer_a)
        assert client.get(f"/people/{people.learner_a.id}/reset-code").status_code == 405

    def test_officer_cannot_take_over_an_admin_in_their_commune(self, client, people, units):
        boss = quick_user(units.a, role="learner", name="Quản trị ở xã", phone="+84900000009")
        services.grant_role(boss, units.province, "admin")
        db.session.commit()
        sign_in(client, people.officer_a)
        response = issue(client, boss)
        assert response.status_code == 403
        assert "vai trò mà bạn được phép cấp" in response.text
        assert code_count() == 0

    def test_officer_cannot_take_over_a_province_officer_living_in_their_commune(
            self, client, people, units):
        chief = quick_user(units.team_a, name="Cán bộ tỉnh", phone="+84900000010")
        services.grant_role(chief, units.province, "officer")
        db.session.commit()
        sign_in(client, people.officer_a)
        assert issue(client, chief).status_code == 403
        assert code_count() == 0

    def test_inactive_member_gets_no_code(self, client, people):
        people.learner_a.is_active_member = False
        db.session.commit()
        sign_in(client, people.officer_a)
        response = issue(client, people.learner_a)
        assert response.status_code == 409
        assert "đang bị khóa" in response.text
        assert code_count() == 0


def test_may_issue_code_matrix(app, people):
    allowed = services.may_issue_code
    assert allowed(people.officer_a, people.learner_a)
    assert allowed(people.admin, people.officer_b)
    assert not allowed(people.officer_a, people.admin)
    assert not allowed(people.officer_b, people.learner_a)
    assert not allowed(people.trainer_a, people.learner_a)
