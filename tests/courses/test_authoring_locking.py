"""Two trainers editing at once: a save based on an old revision is refused, never merged
silently, and the refused text comes back in the form."""

from __future__ import annotations

import io
import re
import threading

import pytest
from sqlalchemy import func, select, update

from app.courses import authoring
from app.courses.models import CourseVersion, Lesson
from app.extensions import db
from tests.courses.test_authoring_helpers import (
    PNG,
    add_lesson,
    build_world,
    create_course,
    current,
    login,
)


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def draft(client, world):
    """A draft of xã A with one lesson, written by trainer A."""
    login(client, world.trainer_a)
    version = create_course(client)
    add_lesson(client, version, "Giới thiệu", "Bản đầu.\n")
    return current(version)


@pytest.fixture
def other(app, world):
    """A second browser, signed in as another trainer of the same commune."""
    client = app.test_client()
    login(client, world.trainer_a2)
    return client


def page_revision(html: str) -> str:
    return re.search(r'name="revision" type="hidden" value="(\d+)"', html).group(1)


def test_the_second_of_two_saves_gets_409_and_keeps_its_text(client, other, draft):
    lesson = draft.lessons[0]
    url = f"/author/lessons/{lesson.id}/edit"
    mine = page_revision(client.get(url).text)
    theirs = page_revision(other.get(url).text)
    assert mine == theirs
    first = client.post(url, data={"title": "Giới thiệu", "body": "Bản của A.\n", "revision": mine,
                                   "save": "Lưu bản nháp"})
    assert first.status_code == 302
    second = other.post(url, data={"title": "Lời mở đầu", "body": "Bản của B, viết cả buổi.\n",
                                   "revision": theirs, "save": "Lưu bản nháp"})
    assert second.status_code == 409
    assert "người khác (hoặc bạn ở một thẻ khác) vừa lưu một phiên bản mới hơn" in second.text
    assert "Bản của B, viết cả buổi." in second.text  # B loses nothing
    assert "Bản của A." in second.text  # and sees what A saved
    stored = db.session.get(Lesson, lesson.id)
    db.session.refresh(stored)
    assert (stored.title, stored.body_md) == ("Giới thiệu", "Bản của A.\n")
    # The refused form now carries the current revision: saving again is a deliberate choice.
    again = other.post(url, data={"title": "Lời mở đầu", "body": "Bản đã gộp.\n",
                                  "revision": page_revision(second.text), "save": "Lưu bản nháp"})
    assert again.status_code == 302
    db.session.refresh(stored)
    assert stored.body_md == "Bản đã gộp.\n"


def test_every_kind_of_draft_change_checks_the_revision(client, draft):
    stale = draft.revision - 1
    lesson = draft.lessons[0]
    hash_before = draft.content_hash
    attempts = {
        f"/author/versions/{draft.id}/edit": {"title": "Đổi tên", "topic": "safety",
                                              "audiences": ["citizen"], "unit_code": "XA-A",
                                              "save": "Lưu"},
        f"/author/versions/{draft.id}/lessons/new": {"title": "Bài mới", "save": "Lưu"},
        f"/author/lessons/{lesson.id}/edit": {"title": "Đổi", "body": "x", "save": "Lưu"},
        f"/author/lessons/{lesson.id}/move": {"direction": "down"},
        f"/author/lessons/{lesson.id}/delete": {},
        f"/author/versions/{draft.id}/publish": {},
    }
    for url, data in attempts.items():
        response = client.post(url, data={**data, "revision": stale})
        assert response.status_code == 409, url
        typed = "save" in data  # forms with text say it is kept; buttons say to redo
        expected = "Chưa lưu: người khác" if typed else "Chưa thực hiện: người khác"
        assert expected in response.text and "vừa lưu một phiên bản mới hơn" in response.text, url
    upload = client.post(f"/author/versions/{draft.id}/media", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(PNG), "a.png"), "revision": stale})
    assert upload.status_code == 409 and "Chưa thực hiện" in upload.text
    after = current(draft)
    assert (after.revision, after.content_hash, after.status) == (draft.revision, hash_before, "draft")
    assert [ls.title for ls in after.lessons] == ["Giới thiệu"] and after.media == {}


