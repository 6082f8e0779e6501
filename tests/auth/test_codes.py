"""One-time codes: strength, storage, single use, expiry, typing tolerance, rate limit, races."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from app.auth import services
from app.auth.codes import CODE_ALPHABET, CODE_LENGTH, canonical_code, code_digest, generate_code
from app.auth.models import OneTimeCode
from app.extensions import db
from app.models_base import utcnow
from tests.auth.conftest import PHONE
from tests.factories import make_user

NEW = "mat-khau-moi-2025"


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def redeem(client, code, identifier=PHONE, password=NEW, confirm=None):
    return client.post("/activate", data={"identifier": identifier, "code": code,
                                          "new_password": password,
                                          "confirm": password if confirm is None else confirm})


@pytest.fixture
def fresh(units):
    """An imported member who has no password yet."""
    return make_user(units.team_a, name="Trần Thị Bình", phone="+84987654321", password=None)


def issued(user, purpose="activation") -> str:
    code = services.issue_code(user, purpose)
    db.session.commit()
    return code


class TestShape:
    def test_at_least_50_bits(self):
        assert len(set(CODE_ALPHABET)) ** CODE_LENGTH >= 2**50

    def test_no_look_alike_characters(self):
        for ch in "0O1lI":
            assert ch not in CODE_ALPHABET
        for _ in range(300):
            code = generate_code()
            assert not set(code) & set("0O1lIoiL")
            assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
            assert len(code.replace("-", "")) == CODE_LENGTH

    def test_codes_differ(self):
        assert len({generate_code() for _ in range(1000)}) == 1000

    @pytest.mark.parametrize("typed", ["k7qm-2xrp-9htd", "K7QM 2XRP 9HTD", "k7qm2xrp9htd",
                                       " K7QM—2XRP—9HTD ", "ｋ７ｑｍ２ｘｒｐ９ｈｔｄ"])
    def test_typing_tolerance(self, typed):
        assert canonical_code(typed) == "K7QM2XRP9HTD"
        assert code_digest(typed) == code_digest("K7QM-2XRP-9HTD")


class TestStorage:
    def test_only_the_sha256_digest_is_stored(self, fresh):
        code = issued(fresh)
        plain = canonical_code(code)
        row = db.session.execute(text("SELECT * FROM one_time_codes")).mappings().one()
        for value in row.values():
            assert plain not in str(value)
            assert code not in str(value)
            assert plain.lower() not in str(value).lower()
        assert row["code_digest"] == hashlib.sha256(plain.encode()).hexdigest()

    def test_reset_lifetime_follows_reset_code_hours(self, member):
        issued(member, "reset")
        record = db.session.scalar(select(OneTimeCode))
        left = aware(record.expires_at) - utcnow()
        assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
        assert record.purpose == "reset"

    @pytest.mark.options(RESET_CODE_HOURS=2, ACTIVATION_CODE_DAYS=3)
    def test_lifetimes_are_configurable(self, member, fresh):
        issued(member, "reset")
        issued(fresh, "activation")
        by_user = {c.user_id: aware(c.expires_at) - utcnow()
                   for c in db.session.scalars(select(OneTimeCode))}
        assert timedelta(hours=1, minutes=59) < by_user[member.id] <= timedelta(hours=2)
        assert timedelta(days=2, hours=23) < by_user[fresh.id] <= timedelta(days=3)


class TestRedeem:
    def test_activation_sets_the_first_password_and_signs_in(self, client, fresh):
        code = issued(fresh)
        response = redeem(client, code, identifier="0987 654 321")
        assert response.status_code == 302
        db.session.refresh(fresh)
        assert fresh.password_hash.startswith("scrypt:")
        assert fresh.check_password(NEW)
        assert client.get("/account").status_code == 200

    def test_single_use(self, app, fresh):
        code = issued(fresh)
        assert redeem(app.test_client(), code).status_code == 400  # wrong identifier: member's
        assert redeem(app.test_client(), code, identifier="0987654321").status_code == 302
        second = redeem(app.test_client(), code, identifier="0987654321",
                        password="mot-mat-khau-khac-9")
        assert second.status_code == 400
        assert "đã dùng hoặc đã hết hạn" in second.text
        db.session.refresh(fresh)
        assert fresh.check_password(NEW)

    @pytest.mark.parametrize("purpose", ["reset", "activation"])
    def test_expired_code_is_refused(self, client, member, purpose):
        code = issued(member, purpose)
        db.session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        response = redeem(client, code)
        assert response.status_code == 400
        assert "đã hết hạn" in response.text
        db.session.refresh(member)
        assert not member.check_password(NEW)

    def test_code_just_before_expiry_still_works(self, client, member):
        code = issued(member, "reset")
        db.session.execute(update(OneTimeCode).values(expires_at=utcnow() + timedelta(minutes=1)))
        db.session.commit()
        assert redeem(client, code).status_code == 302

    def test_a_newer_code_voids_the_older(self, app, member):
        older = issued(member, "reset")
        newer = issued(member, "reset")
        assert redeem(app.test_client(), older).status_code == 400
        assert redeem(app.test_client(), newer).status_code == 302

    @pytest.mark.parametrize("mangle", [str.lower, lambda c: c.replace("-", " "),
                                        lambda c: c.replace("-", ""),
                                        lambda c: " " + c.lower().replace("-", " - ") + " "])
    def test_code_typed_loosely_still_works(self, client, member, mangle):
        code = issued(member, "reset")
        assert redeem(client, mangle(code)).status_code == 302

    def test_code_of_a_does_not_work_for_b(self, app, member, fresh):
        code_for_b = issued(fresh)
        response = redeem(app.test_client(), code_for_b, identifier=PHONE)
        assert response.status_code == 400
        db.session.refresh(member)
        assert not member.check_password(NEW)
        # …and trying it on the wrong person did not spend it.
        assert redeem(app.test_client(), code_for_b, identifier="0987654321").status_code == 302

    def test_unknown_person_gets_the_same_message(self, client, member):
        code = issued(member, "reset")
        response = redeem(client, code, identifier="0933 333 333")
        assert response.status_code == 400
        assert "Mã không đúng, đã dùng hoặc đã hết hạn" in response.text

    def test_weak_new_password_does_not_spend_the_code(self, client, member):
        code = issued(member, "reset")
        response = redeem(client, code, password="ngan1")
        assert response.status_code == 400
        assert "ít nhất 8 ký tự" in response.text
        assert redeem(client, code).status_code == 302

    def test_mismatched_confirmation(self, client, member):
        code = issued(member, "reset")
        response = redeem(client, code, confirm="khac-nhau-123")
        assert response.status_code == 400
        assert "Hai mật khẩu không khớp." in response.text

    def test_malformed_phone_gets_its_reason(self, client, member):
        response = redeem(client, "K7QM-2XRP-9HTD", identifier="0912abc")
        assert response.status_code == 400
        assert "chỉ gồm chữ số" in response.text
        assert 'value="0912abc"' in response.text

    def test_email_identifies_the_person_too(self, client, member):
        code = issued(member, "reset")
        assert redeem(client, code, identifier="AN.NGUYEN@example.com").status_code == 302

    def test_inactive_member_cannot_redeem_and_keeps_the_code(self, client, member):
        code = issued(member, "reset")
        member.is_active_member = False
        db.session.commit()
        response = redeem(client, code)
        assert response.status_code == 400
        assert "đang bị khóa" in response.text
        assert db.session.scalar(select(OneTimeCode.used_at)) is None

    @pytest.mark.options(CODE_LIMIT_PER_IP="3 per minute")
    def test_rate_limited_per_ip(self, client, member):
        for _ in range(3):
            assert redeem(client, "AAAA-BBBB-CCCC").status_code == 400
        code = issued(member, "reset")
        blocked = redeem(client, code)
        assert blocked.status_code == 429
        assert "Thao tác quá nhiều lần" in blocked.text
        db.session.refresh(member)
        assert not member.check_password(NEW)
        assert redeem(client, code, **{}).status_code == 429
        other_ip = client.post("/activate", environ_base={"REMOTE_ADDR": "10.1.2.3"}, data={
            "identifier": PHONE, "code": code, "new_password": NEW, "confirm": NEW})
        assert other_ip.status_code == 302


class TestServiceRaces:
    def test_redeeming_twice_in_a_row_fails_the_second_time(self, member):
        code = issued(member, "reset")
        services.redeem_code(PHONE, code, NEW)
        with pytest.raises(services.CodeError):
            services.redeem_code(PHONE, code, "ke-khac-chiem-1")
        db.session.commit()
        db.session.refresh(member)
        assert member.check_password(NEW)

    def test_a_use_committed_elsewhere_meanwhile_wins(self, member):
        """Another request spends the code after we read it: the guarded UPDATE notices."""
        code = issued(member, "reset")
        held = db.session.scalar(select(OneTimeCode))  # our session has read it unspent
        with db.engine.connect() as other:
            other.execute(update(OneTimeCode).values(used_at=utcnow()))
            other.commit()
        assert held.used_at is None  # what the check before the UPDATE sees
        with pytest.raises(services.CodeError):
            services.redeem_code(PHONE, code, "ke-khac-chiem-1")
        db.session.rollback()
        db.session.refresh(member)
        assert not member.check_password("ke-khac-chiem-1")
