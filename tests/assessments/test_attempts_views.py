"""Attempt pages through the test client: the flow without JavaScript, autosave, resume,
ownership, CSRF, the deadline, and no correctness data on any page of an open attempt."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assessments import attempts
from app.assessments.models import Attempt, AttemptItem
from app.extensions import db
from tests.assessments.factories import (  # noqa: F401 (fixture)
    SECRET,
    build_world,
    cold_requests,
    csrf_token,
    login,
    single,
)

INTRO = "/courses/khoa-thu/assessment/"
START = "/courses/khoa-thu/assessment/start"
JS_FILE = Path(__file__).resolve().parents[2] / "app" / "static" / "js" / "attempt.js"
# Words that would betray the key if they appeared in a page (or the script) of an open attempt.
FORBIDDEN = ("weight", "correct", "feedback", "explanation", "data-key", "data-answer",
             "is_key", "right", "giải thích", SECRET.lower())


@pytest.fixture
def world(app):
    return build_world()


def start(client) -> Attempt:
    response = client.post(START)
    assert response.status_code == 302, response.text
    match = re.search(r"/attempts/(\d+)/", response.headers["Location"])
    return db.session.get(Attempt, int(match.group(1)))


def by_key(attempt, key):
    return next(i for i in attempt.items if i.snapshot["key"] == key)


def assert_no_key(html: str) -> None:
    lowered = html.lower()
    leaks = [word for word in FORBIDDEN if word in lowered]
    assert not leaks, leaks


def test_pages_need_login(client, world):
    for url in (INTRO, "/me/competencies", "/attempts/1/", "/attempts/1/result"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_intro_states_the_rules_in_plain_vietnamese(client, app):
    world = build_world({"time_limit_minutes": 20, "max_attempts": 3, "cooldown_minutes": 60,
                         "show_answers": "after_pass"})
    login(client, world.learner)
    html = client.get(INTRO).text
    for text in ("6 câu", "20 phút", "Từ 70%", "Tối đa 3 lần; bạn đã làm 0 lần", "60 phút",
                 "sau khi bạn đã đạt", "Bắt đầu làm bài"):
        assert text in html, text


def test_unknown_course_or_course_without_assessment_is_404(client, world):
    login(client, world.learner)
    assert client.get("/courses/khong-co/assessment/").status_code == 404
    from tests.assessments.factories import make_course

    make_course("khong-kiem-tra")
    db.session.commit()
    assert client.get("/courses/khong-kiem-tra/assessment/").status_code == 404


def test_the_whole_flow_without_javascript(client, world):
    login(client, world.learner)
    attempt = start(client)
    page1 = client.get(f"/attempts/{attempt.id}/?page=1")
    assert page1.status_code == 200
    assert page1.text.count('class="question') == 5 and "Trang 1/2" in page1.text
    assert "Lưu và tiếp" in page1.text
    form = {"page": "1", "go": "next"}
    for item in attempt.items[:5]:
        name = f"q{item.position}"
        kind = item.snapshot["type"]
        if kind == "single":
            form[name] = "0"
        elif kind == "multiple":
            form[name] = ["0", "1"]
        elif kind == "true_false":
            form[name] = "false"
        elif kind == "short_answer":
            form[name] = "lua dao bimat"
        elif kind == "matching":
            by_text = {c["text"]: c["id"] for c in item.snapshot["choices"]}
            for i, pair in enumerate(item.snapshot["data"]["pairs"]):
                form[f"{name}-{i}"] = by_text[pair["right"]]
    saved = client.post(f"/attempts/{attempt.id}/", data=form)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("page=2")
    page2 = client.get(saved.headers["Location"])
    assert "Đã lưu câu trả lời trang 1" in page2.text and "Đã trả lời 5/6 câu" in page2.text
    assert "Lưu và xem lại trước khi nộp" in page2.text
    last = client.post(f"/attempts/{attempt.id}/", data={"page": "2", "go": "next"})
    assert last.headers["Location"].endswith(f"/attempts/{attempt.id}/submit")
    confirm = client.get(last.headers["Location"])
    assert "Còn 1 câu chưa trả lời" in confirm.text and "Câu 6" in confirm.text
    done = client.post(f"/attempts/{attempt.id}/submit")
    assert done.headers["Location"].endswith(f"/attempts/{attempt.id}/result")
    result = client.get(done.headers["Location"])
    assert result.status_code == 200
    assert "83,3%" in result.text and "✓ Đạt" in result.text
    assert "Điểm theo năng lực" in result.text and "width: 67%" in result.text  # 4.1: 2/3
    assert f"{SECRET}-GIAI-q-single" in result.text  # explanations after submit
    assert "Chưa trả lời" in result.text  # the numerical question left blank


def test_going_back_and_jumping_between_pages_saves_first(client, world):
    login(client, world.learner)
    attempt = start(client)
    back = client.post(f"/attempts/{attempt.id}/", data={"page": "2", "go": "prev", "q6": "12"})
    assert back.headers["Location"].endswith("page=1")
    db.session.expire_all()
    assert db.session.get(AttemptItem, attempt.items[5].id).response == {"text": "12"}
    jump = client.post(f"/attempts/{attempt.id}/", data={"page": "1", "go": "2"})
    assert jump.headers["Location"].endswith("page=2")
    page = client.get(jump.headers["Location"]).text
    assert 'value="12"' in page  # the saved answer is shown again


def test_invalid_input_is_refused_whole_and_shown_again(client, world):
    login(client, world.learner)
    attempt = start(client)
    num = by_key(attempt, "q-num")
    single_item = by_key(attempt, "q-single")
    response = client.post(f"/attempts/{attempt.id}/", data={
        "page": "2", "go": "next", f"q{num.position}": "mười hai"})
    assert response.status_code == 400
    assert "Hãy nhập một con số" in response.text and 'value="mười hai"' in response.text
    response = client.post(f"/attempts/{attempt.id}/", data={
        "page": "1", "go": "next", f"q{single_item.position}": "0", "q2": "7"})
    assert response.status_code == 400 and "chưa có gì được lưu" in response.text
    assert_no_key(response.text)
    db.session.expire_all()
    assert all(i.response is None for i in db.session.scalars(select(AttemptItem)))


def test_no_page_of_an_open_attempt_holds_correctness_data(client, app):
    world = build_world({"time_limit_minutes": 30, "shuffle_options": True,
                         "shuffle_questions": True})
    for n in range(6):
        single(world.course, f"more-{n}")
    db.session.commit()
    login(client, world.learner)
    pages = [client.get(INTRO).text]
    attempt = start(client)
    for page in range(1, attempts.page_count(attempt) + 1):
        pages.append(client.get(f"/attempts/{attempt.id}/?page={page}").text)
    pages.append(client.get(f"/attempts/{attempt.id}/submit").text)
    pages.append(client.post(f"/attempts/{attempt.id}/answer",
                             data={"position": "1", "q1": "0"}).text)
    pages.append(client.get(f"/courses/{world.course.slug}/").text)
    assert len(pages) == 7
    for html in pages:
        assert_no_key(html)
    assert_no_key(JS_FILE.read_text(encoding="utf-8"))
    # Choice values are positions as shown: they never spell the bank's option ids.
    attempt_page = pages[1]
    assert not re.search(r'value="[a-h]"', attempt_page)


def test_someone_elses_attempt_is_not_found(client, world):
    mine, _ = attempts.start_attempt(world.other, world.assessment)
    db.session.commit()
    login(client, world.learner)
    for method, url in (("get", f"/attempts/{mine.id}/"), ("post", f"/attempts/{mine.id}/"),
                        ("post", f"/attempts/{mine.id}/answer"),
                        ("get", f"/attempts/{mine.id}/submit"),
                        ("post", f"/attempts/{mine.id}/submit"),
                        ("get", f"/attempts/{mine.id}/result"), ("get", "/attempts/999999/")):
        response = getattr(client, method)(url, data={"position": "1", "q1": "0"}
                                           if method == "post" else None)
        assert response.status_code == 404, (method, url)
    db.session.refresh(mine)
    assert mine.status == "open" and all(i.response is None for i in mine.items)


def test_autosave_answers_json_and_refuses_nonsense(client, world):
    login(client, world.learner)
    attempt = start(client)
    tf = by_key(attempt, "q-tf")
    ok = client.post(f"/attempts/{attempt.id}/answer",
                     data={"position": str(tf.position), f"q{tf.position}": "false"})
    assert ok.status_code == 200 and ok.json["ok"] is True and "Đã lưu lúc" in ok.json["message"]
    db.session.expire_all()
    assert db.session.get(AttemptItem, tf.id).response == {"choice": "false"}
    bad = client.post(f"/attempts/{attempt.id}/answer",
                      data={"position": str(tf.position), f"q{tf.position}": "có"})
    assert bad.status_code == 400 and "Đúng hoặc Sai" in bad.json["message"]
    for position in ("77", "0", "-3", "99999999999999999999", "một"):  # none fits a column
        missing = client.post(f"/attempts/{attempt.id}/answer", data={"position": position})
        assert missing.status_code == 400 and missing.json["ok"] is False, position
    db.session.expire_all()
    assert db.session.get(AttemptItem, tf.id).response == {"choice": "false"}


def test_a_blank_autosave_clears_the_answer_to_sql_null(client, world):
    login(client, world.learner)
    attempt = start(client)
    tf = by_key(attempt, "q-tf")
    url, field = f"/attempts/{attempt.id}/answer", f"q{tf.position}"
    client.post(url, data={"position": str(tf.position), field: "true"})
    cleared = client.post(url, data={"position": str(tf.position), field: ""})
    assert cleared.status_code == 200 and cleared.json["ok"] is True
    # SQL NULL, not the JSON text 'null': "unanswered" queries look for IS NULL.
    assert db.session.scalar(select(func.count(AttemptItem.id)).where(
        AttemptItem.id == tf.id, AttemptItem.response.is_(None))) == 1


def test_autosave_sends_two_statements_of_its_own(client, world):
    """The hottest request of a test: the locked state with the one snapshot, the UPDATE
    (the rest is the signed-in user, counted with every page)."""
    from tests.querycount import count_queries, forget_request_state

    login(client, world.learner)
    attempt = start(client)
    for position in (1, 2):
        forget_request_state()
        with count_queries() as statements:
            saved = client.post(f"/attempts/{attempt.id}/answer",
                                data={"position": str(position), f"q{position}": "0"})
        assert saved.status_code == 200, saved.json
        ours = [s for s in statements if "attempt" in s.lower()]
        assert len(ours) == 2, ours


def test_autosave_and_submission_take_turns_among_the_process_writers(client, world, dialect,
                                                                       monkeypatch):
    """On SQLite they write holding the process's writer turn (app/writers.py), so threads
    queue on it instead of sleeping in SQLite's busy handler; on PostgreSQL they do not."""
    from app import writers

    held = []
    for name in ("autosave_answer", "submit_own"):
        real = getattr(attempts, name)

        def spy(*args, real=real, **kwargs):
            held.append(writers._turn.locked())
            return real(*args, **kwargs)

        monkeypatch.setattr(attempts, name, spy)
    login(client, world.learner)
    attempt = start(client)
    assert client.post(f"/attempts/{attempt.id}/answer",
                       data={"position": "1", "q1": "0"}).status_code == 200
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 302
    assert held == [dialect == "sqlite"] * 2 and not writers._turn.locked()


