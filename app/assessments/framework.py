"""The 757/QĐ-BKHCN framework as data: read the YAML file, load it into tables, show it.

A framework is versioned by its ``framework.id`` and ``version``: loading an unchanged file
writes nothing; a new version becomes the current one and older versions stay for history.
Everything else refers to competencies by their code ("4.2"), so a correction to a label or
a note never breaks a question or a course.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select, update

from app.assessments.models import Competency, CompetencyGroup, Framework, Question
from app.courses.content import AUDIENCES, ContentError, ContentInvalid
from app.extensions import db

FRAMEWORK_FILE = "frameworks/757-qd-bkhcn.yaml"

# --- YAML with line numbers ---------------------------------------------------------------


class YamlDoc:
    """A parsed YAML document that can say on which line any value sits (1-based)."""

    def __init__(self, text: str, filename: str):
        self.filename = filename
        loader = yaml.SafeLoader(text.lstrip("\ufeff"))
        try:
            self.node = loader.get_single_node()
            self.data = loader.construct_document(self.node) if self.node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            problem = getattr(exc, "problem", None) or "cú pháp YAML sai"
            raise ContentInvalid([ContentError(filename, mark.line + 1 if mark else None,
                                               f"lỗi YAML: {problem}")]) from None
        finally:
            loader.dispose()

    def node_at(self, path: tuple) -> tuple[yaml.Node | None, yaml.Node | None]:
        """(node at ``path``, deepest existing ancestor) — keys for mappings, ints for lists."""
        node, parent, _key = self._walk(path)
        return node, parent

    def _walk(self, path: tuple):
        node, parent, key_node = self.node, None, None
        for step in path:
            parent, key_node = node, None
            if isinstance(node, yaml.MappingNode):
                key_node, node = next(((k, v) for k, v in node.value if k.value == step),
                                      (None, None))
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                    and 0 <= step < len(node.value):
                node = node.value[step]
            else:
                node = None
            if node is None:
                return None, parent, None
        return node, parent, key_node

    def line(self, *path) -> int | None:
        """Line of the entry at ``path`` (its key, for a mapping entry), or of the nearest
        parent when it is missing."""
        node, parent, key_node = self._walk(path)
        found = key_node or node or parent
        return found.start_mark.line + 1 if found is not None else None

    def scalar_text(self, *path) -> str | None:
        """The value exactly as written (so `code: 4.10` stays "4.10", not the float 4.1)."""
        node, _ = self.node_at(path)
        return node.value if isinstance(node, yaml.ScalarNode) else None

    def error(self, reason: str, *path) -> ContentError:
        return ContentError(self.filename, self.line(*path), reason)


def read_yaml(path: Path, filename: str) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentInvalid([ContentError(filename, None, "tệp không phải UTF-8")]) from None
    except OSError as exc:
        raise ContentInvalid([ContentError(filename, None, f"không đọc được tệp: {exc}")]) from None
    return YamlDoc(text, filename)


# --- The file -----------------------------------------------------------------------------

@dataclass
class CompetencySource:
    code: str
    label_vi: str
    label_en: str
    status: str
    note: str
    audiences: list[str]


@dataclass
class GroupSource:
    code: str
    label_vi: str
    label_en: str
    status: str
    note: str
    competencies: list[CompetencySource] = field(default_factory=list)


@dataclass
class FrameworkSource:
    key: str
    version: str
    title_vi: str
    title_en: str
    groups: list[GroupSource]

    @property
    def codes(self) -> set[str]:
        return {c.code for g in self.groups for c in g.competencies}

    @property
    def content_hash(self) -> str:
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _text(doc: YamlDoc, errors: list[ContentError], *path, required: bool = True) -> str:
    value = doc.scalar_text(*path)
    if value is None or not str(value).strip():
        if required:
            errors.append(doc.error(f"thiếu {path[-1]}", *path))
        return ""
    return " ".join(str(value).split())


def parse_framework(doc: YamlDoc) -> FrameworkSource:
    """Check the whole file and raise every problem at once (file, line, reason)."""
    errors: list[ContentError] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(data.get("framework"), dict):
        errors.append(doc.error("thiếu phần framework (id, version, title_vi, title_en)"))
    key = _text(doc, errors, "framework", "id")
    version = _text(doc, errors, "framework", "version")
    title_vi = _text(doc, errors, "framework", "title_vi")
    title_en = _text(doc, errors, "framework", "title_en", required=False) or title_vi
    groups_raw = data.get("groups")
    if not isinstance(groups_raw, list) or not groups_raw:
        errors.append(doc.error("groups phải là danh sách nhóm năng lực", "groups"))
        groups_raw = []
    groups: list[GroupSource] = []
    seen: dict[str, int | None] = {}
    for gi, graw in enumerate(groups_raw):
        if not isinstance(graw, dict):
            errors.append(doc.error("mỗi nhóm phải có code, label_vi, competencies", "groups", gi))
            continue
        group = GroupSource(
            code=_text(doc, errors, "groups", gi, "code"),
            label_vi=_text(doc, errors, "groups", gi, "label_vi"),
            label_en=_text(doc, errors, "groups", gi, "label_en", required=False),
            status=_text(doc, errors, "groups", gi, "status"),
            note=_text(doc, errors, "groups", gi, "note", required=False))
        comps = graw.get("competencies")
        if not isinstance(comps, list) or not comps:
            errors.append(doc.error(f"nhóm {group.code} không có năng lực nào",
                                    "groups", gi, "competencies"))
            comps = []
        for ci, craw in enumerate(comps):
            where = ("groups", gi, "competencies", ci)
            if not isinstance(craw, dict):
                errors.append(doc.error("mỗi năng lực phải có code, label_vi, status", *where))
                continue
            comp = CompetencySource(
                code=_text(doc, errors, *where, "code"),
                label_vi=_text(doc, errors, *where, "label_vi"),
                label_en=_text(doc, errors, *where, "label_en", required=False),
                status=_text(doc, errors, *where, "status"),
                note=_text(doc, errors, *where, "note", required=False),
                audiences=[str(a) for a in (craw.get("audiences") or list(AUDIENCES))])
            if comp.code and group.code and not comp.code.startswith(f"{group.code}."):
                errors.append(doc.error(f"mã năng lực {comp.code} không thuộc nhóm {group.code}",
                                        *where, "code"))
            if comp.code in seen:
                errors.append(doc.error(f"trùng mã năng lực {comp.code} (đã có ở dòng {seen[comp.code]})",
                                        *where, "code"))
            seen[comp.code] = doc.line(*where, "code")
            for ai, audience in enumerate(comp.audiences):
                if audience not in AUDIENCES:
                    errors.append(doc.error(f"đối tượng '{audience}' không hợp lệ "
                                            f"(chọn trong {', '.join(AUDIENCES)})",
                                            *where, "audiences", ai))
            group.competencies.append(comp)
        groups.append(group)
    if errors:
        raise ContentInvalid(errors)
    return FrameworkSource(key, version, title_vi, title_en, groups)


def load_framework(path: Path, filename: str = FRAMEWORK_FILE) -> FrameworkSource:
    return parse_framework(read_yaml(path, filename))


# --- Tables -------------------------------------------------------------------------------

def import_framework(source: FrameworkSource) -> str:
    """Load a framework version; returns created / updated / unchanged (and makes it current)."""
    existing = db.session.scalar(select(Framework).where(
        Framework.key == source.key, Framework.version == source.version))
    if existing is not None and existing.content_hash == source.content_hash:
        if not existing.is_current:
            _make_current(existing)
        return "unchanged"
    if existing is None:
        existing = Framework(key=source.key, version=source.version)
        db.session.add(existing)
        status = "created"
    else:
        # Same version, corrected text (a label or a note): rewrite it in place.
        existing.groups.clear()
        db.session.flush()
        status = "updated"
    existing.title_vi, existing.title_en = source.title_vi, source.title_en
    existing.content_hash = source.content_hash
    for gpos, group in enumerate(source.groups):
        row = CompetencyGroup(code=group.code, position=gpos, label_vi=group.label_vi,
                              label_en=group.label_en or group.label_vi, status=group.status,
                              note=group.note)
        for cpos, comp in enumerate(group.competencies):
            row.competencies.append(Competency(
                code=comp.code, position=cpos, label_vi=comp.label_vi,
                label_en=comp.label_en or comp.label_vi, status=comp.status, note=comp.note,
                audiences=comp.audiences))
        existing.groups.append(row)
    db.session.flush()
    _make_current(existing)
    return status


def _make_current(framework: Framework) -> None:
    db.session.execute(update(Framework).where(Framework.key == framework.key,
                                               Framework.id != framework.id)
                       .values(is_current=False))
    framework.is_current = True
    db.session.flush()


def current_framework() -> Framework | None:
    return db.session.scalar(select(Framework).where(Framework.is_current.is_(True))
                             .order_by(Framework.loaded_at.desc(), Framework.id.desc()).limit(1))


def current_competencies() -> list[tuple[CompetencyGroup, Competency]]:
    """(group, competency) of the current framework in order, in one query."""
    stmt = (select(CompetencyGroup, Competency)
            .join(Competency, Competency.group_id == CompetencyGroup.id)
            .join(Framework, Framework.id == CompetencyGroup.framework_id)
            .where(Framework.is_current.is_(True))
            .order_by(Framework.id, CompetencyGroup.position, Competency.position))
    return [(g, c) for g, c in db.session.execute(stmt)]


def competency_codes() -> set[str]:
    """Codes of the current framework (for web forms and GIFT: the file may not be at hand)."""
    stmt = (select(Competency.code)
            .join(CompetencyGroup, CompetencyGroup.id == Competency.group_id)
            .join(Framework, Framework.id == CompetencyGroup.framework_id)
            .where(Framework.is_current.is_(True)))
    return set(db.session.scalars(stmt))


def is_confirmed(status: str) -> bool:
    """"confirmed", "confirmed_3139"… are from an official text; anything else is inferred."""
    return str(status or "").startswith("confirmed")


# --- The framework page -------------------------------------------------------------------

@dataclass
class CourseRef:
    slug: str
    title: str


@dataclass
class CompetencyRow:
    code: str
    label: str
    status: str
    note: str
    courses: list[CourseRef]
    active_questions: int

    @property
    def confirmed(self) -> bool:
        return is_confirmed(self.status)


@dataclass
class GroupRow:
    code: str
    label: str
    status: str
    note: str
    competencies: list[CompetencyRow]


def active_question_counts() -> dict[str, int]:
    """Active questions per competency code over every live course: one grouped query."""
    from app.courses.models import Course

    stmt = (select(Question.competency_code, func.count(Question.id))
            .join(Course, Course.id == Question.course_id)
            .where(Question.status == "active", Course.is_archived.is_(False))
            .group_by(Question.competency_code))
    return {code: count for code, count in db.session.execute(stmt)}


def courses_by_competency() -> dict[str, list[CourseRef]]:
    """Published courses per competency code they declare: one query, inverted here."""
    from app.courses.models import Course, CourseVersion
    from app.courses.services import published_versions_stmt

    stmt = published_versions_stmt().with_only_columns(
        Course.slug, CourseVersion.title, CourseVersion.competencies).order_by(CourseVersion.title)
    found: dict[str, list[CourseRef]] = {}
    for slug, title, codes in db.session.execute(stmt):
        for code in codes or []:
            found.setdefault(str(code), []).append(CourseRef(slug, title))
    return found


def framework_overview(locale: str = "vi") -> tuple[Framework | None, list[GroupRow]]:
    """The current framework, group → competency, with its courses and active question counts.

    A fixed number of queries whatever the number of competencies, courses or questions.
    """
    framework = current_framework()
    if framework is None:
        return None, []
    english = str(locale).startswith("en")
    courses = courses_by_competency()
    counts = active_question_counts()
    groups: dict[int, GroupRow] = {}
    for group, comp in current_competencies():
        if group.framework_id != framework.id:
            continue
        row = groups.get(group.id)
        if row is None:
            row = groups[group.id] = GroupRow(
                group.code, (group.label_en if english else group.label_vi) or group.label_vi,
                group.status, group.note, [])
        row.competencies.append(CompetencyRow(
            comp.code, (comp.label_en if english else comp.label_vi) or comp.label_vi,
            comp.status, comp.note, courses.get(comp.code, []), counts.get(comp.code, 0)))
    return framework, list(groups.values())



# --- Coverage (flask content coverage) ----------------------------------------------------------

@dataclass
class CoverageRow:
    code: str
    label: str
    lessons: dict[str, list[str]]  # course slug → lesson slugs (the course names the code)
    questions: dict[str, int]  # course slug → active questions tagged with the code

    @property
    def question_total(self) -> int:
        return sum(self.questions.values())

    @property
    def gaps(self) -> list[str]:
        found = []
        if not self.lessons:
            found.append("chưa có bài học")
        if not self.question_total:
            found.append("chưa có câu hỏi")
        return found


def coverage(fallback: FrameworkSource | None = None) -> list[CoverageRow]:
    """Per competency of the current framework: the lessons of every live course that names
    it (latest version) and its active questions per course. Three queries in all."""
    from app.courses.models import Course, CourseVersion, Lesson

    pairs = current_competencies()
    comps = [(c.code, c.label_vi) for _, c in pairs]
    if not comps and fallback is not None:
        comps = [(c.code, c.label_vi) for g in fallback.groups for c in g.competencies]
    newest = (select(CourseVersion.course_id, func.max(CourseVersion.number).label("number"))
              .group_by(CourseVersion.course_id).subquery())
    stmt = (select(Course.slug, CourseVersion.competencies, Lesson.slug)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .join(newest, (newest.c.course_id == Course.id)
                  & (newest.c.number == CourseVersion.number))
            .outerjoin(Lesson, Lesson.version_id == CourseVersion.id)
            .where(Course.is_archived.is_(False))
            .order_by(Course.slug, Lesson.position))
    lessons: dict[str, dict[str, list[str]]] = {}
    for course_slug, codes, lesson_slug in db.session.execute(stmt):
        for code in codes or []:
            per_course = lessons.setdefault(str(code), {}).setdefault(course_slug, [])
            if lesson_slug:
                per_course.append(lesson_slug)
    counts: dict[str, dict[str, int]] = {}
    stmt = (select(Question.competency_code, Course.slug, func.count(Question.id))
            .join(Course, Course.id == Question.course_id)
            .where(Question.status == "active", Course.is_archived.is_(False))
            .group_by(Question.competency_code, Course.slug)
            .order_by(Course.slug))
    for code, course_slug, count in db.session.execute(stmt):
        counts.setdefault(code, {})[course_slug] = count
    return [CoverageRow(code, label, lessons.get(code, {}), counts.get(code, {}))
            for code, label in comps]
