"""The course format on disk (content/README.md): parsing and validation, no database.

Every problem is reported as file, line (where there is one) and a Vietnamese reason, and a
course with any problem is not imported at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.text import nfc

LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
LESSON_LINK = re.compile(r"^(\d{2}-[a-z0-9][a-z0-9-]*)\.md(#[A-Za-z0-9_-]*)?$")
MEDIA_TYPES = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
}
MEDIA_MAX_BYTES = 2 * 1024 * 1024
TOPICS = ("ai", "dvc", "safety", "signature", "other")
AUDIENCES = ("citizen", "civil_servant", "student", "enterprise_worker")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass(frozen=True)
class ContentError:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class ContentInvalid(Exception):
    """A course (or the framework) could not be read; ``errors`` lists every problem found."""

    def __init__(self, errors: list[ContentError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class LessonSource:
    position: int
    slug: str
    title: str
    est_minutes: int
    body: str
    filename: str
    body_line: int = 1  # line of the file where the body starts


@dataclass
class CourseSource:
    slug: str
    title: str
    summary: str
    topic: str
    audiences: list[str]
    competencies: list[str]
    est_minutes: int
    sources: list[dict]
    intro: str
    lessons: list[LessonSource]
    media: dict[str, bytes] = field(default_factory=dict)  # "media/a.png" → bytes

    def canonical(self) -> dict:
        """Everything that defines the course, in a stable shape (the hash input)."""
        return {
            "slug": self.slug, "title": self.title, "summary": self.summary,
            "topic": self.topic, "audiences": self.audiences,
            "competencies": self.competencies, "est_minutes": self.est_minutes,
            "sources": self.sources, "intro": self.intro,
            "lessons": [[ls.position, ls.slug, ls.title, ls.est_minutes, ls.body]
                        for ls in self.lessons],
            "media": {name: hashlib.sha256(data).hexdigest()
                      for name, data in sorted(self.media.items())},
        }

    @property
    def content_hash(self) -> str:
        payload = json.dumps(self.canonical(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def split_front_matter(text: str, filename: str) -> tuple[dict, str, int]:
    """(metadata, body, line number where the body starts); raises ContentInvalid."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ContentInvalid([ContentError(filename, 1, "thiếu phần đầu YAML (dòng đầu phải là ---)")])
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentInvalid([ContentError(filename, 1, "phần đầu YAML không có dòng --- kết thúc")]) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "cú pháp YAML sai"
        raise ContentInvalid([ContentError(filename, line, f"lỗi YAML: {problem}")]) from None
    if not isinstance(meta, dict):
        raise ContentInvalid([ContentError(filename, 2, "phần đầu YAML phải là các cặp khóa: giá trị")])
    rest = lines[end + 1:]
    leading = next((i for i, line in enumerate(rest) if line.strip()), len(rest))
    return meta, "\n".join(rest).strip("\n") + "\n", end + 2 + leading


def _line_of(text: str, needle: str, default: int | None = None) -> int | None:
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if needle in line:
            return number
    return default


def _minutes(value, filename: str, text: str, errors: list[ContentError]) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        errors.append(ContentError(filename, _line_of(text, "est_minutes"),
                                   "est_minutes phải là số phút (0–1000)"))
        return 0
    return value