def test_a_submission_sends_five_statements_of_its_own_however_many_questions(client, world):
    """Close (the one winner), read the items once, write the score, the marks (one
    executemany) and the mastery (one upsert); the completion rule's own come on a pass."""
    from app.courses.models import Course
    from tests.querycount import count_queries, forget_request_state

    course_id = world.course.id
    login(client, world.learner)
    counts = []
    for extra in (0, 10):
        for n in range(extra):
            single(db.session.get(Course, course_id), f"extra-{n}")
        db.session.commit()
        attempt_id = start(client).id
        forget_request_state()
        with count_queries() as statements:
            done = client.post(f"/attempts/{attempt_id}/submit")
        assert done.status_code == 302
        counts.append([s for s in statements if "attempt" in s.lower() or "mastery" in s.lower()])
    assert [len(ours) for ours in counts] == [5, 5], counts
    assert db.session.get(Attempt, attempt_id).status == "submitted"


def test_autosave_after_the_deadline_is_refused_and_the_attempt_closes(client, app):
    world = build_world({"time_limit_minutes": 10})
    login(client, world.learner)
    attempt = start(client)
    attempt.deadline_at = attempts.as_utc(attempt.deadline_at) - timedelta(minutes=11)
    db.session.commit()
    late = client.post(f"/attempts/{attempt.id}/answer", data={"position": "1", "q1": "0"})
    assert late.status_code == 409 and "hết giờ" in late.json["message"]
    assert late.json["next"].endswith(f"/attempts/{attempt.id}/result")
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == "submitted" and attempt.items[0].response is None
    assert attempt.score_percent == 0.0


