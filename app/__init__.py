"""Học vụ số: the application factory."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import config_class, resolve_secret_key
from app.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: Any = None) -> Flask:
    """Build the app. ``config`` is a settings class, a mapping of overrides, or None (APP_ENV)."""
    app = Flask(__name__, instance_relative_config=True)
    configure(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, config: Any) -> None:
    if isinstance(config, type):
        app.config.from_object(config)
    else:
        app.config.from_object(config_class((config or {}).get("APP_ENV")))
        app.config.update(config or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "hocvuso.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; accept the URL forms hosting providers hand out.
        uri = "postgresql+psycopg://" + uri.split("://", 1)[1]
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["SECRET_KEY"] = resolve_secret_key(
        app.config["APP_ENV"], app.instance_path, app.config.get("SECRET_KEY")
    )
    app.config.setdefault("UPLOAD_DIR", os.environ.get("UPLOAD_DIR") or
                          str(Path(app.instance_path) / "uploads"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers, enforced foreign keys, and waiting instead of failing on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def select_locale() -> str:
    """The language chosen with the switch, else Vietnamese (never the browser's guess)."""
    from flask import current_app

    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")


def register_blueprints(app: Flask) -> None:
    from app.auth.views import blueprint as auth_bp
    from app.main.views import blueprint as main_bp
    from app.orgs.roster_views import blueprint as roster_bp
    from app.orgs.views import blueprint as orgs_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(roster_bp)
    # Models of packages without views yet still belong to the schema.
    import app.audit  # noqa: F401


def register_errorhandlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from app.main.errors import handle_http_error, handle_unexpected_error

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def register_template_helpers(app: Flask) -> None:
    from app.main.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.demo import demo_cli
    from app.orgs.cli import units_cli

    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)


