"""The four shipped courses, imported as `flask content import` does, taken end to end.

Proves that the question shapes the bank importer writes are the ones attempts, scoring and
the pages expect: the perfect answer to every drawn question scores 100 %, and no page of an
open attempt prints an explanation, a feedback or an accepted short answer.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.assessments import attempts
from app.assessments.models import Assessment, Question
from app.courses.models import Course
from app.extensions import db
from tests.assessments.factories import cold_requests, login, quick_user  # noqa: F401
from tests.factories import make_unit

ROOT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def shipped(runner, tmp_path):
    root = tmp_path / "content"
    shutil.copytree(ROOT / "frameworks", root / "frameworks")
    shutil.copytree(ROOT / "courses", root / "courses")
    result = runner.invoke(args=["content", "import", str(root), "--publish"])
    assert result.exit_code == 0, result.output
    slugs = sorted(db.session.scalars(select(Course.slug)))
    assert len(slugs) == 4
    return slugs


def perfect_form(item) -> dict:
    """The form fields that answer a drawn question fully right (values as the page shows)."""
    snap, name = item.snapshot, f"q{item.position}"
    data = snap["data"]
    if snap["type"] == "single":
        weights = [o["weight"] for o in data["options"]]
        return {name: str(weights.index(max(weights)))}
    if snap["type"] == "multiple":
        return {name: [str(i) for i, o in enumerate(data["options"]) if o["weight"] > 0]}
    if snap["type"] == "true_false":
        return {name: "true" if data["answer"] else "false"}
    if snap["type"] == "short_answer":
        first = data["answers"][0]
        return {name: first if isinstance(first, str) else first["text"]}
    if snap["type"] == "numerical":
        value = data["answer"] if "answer" in data else data["answers"][0]["answer"]
        return {name: str(value).replace(".", ",")}
    by_text = {c["text"]: c["id"] for c in snap["choices"]}
    return {f"{name}-{i}": by_text[p["right"]] for i, p in enumerate(data["pairs"])}


def hidden_texts(item) -> list[str]:
    """Explanations and feedback: no page of an open attempt may contain them."""
    snap = item.snapshot
    found = [snap.get("explanation_html", "")]
    for option in snap["data"].get("options") or []:
        found.append(option.get("feedback_html") or "")
    return [re.sub(r"<[^>]+>", "", text).strip() for text in found if text and len(text) > 12]


def own_fields(html: str, position: int) -> str:
    """The question's form fields: its fieldset without the stem (which may quote anything)."""
    start = html.index(f'id="q{position}" data-position')
    fieldset = html[start:html.index("</fieldset>", start)]
    stem_start = fieldset.index(f'id="q{position}-stem"')
    stem_end = fieldset.index("</div>", stem_start)
    return fieldset[:stem_start] + fieldset[stem_end:]


def test_every_shipped_assessment_can_be_taken_to_100_percent(client, shipped):
    unit = make_unit("XA-SHIP", "Xã Thử", kind="xa")
    learner = quick_user(unit, phone="+84914000001")
    login(client, learner)
    for slug in shipped:
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        assessment = db.session.scalar(select(Assessment).where(Assessment.course_id == course.id))
        assert assessment is not None, slug
        active = db.session.scalars(select(Question).where(
            Question.course_id == course.id, Question.status == "active")).all()
        assert len(active) >= 40, slug
        start = client.post(f"/courses/{slug}/assessment/start")
        assert start.status_code == 302, (slug, start.text)
        attempt_id = int(re.search(r"/attempts/(\d+)/", start.headers["Location"]).group(1))
        attempt = db.session.get(attempts.Attempt, attempt_id)
        assert len(attempt.items) == attempts.planned_question_count(assessment), slug
        secrets = [t for item in attempt.items for t in hidden_texts(item)]
        for page in range(1, attempts.page_count(attempt) + 1):
            html = client.get(f"/attempts/{attempt_id}/?page={page}").text
            leaked = [t for t in secrets if t in html]
            assert not leaked, (slug, page, leaked[:3])
            form = {"page": str(page), "go": "next"}
            for item in attempts.page_items(attempt, page):
                form.update(perfect_form(item))
                if item.snapshot["type"] == "short_answer":  # the accepted answers stay hidden
                    fieldset = own_fields(html, item.position).lower()
                    for answer in item.snapshot["data"]["answers"]:
                        text = answer if isinstance(answer, str) else answer["text"]
                        assert text.lower() not in fieldset, (slug, item.snapshot["key"], text)
            saved = client.post(f"/attempts/{attempt_id}/", data=form)
            assert saved.status_code == 302, (slug, page, saved.text[:500])
        client.post(f"/attempts/{attempt_id}/submit")
        db.session.expire_all()
        attempt = db.session.get(attempts.Attempt, attempt_id)
        wrong = [(i.snapshot["key"], i.correct) for i in attempt.items if i.correct != 1.0]
        assert attempt.score_percent == 100.0 and attempt.is_passed, (slug, wrong)
        result = client.get(f"/attempts/{attempt_id}/result").text
        assert "100%" in result and "Xem lại từng câu" in result
