"""Two reference WSGI apps that bound what any page of ours can reach on this machine.

``minimal`` answers a 165-byte page and touches nothing; ``lookup`` reads one unit by primary
key through Flask-SQLAlchemy (same database, same engine options and SQLite pragmas as the
real app) and renders a 5 KB Jinja template. Served by the same gunicorn command as the app
(``gunicorn … bench.ceilings:minimal`` / ``bench.ceilings:lookup``), their req/s are the
ceilings the pages are reported against.
"""

from __future__ import annotations

import itertools
import os

from flask import Flask

MINIMAL_BODY = ("<!doctype html><html lang=vi><head><meta charset=utf-8><title>Học vụ số</title>"
                "</head><body><p>Xin chào! Trang nhỏ nhất để đo trần</p></body></html>")

# About 5 KB once rendered: a header, a list of 46 rows and a footer, escaped as pages are.
LOOKUP_TEMPLATE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{{ unit.name }} · Học vụ số</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><header><h1>{{ unit.name }}</h1><p>Mã đơn vị {{ unit.code }}, loại {{ unit.kind }}</p></header>
<main><ol>
{% for n in rows %}<li class="row"><a href="/units/{{ unit.id }}/{{ n }}">{{ unit.name }} · mục {{ n }}</a> <span>{{ unit.code }}</span></li>
{% endfor %}</ol></main>
<footer><p>Bình dân học vụ số · trang đo trần tốc độ với một truy vấn theo khóa chính.</p></footer>
</body></html>
"""


def _minimal_app() -> Flask:
    app = Flask("ceiling_minimal")

    @app.get("/")
    def index():
        return MINIMAL_BODY

    return app


def _lookup_app() -> Flask:
    from sqlalchemy import func, select

    from app import configure_sqlite
    from app.config import normalize_database_url
    from app.extensions import db
    from app.orgs.models import Unit

    app = Flask("ceiling_lookup")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=normalize_database_url(os.environ["DATABASE_URL"]),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SQLITE_BUSY_TIMEOUT_MS=10000,
    )
    db.init_app(app)
    configure_sqlite(app)
    template = app.jinja_env.from_string(LOOKUP_TEMPLATE)
    rows = list(range(1, 47))
    with app.app_context():
        count = db.session.scalar(select(func.max(Unit.id))) or 1
    ids = itertools.cycle(range(1, count + 1))

    @app.get("/")
    def index():
        unit = db.session.get(Unit, next(ids))
        if unit is None:
            unit = db.session.get(Unit, 1)
        return template.render(unit=unit, rows=rows)

    return app


def __getattr__(name: str) -> Flask:
    """Build an app only when gunicorn asks for it (``lookup`` needs DATABASE_URL)."""
    if name == "minimal":
        return _minimal_app()
    if name == "lookup":
        return _lookup_app()
    raise AttributeError(name)
