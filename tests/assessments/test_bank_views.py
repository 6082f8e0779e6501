"""Trainer bank pages: who may see them, filters, editing with preview, adding, GIFT upload."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assessments.bank import strip_html
from app.assessments.models import Assessment, Question
from app.courses.models import Course
from app.extensions import db
from tests.factories import make_unit, make_user
from tests.querycount import forget_request_state

ROOT = Path(__file__).resolve().parents[2]
SLUG = "khoa-hoc-mau"
BANK = """\
questions:
  - id: mau-001
    competency: "4.1"
    type: single
    stem: Mật khẩu nào mạnh nhất?
    options:
      - text: "123456"
      - text: "Lúa-chín-vàng-2025!"
        correct: true
    explanation: Cụm từ dài.
  - id: mau-002
    competency: "4.2"
    type: true_false
    status: draft
    stem: Ngân hàng hỏi mã OTP qua điện thoại.
    answer: false
  - id: mau-003
    competency: "4.2"
    type: multiple
    difficulty: hard
    stem: Những gì là bí mật?
    options:
      - text: Mã OTP
        correct: true
      - text: Mật khẩu
        correct: true
      - text: Tên của bạn
"""


@pytest.fixture
def course(runner, tmp_path) -> Course:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "frameworks", root / "frameworks")
    target = root / "courses" / SLUG
    shutil.copytree(ROOT / "content" / "examples" / SLUG, target)
    (target / "assessment.yaml").write_text(BANK, encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(root), "--publish"])
    assert result.exit_code == 0, result.output
    return db.session.scalar(select(Course))


@pytest.fixture
def units(app):
    province = make_unit("75", "Đồng Nai", kind="province")
    commune = make_unit("26734", "Long Bình", kind="phuong", parent=province)
    db.session.commit()
    return province, commune


def login(client, auth, user) -> None:
    phone = user.phone
    forget_request_state()  # the request starts cold: no user cached in ``g``
    assert auth.login(phone).status_code == 302


@pytest.fixture
def trainer(client, auth, units, course):
    """A trainer of the province: shared (province-level) courses are theirs to edit."""
    user = make_user(units[0], role="trainer", phone="+84912000001")
    login(client, auth, user)
    return user


def question(key: str) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key))


def urls(course) -> list[str]:
    q = question("mau-001")
    return ["/bank/", f"/bank/{SLUG}/", f"/bank/{SLUG}/new", f"/bank/{SLUG}/new?type=single",
            f"/bank/{SLUG}/questions/{q.id}", f"/bank/{SLUG}/gift", f"/bank/{SLUG}/export.gift"]


# --- Who -------------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_login(client, course):
    for url in urls(course):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location, url


@pytest.mark.parametrize("role", ["learner", "officer"])
def test_learners_and_officers_are_refused(client, auth, units, course, role):
    login(client, auth, make_user(units[0], role=role, phone="+84912000002"))
    for url in urls(course):
        assert client.get(url).status_code == 403, url
    q = question("mau-001")
    assert client.post(f"/bank/{SLUG}/questions/{q.id}", data={"stem": "x"}).status_code == 403
    assert question("mau-001").stem_md == "Mật khẩu nào mạnh nhất?"


def test_a_trainer_of_a_commune_does_not_see_a_province_course(client, auth, units, course):
    login(client, auth, make_user(units[1], role="trainer", phone="+84912000003"))
    assert client.get("/bank/").status_code == 200
    assert SLUG not in client.get("/bank/").text
    for url in urls(course)[1:]:
        assert client.get(url).status_code == 404, url


def test_a_commune_course_is_open_to_its_commune_trainer(client, auth, units, course):
    course.unit_id = units[1].id
    db.session.commit()
    login(client, auth, make_user(units[1], role="trainer", phone="+84912000004"))
    for url in urls(course):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_province_trainers_and_admins_may_edit(client, auth, units, course, role):
    login(client, auth, make_user(units[0], role=role, phone="+84912000005"))
    for url in urls(course):
        assert client.get(url).status_code == 200, url


# --- The list -----------------------------------------------------------------------------------

def test_course_list_counts_questions(client, trainer):
    page = client.get("/bank/").text
    assert f'href="/bank/{SLUG}/"' in page
    assert '<td class="num">2</td>' in page and '<td class="num">3</td>' in page


@pytest.mark.parametrize("query, keys", [
    ("", ["mau-001", "mau-002", "mau-003"]),
    ("?competency=4.2", ["mau-002", "mau-003"]),
    ("?status=draft", ["mau-002"]),
    ("?type=multiple", ["mau-003"]),
    ("?competency=4.2&status=active", ["mau-003"]),
])
def test_filters(client, trainer, query, keys):
    page = client.get(f"/bank/{SLUG}/{query}").text
    shown = [key for key in ("mau-001", "mau-002", "mau-003") if f">{key}</a>" in page]
    assert shown == keys


def test_draw_shortfall_is_shown(client, trainer, course):
    db.session.scalar(select(Assessment)).draw = {"4.2": 3}
    db.session.commit()
    assert "rút 3 câu, chỉ có 1 câu đang dùng" in client.get(f"/bank/{SLUG}/").text


# --- Editing -----------------------------------------------------------------------------------

def single_form(q: Question, **changes) -> dict:
    data = {"competency": "4.1", "difficulty": "medium", "status": "active",
            "stem": q.stem_md, "explanation": q.explanation_md, "title": "",
            "content_hash": q.content_hash, "save": "Lưu",
            "options-0-text": "123456", "options-1-text": "Lúa-chín-vàng-2025!",
            "options-1-correct": "y", "options-2-text": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_edit_page_shows_the_question(client, trainer):
    q = question("mau-001")
    page = client.get(f"/bank/{SLUG}/questions/{q.id}").text
    assert "Mật khẩu nào mạnh nhất?" in page and "Lúa-chín-vàng-2025!" in page
    assert '<input checked id="options-1-correct"' in page
    assert '<input id="options-0-correct"' in page


def test_saving_an_edit_renders_it_once(client, trainer):
    q = question("mau-001")
    old_hash = q.content_hash
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=single_form(
        q, stem="Mật khẩu nào **mạnh** nhất?", **{"options-2-text": "matkhau",
                                                   "options-2-feedback": "Quá *ngắn*"}))
    assert response.status_code == 302
    q = question("mau-001")
    assert q.stem_md == "Mật khẩu nào **mạnh** nhất?"
    assert "<strong>mạnh</strong>" in q.stem_html
    assert [(o["id"], o["text_md"], o["weight"]) for o in q.data["options"]] == [
        ("a", "123456", 0), ("b", "Lúa-chín-vàng-2025!", 100), ("c", "matkhau", 0)]
    assert q.data["options"][2]["feedback_html"] == "<p>Quá <em>ngắn</em></p>"
    assert q.content_hash != old_hash and q.source == "file"


def test_preview_renders_without_saving(client, trainer):
    q = question("mau-001")
    data = single_form(q, stem="Có **đậm** không?", save=None, preview="Xem trước")
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=data)
    assert response.status_code == 200
    assert "Xem trước (chưa lưu)" in response.text and "<strong>đậm</strong>" in response.text
    assert "Có **đậm** không?" in response.text  # the textarea keeps the source
    assert question("mau-001").stem_md == "Mật khẩu nào mạnh nhất?"


def test_an_invalid_question_is_refused_and_the_text_kept(client, trainer):
    q = question("mau-001")
    data = single_form(q, stem="Sửa dở dang", **{"options-0-correct": "y"})
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=data)
    assert response.status_code == 422
    assert "cần đúng một phương án đúng (đang có 2)" in response.text
    assert "Sửa dở dang" in response.text
    assert question("mau-001").stem_md == "Mật khẩu nào mạnh nhất?"


def test_an_unknown_competency_is_refused(client, trainer):
    q = question("mau-001")
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=single_form(q, competency="9.9"))
    assert response.status_code == 422 and "không có trong khung 757" in response.text


def test_a_stale_edit_is_refused_with_409(client, trainer):
    q = question("mau-001")
    data = single_form(q, stem="Bản của tôi")
    q.stem_md = "Bản của người khác"
    q.content_hash = "someone-else"
    db.session.commit()
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=data)
    assert response.status_code == 409
    assert "vừa được người khác sửa" in response.text and "Bản của tôi" in response.text
    assert question("mau-001").stem_md == "Bản của người khác"


def test_retiring_a_question(client, trainer):
    q = question("mau-001")
    client.post(f"/bank/{SLUG}/questions/{q.id}", data=single_form(q, status="retired"))
    assert question("mau-001").status == "retired"


def test_multiple_response_weights_can_be_typed(client, trainer):
    q = question("mau-003")
    page = client.get(f"/bank/{SLUG}/questions/{q.id}").text
    assert re.search(r'<input id="options-0-weight"[^>]*value=""', page)  # marks, not weights
    data = {"competency": "4.2", "difficulty": "hard", "status": "active", "stem": q.stem_md,
            "content_hash": q.content_hash, "save": "Lưu",
            "options-0-text": "Mã OTP", "options-0-weight": "70",
            "options-1-text": "Mật khẩu", "options-1-weight": "30",
            "options-2-text": "Tên của bạn", "options-2-weight": "-100"}
    assert client.post(f"/bank/{SLUG}/questions/{q.id}", data=data).status_code == 302
    assert [o["weight"] for o in question("mau-003").data["options"]] == [70, 30, -100]
    data["options-1-weight"] = "ba mươi"
    data["content_hash"] = question("mau-003").content_hash
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=data)
    assert response.status_code == 422 and "phải là một số" in response.text


def test_someone_elses_question_id_is_404(client, trainer, course):
    other = Course(slug="khac")
    db.session.add(other)
    db.session.flush()
    stray = Question(course_id=other.id, key="x-1", competency_code="4.1", type="true_false",
                     stem_md="x", stem_html="x", data={"answer": True}, content_hash="h")
    db.session.add(stray)
    db.session.commit()
    assert client.get(f"/bank/{SLUG}/questions/{stray.id}").status_code == 404


# --- Adding ------------------------------------------------------------------------------------

def test_new_question_asks_for_the_type_first(client, trainer):
    page = client.get(f"/bank/{SLUG}/new").text
    for kind in ("single", "multiple", "true_false", "short_answer", "matching", "numerical"):
        assert f"type={kind}" in page


def test_adding_a_true_false_question(client, trainer, course):
    course_id = db.session.scalar(select(Course.id))
    page = client.get(f"/bank/{SLUG}/new?type=true_false").text
    assert 'value="web-001"' in page
    response = client.post(f"/bank/{SLUG}/new?type=true_false", data={
        "key": "web-001", "competency": "4.2", "difficulty": "easy", "status": "active",
        "stem": "Công an gọi video để làm việc.", "tf_answer": "false",
        "feedback_true": "Sai: công an không làm việc qua video.", "explanation": "Vì…",
        "save": "Lưu"})
    assert response.status_code == 302
    q = question("web-001")
    assert (q.type, q.source, q.course_id, q.data["answer"]) == ("true_false", "web", course_id, False)
    assert q.data["feedback_true_html"] == "<p>Sai: công an không làm việc qua video.</p>"


@pytest.mark.parametrize("kind, fields, check", [
    ("short_answer", {"answers": "deepfake\ndeep fake | 50", "match": "loose"},
     lambda d: d == {"answers": ["deepfake", {"text": "deep fake", "weight": 50, "feedback_md": ""}],
                     "match": "loose"}),
    ("matching", {"pairs-0-left": "a", "pairs-0-right": "1", "pairs-1-left": "b",
                  "pairs-1-right": "2", "pairs-2-left": "c", "pairs-2-right": "3",
                  "pairs-3-left": "", "pairs-3-right": ""},
     lambda d: [p["right"] for p in d["pairs"]] == ["1", "2", "3"]),
    ("numerical", {"numbers": "15:0,5"}, lambda d: d == {"answer": 15, "tolerance": 0.5}),
    ("numerical", {"numbers": "1..5\n6 | 50"},
     lambda d: [a.get("min", a.get("answer")) for a in d["answers"]] == [1, 6]),
])
def test_adding_each_typed_kind(client, trainer, kind, fields, check):
    data = {"key": f"web-{kind}", "competency": "4.1", "difficulty": "medium",
            "status": "draft", "stem": "Câu hỏi?", "save": "Lưu"}
    data.update(fields)
    response = client.post(f"/bank/{SLUG}/new?type={kind}", data=data)
    assert response.status_code == 302, response.text
    assert check(strip_html(question(f"web-{kind}").data))


def test_a_taken_key_is_refused(client, trainer):
    response = client.post(f"/bank/{SLUG}/new?type=true_false", data={
        "key": "mau-001", "competency": "4.2", "difficulty": "easy", "status": "active",
        "stem": "Trùng mã", "tf_answer": "true", "save": "Lưu"})
    assert response.status_code == 422 and "đã có trong ngân hàng" in response.text
    assert db.session.scalar(select(func.count(Question.id))) == 3


def test_matching_with_two_pairs_is_refused(client, trainer):
    response = client.post(f"/bank/{SLUG}/new?type=matching", data={
        "key": "web-m", "competency": "4.1", "difficulty": "easy", "status": "active",
        "stem": "Ghép", "pairs-0-left": "a", "pairs-0-right": "1", "pairs-1-left": "b",
        "pairs-1-right": "2", "save": "Lưu"})
    assert response.status_code == 422 and "ít nhất 3 cặp" in response.text


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_forms_need_the_csrf_token(client, auth, units, course):
    make_user(units[0], role="trainer", phone="+84912000009")
    forget_request_state()
    login_page = client.get("/login").text
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"identifier": "+84912000009", "password": "matkhau123",
                                "csrf_token": token})
    q = question("mau-001")
    response = client.post(f"/bank/{SLUG}/questions/{q.id}", data=single_form(q, stem="Không token"))
    assert response.status_code == 400
    response = client.post(f"/bank/{SLUG}/gift", data={
        "file": (io.BytesIO(b"::g-1:: Hai? {T}"), "a.gift")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert question("mau-001").stem_md == "Mật khẩu nào mạnh nhất?"
    assert question("g-1") is None


# --- GIFT upload and download --------------------------------------------------------------------

def upload(client, text: bytes, competency: str = ""):
    return client.post(f"/bank/{SLUG}/gift", data={"file": (io.BytesIO(text), "cau-hoi.gift"),
                                                    "competency": competency},
                       content_type="multipart/form-data")


def test_gift_upload_imports_and_reports_each_question(client, trainer):
    text = ("$CATEGORY: 757/4.2\n\n::g-1:: Có nên cho mã OTP? {F}\n\n"
            "::e-1:: Viết cảm nghĩ {}\n\n::g-2:: Chọn {=A ~B}\n").encode()
    response = upload(client, text)
    assert response.status_code == 200
    assert "2 câu mới" in response.text and "1 câu bị bỏ qua" in response.text
    assert "câu tự luận" in response.text
    assert question("g-1").source == "gift" and question("g-2").competency_code == "4.2"
    assert upload(client, text).status_code == 200  # again: nothing new
    assert db.session.scalar(select(func.count(Question.id))) == 5


def test_gift_upload_with_an_error_writes_nothing(client, trainer):
    text = "::g-1:: Một? {T}\n\n::g-2:: Hai?\n{=A ~B\n".encode()
    response = upload(client, text, competency="4.1")
    assert response.status_code == 422
    assert "Chưa nhập câu nào" in response.text
    assert '<td class="num">4</td>' in response.text  # the line of the unclosed brace
    assert question("g-1") is None


def test_gift_upload_uses_the_chosen_competency(client, trainer):
    assert upload(client, b"::g-1:: Mot? {T}", competency="6.1").status_code == 200
    assert question("g-1").competency_code == "6.1"
    response = upload(client, b"::g-2:: Hai? {T}")
    assert response.status_code == 422 and "chưa có năng lực" in response.text


def test_gift_upload_refuses_other_encodings_and_no_file(client, trainer):
    response = upload(client, "::g-1:: Câu hỏi? {T}".encode("utf-16"))
    assert response.status_code == 422 and "UTF-8" in response.text
    response = client.post(f"/bank/{SLUG}/gift", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Chọn tệp GIFT" in response.text


def test_gift_download(client, trainer):
    response = client.get(f"/bank/{SLUG}/export.gift")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "$CATEGORY: 757/4.1" in response.text and "::mau-001::" in response.text
