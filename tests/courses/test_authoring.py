"""Trainer authoring through the pages: courses, lessons, preview, order, publish, archive."""

from __future__ import annotations

import io
import shutil

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.courses import authoring
from app.courses.content import load_course, load_framework_codes
from app.courses.models import Course, CourseVersion, Lesson, LessonProgress
from app.extensions import db
from tests.courses.test_authoring_helpers import (
    PNG,
    add_lesson,
    build_world,
    course_form,
    create_course,
    current,
    in_catalog,
    login,
)


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def trainer(client, world):
    login(client, world.trainer_a)
    return world.trainer_a


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def publish(client, version):
    version = current(version)
    return client.post(f"/author/versions/{version.id}/publish", data={"revision": version.revision})


def edit_lesson(client, lesson, **data):
    version = current(lesson.version)
    form = {"title": lesson.title, "est_minutes": str(lesson.est_minutes), "body": lesson.body_md,
            "revision": version.revision, "save": "Lưu bản nháp"}
    form.update(data)
    return client.post(f"/author/lessons/{lesson.id}/edit", data=form)


def start_editing(client, course_id: int) -> CourseVersion:
    response = client.post(f"/author/courses/{course_id}/draft")
    assert response.status_code == 302
    return db.session.get(CourseVersion, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))


# --- Creating a course ---------------------------------------------------------------------

def test_creating_a_course_makes_an_empty_draft(client, trainer, world):
    version = create_course(client)
    course = version.course
    assert (course.slug, course.unit_id, course.is_archived) == ("dung-zalo-an-toan", world.a.id, False)
    assert (version.number, version.status, version.revision) == (1, "draft", 1)
    assert version.title == "Dùng Zalo an toàn" and version.topic == "safety"
    assert version.audiences == ["citizen", "student"]
    assert version.competencies == ["4.1", "4.2"] and version.est_minutes == 30
    assert version.created_by_id == trainer.id and len(version.content_hash) == 64
    assert db.session.scalar(select(AuditLog.action)) == "course.create"
    # A draft is not for learners.
    assert not in_catalog(client, "dung-zalo-an-toan")
    assert client.get("/courses/dung-zalo-an-toan/").status_code == 404
    assert "dung-zalo-an-toan" in client.get("/author/").text