def load_framework_codes(path: Path) -> set[str]:
    """Competency codes of the framework file (``groups[].competencies[].code``)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentInvalid([ContentError(str(path), None, f"không đọc được khung năng lực: {exc}")]) from None
    codes = {str(c["code"]) for g in (data or {}).get("groups", []) for c in g.get("competencies", [])}
    if not codes:
        raise ContentInvalid([ContentError(str(path), None, "khung năng lực không có năng lực nào")])
    return codes


def load_course(directory: Path, competency_codes: set[str]) -> CourseSource:
    """Read and check one course folder; every problem found is raised together."""
    errors: list[ContentError] = []
    slug = directory.name
    rel = f"courses/{slug}"
    if not SLUG.match(slug):
        errors.append(ContentError(rel, None, "tên thư mục khóa học chỉ gồm chữ thường không dấu, số và dấu -"))
    course_file = directory / "course.md"
    if not course_file.is_file():
        raise ContentInvalid([ContentError(f"{rel}/course.md", None, "thiếu tệp course.md")])
    course_text = _read_text(course_file, f"{rel}/course.md")
    meta, intro, _ = split_front_matter(course_text, f"{rel}/course.md")
    fname = f"{rel}/course.md"
    title = nfc(meta.get("title"))
    if not title:
        errors.append(ContentError(fname, 2, "thiếu title (tên khóa học)"))
    topic = str(meta.get("topic") or "other")
    if topic not in TOPICS:
        errors.append(ContentError(fname, _line_of(course_text, "topic"),
                                   f"topic '{topic}' không hợp lệ (chọn một trong {', '.join(TOPICS)})"))
    audiences = [str(a) for a in (meta.get("audiences") or list(AUDIENCES))]
    for audience in audiences:
        if audience not in AUDIENCES:
            errors.append(ContentError(fname, _line_of(course_text, "audiences"),
                                       f"đối tượng '{audience}' không có trong khung"))
    competencies = [str(c) for c in (meta.get("competencies") or [])]
    for code in competencies:
        if code not in competency_codes:
            errors.append(ContentError(fname, _line_of(course_text, f'"{code}"', _line_of(course_text, "competencies")),
                                       f"mã năng lực '{code}' không có trong khung 757"))
    sources = meta.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, dict) and s.get("title") for s in sources):
        errors.append(ContentError(fname, _line_of(course_text, "sources"),
                                   "sources phải là danh sách, mỗi mục có title (và url)"))
        sources = []
    est_minutes = _minutes(meta.get("est_minutes"), fname, course_text, errors)
    lessons = _load_lessons(directory, rel, errors)
    media = _load_media(directory, rel, lessons, errors)
    if errors:
        raise ContentInvalid(errors)
    return CourseSource(
        slug=slug, title=title, summary=nfc(meta.get("summary")), topic=topic,
        audiences=audiences, competencies=competencies,
        est_minutes=est_minutes,
        sources=[{"title": nfc(s.get("title")), "url": str(s.get("url") or "")} for s in sources],
        intro=intro, lessons=lessons, media=media,
    )


def _read_text(path: Path, rel: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentInvalid([ContentError(rel, None, "tệp không phải UTF-8")]) from None


def _load_lessons(directory: Path, rel: str, errors: list[ContentError]) -> list[LessonSource]:
    lessons: list[LessonSource] = []
    positions: dict[int, str] = {}
    lesson_files: set[str] = set()
    for path in sorted(directory.glob("*.md")):
        if path.name == "course.md":
            continue
        fname = f"{rel}/{path.name}"
        match = LESSON_FILE.match(path.name)
        if not match:
            errors.append(ContentError(fname, None, "tên tệp bài học phải có dạng NN-ten-bai.md"))
            continue
        position, slug = int(match.group(1)), match.group(2)
        lesson_files.add(path.name)
        if position in positions:
            errors.append(ContentError(fname, None,
                                       f"trùng số thứ tự bài {position:02d} với {positions[position]}"))
            continue
        positions[position] = path.name
        try:
            text = _read_text(path, fname)
            meta, body, body_line = split_front_matter(text, fname)
        except ContentInvalid as exc:
            errors.extend(exc.errors)
            continue
        title = nfc(meta.get("title"))
        if not title:
            errors.append(ContentError(fname, 2, "thiếu title (tên bài học)"))
        lessons.append(LessonSource(position, slug, title,
                                    _minutes(meta.get("est_minutes"), fname, text, errors),
                                    body, path.name, body_line))
    if not lessons and not errors:
        errors.append(ContentError(rel, None, "khóa học chưa có bài học nào"))
    for lesson in lessons:
        for url in _references(lesson.body):
            link = LESSON_LINK.match(url)
            if link and f"{link.group(1)}.md" not in lesson_files:
                errors.append(ContentError(f"{rel}/{lesson.filename}", _body_line(lesson, url),
                                           f"liên kết tới bài không tồn tại: {url}"))
    return lessons


def _body_line(lesson: LessonSource, needle: str) -> int | None:
    """Line in the lesson file (front matter included) where ``needle`` first appears."""
    line = _line_of(lesson.body, needle)
    return None if line is None else lesson.body_line + line - 1


_REFERENCE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)", re.M)


def _references(body: str) -> list[str]:
    """URLs of Markdown links and images (inline and reference style)."""
    return [m.group(1) or m.group(2) for m in _REFERENCE.finditer(body)]


def _load_media(directory: Path, rel: str, lessons: list[LessonSource],
                errors: list[ContentError]) -> dict[str, bytes]:
    media: dict[str, bytes] = {}
    for lesson in lessons:
        for url in _references(lesson.body):
            if not url.startswith("media/") or url in media:
                continue
            fname = f"{rel}/{lesson.filename}"
            line = _body_line(lesson, url)
            ext = url.rsplit(".", 1)[-1].lower() if "." in url else ""
            path = directory / url
            if ext == "svg":
                errors.append(ContentError(fname, line, f"{url}: không nhận ảnh SVG (có thể chứa mã chạy được); hãy chuyển sang PNG"))
            elif ext not in MEDIA_TYPES:
                errors.append(ContentError(fname, line, f"{url}: chỉ nhận ảnh png, jpg, webp, gif"))
            elif ".." in url or not path.is_file():
                errors.append(ContentError(fname, line, f"thiếu tệp ảnh {url}"))
            else:
                data = path.read_bytes()
                if len(data) > MEDIA_MAX_BYTES:
                    errors.append(ContentError(fname, line, f"{url}: ảnh lớn hơn 2 MB"))
                elif not data.startswith(MEDIA_TYPES[ext][1]):
                    errors.append(ContentError(fname, line, f"{url}: nội dung tệp không phải ảnh {ext}"))
                else:
                    media[url] = data
    return media
