"""Account fixtures: a small unit tree and a member with a known phone and email."""

from __future__ import annotations

import re
from functools import cache
from types import SimpleNamespace

import pytest
from werkzeug.security import generate_password_hash

from app.extensions import db
from tests.factories import PASSWORD, make_unit, make_user

PHONE = "+84912345678"
EMAIL = "an.nguyen@example.com"


@pytest.fixture(autouse=True)
def _fresh_g_per_request(request):
    """Each test-client request starts with an empty ``g`` (no cached login), as in production."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("fresh_request_state")
    yield


@pytest.fixture
def units(app):
    """Province → xã A (with a team) and phường B; ids differ so paths never prefix-match."""
    province = make_unit("DN", "Đồng Nai", kind="province")
    xa_a = make_unit("XA-A", "Đak Lua", kind="xa", parent=province)
    phuong_b = make_unit("PH-B", "Biên Hòa", kind="phuong", parent=province)
    team_a = make_unit("TO-A1", "Tổ CNSCĐ ấp 1", kind="team", parent=xa_a)
    return SimpleNamespace(province=province, a=xa_a, b=phuong_b, team_a=team_a)


@cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def quick_user(unit, role="learner", *, with_password=True, **fields):
    """make_user with the factory password, hashed once per run instead of once per user."""
    user = make_user(unit, role=role, password=None, **fields)
    if with_password:
        user.password_hash = _password_hash()
        db.session.commit()
    return user


@pytest.fixture
def member(units):
    return quick_user(units.team_a, name="Nguyễn Văn An", phone=PHONE, email=EMAIL)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