def test_the_slug_is_made_from_the_title_when_left_empty(client, trainer):
    create_course(client, slug="", title="Đăng ký tài khoản VNeID")
    assert db.session.scalar(select(Course.slug)) == "dang-ky-tai-khoan-vneid"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": "   "}, "title", "Nhập tên khóa học."),
    ({"title": "x" * 201}, "title", "Tên dài quá 200 ký tự."),
    ({"slug": "Khóa Học Mới"}, "slug", "Gợi ý: khoa-hoc-moi"),
    ({"competencies": ["4.1", "9.9"]}, "competencies", "Mã năng lực 9.9 không có trong khung 757."),
    ({"audiences": []}, "audiences", "Chọn ít nhất một đối tượng học viên."),
    ({"audiences": ["alien"]}, "audiences", "Chọn đối tượng trong danh sách."),
    ({"est_minutes": "nửa giờ"}, "est_minutes", "Thời lượng là số phút, từ 0 đến 1000."),
    ({"est_minutes": "1001"}, "est_minutes", "Thời lượng là số phút, từ 0 đến 1000."),
    ({"topic": "xyz"}, "topic", "Chọn chủ đề trong danh sách."),
])
def test_bad_course_input_is_refused_and_kept(client, trainer, overrides, field, message):
    response = client.post("/author/courses/new", data=course_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert "Nhận biết tin nhắn lừa đảo trên Zalo." in response.text  # what was typed stays
    assert count(Course) == 0 and count(CourseVersion) == 0


def test_a_duplicate_slug_is_refused(client, trainer):
    create_course(client)
    response = client.post("/author/courses/new", data=course_form(title="Khóa khác"))
    assert response.status_code == 422
    assert "Đường dẫn “dung-zalo-an-toan” đã có khóa học khác dùng" in response.text
    assert count(Course) == 1


# --- Course details and introduction ----------------------------------------------------------

def test_course_details_preview_then_save(client, trainer):
    version = create_course(client)
    form = course_form(title="Zalo an toàn", intro="Chào **bạn**.\n\n!!! tip \"Mẹo\"\n    Hỏi con cháu.",
                       revision=version.revision)
    page = client.post(f"/author/versions/{version.id}/edit", data={**form, "preview": "Xem trước"})
    assert page.status_code == 200
    assert "<strong>bạn</strong>" in page.text and 'class="admonition tip"' in page.text
    assert current(version).title == "Dùng Zalo an toàn" and current(version).revision == 1
    saved = client.post(f"/author/versions/{version.id}/edit", data={**form, "save": "Lưu bản nháp"})
    assert saved.status_code == 302
    version = current(version)
    assert version.title == "Zalo an toàn" and version.revision == 2
    assert "<strong>bạn</strong>" in version.intro_html and version.intro_md.startswith("Chào **bạn**.")


def test_course_details_edit_refuses_bad_input_and_keeps_it(client, trainer):
    version = create_course(client)
    form = course_form(title="", intro="Lời giới thiệu dài công phu.", revision=version.revision,
                       save="Lưu bản nháp")
    response = client.post(f"/author/versions/{version.id}/edit", data=form)
    assert response.status_code == 422
    assert "Nhập tên khóa học." in response.text and "Lời giới thiệu dài công phu." in response.text
    assert current(version).revision == 1


# --- Lessons -------------------------------------------------------------------------------------

def test_lesson_preview_renders_through_the_pipeline_and_saves_nothing(client, trainer):
    version = create_course(client)
    lesson = add_lesson(client, version, "Giới thiệu", "Cũ.\n")
    body = '!!! warning "Cảnh báo"\n    Không đưa mã OTP.\n\n<script>alert(1)</script>\n[x](javascript:alert(1))'
    response = edit_lesson(client, lesson, body=body, save=None, preview="Xem trước")
    assert response.status_code == 200
    assert 'class="admonition warning"' in response.text and "Không đưa mã OTP." in response.text
    preview = response.text[response.text.index('id="preview-title"'):]
    assert "<script>" not in preview and "javascript:" not in preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text  # still in the textarea
    assert db.session.get(Lesson, lesson.id).body_md == "Cũ.\n"
    assert current(version).revision == 2


def test_lessons_are_rendered_when_saved(client, trainer):
    version = create_course(client)
    first = add_lesson(client, version, "Giới thiệu", "Xem [bài sau](02-cai-dat.md).\n")
    add_lesson(client, version, "Cài đặt", "## Đăng ký tài khoản\n")
    first = db.session.get(Lesson, first.id)
    assert 'href="/courses/dung-zalo-an-toan/lessons/cai-dat"' in first.body_html
    assert len(first.html_hash) == 64
    second = db.session.scalar(select(Lesson).where(Lesson.slug == "cai-dat"))
    assert '<h2 id="dang-ky-tai-khoan">' in second.body_html


def test_lesson_slugs_come_from_titles_are_unique_and_survive_renaming(client, trainer):
    version = create_course(client)
    first = add_lesson(client, version, "Đăng ký tài khoản")
    second = add_lesson(client, version, "Đăng ký tài khoản")
    assert (first.slug, second.slug) == ("dang-ky-tai-khoan", "dang-ky-tai-khoan-2")
    assert edit_lesson(client, first, title="Tạo tài khoản VNeID").status_code == 302
    renamed = db.session.get(Lesson, first.id)
    assert (renamed.title, renamed.slug) == ("Tạo tài khoản VNeID", "dang-ky-tai-khoan")


def test_bad_lesson_input_is_refused_and_the_text_kept(client, trainer):
    version = create_course(client)
    response = client.post(f"/author/versions/{version.id}/lessons/new", data={
        "title": "", "est_minutes": "-3", "body": "Một bài rất công phu.", "save": "Lưu bản nháp",
        "revision": version.revision})
    assert response.status_code == 422
    assert "Nhập tên bài học." in response.text and "Thời lượng là số phút" in response.text
    assert "Một bài rất công phu." in response.text
    assert count(Lesson) == 0 and current(version).revision == 1


def test_a_lesson_over_the_length_limit_is_refused(client, trainer):
    version = create_course(client)
    response = client.post(f"/author/versions/{version.id}/lessons/new", data={
        "title": "Dài", "body": "chữ " * 20_000, "save": "Lưu", "revision": version.revision})
    assert response.status_code == 422
    assert "Bài học dài quá 60000 ký tự; hãy chia thành nhiều bài ngắn." in response.text
    assert count(Lesson) == 0


def test_moving_lessons_renumbers_them_and_the_links_between_them(client, trainer):
    version = create_course(client)
    a = add_lesson(client, version, "Bài A", "Tiếp theo: [C](03-bai-c.md#buoc-1), [B][b].\n\n[b]: 02-bai-b.md\n")
    b = add_lesson(client, version, "Bài B")
    c = add_lesson(client, version, "Bài C")
    response = client.post(f"/author/lessons/{c.id}/move",
                           data={"direction": "up", "revision": current(version).revision})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#bai-{c.id}")
    order = [(ls.position, ls.slug) for ls in current(version).lessons]
    assert order == [(1, "bai-a"), (2, "bai-c"), (3, "bai-b")]
    body = db.session.get(Lesson, a.id).body_md
    assert "[C](02-bai-c.md#buoc-1)" in body and "[b]: 03-bai-b.md" in body
    # The first lesson cannot go higher; nothing moves.
    client.post(f"/author/lessons/{a.id}/move", data={"direction": "up", "revision": current(version).revision})
    assert [ls.slug for ls in current(version).lessons] == ["bai-a", "bai-c", "bai-b"]
    client.post(f"/author/lessons/{a.id}/move", data={"direction": "down", "revision": current(version).revision})
    assert [ls.slug for ls in current(version).lessons] == ["bai-c", "bai-a", "bai-b"]
    assert b.id  # untouched lesson keeps its row


def test_deleting_a_lesson_asks_first_then_closes_the_gap(client, trainer):
    version = create_course(client)
    add_lesson(client, version, "Bài A")
    b = add_lesson(client, version, "Bài B")
    add_lesson(client, version, "Bài C", "Xem [A](01-bai-a.md).\n")
    confirm = client.get(f"/author/lessons/{b.id}/delete")
    assert confirm.status_code == 200 and "Xóa bài “Bài B”?" in confirm.text
    assert count(Lesson) == 3
    response = client.post(f"/author/lessons/{b.id}/delete", data={"revision": current(version).revision})
    assert response.status_code == 302
    assert [(ls.position, ls.slug) for ls in current(version).lessons] == [(1, "bai-a"), (2, "bai-c")]


# --- Publishing --------------------------------------------------------------------------------

def test_a_course_without_lessons_cannot_be_published(client, trainer):
    version = create_course(client)
    page = client.get(f"/author/versions/{version.id}/publish")
    assert "Khóa học chưa có bài học nào" in page.text
    response = publish(client, version)
    assert response.status_code == 422
    assert current(version).status == "draft"


def test_publishing_makes_the_draft_the_version_learners_see(client, trainer, world):
    version = create_course(client)
    add_lesson(client, version, "Giới thiệu", "Xin chào.\n")
    page = client.get(f"/author/versions/{version.id}/publish")
    assert "Học viên giữ tiến độ ở các bài giữ nguyên đường dẫn" in page.text
    response = publish(client, version)
    assert response.status_code == 302
    version = current(version)
    assert (version.status, version.published_by_id) == ("published", trainer.id)
    assert version.published_at is not None
    assert in_catalog(client, "dung-zalo-an-toan")
    assert "Xin chào." in client.get("/courses/dung-zalo-an-toan/lessons/gioi-thieu").text
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "course.publish")).one()
    assert audit.details["version"] == 1 and audit.target == "course:dung-zalo-an-toan"


