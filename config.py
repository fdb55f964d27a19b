"""Configuration classes; every value can be overridden by an environment variable."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


class Config:
    """Production-like defaults: SQLite file, secret from the environment."""

    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'workshop.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Redis message queue when several server processes share the rooms.
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    SOCKETIO_ASYNC_MODE = _env("SOCKETIO_ASYNC_MODE", "gevent")
    # A delegate stays the same delegate for the length of a programme.
    REMEMBER_COOKIE_DURATION = timedelta(days=60)
    PERMANENT_SESSION_LIFETIME = timedelta(days=60)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "fr", "es", "nl")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")


class DevelopmentConfig(Config):
    """Local `make run`: a fixed dev secret unless one is given."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-change-me")


class TestConfig(Config):
    """In-process tests: threading mode so the Flask test client needs no gevent patching."""

    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    SOCKETIO_ASYNC_MODE = "threading"
    SOCKETIO_MESSAGE_QUEUE = None
    WTF_CSRF_ENABLED = True


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}
