"""Request ids and the app's log lines, as plain text or JSON (LOG_FORMAT).

Every request gets an id (a sane incoming X-Request-ID, else a new one), echoed in the
response and carried by every log line written while it runs, so one line in nginx,
gunicorn or the app leads to the others.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request, session

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Fields a log call may pass with ``extra=`` that the JSON line carries as they are.
EXTRA_FIELDS = ("status", "duration_ms")

access_logger = logging.getLogger("app.access")


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a short safe token (it lands in logs), else a fresh one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _user_id() -> Any:
    """The signed-in user's id without loading the user (no query just to log a line)."""
    user = g.get("_login_user")
    if user is not None:
        return user.get_id() if getattr(user, "is_authenticated", False) else None
    return session.get("_user_id")


class RequestContextFilter(logging.Filter):
    """Adds the request's id, method, path and user to every record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id") or "-"
            record.method = request.method
            record.path = request.path
            record.user_id = _user_id()
        else:
            record.request_id, record.method, record.path, record.user_id = "-", None, None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; Vietnamese text stays readable (UTF-8)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "method": getattr(record, "method", None),
            "path": getattr(record, "path", None),
            "user_id": getattr(record, "user_id", None),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn's, or a test's capture)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


# One handler for the process: create_app may run more than once (tests), lines must not double.
_handler = _StderrHandler()
_handler.addFilter(RequestContextFilter())


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(app: Flask) -> None:
    """Our handler and format on the app's logger (``app`` and its children ``app.*``)."""
    from flask.logging import default_handler

    _handler.setFormatter(make_formatter(app.config["LOG_FORMAT"]))
    app.logger.removeHandler(default_handler)
    if _handler not in app.logger.handlers:
        app.logger.addHandler(_handler)
    app.logger.setLevel(app.config["LOG_LEVEL"])


def start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def log_request(response: Response) -> Response:
    """The app's own access line (LOG_REQUESTS): gunicorn's access log has the same facts."""
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    access_logger.info("%s %s %s %sms", request.method, request.path, response.status_code,
                       duration_ms, extra={"status": response.status_code,
                                           "duration_ms": duration_ms})
    return response


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request(start_request)
    if app.config.get("LOG_REQUESTS"):
        app.after_request(log_request)
    app.after_request(finish_request)
