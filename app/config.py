"""Settings read from the environment when the app is created, one profile per way of running.

The environment is read inside ``load_settings`` (not at import time), so a test or a
process manager can change it before ``create_app`` and get what it asked for.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

APP_ENVS = ("development", "production", "testing")
LANGUAGES = ("vi", "en")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(RuntimeError):
    """Raised at start-up when a setting is missing or malformed; the message says how to fix it."""


class _Env:
    """Typed reads of environment variables with start-up errors that name the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name, "")
        value = value.strip() if isinstance(value, str) else value
        return value or default

    def bool(self, name: str, default: bool = False) -> bool:
        value = (self.str(name) or "").lower()
        if not value:
            return default
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off), got {value!r}.")

    def int(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.str(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}.") from None
        if number < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {number}.")
        return number


def normalize_database_url(url: str | None) -> str | None:
    """Accept the ``postgres://`` URLs hosting providers hand out; we drive PostgreSQL with psycopg 3."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def app_env(environ: Mapping[str, str] | None = None, requested: str | None = None) -> str:
    """The profile to run: ``requested`` or APP_ENV, default production (the safe choice)."""
    environ = os.environ if environ is None else environ
    env = (requested or environ.get("APP_ENV") or "production").strip().lower()
    if env not in APP_ENVS:
        raise ConfigError(f"APP_ENV={env!r} is not one of {', '.join(APP_ENVS)}.")
    return env


def load_settings(env: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting of the app for profile ``env``, read from ``environ`` (default: os.environ)."""
    environ = os.environ if environ is None else environ
    env = app_env(environ, env)
    read = _Env(environ)
    locale = read.str("DEFAULT_LOCALE", "vi")
    if locale not in LANGUAGES:
        raise ConfigError(f"DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}, got {locale!r}.")
    secure_cookies = read.bool("SESSION_COOKIE_SECURE", False)
    log_format = (read.str("LOG_FORMAT", "text") or "").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}.")
    log_level = (read.str("LOG_LEVEL", "INFO") or "").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}.")
    settings: dict[str, Any] = {
        "APP_ENV": env,
        "SECRET_KEY": read.str("SECRET_KEY"),
        # None → SQLite file instance/hocvuso.sqlite3 (filled in by create_app).
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(read.str("DATABASE_URL")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_BUSY_TIMEOUT_MS": read.int("SQLITE_BUSY_TIMEOUT_MS", 10000),
        "UPLOAD_DIR": read.str("UPLOAD_DIR"),  # None → instance/uploads
        "BABEL_DEFAULT_LOCALE": locale,
        "BABEL_DEFAULT_TIMEZONE": read.str("TIMEZONE", "Asia/Ho_Chi_Minh"),
        "LANGUAGES": LANGUAGES,
        "RATELIMIT_STORAGE_URI": read.str("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": read.bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_IDENTIFIER": read.str("LOGIN_LIMIT_PER_IDENTIFIER", "5 per minute"),
        "LOGIN_LIMIT_PER_IP": read.str("LOGIN_LIMIT_PER_IP", "30 per minute"),
        "CODE_LIMIT_PER_IP": read.str("CODE_LIMIT_PER_IP", "10 per minute"),
        "SELF_REGISTRATION": read.bool("SELF_REGISTRATION", env == "development"),
        "ACTIVATION_CODE_DAYS": read.int("ACTIVATION_CODE_DAYS", 30, minimum=1),
        "RESET_CODE_HOURS": read.int("RESET_CODE_HOURS", 24, minimum=1),
        "MAX_CONTENT_LENGTH": read.int("MAX_UPLOAD_MB", 10, minimum=1) * 1024 * 1024,
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust;
        # without it every request behind nginx looks like one IP to the login rate limit.
        "TRUSTED_PROXIES": read.int("TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "WTF_CSRF_TIME_LIMIT": None,  # a member may keep a form open for hours on a slow phone
        "SITE_URL": read.str("SITE_URL", "http://127.0.0.1:5000"),  # absolute URLs in credentials/QR
        "SIGNING_KEY_DIR": read.str("SIGNING_KEY_DIR"),  # None → instance/keys (Ed25519, flask keys)
        "VERIFY_LIMIT": read.str("VERIFY_LIMIT", "60 per minute"),  # /verify/<code> per IP
        # Operations (app/ops): logs, metrics, static caching, backups.
        "LOG_FORMAT": log_format,  # text | json (one JSON object per line)
        "LOG_LEVEL": log_level,
        "LOG_REQUESTS": read.bool("LOG_REQUESTS", False),  # one app log line per request
        "METRICS_TOKEN": read.str("METRICS_TOKEN"),  # None → /metrics answers 404
        "STATIC_MAX_AGE": read.int("STATIC_MAX_AGE", 300),  # seconds, unfingerprinted /static URLs
        "PG_BIN_DIR": read.str("PG_BIN_DIR"),  # None → pg_dump/pg_restore from PATH
    }
    if env == "testing":
        settings.update(
            TESTING=True,
            SECRET_KEY="test-secret-key",
            SQLALCHEMY_DATABASE_URI=normalize_database_url(read.str("TEST_DATABASE_URL"))
            or "sqlite://",
            WTF_CSRF_ENABLED=False,
            RATELIMIT_STORAGE_URI="memory://",
            SELF_REGISTRATION=True,
            LOG_FORMAT="text",
            LOG_REQUESTS=False,
            METRICS_TOKEN=None,
        )
    return settings


def resolve_secret_key(app_env: str, instance_path: str, configured: str | None) -> str:
    """Return the SECRET_KEY; outside development a missing key stops the start-up."""
    if configured:
        return configured
    if app_env != "development":
        raise ConfigError(
            "SECRET_KEY is not set. Set it in the environment, e.g. "
            "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`, "
            "or run with APP_ENV=development to have one generated for a local trial."
        )
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
