"""Error pages: a Vietnamese page with the right status, never a traceback."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
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
    title, message = _messages().get(code, (_("Đã có lỗi"), description or ""))
    if _wants_json():
        return jsonify(error=code, title=title, message=message), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


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