def test_a_late_page_save_is_not_counted_and_shows_the_result(client, app):
    world = build_world({"time_limit_minutes": 10})
    login(client, world.learner)
    attempt = start(client)
    attempt.deadline_at = attempts.as_utc(attempt.deadline_at) - timedelta(minutes=11)
    db.session.commit()
    response = client.post(f"/attempts/{attempt.id}/", data={"page": "1", "q1": "0"},
                           follow_redirects=True)
    assert response.status_code == 200 and "Kết quả bài kiểm tra" in response.text
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).items[0].response is None


def test_opening_an_expired_attempt_submits_it(client, app):
    world = build_world({"time_limit_minutes": 10})
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    attempt.started_at = attempts.as_utc(attempt.started_at) - timedelta(minutes=30)
    attempt.deadline_at = attempts.as_utc(attempt.deadline_at) - timedelta(minutes=30)
    attempt.items[2].answered_at = attempts.as_utc(attempt.items[2].answered_at) - timedelta(minutes=25)
    db.session.commit()
    response = client.get(f"/attempts/{attempt.id}/", follow_redirects=True)
    assert "nộp tự động" in response.text and "Kết quả bài kiểm tra" in response.text
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).score_percent == pytest.approx(16.67, abs=0.01)


def test_resume_after_a_lost_connection(app, world):
    first = app.test_client()
    login(first, world.learner)
    attempt = start(first)
    first.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    # The phone's browser closed: a new session, the same learner.
    second = app.test_client()
    login(second, world.learner)
    assert "Làm tiếp bài đang làm dở" in second.get(INTRO).text
    resumed = second.post(START)
    assert re.search(rf"/attempts/{attempt.id}/", resumed.headers["Location"])
    page = second.get(f"/attempts/{attempt.id}/?page=1").text
    assert re.search(r'name="q3" value="false" checked', page)
    assert "bài làm dở" in page
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_double_submit_gives_one_scored_attempt(client, world):
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    first = client.post(f"/attempts/{attempt.id}/submit")
    second = client.post(f"/attempts/{attempt.id}/submit")
    assert first.headers["Location"] == second.headers["Location"]
    db.session.expire_all()
    rows = db.session.scalars(select(Attempt)).all()
    assert len(rows) == 1 and rows[0].status == "submitted"
    assert rows[0].score_percent == pytest.approx(16.67, abs=0.01)
    page = client.get(first.headers["Location"]).text
    assert page.count("Đã nộp bài.") == 1  # the first submission's message, shown once


