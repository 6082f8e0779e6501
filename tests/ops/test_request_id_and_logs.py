"""Every request has an id (a sane incoming one, else new), echoed and carried by log lines."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import current_app

from app.config import ConfigError, load_settings
from app.ops.logs import request_id_from
from tests.assessments.factories import quick_user
from tests.factories import PASSWORD, make_unit

GENERATED = re.compile(r"[0-9a-f]{32}")


def add_logging_route(app) -> None:
    def shout():
        current_app.logger.warning("đang xử lý yêu cầu")
        return "ok"

    app.add_url_rule("/_log_something", "log_something", shout)


class TestRequestId:
    def test_sane_incoming_id_is_kept_and_echoed(self, client):
        response = client.get("/healthz", headers={"X-Request-ID": "lb-2026.12_07-abc"})
        assert response.headers["X-Request-ID"] == "lb-2026.12_07-abc"

    @pytest.mark.parametrize("incoming", [
        "a" * 65, "có dấu", "a b", "x;rm -rf", "tab\there", "", "../etc",
    ])
    def test_unsafe_incoming_id_is_replaced(self, client, incoming):
        response = client.get("/healthz", headers={"X-Request-ID": incoming})
        assert GENERATED.fullmatch(response.headers["X-Request-ID"])

    def test_each_request_gets_its_own_id(self, client):
        ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
        assert len(ids) == 3 and all(GENERATED.fullmatch(i) for i in ids)

    def test_error_pages_carry_the_id_too(self, client):
        response = client.get("/khong-co-trang-nay", headers={"X-Request-ID": "req-404"})
        assert response.status_code == 404
        assert response.headers["X-Request-ID"] == "req-404"

    def test_limit_is_64_characters(self):
        assert request_id_from("a" * 64) == "a" * 64
        assert request_id_from("a" * 65) != "a" * 65
        assert GENERATED.fullmatch(request_id_from("id\r\nSet-Cookie: a=b"))
        assert GENERATED.fullmatch(request_id_from(None))


class TestPlainTextLogs:
    def test_lines_carry_the_request_id(self, app, client, capsys):
        add_logging_route(app)
        client.get("/_log_something", headers={"X-Request-ID": "trace-42"})
        line = next(s for s in capsys.readouterr().err.splitlines() if "đang xử lý" in s)
        assert "[trace-42]" in line and "WARNING" in line and not line.startswith("{")

    def test_outside_a_request_the_id_is_a_dash(self, app, capsys):
        app.logger.warning("chạy lệnh")
        line = next(s for s in capsys.readouterr().err.splitlines() if "chạy lệnh" in s)
        assert "[-]" in line

    def test_no_access_line_unless_asked(self, client, capsys):
        client.get("/healthz")
        assert "app.access" not in capsys.readouterr().err


@pytest.mark.options(LOG_FORMAT="json", LOG_REQUESTS=True)
class TestJsonLogs:
    def json_lines(self, capsys) -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()
                if line.startswith("{")]

    def test_app_line_is_one_json_object(self, app, client, capsys):
        add_logging_route(app)
        client.get("/_log_something", headers={"X-Request-ID": "trace-7"})
        entry = next(e for e in self.json_lines(capsys) if e["logger"] == "app")
        assert entry["message"] == "đang xử lý yêu cầu"
        assert entry["level"] == "WARNING"
        assert entry["request_id"] == "trace-7"
        assert entry["method"] == "GET" and entry["path"] == "/_log_something"
        assert entry["user_id"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["timestamp"])

    def test_one_access_line_per_request_with_status_duration_and_user(
            self, app, client, capsys, fresh_request_state):
        learner = quick_user(make_unit("X1"), phone="+84911222333")
        client.post("/login", data={"identifier": learner.phone, "password": PASSWORD})
        capsys.readouterr()
        response = client.get("/account", headers={"X-Request-ID": "acc-1"})
        assert response.status_code == 200
        access = [e for e in self.json_lines(capsys) if e["logger"] == "app.access"]
        assert len(access) == 1
        entry = access[0]
        assert entry["status"] == 200 and entry["path"] == "/account"
        assert entry["request_id"] == "acc-1"
        assert str(entry["user_id"]) == str(learner.id)
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0

    def test_exceptions_are_inside_the_json_line(self, app, capsys):
        try:
            raise ValueError("hỏng")
        except ValueError:
            app.logger.exception("lỗi bất ngờ")
        entry = next(e for e in self.json_lines(capsys) if e["message"] == "lỗi bất ngờ")
        assert "ValueError: hỏng" in entry["exception"]
        assert entry["request_id"] == "-"


def test_log_settings_are_checked_at_start_up():
    assert load_settings("production", {"LOG_FORMAT": "JSON"})["LOG_FORMAT"] == "json"
    assert load_settings("production", {})["LOG_FORMAT"] == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings("production", {"LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_settings("production", {"LOG_LEVEL": "loud"})


def test_one_handler_however_many_apps(app):
    from app import create_app

    create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    ours = [h for h in logging.getLogger("app").handlers if h.filters]
    assert len(ours) == 1
