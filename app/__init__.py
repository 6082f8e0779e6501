"""Học vụ số: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, session
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_settings, normalize_database_url, resolve_secret_key
from app.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: Any = None) -> Flask:
    """Build the app. ``config`` is a settings class, a mapping of overrides, or None (APP_ENV)."""
    app = Flask(__name__, instance_relative_config=True)
    configure(app, config)
    register_operations(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, config: Any) -> None:
    """Settings from the environment, then the caller's overrides (a class or a mapping)."""
    if isinstance(config, type):
        overrides = {key: getattr(config, key) for key in dir(config) if key.isupper()}
    else:
        overrides = dict(config or {})
    app.config.from_mapping(load_settings(overrides.get("APP_ENV")))
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "hocvuso.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SECRET_KEY"] = resolve_secret_key(
        app.config["APP_ENV"], app.instance_path, app.config.get("SECRET_KEY")
    )
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind nginx/a load balancer: take the client IP (rate limits, audit) and scheme
        # from the X-Forwarded-* headers set by that many trusted proxies, and no others.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _sqlite_pragmas(dbapi_connection, busy_timeout_ms: int) -> None:
    """WAL for concurrent readers, enforced foreign keys, and waiting instead of failing on locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_sqlite(app: Flask) -> None:
    """Apply the SQLite pragmas to every new connection of this app's engine (not PostgreSQL)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        _sqlite_pragmas(dbapi_connection, timeout)


def select_locale() -> str:
    """The language chosen with the switch, else Vietnamese (never the browser's guess)."""
    from flask import current_app, has_request_context

    # CLI commands translate too (role labels, messages) but have no session.
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_operations(app: Flask) -> None:
    """Request ids, logs, metrics, static caching: first, so they see every request."""
    from app import ops

    ops.init_app(app)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    configure_sqlite(app)
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
    from app.assessments.attempt_views import blueprint as attempts_bp
    from app.assessments.bank_views import blueprint as bank_bp
    from app.auth.views import blueprint as auth_bp
    from app.courses.authoring_views import blueprint as authoring_bp
    from app.courses.views import blueprint as courses_bp
    from app.main.views import blueprint as main_bp
    from app.ops.views import blueprint as ops_bp
    from app.orgs.roster_views import blueprint as roster_bp
    from app.orgs.views import blueprint as orgs_bp
    from app.records.class_views import blueprint as classes_bp
    from app.records.views import blueprint as records_bp
    from app.reports.export_views import blueprint as report_exports_bp
    from app.reports.views import blueprint as reports_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(roster_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(classes_bp)
    app.register_blueprint(attempts_bp)
    app.register_blueprint(authoring_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(report_exports_bp)
    # Models of packages without views yet still belong to the schema.
    import app.assessments.models  # noqa: F401
    import app.audit  # noqa: F401
    import app.courses.models  # noqa: F401
    import app.records.models  # noqa: F401
    import app.reports.models  # noqa: F401


def register_errorhandlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from app.main.errors import handle_http_error, handle_unexpected_error

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def register_template_helpers(app: Flask) -> None:
    from app.main.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.assessments.cli import questions_cli
    from app.auth.cli import users_cli
    from app.courses.cli import content_cli
    from app.demo import demo_cli
    from app.ops.cli import backup_cli
    from app.orgs.cli import units_cli
    from app.records.cli import keys_cli, records_cli

    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(questions_cli)
    app.cli.add_command(backup_cli)
    from app.reports.cli import reports_cli

    app.cli.add_command(reports_cli)
    from app.reports.scale import bench_cli

    app.cli.add_command(bench_cli)


