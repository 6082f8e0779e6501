"""Training programs: create and change them, load them from content/programs/, find them.

Saving a program recounts its teams in the same transaction, so its dashboard is right the
moment the officer lands on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, or_, select

from app.auth.models import AUDIENCES
from app.auth.permissions import can, scope_paths
from app.courses.models import Course
from app.courses.services import newest_published_titles
from app.extensions import db
from app.orgs.models import Unit
from app.reports.models import TrainingProgram
from app.reports.progress import rebuild_program

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


class ProgramError(ValueError):
    """Invalid program fields: ``errors`` maps a field name to a Vietnamese message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ProgramFields:
    slug: str
    name: str
    scope_unit_code: str
    course_slugs: list[str]
    starts_on: date | None
    deadline: date | None
    target_percent: int = 100
    audience: str | None = None
    description: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _clean(fields: ProgramFields, actor, existing: TrainingProgram | None
           ) -> tuple[Unit | None, list[Course]]:
    errors = fields.errors
    fields.slug = (fields.slug or "").strip().lower()
    fields.name = " ".join((fields.name or "").split())
    if not SLUG_RE.match(fields.slug):
        errors["slug"] = str(_l("Mã chương trình gồm 3–80 chữ thường không dấu, số và dấu gạch ngang."))
    elif db.session.scalar(select(TrainingProgram.id).where(
            TrainingProgram.slug == fields.slug,
            TrainingProgram.id != (existing.id if existing else -1))):
        errors["slug"] = str(_l("Đã có chương trình với mã này."))
    if not fields.name:
        errors["name"] = str(_l("Nhập tên chương trình."))
    elif len(fields.name) > 300:
        errors["name"] = str(_l("Tên chương trình dài quá 300 ký tự."))
    unit = db.session.scalar(select(Unit).where(Unit.code == (fields.scope_unit_code or "").strip()))
    if unit is None or (actor is not None and not can(actor, "programs.manage", unit)):
        errors["scope_unit_code"] = str(_l("Chọn một đơn vị trong phạm vi bạn quản lý."))
    slugs = list(dict.fromkeys(s.strip() for s in fields.course_slugs if s and s.strip()))
    courses = list(db.session.scalars(select(Course).where(Course.slug.in_(slugs)))) if slugs else []
    missing = sorted(set(slugs) - {c.slug for c in courses})
    if not slugs:
        errors["course_slugs"] = str(_l("Chọn ít nhất một khóa học bắt buộc."))
    elif missing:
        errors["course_slugs"] = str(_l("Không tìm thấy khóa học: %(slugs)s.", slugs=", ".join(missing)))
    if not (1 <= int(fields.target_percent or 0) <= 100):
        errors["target_percent"] = str(_l("Chỉ tiêu là một số từ 1 đến 100 (%)."))
    if fields.audience and fields.audience not in AUDIENCES:
        errors["audience"] = str(_l("Chọn đối tượng trong danh sách."))
    if fields.starts_on is None:
        errors["starts_on"] = str(_l("Nhập ngày bắt đầu (dd/mm/yyyy)."))
    if fields.deadline is None:
        errors["deadline"] = str(_l("Nhập hạn hoàn thành (dd/mm/yyyy)."))
    elif fields.starts_on and fields.deadline < fields.starts_on:
        errors["deadline"] = str(_l("Hạn hoàn thành không được trước ngày bắt đầu."))
    return unit, courses