def test_publishing_twice_makes_one_version(client, trainer):
    version = create_course(client)
    add_lesson(client, version, "Giới thiệu")
    revision = current(version).revision
    first = client.post(f"/author/versions/{version.id}/publish", data={"revision": revision})
    second = client.post(f"/author/versions/{version.id}/publish", data={"revision": revision})
    assert first.status_code == second.status_code == 302
    assert count(CourseVersion) == 1
    assert current(version).status == "published"
    assert "Phiên bản 1 đã được xuất bản rồi." in client.get(second.headers["Location"]).text
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "course.publish")) == 1


def test_a_link_to_a_missing_lesson_blocks_publishing(client, trainer):
    version = create_course(client)
    add_lesson(client, version, "Giới thiệu", "Xem [bài cũ](07-bai-cu.md).\n")
    response = publish(client, version)
    assert response.status_code == 422
    assert "Bài “Giới thiệu” liên kết tới bài không tồn tại: 07-bai-cu.md" in response.text
    assert current(version).status == "draft"


# --- New versions ----------------------------------------------------------------------------------

@pytest.fixture
def published(client, trainer):
    """dung-zalo-an-toan v1, published, with two lessons."""
    version = create_course(client)
    add_lesson(client, version, "Giới thiệu", "Bản một.\n")
    add_lesson(client, version, "Cài đặt", "Cài Zalo.\n")
    assert publish(client, version).status_code == 302
    return current(version)


