"""Account operations: finding people, signing in, one-time codes, creating accounts.

Services add and flush; the view or CLI command that called them commits once.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import record_audit
from app.auth.codes import code_digest, generate_code
from app.auth.models import AUDIENCES, GENDERS, OneTimeCode, RoleGrant, User
from app.auth.permissions import can, grantable_roles
from app.auth.phone import InvalidPhone, normalize_phone
from app.extensions import db
from app.models_base import utcnow
from app.orgs.models import COMMUNE_KINDS, Unit
from app.text import fold, nfc

# Checked against when no account matches, so a wrong identifier costs as long as a wrong
# password and response times do not reveal which phone numbers have accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-1", method="scrypt")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A refused account operation; ``field`` names the form field the message belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class CodeError(AccountError):
    """A one-time code that cannot be used; the message is safe to show."""


class NotAllowed(AccountError):
    """The caller may see the person but not do this to them (a 403, not a 404)."""


def normalize_email(raw: str | None) -> str | None:
    """Emails are compared and stored lower-case; blank means none."""
    value = (raw or "").strip().lower()
    return value or None


def clean_email(raw: str | None) -> str | None:
    """The stored form of an email address, None when blank; AccountError when malformed."""
    value = normalize_email(raw)
    if value is not None and (len(value) > 254 or not _EMAIL.match(value)):
        raise AccountError(_l("Email không hợp lệ (ví dụ đúng: ten@example.com)."), "email")
    return value


def find_user(identifier: str) -> User | None:
    """The account for a phone number (any common spelling) or an email address."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return db.session.scalar(select(User).where(User.email == normalize_email(identifier)))
    phone = normalize_phone(identifier)  # raises InvalidPhone with a reason
    return db.session.scalar(select(User).where(User.phone == phone))


def login_key(identifier: str | None) -> str:
    """One rate-limit key per account, however its phone number or email was typed."""
    try:
        return normalize_phone(identifier)
    except InvalidPhone:
        return fold(identifier)[:254]


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


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: sessions carrying an old one are ended."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password for someone who proved they know the current one."""
    if not user.check_password(current_password):
        raise AccountError(_l("Mật khẩu hiện tại không đúng."), "current_password")
    if current_password == new_password:
        raise AccountError(_l("Mật khẩu mới phải khác mật khẩu hiện tại."), "new_password")
    user.set_password(new_password)


def code_lifetime(purpose: str) -> timedelta:
    """How long a new code stays valid: hours for a reset, days for an activation."""
    if purpose == "reset":
        return timedelta(hours=current_app.config["RESET_CODE_HOURS"])
    return timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])


def issue_code(user: User, purpose: str, issuer: User | None = None) -> str:
    """Create a one-time code for ``user`` and return it in clear, once; older ones stop working."""
    now = utcnow()
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.user_id == user.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = generate_code()
    db.session.add(OneTimeCode(
        user_id=user.id, purpose=purpose, code_digest=code_digest(code),
        expires_at=now + code_lifetime(purpose), created_by_id=getattr(issuer, "id", None),
    ))
    db.session.flush()
    return code


def may_issue_code(issuer: User, person: User) -> bool:
    """A code takes over an account, so every role the person holds must be one the issuer
    could grant on that unit: an officer cannot reset an admin or a province officer."""
    if not can(issuer, "people.issue_code", person.unit):
        return False
    return all(
        can(issuer, "people.issue_code", grant.unit)
        and grant.role in grantable_roles(issuer, grant.unit)
        for grant in person.grants
    )


def issue_reset_code(issuer: User, person: User) -> tuple[str, str]:
    """An officer's code for a member: (code, purpose), audit-logged; AccountError if refused."""
    if not person.is_active:
        raise AccountError(_l("Tài khoản này đang bị khóa; hãy mở khóa trước khi cấp mã."))
    if not may_issue_code(issuer, person):
        raise NotAllowed(_l("Bạn chỉ cấp mã được cho người có vai trò mà bạn được phép "
                            "cấp, trong đơn vị bạn quản lý."))
    purpose = "reset" if person.has_password else "activation"
    code = issue_code(person, purpose, issuer=issuer)
    record_audit("code.issued", actor=issuer, target=f"user:{person.id}", purpose=purpose)
    return code, purpose


def redeem_code(identifier: str, code: str, new_password: str) -> User:
    """Set a new password with a valid code for this person; the code is then spent."""
    try:
        user = find_user(identifier)
    except InvalidPhone:
        user = None
    invalid = CodeError(_l("Mã không đúng, đã dùng hoặc đã hết hạn. Hãy xin cán bộ cấp mã mới."),
                        "code")
    if user is None:
        raise invalid
    record = db.session.scalar(
        select(OneTimeCode).where(OneTimeCode.code_digest == code_digest(code))
    )
    if record is None or record.user_id != user.id or record.used_at is not None:
        raise invalid
    expires_at = record.expires_at
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes; we store UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= utcnow():
        raise invalid
    if not user.is_active:
        raise CodeError(_l("Tài khoản này đang bị khóa. Hãy liên hệ cán bộ xã/phường."), "code")
    # Spend the code with a guarded update so two simultaneous uses cannot both succeed.
    spent = db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == record.id, OneTimeCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        raise invalid
    user.set_password(new_password)
    user.last_login_at = utcnow()
    return user


def register_learner(
    *, full_name: str, phone: str, unit_code: str, audience: str, password: str,
    birth_year: int | None = None, gender: str | None = None,
) -> User:
    """Self-registration: a citizen becomes a learner of the commune or ward they chose."""
    try:
        phone = normalize_phone(phone)
    except InvalidPhone as exc:
        raise AccountError(exc.reason, "phone") from None
    if db.session.scalar(select(User.id).where(User.phone == phone)):
        raise AccountError(_l("Số điện thoại này đã có tài khoản. Hãy đăng nhập, hoặc xin "
                              "cán bộ cấp mã đặt lại nếu quên mật khẩu."), "phone")
    unit = db.session.scalar(
        select(Unit).where(Unit.code == unit_code, Unit.kind.in_(COMMUNE_KINDS))
    )
    if unit is None:
        raise AccountError(_l("Chọn xã/phường trong danh sách."), "unit_code")
    if audience not in AUDIENCES:
        raise AccountError(_l("Chọn đối tượng trong danh sách."), "audience")
    if gender is not None and gender not in GENDERS:
        raise AccountError(_l("Chọn giới tính trong danh sách."), "gender")
    return create_user(full_name=full_name, phone=phone, unit=unit, audience=audience,
                       password=password, birth_year=birth_year, gender=gender)


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
