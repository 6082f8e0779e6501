"""Small builders for test data, going through the same services as the app."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from app.auth import services
from app.auth.models import User
from app.extensions import db
from app.orgs.models import Unit

PASSWORD = "matkhau123"
_phones = itertools.count(1)


def make_unit(code: str, name: str | None = None, kind: str = "xa", parent: Unit | None = None,
              unit_group: str | None = None) -> Unit:
    """A unit with its materialized path, flushed so it has an id."""
    group = unit_group or {"phuong": "I", "xa": "II"}.get(kind)
    unit = Unit(code=code, name=name or f"Đơn vị {code}", kind=kind, unit_group=group,
                parent_id=parent.id if parent else None)
    db.session.add(unit)
    db.session.flush()
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    unit.depth = (parent.depth + 1) if parent else 0
    db.session.flush()
    return unit


def next_phone() -> str:
    return f"+8491{next(_phones):07d}"


def make_user(unit: Unit, role: str = "learner", name: str = "Nguyễn Văn An",
              phone: str | None = None, email: str | None = None,
              password: str | None = PASSWORD, **fields) -> User:
    user = services.create_user(full_name=name, unit=unit, phone=phone or next_phone(),
                                email=email, role=role, password=password, **fields)
    db.session.commit()
    return user


def get_user(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


class AuthActions:
    """Log in and out through the real forms (flaskr's pattern)."""

    def __init__(self, client):
        self._client = client

    def login(self, identifier: str, password: str = PASSWORD):
        return self._client.post("/login", data={"identifier": identifier, "password": password})

    def logout(self):
        return self._client.post("/logout")