def test_start_editing_copies_the_published_version_into_a_new_draft(client, published):
    draft = start_editing(client, published.course_id)
    assert (draft.number, draft.status, draft.revision) == (2, "draft", 1)
    assert [ls.slug for ls in draft.lessons] == ["gioi-thieu", "cai-dat"]
    assert draft.content_hash == published.content_hash
    # Starting again opens the same draft.
    assert start_editing(client, published.course_id).id == draft.id
    assert count(CourseVersion) == 2


def test_two_trainers_starting_the_same_draft_share_it(client, published, monkeypatch):
    """The second insert of draft v2 hits the unique (course, number): it opens the first."""
    draft = start_editing(client, published.course_id)
    real = authoring.services.latest_version
    answers = iter([published])  # the first look still sees v1 as the newest: the race

    monkeypatch.setattr(authoring.services, "latest_version",
                        lambda course: next(answers, None) or real(course))
    response = client.post(f"/author/courses/{published.course_id}/draft")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/author/versions/{draft.id}/")
    assert count(CourseVersion) == 2


def test_a_published_version_never_changes(client, published):
    draft = start_editing(client, published.course_id)
    lesson = draft.lessons[0]
    assert edit_lesson(client, lesson, body="Bản hai.\n").status_code == 302
    v1 = current(published)
    assert v1.lessons[0].body_md == "Bản một.\n" and v1.status == "published"
    learner_page = client.get("/courses/dung-zalo-an-toan/lessons/gioi-thieu").text
    assert "Bản một." in learner_page and "Bản hai." not in learner_page
    assert publish(client, draft).status_code == 302
    assert "Bản hai." in client.get("/courses/dung-zalo-an-toan/lessons/gioi-thieu").text
    assert current(published).lessons[0].body_md == "Bản một.\n"


def test_editing_a_published_version_by_url_is_refused(client, published):
    lesson = published.lessons[0]
    for url in (f"/author/versions/{published.id}/", f"/author/versions/{published.id}/edit",
                f"/author/versions/{published.id}/lessons/new", f"/author/versions/{published.id}/media",
                f"/author/lessons/{lesson.id}/edit", f"/author/lessons/{lesson.id}/delete"):
        response = client.get(url)
        assert response.status_code == 409, url
        assert "đã được xuất bản nên không bao giờ thay đổi" in response.text
    for action in ({"save": "Lưu"}, {"save": None, "preview": "Xem trước"}):
        response = edit_lesson(client, lesson, body="Sửa lén.\n", revision=published.revision, **action)
        assert response.status_code == 409
        assert "Sửa lén." in response.text  # the text is given back, not lost
        assert 'name="save"' not in response.text and 'id="preview-title"' not in response.text
    for url, data in ((f"/author/lessons/{lesson.id}/move", {"direction": "down"}),
                      (f"/author/lessons/{lesson.id}/delete", {}),
                      (f"/author/versions/{published.id}/discard", {})):
        assert client.post(url, data={"revision": published.revision, **data}).status_code == 409, url
    v1 = current(published)
    assert v1.lessons[0].body_md == "Bản một.\n" and [ls.slug for ls in v1.lessons] == ["gioi-thieu", "cai-dat"]


def test_an_unchanged_draft_is_not_published_and_can_be_discarded(client, published):
    draft = start_editing(client, published.course_id)
    response = publish(client, draft)
    assert response.status_code == 422
    assert "Bản nháp chưa có thay đổi nào so với phiên bản 1 đang xuất bản." in response.text
    response = client.post(f"/author/versions/{draft.id}/discard", data={"revision": current(draft).revision})
    assert response.status_code == 302
    assert count(CourseVersion) == 1
    assert "Bắt đầu sửa (tạo bản nháp v2)" in client.get(response.headers["Location"]).text


