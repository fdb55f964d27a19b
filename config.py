"""Configuration classes; every value can be overridden by an environment variable."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent

# Anyone who knows SECRET_KEY can sign a session cookie in anybody's name.
MIN_SECRET_KEY_LENGTH = 24
# SHA-256 of secrets that were published (the development default of earlier versions): never
# accepted, even if someone copies one into their environment.
PUBLISHED_SECRET_KEY_HASHES = frozenset({
    "594f16f52d089b125f79a544eeda4b2c6a0dfbb8b1cae3e09e2176ebeb27997c",
})
SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name, not a secret)


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message tells the operator what to set."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


class Config:
    """Production: SQLite file unless DATABASE_URL says otherwise; a strong secret is required."""

    SECRET_KEY = _env("SECRET_KEY")
    # Refuse to start without a SECRET_KEY that passes check_secret_key().
    REQUIRE_STRONG_SECRET_KEY = True
    # Development only: with no SECRET_KEY, make one for this installation (instance folder).
    SECRET_KEY_FROM_INSTANCE = False
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'workshop.db'}"
    )
    # Database errors never quote the values of a statement (a ballot's choices, a secret's
    # hash) in messages that reach a log.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # Redis message queue when several server processes share the rooms.
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    SOCKETIO_ASYNC_MODE = _env("SOCKETIO_ASYNC_MODE", "gevent")
    # A delegate stays the same delegate for the length of a programme.
    REMEMBER_COOKIE_DURATION = timedelta(days=60)
    PERMANENT_SESSION_LIFETIME = timedelta(days=60)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS: cookies travel only over HTTPS (the login session and the "remember
    # me" cookie alike) and every response says so with HSTS (workshop/headers.py).
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    HSTS_MAX_AGE = int(_env("HSTS_MAX_AGE", "31536000") or 31536000)
    WTF_CSRF_TIME_LIMIT = None
    #: Werkzeug's password hash (scrypt, n=2^15: about 0.1 s a login on these machines).
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method, not a password)
    # Socket events per socket, as "rate per second/burst", by kind (a person gets twice a
    # socket's); a socket refused this many times in a row is disconnected.
    SOCKET_LIMIT_WRITE = _env("SOCKET_LIMIT_WRITE", "2/10")
    SOCKET_LIMIT_TYPING = _env("SOCKET_LIMIT_TYPING", "8/30")
    SOCKET_LIMIT_READ = _env("SOCKET_LIMIT_READ", "5/20")
    SOCKET_STRIKES = int(_env("SOCKET_STRIKES", "40") or 40)
    # HTTP: logins, joins and guessed codes or links, per client address (Flask-Limiter
    # notation). A room's phones may share one address behind the venue's router, so joins
    # are generous; failed guesses are what is counted strictly.
    RATELIMIT_ENABLED = _env("RATELIMIT_ENABLED", "1") == "1"
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT = _env("LOGIN_LIMIT", "10 per minute;50 per hour")
    JOIN_LIMIT = _env("JOIN_LIMIT", "300 per minute")
    #: How many reverse proxies stand in front of the server (HAProxy: 1). The client's address
    #: (for the per-address limits and the logs) and the scheme are read from that many hops of
    #: X-Forwarded-For / X-Forwarded-Proto. 0 reads neither: without a proxy that sets them, a
    #: client could name any address and escape the limits.
    TRUSTED_PROXIES = int(_env("TRUSTED_PROXIES", "0") or 0)
    GUESS_LIMIT = _env("GUESS_LIMIT", "20 per minute;100 per hour")
    # Secret ballots: a breakdown cell (region, organisation type) of fewer voters than this
    # is never published (fixed per ballot when it opens).
    SECRET_MIN_CELL = int(_env("SECRET_MIN_CELL", "5") or 5)
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "fr", "es", "nl")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")


class DevelopmentConfig(Config):
    """Local `make run`: the installation's own random secret unless SECRET_KEY is given."""

    REQUIRE_STRONG_SECRET_KEY = False
    SECRET_KEY_FROM_INSTANCE = True
    # Static files are edited while the server runs: WhiteNoise looks them up on each request.
    STATIC_AUTOREFRESH = True


