"""`flask demo seed`: loads once, prints each password once, never reseeds."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.auth.models import RoleGrant, User
from app.extensions import db
from app.orgs.models import Unit


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def printed_accounts(output: str) -> dict[str, tuple[str, str]]:
    """(phone, password) per printed row of the accounts table, keyed by role (last wins)."""
    rows = re.findall(r"^\s+(admin|officer|trainer|learner)\s+(\d{4} \d{3} \d{3})\s+(\S+)$",
                      output, re.M)
    return {f"{role}:{phone}": (phone, password) for role, phone, password in rows}


def test_seed_loads_units_teams_members_and_one_account_per_role(runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert count(Unit) == 96 + 8
    teams = db.session.scalars(select(Unit).where(Unit.kind == "team")).all()
    assert {t.parent.code for t in teams} == {"26041", "26068", "26119", "26368"}
    assert all(t.depth == 2 and t.path.startswith(t.parent.path) for t in teams)
    assert "Tổ CNSCĐ phường Trấn Biên" in {t.name for t in teams}

    assert count(User) == 30 + 5
    phones = db.session.scalars(select(User.phone)).all()
    assert all(p.startswith(("+84300000", "+84900000")) for p in phones)  # fake, documented
    activated = db.session.scalar(select(func.count(User.id)).where(User.password_hash.is_not(None)))
    assert 5 < activated < 35  # both states show on the officer pages
    genders = set(db.session.scalars(select(User.gender)))
    assert genders == {"female", "male"}
    assert min(db.session.scalars(select(User.birth_year))) < 1960  # the elderly are there too

    grants = {(g.role, g.unit.code) for g in db.session.scalars(
        select(RoleGrant).join(User).where(User.phone.like("+84900000%")))}
    assert grants == {("admin", "75"), ("officer", "75"), ("officer", "26041"),
                      ("trainer", "75"), ("learner", "26041-01")}

    accounts = printed_accounts(result.output)
    assert len(accounts) == 5
    passwords = [password for _, password in accounts.values()]
    assert len(set(passwords)) == 5 and all(len(p) >= 12 for p in passwords)
    phone, password = accounts["admin:0900 000 001"]
    admin = db.session.scalar(select(User).where(User.phone == "+84900000001"))
    assert admin.check_password(password)
    assert "số điện thoại giả" in result.output


def test_second_run_with_if_empty_changes_nothing(runner):
    first = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert first.exit_code == 0, first.output
    before = (count(Unit), count(User), count(RoleGrant),
              db.session.scalar(select(func.max(User.updated_at))))
    hashes = dict(db.session.execute(select(User.id, User.password_hash)).all())

    second = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert second.exit_code == 0
    assert second.output.strip().count("\n") == 0  # one line
    assert "giữ nguyên" in second.output
    assert printed_accounts(second.output) == {}  # no password is printed again
    db.session.expire_all()
    assert (count(Unit), count(User), count(RoleGrant),
            db.session.scalar(select(func.max(User.updated_at)))) == before
    assert dict(db.session.execute(select(User.id, User.password_hash)).all()) == hashes


def test_seed_refuses_a_database_with_people_unless_if_empty(runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 1
    assert "đã có 35 người dùng" in again.output
    assert count(User) == 35


def test_demo_officer_pages_show_both_account_states(runner, client):
    runner.invoke(args=["demo", "seed"])
    officer = db.session.scalar(select(User).where(User.phone == "+84900000003"))
    with client.session_transaction() as session:
        session["_user_id"] = str(officer.id)
        session["_fresh"] = True
    page = client.get("/units/26041")
    assert page.status_code == 200
    assert "Tổ CNSCĐ khu phố 1" in page.text
    assert "Chờ kích hoạt" in page.text and "Đã kích hoạt" in page.text
