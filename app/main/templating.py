"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations

from app.auth.permissions import can
from app.auth.phone import format_phone


def request_translations():
    """The catalog of the request's language, looked up once per request and language.

    Flask-Babel finds it anew for every string (context, domain, locale name: ~15 µs), and
    a page shows thirty or more; the locale object is the key, so a language switched in
    the middle of a request (``flask_babel.refresh``) still takes effect.
    """
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    cached = g.get("_request_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._request_translations = (getattr(g.get("_flask_babel"), "babel_locale", None),
                               translations)
    return translations


def register(app: Flask) -> None:
    from app.main import rendered

    rendered.init_app(app)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
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
