"""Every HTTP error is a Vietnamese page with the right status (or JSON when asked), never a traceback."""

from __future__ import annotations

import pytest
from flask import abort

from tests.factories import make_unit, make_user

SECRET = "bí-mật-nội-bộ-không-được-lộ"


@pytest.fixture
def routes(app):
    """Test-only routes that fail in the ways the real ones can."""

    def forbidden():
        abort(403)

    def crash():
        raise RuntimeError(SECRET)

    app.add_url_rule("/_test/forbidden", "test_forbidden", forbidden)
    app.add_url_rule("/_test/crash", "test_crash", crash)
    return app


def assert_vietnamese_error_page(response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.text
    assert '<html lang="vi">' in body
    assert f'<p class="error-code">{status}</p>' in body
    assert f"<h1>{title}</h1>" in body
    assert 'href="/"' in body  # a way back home
    for leak in ("Traceback", "werkzeug", "RuntimeError", SECRET, "File \""):
        assert leak not in body


class TestHtmlErrorPages:
    @pytest.mark.options(WTF_CSRF_ENABLED=True)
    def test_400_missing_csrf_token(self, client):
        response = client.post("/login", data={"identifier": "0912345678", "password": "x"})
        assert_vietnamese_error_page(response, 400, "Yêu cầu không hợp lệ")

    def test_403(self, client, routes):
        assert_vietnamese_error_page(client.get("/_test/forbidden"), 403, "Không có quyền truy cập")

    def test_404_unknown_page(self, client):
        assert_vietnamese_error_page(client.get("/khong-co/trang-nay"), 404, "Không tìm thấy trang")

    def test_404_person_outside_scope(self, client, auth, app):
        commune_a = make_unit("A1")
        commune_b = make_unit("B1")
        make_user(commune_a, role="officer", phone="+84912000001")
        stranger = make_user(commune_b, phone="+84912000002")
        auth.login("0912000001")
        response = client.get(f"/people/{stranger.id}")
        assert_vietnamese_error_page(response, 404, "Không tìm thấy trang")

    def test_405_get_on_logout(self, client):
        response = client.get("/logout")
        assert_vietnamese_error_page(response, 405, "Thao tác không được hỗ trợ")
        assert "POST" in response.headers["Allow"]

    @pytest.mark.options(MAX_CONTENT_LENGTH=1024)
    def test_413_upload_too_large(self, client):
        response = client.post("/login", data={"identifier": "x" * 5000, "password": "y"})
        assert_vietnamese_error_page(response, 413, "Tệp quá lớn")

    @pytest.mark.options(LOGIN_LIMIT_PER_IDENTIFIER="2 per minute")
    def test_429_too_many_logins(self, client):
        statuses = [
            client.post("/login", data={"identifier": "0912 345 678", "password": "sai123456"})
            .status_code for _ in range(2)
        ]
        assert statuses == [401, 401]
        response = client.post("/login", data={"identifier": "0912345678", "password": "sai123456"})
        assert_vietnamese_error_page(response, 429, "Thao tác quá nhiều lần")

    def test_500_unexpected_exception(self, client, routes):
        assert_vietnamese_error_page(client.get("/_test/crash"), 500, "Lỗi hệ thống")


class TestJsonErrors:
    @pytest.mark.parametrize(("path", "method", "status"), [
        ("/khong-co", "get", 404),
        ("/logout", "get", 405),
        ("/_test/forbidden", "get", 403),
        ("/_test/crash", "get", 500),
    ])
    def test_json_when_accept_asks_for_it(self, client, routes, path, method, status):
        response = getattr(client, method)(path, headers={"Accept": "application/json"})
        assert response.status_code == status
        assert response.mimetype == "application/json"
        assert response.json["error"] == status
        assert response.json["title"] and response.json["message"]
        assert SECRET not in response.text

    @pytest.mark.parametrize("accept", [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser
        "*/*",
        "text/html, application/json",
        "application/json;q=0.5, text/html",
    ])
    def test_html_unless_json_is_preferred(self, client, accept):
        response = client.get("/khong-co", headers={"Accept": accept})
        assert response.status_code == 404
        assert response.mimetype == "text/html"


def test_error_page_survives_a_broken_layout(client, routes, app, monkeypatch):
    """When the layout itself fails (say the database is down), a bare Vietnamese page still answers."""
    import app.main.errors as errors

    def broken(*args, **kwargs):
        raise RuntimeError("layout broke")

    monkeypatch.setattr(errors, "render_template", broken)
    response = client.get("/khong-co")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text
    assert "layout broke" not in response.text and "Traceback" not in response.text
