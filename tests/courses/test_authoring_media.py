"""Images uploaded for a draft: only real PNG/JPG/WEBP/GIF under the size limit, never SVG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.courses import authoring
from app.courses.content import MEDIA_MAX_BYTES
from app.courses.models import Lesson, MediaFile
from app.extensions import db
from tests.courses.test_authoring_helpers import (
    GIF,
    JPG,
    PNG,
    WEBP,
    add_lesson,
    build_world,
    create_course,
    current,
    login,
)


@pytest.fixture
def draft(client, app):
    world = build_world()
    login(client, world.trainer_a)
    return create_course(client)


def upload(client, version, data: bytes, filename: str):
    """Post the file as a browser would. The body is encoded in memory: the test client's own
    encoder spools bodies over 500 KB to a temporary file that it never closes."""
    boundary, body = encode_multipart({
        "file": FileStorage(io.BytesIO(data), filename=filename),
        "revision": str(current(version).revision)})
    return client.post(f"/author/versions/{version.id}/media", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "media"
    return sorted(folder.glob("*")) if folder.exists() else []


@pytest.mark.parametrize(("data", "filename", "name"), [
    (PNG, "Sơ đồ bước 1.png", "media/so-do-buoc-1.png"),
    (JPG, "ảnh chụp.JPEG", "media/anh-chup.jpg"),
    (GIF, "hoat-hinh.gif", "media/hoat-hinh.gif"),
    (WEBP, "man hinh.webp", "media/man-hinh.webp"),
], ids=["png", "jpeg", "gif", "webp"])
def test_an_image_is_stored_and_its_snippet_shown(client, app, draft, data, filename, name):
    revision = draft.revision
    response = upload(client, draft, data, filename)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert f"Chép dòng sau vào bài học: ![mô tả]({name})" in page
    assert f'readonly>![mô tả]({name})</textarea>' in page
    version = current(draft)
    record = db.session.scalar(select(MediaFile))
    assert version.media == {name: record.stored_name}
    assert (Path(app.config["UPLOAD_DIR"]) / "media" / record.stored_name).read_bytes() == data
    assert version.revision == revision + 1


@pytest.mark.parametrize(("data", "filename", "status", "message"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "so-do.svg", 415,
     "Không nhận ảnh SVG: tệp SVG có thể chứa mã chạy trong trình duyệt của học viên."),
    (b'<?xml version="1.0"?><svg onload="alert(1)"/>', "gia-png.png", 415, "Không nhận ảnh SVG"),
    (b"MZ\x90\x00 not an image", "virus.exe", 415, "Chỉ nhận ảnh PNG, JPG, WEBP hoặc GIF."),
    (b"%PDF-1.7", "tai-lieu.pdf", 415, "Chỉ nhận ảnh PNG, JPG, WEBP hoặc GIF."),
    (b"<html><script>alert(1)</script></html>", "trang.png", 415,
     "Nội dung tệp không phải ảnh PNG như tên tệp ghi"),
    (JPG, "doi-duoi.png", 415, "Nội dung tệp không phải ảnh PNG như tên tệp ghi"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "am-thanh.webp", 415, "không phải ảnh WEBP"),
    (PNG, "khong-co-duoi", 415, "Chỉ nhận ảnh PNG, JPG, WEBP hoặc GIF."),
    (b"", "rong.png", 422, "Tệp rỗng"),
    (PNG + b"\x00" * MEDIA_MAX_BYTES, "qua-lon.png", 413, "Ảnh lớn hơn 2 MB."),
], ids=["svg", "svg-named-png", "exe", "pdf", "html-named-png", "jpeg-named-png", "wav-named-webp",
        "no-extension", "empty", "over-2mb"])
def test_refused_uploads_say_why_and_store_nothing(client, app, draft, data, filename, status, message):
    revision = draft.revision
    response = upload(client, draft, data, filename)
    assert response.status_code == status
    assert message in response.text
    assert db.session.scalar(select(func.count(MediaFile.id))) == 0
    assert stored_files(app) == []
    assert current(draft).media == {} and current(draft).revision == revision


def test_no_file_chosen(client, draft):
    response = client.post(f"/author/versions/{draft.id}/media", data={"revision": draft.revision})
    assert response.status_code == 422 and "Chọn một ảnh để tải lên." in response.text


@pytest.mark.options(MAX_CONTENT_LENGTH=64 * 1024)
def test_a_request_over_the_server_limit_gets_the_413_page(client, draft):
    response = upload(client, draft, PNG + b"\x00" * 100_000, "lon.png")
    assert response.status_code == 413 and "Tệp quá lớn" in response.text


def test_the_same_picture_twice_is_stored_once_and_names_never_clash(client, draft):
    upload(client, draft, PNG, "so-do.png")
    upload(client, draft, PNG, "ban-sao.png")
    other_png = PNG + b"khac"
    upload(client, draft, other_png, "so-do.png")
    version = current(draft)
    assert sorted(version.media) == ["media/so-do-2.png", "media/so-do.png"]
    assert db.session.scalar(select(func.count(MediaFile.id))) == 2


def test_lessons_show_the_image_once_uploaded_and_publishing_keeps_only_used_images(client, draft):
    lesson = add_lesson(client, draft, "Giới thiệu", "![Sơ đồ](media/so-do.png)\n")
    page = client.get(f"/author/versions/{draft.id}/").text
    assert "Bài “Giới thiệu” dùng ảnh media/so-do.png chưa được tải lên." in page
    upload(client, draft, PNG, "so-do.png")
    upload(client, draft, GIF, "thua.gif")
    record = db.session.scalar(select(MediaFile).where(MediaFile.extension == "png"))
    assert f'src="/media/{record.stored_name}"' in db.session.get(Lesson, lesson.id).body_html
    media_page = client.get(f"/author/versions/{draft.id}/media").text
    assert "Chưa dùng trong bài nào (sẽ không được xuất bản)" in media_page
    version = current(draft)
    response = client.post(f"/author/versions/{draft.id}/publish", data={"revision": version.revision})
    assert response.status_code == 302
    assert current(draft).media == {"media/so-do.png": record.stored_name}


def test_images_must_be_used_in_a_lesson_to_appear_in_the_introduction(client, draft):
    add_lesson(client, draft, "Giới thiệu")
    upload(client, draft, PNG, "bia.png")
    problems = authoring.draft_problems(current(draft))
    assert problems == []
    version = current(draft)
    version.intro_md = "![Bìa](media/bia.png)\n"
    (problem,) = authoring.draft_problems(version)
    assert str(problem).startswith("Ảnh media/bia.png trong lời giới thiệu phải được dùng")
    db.session.rollback()


def test_image_type_checks_bytes_not_names():
    assert authoring.image_type("a.PNG", PNG) == "png"
    assert authoring.image_type("a.jpeg", JPG) == "jpg"
    with pytest.raises(authoring.MediaRefused) as info:
        authoring.image_type("a.gif", PNG)
    assert info.value.status == 415
