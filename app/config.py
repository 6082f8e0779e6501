"""Settings read from the environment, one class per way of running the app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised at start-up when a required setting is missing."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class BaseConfig:
    """Defaults shared by every environment; values come from the environment when set."""

    APP_ENV = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None → instance SQLite file
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "vi")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh")
    LANGUAGES = ("vi", "en")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IDENTIFIER = os.environ.get("LOGIN_LIMIT_PER_IDENTIFIER", "5 per minute")
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per minute")
    CODE_LIMIT_PER_IP = os.environ.get("CODE_LIMIT_PER_IP", "10 per minute")
    SELF_REGISTRATION = _bool("SELF_REGISTRATION", False)
    ACTIVATION_CODE_DAYS = _int("ACTIVATION_CODE_DAYS", 30)
    RESET_CODE_HOURS = _int("RESET_CODE_HOURS", 24)
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 10) * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # a member may keep a form open for hours on a slow phone
    SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 10000)


class DevelopmentConfig(BaseConfig):
    """`make run`: a SECRET_KEY is generated and kept in the instance folder."""

    APP_ENV = "development"
    SELF_REGISTRATION = _bool("SELF_REGISTRATION", True)


class ProductionConfig(BaseConfig):
    APP_ENV = "production"


class TestingConfig(BaseConfig):
    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SELF_REGISTRATION = True


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_class(env: str | None = None) -> type[BaseConfig]:
    """Pick the settings class from APP_ENV (default: production, the safe choice)."""
    env = (env or os.environ.get("APP_ENV") or "production").strip().lower()
    try:
        return CONFIGS[env]
    except KeyError:
        raise ConfigError(f"APP_ENV={env!r} is not one of {', '.join(CONFIGS)}") from None


def resolve_secret_key(app_env: str, instance_path: str, configured: str | None) -> str:
    """Return the SECRET_KEY; outside development a missing key stops the start-up."""
    if configured:
        return configured
    if app_env != "development":
        raise ConfigError(
            "SECRET_KEY is not set. Set it in the environment, e.g. "
            "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`."
        )
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