def save_program(fields: ProgramFields, actor=None,
                 existing: TrainingProgram | None = None) -> TrainingProgram:
    """Create or update a program (the caller commits); ProgramError lists what is wrong."""
    unit, courses = _clean(fields, actor, existing)
    if existing is not None and actor is not None and not can(
            actor, "programs.manage", existing.scope_unit):
        fields.errors["scope_unit_code"] = str(_l("Bạn không quản lý chương trình này."))
    if fields.errors:
        raise ProgramError(fields.errors)
    program = existing or TrainingProgram(created_by_id=getattr(actor, "id", None))
    program.slug, program.name, program.description = fields.slug, fields.name, fields.description
    program.scope_unit, program.scope_unit_id = unit, unit.id
    program.audience = fields.audience or None
    program.target_percent = int(fields.target_percent)
    program.starts_on, program.deadline = fields.starts_on, fields.deadline
    program.courses = courses
    if existing is None:
        db.session.add(program)
    db.session.flush()
    rebuild_program(program)
    return program


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def load_program_file(path: Path, scope_code: str | None = None) -> TrainingProgram:
    """Create or update the program a YAML file describes (content/programs/*.yaml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ProgramError({"file": f"{path.name}: không phải một bảng YAML"})
    fields = ProgramFields(
        slug=str(data.get("slug", "")), name=str(data.get("name", "")),
        scope_unit_code=str(scope_code or data.get("scope_unit", "")),
        course_slugs=[str(s) for s in data.get("courses") or []],
        starts_on=_as_date(data.get("starts_on")), deadline=_as_date(data.get("deadline")),
        target_percent=int(data.get("target_percent", 100) or 0),
        audience=data.get("audience") or None, description=str(data.get("description") or ""))
    existing = db.session.scalar(select(TrainingProgram).where(
        TrainingProgram.slug == fields.slug.strip().lower()))
    return save_program(fields, None, existing)


def load_programs(root: Path) -> list[TrainingProgram]:
    """Every programs/*.yaml under the content root, in name order."""
    return [load_program_file(path) for path in sorted((root / "programs").glob("*.yaml"))]


def visible_programs(user) -> list[TrainingProgram]:
    """Programs whose scope overlaps the units where ``user`` may see reports."""
    paths = scope_paths(user, "reports.view")
    if not paths:
        return []
    scope = db.aliased(Unit)
    overlaps = [or_(scope.path.startswith(path), literal_prefix(path, scope.path))
                for path in paths]
    return list(db.session.scalars(
        select(TrainingProgram).join(scope, scope.id == TrainingProgram.scope_unit_id)
        .where(or_(*overlaps)).order_by(TrainingProgram.deadline, TrainingProgram.name)))


def literal_prefix(path: str, column):
    """SQL: ``column`` is a prefix of the literal ``path`` (the program's scope is above us)."""
    return func.substr(literal(path), 1, func.length(column)) == column


def viewer_paths(user, program: TrainingProgram) -> list[str]:
    """Where ``user`` sees this program's figures: the deepest of (their scope, its scope)."""
    scope = program.scope_unit.path
    paths = []
    for path in scope_paths(user, "reports.view"):
        if scope.startswith(path):
            return [scope]
        if path.startswith(scope):
            paths.append(path)
    return paths


def get_program_or_404(user, slug: str) -> TrainingProgram:
    """A program the caller may see; anyone else's is simply not found."""
    program = db.session.scalar(select(TrainingProgram).where(TrainingProgram.slug == slug))
    if program is None or not viewer_paths(user, program):
        abort(404)
    return program


@dataclass
class MemberProgram:
    """A program that counts the member today, and where they stand in it."""

    program: TrainingProgram
    # (slug, title of the published version, done) per required course, in program order
    courses: list[tuple[str, str, bool]]

    @property
    def done(self) -> int:
        return sum(1 for _slug, _title, done in self.courses if done)

    @property
    def total(self) -> int:
        return len(self.courses)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def member_programs(user) -> list[MemberProgram]:
    """Programs whose population holds ``user`` today (learner, active, unit in scope,
    audience matching), with the required courses they hold a live record for."""
    from app.auth.models import RoleGrant
    from app.records.models import CompletionRecord

    if not getattr(user, "is_authenticated", False) or not user.is_active_member:
        return []
    scope = db.aliased(Unit)
    programs = list(db.session.scalars(
        select(TrainingProgram).join(scope, scope.id == TrainingProgram.scope_unit_id)
        .where(literal_prefix(user.unit.path, scope.path),
               or_(TrainingProgram.audience.is_(None), TrainingProgram.audience == user.audience),
               select(RoleGrant.id).where(RoleGrant.user_id == user.id,
                                          RoleGrant.role == "learner").exists())
        .order_by(TrainingProgram.deadline, TrainingProgram.name)))
    if not programs:
        return []
    wanted = {course.id for program in programs for course in program.courses}
    done = set(db.session.scalars(select(CompletionRecord.course_id).where(
        CompletionRecord.user_id == user.id, CompletionRecord.course_id.in_(wanted),
        CompletionRecord.revoked_at.is_(None))))
    titles = newest_published_titles(wanted)
    return [MemberProgram(program, [(c.slug, titles.get(c.id, c.slug), c.id in done)
                                    for c in program.courses])
            for program in programs]