def test_max_attempts_refusal_on_the_page(client, app):
    world = build_world({"max_attempts": 1})
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/submit")
    html = client.get(INTRO).text
    assert "Bạn đã dùng hết 1 lần làm bài" in html and "Làm lại bài kiểm tra" not in html
    refused = client.post(START)
    assert refused.status_code == 409 and "dùng hết" in refused.text
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_cooldown_refusal_names_the_time(client, app):
    world = build_world({"cooldown_minutes": 90})
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/submit")
    refused = client.post(START)
    assert refused.status_code == 409
    assert "90 phút" in refused.text and re.search(r"\d\d:\d\d ngày \d\d/\d\d/\d{4}", refused.text)


@pytest.mark.parametrize(("setting", "passed", "shows"), [
    ("after_submit", False, True), ("after_pass", False, False), ("after_pass", True, True),
    ("never", True, False),
])
def test_show_answers_setting(client, app, setting, passed, shows):
    world = build_world({"show_answers": setting, "pass_percent": 10 if passed else 90})
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    client.post(f"/attempts/{attempt.id}/submit")
    html = client.get(f"/attempts/{attempt.id}/result").text
    assert (f"{SECRET}-GIAI-q-tf" in html) is shows
    assert ("Đáp án đúng:" in html) is shows
    assert "Điểm theo năng lực" in html  # the bars are always there


def test_result_of_an_open_attempt_sends_back_to_it(client, world):
    login(client, world.learner)
    attempt = start(client)
    response = client.get(f"/attempts/{attempt.id}/result")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/attempts/{attempt.id}/")


