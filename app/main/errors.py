"""Error pages: a Vietnamese page with the right status, never a traceback."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Yêu cầu không hợp lệ"),
              _("Dữ liệu gửi lên không đúng. Vui lòng tải lại trang và thử lại.")),
        403: (_("Không có quyền truy cập"),
              _("Tài khoản của bạn không được phép xem trang này.")),
        404: (_("Không tìm thấy trang"),
              _("Trang bạn tìm không tồn tại hoặc đã được chuyển đi.")),
        405: (_("Thao tác không được hỗ trợ"),
              _("Trang này không nhận kiểu yêu cầu vừa gửi.")),
        413: (_("Tệp quá lớn"),
              _("Tệp tải lên vượt quá dung lượng cho phép. Hãy chia nhỏ tệp rồi thử lại.")),
        429: (_("Thao tác quá nhiều lần"),
              _("Bạn đã thử quá nhiều lần trong thời gian ngắn. Vui lòng đợi một lát rồi thử lại.")),
        500: (_("Lỗi hệ thống"),
              _("Đã có lỗi ở máy chủ. Chúng tôi đã ghi nhận; vui lòng thử lại sau.")),
    }


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def render_error(code: int, description: str | None = None):
    """The error as JSON when the client asks for it, else the Vietnamese error page."""
    title, message = _messages().get(code, (_("Đã có lỗi"), description or ""))
    if _wants_json():
        return jsonify(error=code, title=title, message=message), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # e.g. the database is down and the layout cannot load the user
        current_app.logger.exception("error page %s could not be rendered", code)
        return _bare_error_page(code, title, message), code


def _bare_error_page(code: int, title: str, message: str) -> str:
    """A self-contained page for when the layout itself fails: still Vietnamese, never a traceback."""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main>"
        f"<p>{code}</p><h1>{escape(title)}</h1><p>{escape(message)}</p>"
        f'<p><a href="/">{escape(_("Về trang chủ"))}</a></p></main></body></html>'
    )


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    response = render_error(error.code, error.description)
    if error.code == 405 and error.valid_methods:
        body, status = response
        return body, status, {"Allow": ", ".join(error.valid_methods)}
    return response


def handle_unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("unhandled error: %s", error)
    from app.extensions import db

    db.session.rollback()
    return render_error(InternalServerError.code)
