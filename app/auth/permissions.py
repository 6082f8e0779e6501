"""Who may do what, where: the one place that decides access to units and people.

A role granted on a unit holds for the whole subtree under it. Every question is asked in
one of two forms: per object (``can``) or per query (``scope_clause``), so lists are
filtered in SQL and never in Python.
"""

from __future__ import annotations

from flask import abort, g, has_request_context
from sqlalchemy import ColumnElement, false, or_, select

from app.extensions import db

# Which roles allow an action. A role on a unit allows it on every unit below.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "units.view": frozenset({"officer", "admin", "trainer"}),
    "units.import": frozenset({"admin"}),
    "people.view": frozenset({"officer", "admin"}),
    "people.edit": frozenset({"officer", "admin"}),
    "people.export": frozenset({"officer", "admin"}),
    "people.import": frozenset({"officer", "admin"}),
    "people.issue_code": frozenset({"officer", "admin"}),
    "roles.grant_admin": frozenset({"admin"}),
    "courses.author": frozenset({"trainer", "admin"}),
    "reports.view": frozenset({"officer", "admin"}),
    "programs.manage": frozenset({"officer", "admin"}),
    # Per-member lists are personal data: a permission of their own, every use audit-logged.
    "reports.export_members": frozenset({"officer", "admin"}),
}

# Roles an importer or editor may hand out, by the role they hold themselves.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({"learner", "trainer", "officer", "admin"}),
    "officer": frozenset({"learner", "trainer", "officer"}),
}


def _role_paths(user) -> tuple[tuple[str, str], ...]:
    """(role, unit path) of each of ``user``'s grants: as read with the signed-in user
    (``load_user``, every page's menu asks), else from the grant objects."""
    from app.auth.models import ROLE_PATHS_ATTRIBUTE

    if "grants" not in user.__dict__ and ROLE_PATHS_ATTRIBUTE in user.__dict__:
        return user.__dict__[ROLE_PATHS_ATTRIBUTE]
    return tuple((grant.role, grant.unit.path) for grant in user.grants)


def _request_role_paths(user) -> tuple[tuple[str, str], ...]:
    """``_role_paths`` read once per request (outside a request: every time)."""
    if not has_request_context():
        return _role_paths(user)
    cache = g.setdefault("_grant_paths", {})
    held = cache.get((user.id, None))
    if held is None:
        held = cache[(user.id, None)] = _role_paths(user)
    return held


def _grant_paths(user, action: str) -> tuple[str, ...]:
    """Paths of the units where ``user`` holds a role allowing ``action``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    roles = ACTION_ROLES[action]
    return tuple(sorted({path for role, path in _request_role_paths(user) if role in roles}))


def held_roles(user) -> frozenset[str]:
    """The roles ``user`` holds anywhere: all the site's menu depends on (``can`` without a
    unit asks only whether some grant allows the action)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(role for role, _path in _request_role_paths(user))


def scope_paths(user, action: str) -> tuple[str, ...]:
    """Paths of the units where ``user`` may do ``action`` (each covers its subtree)."""
    return _grant_paths(user, action)


def can(user, action: str, unit=None) -> bool:
    """May ``user`` do ``action`` on ``unit`` (or anywhere at all when ``unit`` is None)?"""
    paths = _grant_paths(user, action)
    if unit is None:
        return bool(paths)
    return any(unit.path.startswith(path) for path in paths)


def scope_clause(user, action: str, path_column) -> ColumnElement[bool]:
    """SQL condition: the row's unit path lies under a unit where ``user`` may do ``action``."""
    paths = _grant_paths(user, action)
    if not paths:
        return false()
    return or_(*(path_column.startswith(path) for path in paths))


def grantable_roles(user, unit) -> frozenset[str]:
    """Roles ``user`` may grant on ``unit``: officers never create admins."""
    allowed: set[str] = set()
    for grant in user.grants:
        if unit.path.startswith(grant.unit.path):
            allowed |= GRANTABLE_ROLES.get(grant.role, frozenset())
    return frozenset(allowed)


def top_units(user, action: str) -> list:
    """The highest units where ``user`` may do ``action`` (no unit listed twice via a parent)."""
    from app.orgs.models import Unit

    paths = _grant_paths(user, action)
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    if not tops:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.path.in_(tops)).order_by(Unit.name)))


def get_unit_or_404(user, code: str, action: str):
    """Load a unit by code, answering 404 (not 403) when it is outside the caller's scope."""
    from app.orgs.models import Unit

    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not can(user, action, unit):
        abort(404)
    return unit


def get_person_or_404(user, person_id: int, action: str):
    """Load a person by id within the caller's scope; anyone else's id is simply not found."""
    from app.auth.models import User
    from app.orgs.models import Unit

    stmt = (
        select(User)
        .join(Unit, User.unit_id == Unit.id)
        .where(User.id == person_id, scope_clause(user, action, Unit.path))
    )
    person = db.session.scalar(stmt)
    if person is None:
        abort(404)
    return person
