"""People, the roles they hold on unit subtrees, and one-time codes.

Vocabulary: a *user* belongs to one unit (where they are counted); a *role grant* gives a
role on a unit and, by the tree, on everything under it.
"""

from __future__ import annotations

import functools
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login_manager
from app.models_base import utcnow

ROLES = ("learner", "trainer", "officer", "admin")
AUDIENCES = ("citizen", "civil_servant", "student", "enterprise_worker")
GENDERS = ("female", "male", "other")
CODE_PURPOSES = ("activation", "reset")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "audience IN ('citizen','civil_servant','student','enterprise_worker')",
            name="audience",
        ),
        CheckConstraint("gender IS NULL OR gender IN ('female','male','other')", name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # E.164 without spaces: +84912345678. Unique when present.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Stored lower-case. Unique when present.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # None until the member activates their account with a one-time code.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    audience: Mapped[str] = mapped_column(String(32), default="citizen")
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    is_active_member: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    unit = relationship("Unit", lazy="joined", innerjoin=True)
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive members cannot sign in
        return self.is_active_member

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def roles(self) -> set[str]:
        return {grant.role for grant in self.grants}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.full_name!r}>"


class RoleGrant(db.Model):
    """A role held on a unit and everything under it."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "unit_id", "role", name="uq_role_grants_user_unit_role"),
        CheckConstraint("role IN ('learner','trainer','officer','admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")
    unit = relationship("Unit", lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<RoleGrant {self.role} user={self.user_id} unit={self.unit_id}>"


class OneTimeCode(db.Model):
    """An activation or reset code: only its SHA-256 digest is kept; single use, expiring."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('activation','reset')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    failed_tries: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<OneTimeCode {self.purpose} user={self.user_id}>"


# (role, unit path) pairs read with the signed-in user, kept on the instance for permissions.
ROLE_PATHS_ATTRIBUTE = "_signed_in_role_paths"


@functools.cache
def _signed_in_user_statement():
    """Built once: every signed-in request runs it. One row: the user, their unit (joined)
    and their grants packed as "role path;role path" (the menu asks on every page; loading
    the grants as objects cost half a millisecond)."""
    from sqlalchemy import bindparam, func, select
    from sqlalchemy.orm import lazyload

    from app.orgs.models import Unit

    packed = (select(func.aggregate_strings(RoleGrant.role + " " + Unit.path, ";"))
              .join(Unit, Unit.id == RoleGrant.unit_id)
              .where(RoleGrant.user_id == User.id)
              .correlate(User)
              .scalar_subquery())
    return (select(User, packed).where(User.id == bindparam("user_id"))
            .options(lazyload(User.grants)))


def unpack_role_paths(packed: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(item.split(" ", 1)) for item in packed.split(";")) if packed else ()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    row = db.session.execute(_signed_in_user_statement(), {"user_id": int(user_id)}).first()
    if row is None:
        return None
    user, packed = row
    setattr(user, ROLE_PATHS_ATTRIBUTE, unpack_role_paths(packed))
    return user