@pytest.mark.parametrize("revision", ["", "abc", "-1", "99"])
def test_a_missing_or_forged_revision_is_a_conflict(client, draft, revision):
    response = client.post(f"/author/lessons/{draft.lessons[0].id}/edit",
                           data={"title": "X", "body": "Y", "revision": revision, "save": "Lưu"})
    assert response.status_code == 409
    assert current(draft).lessons[0].title == "Giới thiệu"


def test_the_guarded_update_refuses_a_revision_changed_behind_our_back(app, world, draft):
    """Even when the in-memory copy still shows the old revision, the UPDATE finds no row."""
    version = db.session.get(CourseVersion, draft.id)
    lesson = version.lessons[0]
    with db.engine.begin() as conn:  # another process saves in between
        conn.execute(update(CourseVersion).where(CourseVersion.id == version.id)
                     .values(revision=CourseVersion.revision + 1))
    assert version.revision == draft.revision  # our stale copy
    with pytest.raises(authoring.EditConflict):
        authoring.update_lesson(world.trainer_a, lesson, draft.revision,
                                authoring.LessonFields(title="Muộn", body="Muộn.\n"))
    db.session.rollback()
    assert current(draft).lessons[0].body_md == "Bản đầu.\n"


def test_two_connections_claiming_one_revision_have_one_winner(app, draft):
    """The claim holds its lock until commit; the second waits, then matches no row."""
    statement = authoring.claim_statement(draft.id, draft.revision)
    db.session.remove()
    results: dict[str, int] = {}
    first = db.engine.connect()
    transaction = first.begin()
    results["first"] = first.execute(statement).rowcount

    def second_claim() -> None:
        with app.app_context(), db.engine.begin() as conn:
            results["second"] = conn.execute(statement).rowcount

    thread = threading.Thread(target=second_claim)
    thread.start()
    transaction.commit()
    first.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert results == {"first": 1, "second": 0}
    assert db.session.scalar(select(CourseVersion.revision)
                             .where(CourseVersion.id == draft.id)) == draft.revision + 1


def test_someone_publishing_meanwhile_refuses_the_edit_and_keeps_the_text(client, other, draft):
    lesson = draft.lessons[0]
    revision = page_revision(client.get(f"/author/lessons/{lesson.id}/edit").text)
    assert other.post(f"/author/versions/{draft.id}/publish",
                      data={"revision": current(draft).revision}).status_code == 302
    response = client.post(f"/author/lessons/{lesson.id}/edit", data={
        "title": "Giới thiệu", "body": "Đoạn tôi vừa viết.\n", "revision": revision, "save": "Lưu"})
    assert response.status_code == 409
    assert "đã được xuất bản nên không bao giờ thay đổi" in response.text
    assert "Đoạn tôi vừa viết." in response.text
    assert 'name="save"' not in response.text  # nothing to save into any more
    assert db.session.scalar(select(func.count(CourseVersion.id))) == 1


def test_an_import_over_the_draft_refuses_saves_from_editors_opened_before(
        client, world, runner, content_root):
    """`flask content import` refilling a draft counts as a save: open editors get 409."""
    assert runner.invoke(args=["content", "import", str(content_root)]).exit_code == 0
    db.session.expire_all()
    draft = db.session.scalar(select(CourseVersion))
    login(client, world.province_trainer)
    url = f"/author/versions/{draft.id}/edit"
    revision = page_revision(client.get(url).text)
    lesson = content_root / "courses" / "khoa-hoc-mau" / "02-dat-mat-khau.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nThêm từ tệp.\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert "khoa-hoc-mau: phiên bản mới" in result.output, result.output
    response = client.post(url, data={
        "title": "Đè lên bản nhập", "topic": "safety", "audiences": ["citizen"],
        "revision": revision, "save": "Lưu"})
    assert response.status_code == 409
    db.session.expire_all()
    stored = db.session.get(CourseVersion, draft.id)
    assert stored.title == "Khóa học mẫu: mật khẩu an toàn"
    assert "Thêm từ tệp." in stored.lessons[1].body_md
