"""Start-up settings: what the environment can say, and the clear errors when it says it wrong."""

from __future__ import annotations

import stat

import pytest
from flask import request
from sqlalchemy import text

from app import create_app
from app.config import ConfigError, load_settings, normalize_database_url, resolve_secret_key
from app.extensions import db

ENV_VARS = (
    "APP_ENV", "SECRET_KEY", "DATABASE_URL", "TEST_DATABASE_URL", "DEFAULT_LOCALE", "TIMEZONE",
    "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "LOGIN_LIMIT_PER_IDENTIFIER",
    "LOGIN_LIMIT_PER_IP", "CODE_LIMIT_PER_IP", "SELF_REGISTRATION", "ACTIVATION_CODE_DAYS",
    "RESET_CODE_HOURS", "MAX_UPLOAD_MB", "SESSION_COOKIE_SECURE", "SQLITE_BUSY_TIMEOUT_MS",
    "UPLOAD_DIR", "TRUSTED_PROXIES",
)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment whose database is a throwaway SQLite file; returns monkeypatch."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'config.sqlite3'}")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    return monkeypatch


@pytest.fixture
def build():
    """create_app with the engines disposed afterwards (no stray connections between tests)."""
    apps = []

    def _build(config=None):
        app = create_app(config)
        apps.append(app)
        return app

    yield _build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


class TestSecretKey:
    def test_production_without_secret_key_stops_with_a_clear_error(self, env, build):
        env.setenv("APP_ENV", "production")
        with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
            build()

    def test_outside_development_no_key_is_generated(self, tmp_path):
        for app_env in ("production", "testing"):
            with pytest.raises(ConfigError, match="SECRET_KEY"):
                resolve_secret_key(app_env, str(tmp_path), None)
        assert not (tmp_path / "secret_key").exists()

    def test_blank_secret_key_counts_as_missing(self, env, build):
        env.setenv("APP_ENV", "production")
        env.setenv("SECRET_KEY", "   ")
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            build()

    def test_production_uses_the_key_from_the_environment(self, env, build):
        env.setenv("APP_ENV", "production")
        env.setenv("SECRET_KEY", "s3cret-from-env")
        assert build().config["SECRET_KEY"] == "s3cret-from-env"

    def test_development_generates_a_key_once_and_keeps_it(self, tmp_path):
        first = resolve_secret_key("development", str(tmp_path), None)
        key_file = tmp_path / "secret_key"
        assert len(first) == 64 and key_file.read_text() == first
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert resolve_secret_key("development", str(tmp_path), None) == first

    def test_development_replaces_an_empty_key_file(self, tmp_path):
        (tmp_path / "secret_key").write_text("\n")
        key = resolve_secret_key("development", str(tmp_path), None)
        assert len(key) == 64

    def test_a_configured_key_wins_over_the_file(self, tmp_path):
        (tmp_path / "secret_key").write_text("from-file")
        assert resolve_secret_key("development", str(tmp_path), "given") == "given"


class TestDatabaseUrl:
    @pytest.mark.parametrize(("given", "expected"), [
        ("postgres://u:p@db.example:5432/hvs", "postgresql+psycopg://u:p@db.example:5432/hvs"),
        ("postgresql://u@127.0.0.1/hvs", "postgresql+psycopg://u@127.0.0.1/hvs"),
        ("postgresql+psycopg://u@127.0.0.1/hvs", "postgresql+psycopg://u@127.0.0.1/hvs"),
        ("sqlite:////srv/hvs.sqlite3", "sqlite:////srv/hvs.sqlite3"),
        ("", None),
        (None, None),
    ])
    def test_normalize(self, given, expected):
        assert normalize_database_url(given) == expected

    def test_heroku_style_url_reaches_the_engine_as_psycopg(self, env, build):
        env.setenv("APP_ENV", "production")
        env.setenv("SECRET_KEY", "x")
        env.setenv("DATABASE_URL", "postgres://hvs:pw@127.0.0.1:1/hvs")
        app = build()
        assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hvs:pw@127.0.0.1:1/hvs"
        with app.app_context():
            assert db.engine.url.drivername == "postgresql+psycopg"

    def test_no_database_url_means_the_instance_sqlite_file(self):
        settings = load_settings("production", {})
        assert settings["SQLALCHEMY_DATABASE_URI"] is None  # create_app fills in instance/…


