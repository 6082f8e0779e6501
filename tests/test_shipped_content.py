"""The four required courses as shipped in content/: they import cleanly and meet issue 7's bar.

Word counts are of the text a learner reads (the rendered lesson without its tags), counted
like a word processor counts Vietnamese: one word per space-separated syllable group.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from app.assessments.bank import load_assessment
from app.assessments.framework import FRAMEWORK_FILE, load_framework
from app.assessments.models import Assessment, Question
from app.courses.content import load_course, split_front_matter
from app.courses.models import Course
from app.extensions import db
from app.markdown import render_markdown
from app.text import fold

CONTENT = Path(__file__).resolve().parents[1] / "content"
COURSES = ("ai-co-ban", "an-toan-so", "chu-ky-so", "dich-vu-cong-truc-tuyen")
LESSONS = sorted(p for slug in COURSES for p in (CONTENT / "courses" / slug).glob("[0-9][0-9]-*.md"))
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)")


def test_the_four_courses_are_there():
    assert sorted(p.name for p in (CONTENT / "courses").iterdir() if p.is_dir()) == sorted(COURSES)


def test_every_course_imports_with_its_bank(runner):
    result = runner.invoke(args=["content", "import", str(CONTENT), "--publish"])
    assert result.exit_code == 0, result.output
    for slug in COURSES:
        assert f"{slug}: tạo mới" in result.output
    codes = load_framework(CONTENT / FRAMEWORK_FILE).codes
    courses = {c.id: c.slug for c in db.session.scalars(select(Course))}
    bank: dict[str, list[Question]] = {slug: [] for slug in COURSES}
    for question in db.session.scalars(select(Question)):
        bank[courses[question.course_id]].append(question)
    for slug, questions in bank.items():
        active = [q for q in questions if q.status == "active"]
        assert len(active) >= 40, slug
        assert {q.competency_code for q in questions} <= codes, slug
        assert all(q.explanation_md.strip() for q in questions), slug
        assert len({q.type for q in active}) >= 4, slug  # a mix of types
        stems = Counter(fold(re.sub(r"\W+", " ", q.stem_md)) for q in questions)
        assert [s for s, n in stems.items() if n > 1] == [], slug
    # No stem is repeated from one course to another either.
    every = Counter(fold(re.sub(r"\W+", " ", q.stem_md)) for qs in bank.values() for q in qs)
    assert [s for s, n in every.items() if n > 1] == []


def test_assessment_settings_follow_the_issue(runner):
    runner.invoke(args=["content", "import", str(CONTENT), "--publish"])
    for assessment in db.session.scalars(select(Assessment)):
        slug = db.session.get(Course, assessment.course_id).slug
        assert 15 <= sum(assessment.draw.values()) <= 20, slug
        assert len(assessment.draw) >= 3, slug  # spread across its competencies
        assert (assessment.pass_percent, assessment.time_limit_minutes,
                assessment.max_attempts) == (70, 20, 3), slug
        assert assessment.cooldown_minutes > 0, slug


def test_banks_cover_safety_and_ai_and_the_courses_own_codes():
    codes = load_framework(CONTENT / FRAMEWORK_FILE).codes
    covered = set()
    for slug in COURSES:
        course = load_course(CONTENT / "courses" / slug, codes)
        spec = load_assessment(CONTENT / "courses" / slug, codes)
        tagged = {q.competency_code for q in spec.questions if q.status == "active"}
        assert set(spec.settings["draw"]) <= set(course.competencies), slug
        assert tagged <= set(course.competencies), (slug, tagged - set(course.competencies))
        covered |= tagged
    required = {c for c in codes if c.startswith(("4.", "6."))}
    assert required <= covered, required - covered


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lesson_length_is_within_bounds(lesson):
    _meta, body, _ = split_front_matter(lesson.read_text(encoding="utf-8"), lesson.name)
    words = len(re.sub(r"<[^>]+>", " ", str(render_markdown(body))).split())
    assert 400 <= words <= 900, words


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_image_has_alt_text(lesson):
    _meta, body, _ = split_front_matter(lesson.read_text(encoding="utf-8"), lesson.name)
    for alt, src in IMAGE.findall(body):
        assert alt.strip(), src
    html = str(render_markdown(body))
    for tag in re.findall(r"<img\b[^>]*>", html):
        assert re.search(r'alt="[^"]+"', tag), tag
