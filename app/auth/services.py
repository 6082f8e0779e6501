"""Account operations: finding people, signing in, one-time codes, creating accounts.

Services add and flush; the view or CLI command that called them commits once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.codes import code_digest, generate_code
from app.auth.models import OneTimeCode, RoleGrant, User
from app.auth.phone import InvalidPhone, normalize_phone
from app.extensions import db
from app.models_base import utcnow
from app.text import nfc

# Checked against when no account matches, so a wrong identifier costs as long as a wrong
# password and response times do not reveal which phone numbers have accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-1", method="scrypt")


class CodeError(ValueError):
    """A one-time code that cannot be used; the message is safe to show."""


def normalize_email(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    return value or None


def find_user(identifier: str) -> User | None:
    """The account for a phone number (any common spelling) or an email address."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return db.session.scalar(select(User).where(User.email == normalize_email(identifier)))
    phone = normalize_phone(identifier)  # raises InvalidPhone with a reason
    return db.session.scalar(select(User).where(User.phone == phone))


def authenticate(identifier: str, password: str) -> User | None:
    """The user when identifier and password match an active account, else None."""
    try:
        user = find_user(identifier)
    except InvalidPhone:
        user = None
    if user is None or not user.has_password:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def issue_code(user: User, purpose: str, issuer: User | None = None) -> str:
    """Create a one-time code for ``user`` and return it in clear, once; older ones stop working."""
    if purpose == "reset":
        lifetime = timedelta(hours=current_app.config["RESET_CODE_HOURS"])
    else:
        lifetime = timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
    now = utcnow()
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.user_id == user.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = generate_code()
    db.session.add(OneTimeCode(
        user_id=user.id, purpose=purpose, code_digest=code_digest(code),
        expires_at=now + lifetime, created_by_id=getattr(issuer, "id", None),
    ))
    db.session.flush()
    return code


def redeem_code(identifier: str, code: str, new_password: str) -> User:
    """Set a new password with a valid code for this person; the code is then spent."""
    try:
        user = find_user(identifier)
    except InvalidPhone:
        user = None
    invalid = CodeError(_l("Mã không đúng, đã dùng hoặc đã hết hạn. Hãy xin cán bộ cấp mã mới."))
    if user is None:
        raise invalid
    record = db.session.scalar(
        select(OneTimeCode).where(OneTimeCode.code_digest == code_digest(code))
    )
    if record is None or record.user_id != user.id or record.used_at is not None:
        raise invalid
    expires_at = record.expires_at
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes; we store UTC
        from datetime import UTC

        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= utcnow():
        raise invalid
    # Spend the code with a guarded update so two simultaneous uses cannot both succeed.
    spent = db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == record.id, OneTimeCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        raise invalid
    user.set_password(new_password)
    return user


def grant_role(user: User, unit, role: str) -> RoleGrant:
    """Give ``role`` on ``unit`` unless the user already holds it there."""
    for grant in user.grants:
        if grant.unit_id == unit.id and grant.role == role:
            return grant
    grant = RoleGrant(user=user, unit_id=unit.id, role=role)
    grant.unit = unit
    user.grants.append(grant)
    return grant


def create_user(
    *, full_name: str, unit, phone: str | None = None, email: str | None = None,
    role: str = "learner", audience: str = "citizen", password: str | None = None,
    gender: str | None = None, birth_year: int | None = None,
) -> User:
    """A new account in ``unit`` holding ``role`` there. Phone must already be normalized."""
    user = User(full_name=nfc(full_name), phone=phone, email=normalize_email(email),
                unit_id=unit.id, audience=audience, gender=gender, birth_year=birth_year)
    user.unit = unit
    if password:
        user.set_password(password)
    db.session.add(user)
    grant_role(user, unit, role)
    db.session.flush()
    return user