class TestConfig(Config):
    """In-process tests: threading mode so the Flask test client needs no gevent patching."""

    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105
    REQUIRE_STRONG_SECRET_KEY = False
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    SOCKETIO_ASYNC_MODE = "threading"
    SOCKETIO_MESSAGE_QUEUE = None
    WTF_CSRF_ENABLED = True
    # The same algorithm at a throw-away cost: the suite hashes thousands of passwords.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105
    # Tests log in and send events far faster than people do; the limits' own tests turn
    # them back on.
    RATELIMIT_ENABLED = False
    SOCKET_LIMIT_WRITE = SOCKET_LIMIT_TYPING = SOCKET_LIMIT_READ = "1000/1000"


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_class(name: str) -> type[Config]:
    """The config class a WORKSHOP_CONFIG name stands for.

    :raise ConfigError: an unknown name.
    """
    try:
        return CONFIGS[name]
    except KeyError:
        choices = ", ".join(sorted(CONFIGS))
        raise ConfigError(f"WORKSHOP_CONFIG={name!r} is unknown; use one of: {choices}.") from None


def is_published_secret_key(secret: str | bytes) -> bool:
    """True for a secret that was published (in this project's earlier versions)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(raw).hexdigest() in PUBLISHED_SECRET_KEY_HASHES


def check_secret_key(secret: Any) -> None:
    """Refuse a secret anyone could know or guess, before the app signs anything with it.

    :raise ConfigError: no SECRET_KEY, shorter than MIN_SECRET_KEY_LENGTH, or a published one.
    """
    how = ('Generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
           " and set it in the SECRET_KEY environment variable.")
    if not secret or not isinstance(secret, str | bytes):
        raise ConfigError(f"SECRET_KEY is not set. {how}")
    if is_published_secret_key(secret):
        raise ConfigError(f"SECRET_KEY is a published example value, known to anyone. {how}")
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is too short ({len(secret)} characters; at least"
            f" {MIN_SECRET_KEY_LENGTH}). {how}"
        )


def instance_secret_key(instance_path: str | os.PathLike[str]) -> str:
    """This installation's own development secret, made once and kept in the instance folder.

    Random, so no two installations share it and none is published; kept in
    `<instance>/secret_key` (mode 0600), so logins survive a restart. A file that is empty or
    too short is replaced.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    for _attempt in range(3):
        try:
            existing = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            existing = None
        if existing is not None and len(existing) >= MIN_SECRET_KEY_LENGTH:
            return existing
        if existing is not None:
            path.unlink(missing_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another process made it meanwhile: read theirs
        secret = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
        return secret
    raise ConfigError(f"Could not create {path}; delete it and start again.")


def settle_secret_key(settings: dict[str, Any], instance_path: str | os.PathLike[str]) -> None:
    """Give the app its SECRET_KEY, or refuse to run without a safe one.

    The environment's SECRET_KEY wins; in development, without one, the installation's own
    (instance_secret_key()). A config that requires a strong secret (production) gets it
    checked; a published one is refused everywhere.

    :raise ConfigError: see check_secret_key().
    """
    if not settings.get("SECRET_KEY") and settings.get("SECRET_KEY_FROM_INSTANCE"):
        settings["SECRET_KEY"] = instance_secret_key(instance_path)
    secret = settings.get("SECRET_KEY")
    if settings.get("REQUIRE_STRONG_SECRET_KEY", True):
        check_secret_key(secret)
    elif not secret:
        raise ConfigError("SECRET_KEY is not set.")
    elif is_published_secret_key(secret):
        raise ConfigError("SECRET_KEY is a published example value: unset it or choose another.")