def test_course_page_links_the_assessment_and_the_last_result(client, world):
    login(client, world.learner)
    assert "Vào bài kiểm tra" in client.get("/courses/khoa-thu/").text
    attempt = start(client)
    assert "Làm tiếp bài kiểm tra" in client.get("/courses/khoa-thu/").text
    client.post(f"/attempts/{attempt.id}/submit")
    page = client.get("/courses/khoa-thu/").text
    assert "Lần gần nhất: 0%" in page and "Chưa đạt" in page
    assert f"/attempts/{attempt.id}/result" in page


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_csrf_is_required_for_every_attempt_form(client, world):
    login_page = client.get("/login").text
    client.post("/login", data={"identifier": world.learner.phone, "password": "matkhau123",
                                "csrf_token": csrf_token(login_page)})
    assert client.post(START).status_code == 400
    assert db.session.scalar(select(func.count(Attempt.id))) == 0
    token = csrf_token(client.get(INTRO).text)
    started = client.post(START, data={"csrf_token": token})
    assert started.status_code == 302
    attempt = db.session.scalar(select(Attempt))
    no_token = client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    assert no_token.status_code == 400
    assert client.post(f"/attempts/{attempt.id}/", data={"page": "1", "q3": "false"}).status_code == 400
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 400
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == "open" and all(i.response is None for i in attempt.items)
    page = client.get(f"/attempts/{attempt.id}/").text
    with_header = client.post(f"/attempts/{attempt.id}/answer",
                              data={"position": "3", "q3": "false"},
                              headers={"X-CSRFToken": csrf_token(page)})
    assert with_header.status_code == 200
    submitted = client.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": csrf_token(page)})
    assert submitted.status_code == 302


def every_lesson_done(world) -> None:
    """Give the course one lesson, marked done by the learner (half of the completion rule)."""
    from app.courses.models import CourseVersion, Lesson, LessonProgress

    version = db.session.scalar(select(CourseVersion))
    db.session.add(Lesson(version_id=version.id, position=1, slug="bai-1", title="Bài 1",
                          body_md="x", body_html="<p>x</p>", html_hash="h"))
    db.session.add(LessonProgress(user_id=world.learner.id, course_id=world.course.id,
                                  lesson_slug="bai-1", version_id=version.id))
    db.session.commit()


@pytest.mark.parametrize("passed", [True, False])
def test_a_pass_with_every_lesson_done_completes_the_course(client, world, passed):
    from app.records.models import CompletionRecord

    every_lesson_done(world)
    world.assessment.pass_percent = 10 if passed else 90
    db.session.commit()
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    page = client.post(f"/attempts/{attempt.id}/submit", follow_redirects=True).text
    record = db.session.scalar(select(CompletionRecord))
    if not passed:
        assert record is None and "Chúc mừng" not in page
        return
    assert record is not None and record.attempt_id == attempt.id
    assert record.user_id == world.learner.id
    assert "Chúc mừng! Bạn đã hoàn thành khóa học" in page
    assert f"/certificates/{record.verification_code}" in page
    client.post(f"/attempts/{attempt.id}/submit")  # a replay completes nothing twice
    assert db.session.scalar(select(func.count(CompletionRecord.id))) == 1


def test_an_expired_last_attempt_is_submitted_even_when_no_new_one_may_start(client, app):
    world = build_world({"time_limit_minutes": 5, "max_attempts": 1})
    login(client, world.learner)
    attempt = start(client)
    client.post(f"/attempts/{attempt.id}/answer", data={"position": "3", "q3": "false"})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    attempt.items[2].answered_at = attempts.as_utc(attempt.items[2].answered_at) - timedelta(minutes=10)
    attempt.started_at = attempts.as_utc(attempt.started_at) - timedelta(minutes=10)
    attempt.deadline_at = attempts.as_utc(attempt.deadline_at) - timedelta(minutes=10)
    db.session.commit()
    refused = client.post(START)
    assert refused.status_code == 409 and "dùng hết 1 lần" in refused.text
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == "submitted" and attempt.score_percent == pytest.approx(16.67, abs=0.01)


def test_attempt_and_result_pages_make_a_fixed_number_of_queries(client, world):
    from tests.querycount import count_queries, forget_request_state

    login(client, world.learner)
    counts = []
    for extra in (0, 10):
        for n in range(extra):
            single(world.course, f"extra-{n}")
        db.session.commit()
        attempt = start(client)
        urls = (f"/attempts/{attempt.id}/?page=1", f"/attempts/{attempt.id}/submit")
        measured = []
        for url in urls:
            client.get(url)
            forget_request_state()
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            measured.append(len(statements))
        client.post(f"/attempts/{attempt.id}/submit")
        result = f"/attempts/{attempt.id}/result"
        client.get(result)
        forget_request_state()
        with count_queries() as statements:
            assert client.get(result).status_code == 200
        measured.append(len(statements))
        counts.append(measured)
    assert counts[0] == counts[1], counts
    assert max(counts[0]) <= 10, counts