def test_the_first_draft_cannot_be_discarded(client, trainer):
    version = create_course(client)
    response = client.post(f"/author/versions/{version.id}/discard", data={"revision": version.revision})
    assert response.status_code == 422
    assert count(CourseVersion) == 1


def test_new_lessons_never_reuse_an_old_slug(client, published):
    """A lesson removed and re-added starts afresh: old done marks do not carry over."""
    draft = start_editing(client, published.course_id)
    first = draft.lessons[0]
    client.post(f"/author/lessons/{first.id}/delete", data={"revision": current(draft).revision})
    again = add_lesson(client, current(draft), "Giới thiệu")
    assert again.slug == "gioi-thieu-2"


def test_learners_keep_progress_in_lessons_that_keep_their_slug(client, published, world):
    client.post("/logout")
    login(client, world.learner)
    client.post("/courses/dung-zalo-an-toan/lessons/gioi-thieu/done")
    client.post("/courses/dung-zalo-an-toan/lessons/cai-dat/done")
    client.post("/logout")
    login(client, world.trainer_a)
    draft = start_editing(client, published.course_id)
    intro, setup = draft.lessons
    edit_lesson(client, intro, title="Mở đầu", body="Viết lại hoàn toàn.\n")
    client.post(f"/author/lessons/{setup.id}/delete", data={"revision": current(draft).revision})
    add_lesson(client, current(draft), "Chặn người lạ")
    page = client.get(f"/author/versions/{draft.id}/publish").text
    assert "Giữ tiến độ (1 bài): Mở đầu" in page
    assert "Bài mới, chưa ai học (1): Chặn người lạ" in page
    assert "Bài bị bỏ, không còn tính (1): Cài đặt" in page
    assert publish(client, draft).status_code == 302
    client.post("/logout")
    login(client, world.learner)
    course_page = client.get("/courses/dung-zalo-an-toan/").text
    assert "Đã học 50%" in course_page
    assert count(LessonProgress) == 2  # nothing deleted: the removed lesson's mark stays on record


def test_history_shows_who_created_and_published_each_version(client, published, world):
    client.post("/logout")
    login(client, world.trainer_a2)
    draft = start_editing(client, published.course_id)
    page = client.get(f"/author/courses/{published.course_id}/").text
    history = page[page.index('id="lich-su"'):]
    assert history.index('<td class="num">2</td>') < history.index('<td class="num">1</td>')
    assert "Phạm Thị Tư" in history and "Lê Văn Ba" in history
    assert published.content_hash[:12] in history and draft.content_hash[:12] in history
    assert "Bản nháp" in history and "Đã xuất bản" in history


# --- Archiving -----------------------------------------------------------------------------------

def test_archiving_hides_the_course_and_keeps_progress(client, published, world):
    client.post("/logout")
    login(client, world.learner)
    client.post("/courses/dung-zalo-an-toan/lessons/gioi-thieu/done")
    client.post("/logout")
    login(client, world.trainer_a)
    response = client.post(f"/author/courses/{published.course_id}/archive")
    assert response.status_code == 302
    course = db.session.get(Course, published.course_id)
    assert course.is_archived and course.archived_at is not None
    assert not in_catalog(client, "dung-zalo-an-toan")
    assert client.get("/courses/dung-zalo-an-toan/lessons/gioi-thieu").status_code == 404
    assert "Đã lưu trữ" in client.get("/author/").text
    assert count(LessonProgress) == 1
    client.post(f"/author/courses/{published.course_id}/unarchive")
    db.session.expire_all()
    assert db.session.get(Course, published.course_id).archived_at is None
    assert in_catalog(client, "dung-zalo-an-toan")
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["course.archive", "course.unarchive"]


# --- The file format round trip ------------------------------------------------------------------

