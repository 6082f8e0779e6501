"""Assessment test data: a published course, its assessment and a bank with every type.

Questions follow the ``Question.data`` shape of app/assessments/models.py exactly (option ids
"a", "b", …, percent ``weight``, Markdown rendered once with app.markdown.render_markdown).
Every key, feedback and explanation carries a SECRET marker, so a test can prove that no
page of an open attempt prints one.

Import ``cold_requests`` into a test module to give each test-client request an
empty ``g`` (no login cached from the previous request), as in production.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from string import ascii_lowercase

import pytest
from werkzeug.security import generate_password_hash

from app.assessments.models import Assessment, Question
from app.courses.models import Course, CourseVersion
from app.extensions import db
from app.markdown import render_markdown
from app.models_base import utcnow
from tests.factories import PASSWORD, make_user

SECRET = "BIMAT"  # appears in every key, feedback and explanation of the sample bank


@pytest.fixture(autouse=True)
def cold_requests(request):
    """Each test-client request starts with an empty ``g`` (tests/conftest.py), in the
    modules that import this fixture and use an app."""
    if "app" in request.fixturenames:
        request.getfixturevalue("fresh_request_state")
    yield


@cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def quick_user(unit, role: str = "learner", **fields):
    """make_user with the factory password, hashed once per run (scrypt is slow by design)."""
    user = make_user(unit, role=role, password=None, **fields)
    user.password_hash = _password_hash()
    db.session.commit()
    return user


def login(client, user) -> None:
    response = client.post("/login", data={"identifier": user.phone, "password": PASSWORD})
    assert response.status_code == 302, response.text


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def make_course(slug: str = "khoa-thu", title: str = "Khóa học thử", unit=None) -> Course:
    """A course with one published version (no lessons needed for assessments)."""
    course = Course(slug=slug, unit_id=unit.id if unit else None)
    db.session.add(course)
    db.session.flush()
    db.session.add(CourseVersion(course_id=course.id, number=1, status="published", title=title,
                                 content_hash=hashlib.sha256(slug.encode()).hexdigest(),
                                 published_at=utcnow(), competencies=["4.1", "4.2"]))
    db.session.flush()
    return course


def make_assessment(course: Course, **settings) -> Assessment:
    values = {"pass_percent": 70, "time_limit_minutes": 0, "max_attempts": 0,
              "cooldown_minutes": 0, "draw": {}, "shuffle_questions": False,
              "shuffle_options": False, "show_answers": "after_submit"}
    values.update(settings)
    assessment = Assessment(course_id=course.id, **values)
    db.session.add(assessment)
    db.session.flush()
    return assessment


def html(markdown: str) -> str:
    return str(render_markdown(markdown))


def options(*specs) -> list[dict]:
    """(text, weight[, feedback]) → options with ids "a", "b", … as the model comment says."""
    built = []
    for letter, spec in zip(ascii_lowercase, specs, strict=False):
        text, weight, *rest = spec
        feedback = rest[0] if rest else ""
        built.append({"id": letter, "text_md": text, "text_html": html(text), "weight": weight,
                      "feedback_md": feedback, "feedback_html": html(feedback) if feedback else ""})
    return built


def pairs(*specs) -> list[dict]:
    return [{"left_md": left, "left_html": html(left), "right": right} for left, right in specs]


def make_question(course: Course, key: str, type: str, data: dict, *, competency: str = "4.1",
                  stem: str | None = None, explanation: str | None = None,
                  status: str = "active", difficulty: str = "medium") -> Question:
    stem = stem or f"Câu hỏi {key}?"
    explanation = explanation if explanation is not None else f"Giải thích {key} {SECRET}-GIAI-{key}"
    question = Question(
        course_id=course.id, key=key, competency_code=competency, type=type,
        difficulty=difficulty, status=status, stem_md=stem, stem_html=html(stem), data=data,
        explanation_md=explanation, explanation_html=html(explanation) if explanation else "",
        content_hash=hashlib.sha256(json.dumps([stem, data], sort_keys=True).encode()).hexdigest())
    db.session.add(question)
    db.session.flush()
    return question


def single(course, key, *, competency="4.1", right="Phương án đúng",
           wrong=("Phương án sai một", "Phương án sai hai", "Phương án sai ba"), **kw) -> Question:
    """A single-choice question whose key is option "a" (weight 100)."""
    specs = [(right, 100, f"Phản hồi {SECRET}-FB-{key}")] + [(text, 0) for text in wrong]
    return make_question(course, key, "single", {"options": options(*specs)},
                         competency=competency, **kw)


def sample_bank(course) -> dict[str, Question]:
    """One question of every type; keys, feedback and explanations carry SECRET markers."""
    bank = {}
    bank["single"] = single(course, "q-single", competency="4.1")
    bank["multiple"] = make_question(course, "q-multiple", "multiple", {"options": options(
        ("Bật xác thực hai lớp", 50, f"Tốt {SECRET}-FB-M1"),
        ("Đặt mật khẩu dài", 50),
        ("Dùng chung mật khẩu", -100, f"Không nên {SECRET}-FB-M3"),
        ("Gửi mã OTP cho người lạ", -100))}, competency="4.1")
    bank["true_false"] = make_question(course, "q-tf", "true_false", {"answer": False},
                                       competency="4.2")
    bank["short_answer"] = make_question(
        course, "q-short", "short_answer",
        {"answers": [f"Lừa đảo {SECRET}", {"text": f"Gian lận {SECRET}", "weight": 50}],
         "match": "loose"}, competency="4.2")
    bank["matching"] = make_question(course, "q-match", "matching", {"pairs": pairs(
        ("Mật khẩu bị lộ", "Đổi mật khẩu ngay"),
        ("Mất điện thoại", "Khóa SIM"),
        ("Tin nhắn lạ", "Không bấm đường link"))}, competency="4.2")
    bank["numerical"] = make_question(course, "q-num", "numerical",
                                      {"answer": 1234.5, "tolerance": 0.5}, competency="4.1")
    return bank


def build_world(assessment_settings: dict | None = None, bank: bool = True):
    """A learner in a commune, a published course with an assessment and the sample bank."""
    from types import SimpleNamespace

    from tests.factories import make_unit

    province = make_unit("DN", "Đồng Nai", kind="province")
    commune = make_unit("XA-1", "Đak Lua", kind="xa", parent=province)
    learner = quick_user(commune, name="Trần Thị Học", phone="+84911000001")
    other = quick_user(commune, name="Lê Văn Khác", phone="+84911000002")
    course = make_course()
    assessment = make_assessment(course, **(assessment_settings or {}))
    questions = sample_bank(course) if bank else {}
    db.session.commit()
    return SimpleNamespace(province=province, commune=commune, learner=learner, other=other,
                           course=course, assessment=assessment, bank=questions)


def two_competency_world(pass_percent: int = 60):
    """``build_world`` with a bank of 3 questions on 4.1 and 2 on 4.2 (single choice, key "a";
    question keys a-0…a-2 and b-0…b-1)."""
    world = build_world({"pass_percent": pass_percent}, bank=False)
    for n in range(3):
        single(world.course, f"a-{n}", competency="4.1")
    for n in range(2):
        single(world.course, f"b-{n}", competency="4.2")
    db.session.commit()
    return world


def make_framework(groups=None, key: str = "vn-qd757-2025", version: str = "1.0"):
    """Framework rows as part A's loader writes them: {group code: [(code, audiences)]}."""
    from app.assessments.models import Competency, CompetencyGroup, Framework

    groups = groups or {"1": [("1.2", [])],
                        "4": [("4.1", []), ("4.2", ["citizen", "civil_servant"]),
                              ("4.3", ["student"])]}
    framework = Framework(key=key, version=version, title_vi="Khung 757", title_en="757",
                          is_current=True, content_hash=hashlib.sha256(key.encode()).hexdigest())
    for position, (code, competencies) in enumerate(groups.items()):
        group = CompetencyGroup(code=code, position=position, label_vi=f"Nhóm {code}",
                                label_en=f"Group {code}", status="confirmed", note="")
        for index, (comp_code, audiences) in enumerate(competencies):
            group.competencies.append(Competency(
                code=comp_code, position=index, label_vi=f"Năng lực {comp_code}",
                label_en=f"Competency {comp_code}", status="confirmed", note="",
                audiences=audiences))
        framework.groups.append(group)
    db.session.add(framework)
    db.session.flush()
    return framework