class TestEnvironmentValues:
    def test_read_when_the_app_is_created_not_at_import(self, env, build):
        env.setenv("APP_ENV", "testing")
        env.setenv("MAX_UPLOAD_MB", "3")
        env.setenv("RESET_CODE_HOURS", "12")
        env.setenv("SESSION_COOKIE_SECURE", "yes")
        app = build()
        assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
        assert app.config["RESET_CODE_HOURS"] == 12
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True

    def test_defaults(self):
        settings = load_settings("production", {})
        assert settings["BABEL_DEFAULT_LOCALE"] == "vi"
        assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
        assert settings["SESSION_COOKIE_HTTPONLY"] is True
        assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert settings["SELF_REGISTRATION"] is False
        assert settings["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024

    def test_self_registration_is_on_for_the_demo_only(self):
        assert load_settings("development", {})["SELF_REGISTRATION"] is True
        assert load_settings("development", {"SELF_REGISTRATION": "off"})["SELF_REGISTRATION"] is False
        assert load_settings("production", {"SELF_REGISTRATION": "1"})["SELF_REGISTRATION"] is True

    def test_testing_profile_uses_test_database_url(self):
        settings = load_settings("testing", {"TEST_DATABASE_URL": "postgresql://t@127.0.0.1/t",
                                             "DATABASE_URL": "sqlite:////prod.sqlite3"})
        assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://t@127.0.0.1/t"

    @pytest.mark.parametrize(("name", "value", "message"), [
        ("APP_ENV", "staging", "APP_ENV='staging' is not one of"),
        ("MAX_UPLOAD_MB", "ten", "MAX_UPLOAD_MB must be a whole number"),
        ("MAX_UPLOAD_MB", "0", "MAX_UPLOAD_MB must be at least 1"),
        ("RESET_CODE_HOURS", "-5", "RESET_CODE_HOURS must be at least 1"),
        ("RATELIMIT_ENABLED", "maybe", "RATELIMIT_ENABLED must be true or false"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE must be one of vi, en"),
        ("TRUSTED_PROXIES", "x", "TRUSTED_PROXIES must be a whole number"),
    ])
    def test_malformed_values_name_the_variable(self, name, value, message):
        with pytest.raises(ConfigError) as excinfo:
            load_settings(None, {"APP_ENV": "production", name: value})
        assert message in str(excinfo.value)


class TestSqlite:
    def test_file_database_gets_wal_foreign_keys_and_busy_timeout(self, env, build, tmp_path):
        env.setenv("SQLITE_BUSY_TIMEOUT_MS", "2500")
        app = build({"APP_ENV": "testing",
                     "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"})
        with app.app_context():
            conn = db.session.connection()
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 2500
            db.session.remove()

    def test_foreign_keys_are_enforced(self, env, build, tmp_path):
        app = build({"APP_ENV": "testing",
                     "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fk.sqlite3'}"})
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE p (id INTEGER PRIMARY KEY)"))
                conn.execute(text("CREATE TABLE c (id INTEGER PRIMARY KEY, "
                                  "p_id INTEGER REFERENCES p(id))"))
            with pytest.raises(Exception, match="FOREIGN KEY"), db.engine.begin() as conn:
                conn.execute(text("INSERT INTO c (id, p_id) VALUES (1, 42)"))


class TestProxies:
    @pytest.mark.parametrize(("proxies", "expected"), [("0", "127.0.0.1"), ("1", "203.0.113.7")])
    def test_client_ip_behind_a_trusted_proxy(self, env, build, proxies, expected):
        env.setenv("TRUSTED_PROXIES", proxies)
        app = build({"APP_ENV": "testing",
                     "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        app.add_url_rule("/_ip", "ip", lambda: request.remote_addr or "")
        response = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.text == expected
