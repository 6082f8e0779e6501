"""Bulk members for load runs: ``python -m bench.seeding --members N [--password P]``.

Runs on a database that ``flask demo seed`` already filled (the Đồng Nai units, the demo
teams and the published courses). Members are spread over every commune/ward and team,
written with plain executemany INSERTs (the ORM unit of work would take minutes at 1M), and
share one password hash: scrypt costs ~70 ms, so one hash per person would take hours.
About a third of them have read the first lessons of the first course, so progress queries
have rows to count.

Phones are fake: +84 31 and seven digits (member i → 031 xxx xxxx), a block no test uses.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

CHUNK = 20_000
PHONE_PREFIX = "+8431"
MAX_MEMBERS = 10_000_000  # seven digits after the prefix


def member_phone(index: int) -> str:
    """The stored (E.164) phone of bench member ``index`` (0-based)."""
    return f"{PHONE_PREFIX}{index:07d}"


def member_login(index: int) -> str:
    """The phone as a member types it on the login form: 031 xxx xxxx."""
    return "0" + member_phone(index)[3:]


def seed_members(count: int, password: str | None, *, progress_share: float = 0.33,
                 seed: int = 757) -> dict[str, int]:
    """Add members 0…count-1 (learners) with role grants and some lesson progress.

    Needs an app context. Returns how many rows of each kind were written.
    """
    from app.auth.models import RoleGrant, User
    from app.courses.models import Course, CourseVersion, Lesson, LessonProgress
    from app.extensions import db
    from app.orgs.models import COMMUNE_KINDS, Unit

    if count > MAX_MEMBERS:
        raise SystemExit(f"at most {MAX_MEMBERS:,} members")
    existing = db.session.scalar(select(func.count(User.id)).where(
        User.phone.like(PHONE_PREFIX + "%")))
    if existing:
        raise SystemExit(f"the database already holds {existing:,} bench members")
    units = list(db.session.execute(select(Unit.id).where(
        Unit.kind.in_((*COMMUNE_KINDS, "team"))).order_by(Unit.id)).scalars())
    if not units:
        raise SystemExit("no communes or teams: run `flask demo seed` first")
    course_id, version_id = db.session.execute(
        select(Course.id, CourseVersion.id).join(CourseVersion, CourseVersion.course_id == Course.id)
        .where(CourseVersion.status == "published").order_by(Course.slug).limit(1)).one()
    lesson_slugs = list(db.session.scalars(select(Lesson.slug).where(
        Lesson.version_id == version_id).order_by(Lesson.position)))
    rng = random.Random(seed)
    password_hash = generate_password_hash(password, method="scrypt") if password else None
    now = datetime.now(UTC)
    audiences = ["citizen"] * 6 + ["civil_servant", "student", "enterprise_worker"]
    written = {"users": 0, "role_grants": 0, "lesson_progress": 0}
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        rows = [{
            "full_name": f"Thành viên {i:07d}", "phone": member_phone(i), "email": None,
            "password_hash": password_hash, "unit_id": units[i % len(units)],
            "audience": rng.choice(audiences), "gender": rng.choice(("female", "male")),
            "birth_year": rng.randint(1950, 2007), "is_active_member": True,
            "created_at": now, "updated_at": now,
        } for i in range(start, stop)]
        db.session.execute(insert(User), rows)
        ids = dict(db.session.execute(select(User.phone, User.id).where(
            User.phone.in_([r["phone"] for r in rows]))).all())
        db.session.execute(insert(RoleGrant), [
            {"user_id": ids[r["phone"]], "unit_id": r["unit_id"], "role": "learner",
             "created_at": now} for r in rows])
        progress = []
        for r in rows:
            if lesson_slugs and rng.random() < progress_share:
                for slug in lesson_slugs[:rng.randint(1, len(lesson_slugs))]:
                    progress.append({"user_id": ids[r["phone"]], "course_id": course_id,
                                     "lesson_slug": slug, "version_id": version_id,
                                     "completed_at": now})
        if progress:
            db.session.execute(insert(LessonProgress), progress)
        db.session.commit()
        written["users"] += len(rows)
        written["role_grants"] += len(rows)
        written["lesson_progress"] += len(progress)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--password", help="known password shared by every member (default: none)")
    parser.add_argument("--progress-share", type=float, default=0.33)
    args = parser.parse_args(argv)
    from app import create_app

    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        written = seed_members(args.members, args.password, progress_share=args.progress_share)
    took = time.perf_counter() - started
    print(", ".join(f"{n:,} {table}" for table, n in written.items()) + f" in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
