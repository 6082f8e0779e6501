"""Records test data: a published two-lesson course, a small unit tree with people in every
role, keys in a temporary directory, and helpers to complete or pass a course."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.assessments.models import Assessment, Attempt, AttemptItem, Question
from app.courses import services as course_services
from app.courses.models import Course
from app.extensions import db
from app.models_base import utcnow
from app.records import rules
from tests.factories import PASSWORD, make_unit, make_user

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "content" / "examples" / "khoa-hoc-mau"
FRAMEWORK = ROOT / "content" / "frameworks"
SITE = "https://hocvuso.example.vn"
HOLDER = "Nguyễn Thị Hồng Nhung"
HOLDER_PHONE = "+84912345678"
HOLDER_EMAIL = "hong.nhung@example.vn"
HOLDER_BIRTH_YEAR = 1968
COURSE_SLUG = "khoa-hoc-mau"
COURSE_TITLE = "Khóa học mẫu: mật khẩu an toàn"
LESSONS = ("gioi-thieu", "dat-mat-khau")


@pytest.fixture(autouse=True)
def records_config(app, tmp_path):
    """Keys in a per-test directory (never instance/keys) and a fixed public site address."""
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "keys")
    app.config["SITE_URL"] = SITE + "/"
    return app.config


@pytest.fixture(autouse=True)
def _cold_requests(fresh_request_state):
    """Every records test starts its requests cold (tests/conftest.py)."""
    yield


@cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def quick_user(unit, role: str = "learner", **fields):
    """make_user with the factory password hashed once per run (scrypt is slow on purpose)."""
    user = make_user(unit, role=role, password=None, **fields)
    user.password_hash = _password_hash()
    db.session.commit()
    return user


@dataclass
class World:
    province: object
    commune_a: object
    team_a: object
    commune_b: object
    learner: object
    other_learner: object
    learner_b: object
    officer_a: object
    officer_b: object
    trainer_a: object
    trainer_b: object
    admin: object


@pytest.fixture
def world(app) -> World:
    province = make_unit("75", "Đồng Nai", kind="province")
    commune_a = make_unit("26734", "Long Bình", kind="phuong", parent=province)
    team_a = make_unit("26734-T1", "Tổ CNSCĐ khu phố 1", kind="team", parent=commune_a)
    commune_b = make_unit("26000", "Đak Lua", kind="xa", parent=province)
    return World(
        province=province, commune_a=commune_a, team_a=team_a, commune_b=commune_b,
        learner=quick_user(team_a, name=HOLDER, phone=HOLDER_PHONE, email=HOLDER_EMAIL,
                           birth_year=HOLDER_BIRTH_YEAR, gender="female"),
        other_learner=quick_user(team_a, name="Trần Văn Bình", phone="+84912000222"),
        learner_b=quick_user(commune_b, name="Lê Thị Cúc", phone="+84912000333"),
        officer_a=quick_user(commune_a, role="officer", name="Cán bộ A", phone="+84912000444"),
        officer_b=quick_user(commune_b, role="officer", name="Cán bộ B", phone="+84912000555"),
        trainer_a=quick_user(commune_a, role="trainer", name="Giảng viên A", phone="+84912000666"),
        trainer_b=quick_user(commune_b, role="trainer", name="Giảng viên B", phone="+84912000777"),
        admin=quick_user(province, role="admin", name="Quản trị", phone="+84912000888"),
    )


def import_content(runner, root: Path) -> None:
    result = runner.invoke(args=["content", "import", str(root), "--publish"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def course(runner, tmp_path) -> Course:
    """The shipped example course (two lessons, competencies 4.1 and 4.2), published."""
    root = tmp_path / "content"
    shutil.copytree(FRAMEWORK, root / "frameworks")
    shutil.copytree(EXAMPLE, root / "courses" / COURSE_SLUG)
    import_content(runner, root)
    return db.session.scalar(select(Course).where(Course.slug == COURSE_SLUG))


def mark_all_lessons(user, course: Course) -> None:
    version = course_services.published_version(course.id)
    for lesson in version.lessons:
        course_services.mark_lesson_done(user, course, version, lesson.slug)
    db.session.commit()


def complete(user, course: Course):
    """Finish every lesson and let the rule write the record; returns it (committed)."""
    mark_all_lessons(user, course)
    record = rules.record_completion_if_due(user, course)
    db.session.commit()
    return record


def login(client, user) -> None:
    response = client.post("/login", data={"identifier": user.phone, "password": PASSWORD})
    assert response.status_code == 302, response.text


def add_assessment(course: Course, pass_percent: float = 70) -> Assessment:
    assessment = Assessment(course_id=course.id, pass_percent=pass_percent)
    db.session.add(assessment)
    for index, code in enumerate(("4.1", "4.1", "4.2", "4.2", "4.2")):
        db.session.add(Question(course_id=course.id, key=f"q{index}", competency_code=code,
                                type="true_false", stem_md="Câu hỏi", stem_html="<p>Câu hỏi</p>",
                                data={"answer": True}, content_hash=f"{index:064d}"))
    db.session.commit()
    return assessment


def add_attempt(user, assessment: Assessment, *, score: float, passed: bool,
                per_competency: dict[str, float], status: str = "submitted") -> Attempt:
    """A scored attempt with one item per question of the bank (as attempts.py leaves it)."""
    number = len(db.session.scalars(select(Attempt).where(
        Attempt.user_id == user.id, Attempt.assessment_id == assessment.id)).all()) + 1
    attempt = Attempt(assessment_id=assessment.id, user_id=user.id, number=number, status=status,
                      open_marker=None if status == "submitted" else 1,
                      submitted_at=utcnow() if status == "submitted" else None,
                      pass_percent=assessment.pass_percent, show_answers="after_submit",
                      score_percent=score, is_passed=passed, competency_scores=per_competency)
    db.session.add(attempt)
    db.session.flush()
    if status == "submitted":
        attempt.open_marker = None  # an explicit None at insert would let the default (1) fire
        db.session.flush()
    questions = db.session.scalars(select(Question).where(Question.course_id == assessment.course_id)
                                   .order_by(Question.key)).all()
    for position, question in enumerate(questions, start=1):
        db.session.add(AttemptItem(attempt_id=attempt.id, position=position,
                                   question_id=question.id,
                                   competency_code=question.competency_code,
                                   snapshot={"type": "true_false"}, correct=1.0))
    db.session.commit()
    return attempt
