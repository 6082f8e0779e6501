"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from app.auth.permissions import can
from app.auth.phone import format_phone


def register(app: Flask) -> None:
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.globals["can"] = can
    app.jinja_env.filters["date"] = lambda value: format_date(value, "dd/MM/yyyy") if value else ""
    app.jinja_env.filters["datetime"] = (
        lambda value: format_datetime(value, "dd/MM/yyyy HH:mm") if value else ""
    )
    app.jinja_env.filters["number"] = lambda value: format_decimal(value or 0)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_globals():
        return {
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