def test_a_course_written_in_the_browser_exports_and_reimports_unchanged(client, trainer, runner, tmp_path):
    version = create_course(client)
    upload = client.post(f"/author/versions/{version.id}/media", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(PNG), "Sơ đồ.png"),
                               "revision": current(version).revision})
    assert upload.status_code == 302
    add_lesson(client, version, "Giới thiệu",
               "## Mật khẩu\r\n\r\n![Sơ đồ](media/so-do.png)\r\n\r\nTiếp: [bài 2](02-dat-mat-khau.md)\r\n\r\n\r\n")
    add_lesson(client, version, "Đặt mật khẩu", "| a | b |\n|--|--|\n| 1 | 2 |\n")
    assert publish(client, version).status_code == 302
    version = current(version)
    out = tmp_path / "export"
    result = runner.invoke(args=["content", "export", "dung-zalo-an-toan", str(out)])
    assert result.exit_code == 0, result.output
    codes = load_framework_codes(authoring.content_dir() / "frameworks" / "757-qd-bkhcn.yaml")
    assert load_course(out / "dung-zalo-an-toan", codes).content_hash == version.content_hash
    root = tmp_path / "content"
    shutil.copytree(authoring.content_dir() / "frameworks", root / "frameworks")
    shutil.copytree(out, root / "courses")
    again = runner.invoke(args=["content", "import", str(root)])
    assert "dung-zalo-an-toan: không đổi" in again.output, again.output
    assert count(CourseVersion) == 1


def test_an_imported_course_edited_in_the_browser_round_trips(client, world, runner, content_root, tmp_path):
    result = runner.invoke(args=["content", "import", str(content_root), "--publish"])
    assert result.exit_code == 0, result.output
    course = db.session.scalar(select(Course).where(Course.slug == "khoa-hoc-mau"))
    login(client, world.province_trainer)
    draft = start_editing(client, course.id)
    # Saving the details unchanged changes nothing that matters.
    form = {**vars(authoring.course_fields_of(draft)), "revision": draft.revision, "save": "Lưu"}
    assert client.post(f"/author/versions/{draft.id}/edit", data=form).status_code == 302
    assert current(draft).content_hash == current(draft).course.versions[0].content_hash
    second = current(draft).lessons[1]
    first = current(draft).lessons[0]
    client.post(f"/author/lessons/{second.id}/move", data={"direction": "up", "revision": current(draft).revision})
    edit_lesson(client, db.session.get(Lesson, second.id), body="Bài ngắn hơn.\n")
    assert "(02-dat-mat-khau.md)" not in db.session.get(Lesson, first.id).body_md
    assert "(01-dat-mat-khau.md)" in db.session.get(Lesson, first.id).body_md
    assert publish(client, draft).status_code == 302
    history = client.get(f"/author/courses/{course.id}/").text
    assert "Nhập từ tệp" in history and "Dòng lệnh" in history  # v1 came from files
    assert "Nguyễn Thị Hồng Nhung" in history  # v2 from the browser
    out = tmp_path / "export"
    runner.invoke(args=["content", "export", "khoa-hoc-mau", str(out)])
    shutil.rmtree(content_root / "courses" / "khoa-hoc-mau")
    shutil.copytree(out / "khoa-hoc-mau", content_root / "courses" / "khoa-hoc-mau")
    again = runner.invoke(args=["content", "import", str(content_root)])
    assert "khoa-hoc-mau: không đổi" in again.output, again.output


# --- Pure pieces -------------------------------------------------------------------------------

def test_markdown_is_normalized_as_a_file_import_reads_it():
    assert authoring.normalize_markdown("\r\n\r\nA\r\nB\r\n\r\n") == "A\nB\n"
    assert authoring.normalize_markdown("") == "\n"
    assert authoring.normalize_markdown("Tie\u0302\u0301ng\x00 Vie\u0323\u0302t") == "Tiếng Việt\n"


def test_renumber_links_touches_only_links_to_known_lessons():
    text = ("[a](03-ba.md) [b](03-ba.md#muc) ![h](media/03-ba.md) [c](09-khac.md)\n"
            "[ref]: 03-ba.md\n`03-ba.md` stays in prose.\n")
    fixed = authoring.renumber_links(text, {"ba": 1})
    assert fixed == ("[a](01-ba.md) [b](01-ba.md#muc) ![h](media/03-ba.md) [c](09-khac.md)\n"
                     "[ref]: 01-ba.md\n`03-ba.md` stays in prose.\n")


def test_new_lesson_slugs():
    assert authoring.new_lesson_slug("Đăng ký tài khoản", set()) == "dang-ky-tai-khoan"
    assert authoring.new_lesson_slug("Đăng ký", {"dang-ky", "dang-ky-2"}) == "dang-ky-3"
    assert authoring.new_lesson_slug("!!!", set()) == "muc"
    assert len(authoring.new_lesson_slug("dài " * 100, set())) <= 80
