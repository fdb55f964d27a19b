"""No published secret: production demands a strong SECRET_KEY, development makes its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

import config
from config import Config, ConfigError, DevelopmentConfig, check_secret_key
from tests.servers import ROOT
from workshop import create_app

OLD_DEV_SECRET = "dev-only-change-me"  # noqa: S105  (the value published in earlier versions)


def serve(**env: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run serve.py with a minimal environment (nothing inherited but PATH)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "serve.py"), "--port", "1"],
        cwd=ROOT, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(("env", "reason"), [
    ({}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "too-short-a-secret"}, "SECRET_KEY is too short"),
    ({"SECRET_KEY": OLD_DEV_SECRET}, "published"),
    ({"SECRET_KEY": OLD_DEV_SECRET, "WORKSHOP_CONFIG": "production"}, "published"),
])
def test_server_refuses_to_start_without_a_strong_secret(env, reason):
    result, seconds = serve(**env)
    assert result.returncode != 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert seconds < 30


def test_server_names_an_unknown_config():
    result, _ = serve(WORKSHOP_CONFIG="staging", SECRET_KEY="x" * 40)
    assert result.returncode != 0
    assert "WORKSHOP_CONFIG='staging' is unknown" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_published_constant_is_gone_from_config():
    assert OLD_DEV_SECRET not in (ROOT / "config.py").read_text(encoding="utf-8")
    assert DevelopmentConfig.SECRET_KEY in (None, os.environ.get("SECRET_KEY"))


@pytest.mark.parametrize("secret", [None, "", "x" * 23, OLD_DEV_SECRET])
def test_production_check_refuses_weak_secrets(secret):
    with pytest.raises(ConfigError):
        check_secret_key(secret)


def test_production_app_starts_with_a_strong_secret(tmp_path):
    class Production(Config):
        SECRET_KEY = "a-long-enough-secret-for-tests-0001"  # noqa: S105
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Production, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == Production.SECRET_KEY
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()


class Development(DevelopmentConfig):
    """Development as `make run` has it, whatever SECRET_KEY the test runner's shell holds."""

    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = "sqlite://"


def test_development_makes_its_own_secret_once_and_reuses_it(tmp_path):
    first = create_app(Development, instance_path=str(tmp_path))
    secret = first.config["SECRET_KEY"]
    path = tmp_path / config.SECRET_KEY_FILE
    assert path.read_text(encoding="utf-8").strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= config.MIN_SECRET_KEY_LENGTH
    check_secret_key(secret)  # strong enough for production too
    again = create_app(Development, instance_path=str(tmp_path))
    assert again.config["SECRET_KEY"] == secret


def test_each_installation_has_a_secret_of_its_own(tmp_path):
    one = create_app(Development, instance_path=str(tmp_path / "one"))
    two = create_app(Development, instance_path=str(tmp_path / "two"))
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]


def test_development_replaces_a_damaged_secret_file(tmp_path):
    (tmp_path / config.SECRET_KEY_FILE).write_text("short\n", encoding="utf-8")
    secret = create_app(Development, instance_path=str(tmp_path)).config["SECRET_KEY"]
    assert secret != "short"
    assert len(secret) >= config.MIN_SECRET_KEY_LENGTH


def test_development_uses_a_secret_from_the_environment(tmp_path):
    class GivenSecret(Development):
        SECRET_KEY = "given-in-the-environment"  # noqa: S105

    app = create_app(GivenSecret, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "given-in-the-environment"
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()


def test_development_refuses_the_published_secret(tmp_path):
    class Published(Development):
        SECRET_KEY = OLD_DEV_SECRET

    with pytest.raises(ConfigError, match="published"):
        create_app(Published, instance_path=str(tmp_path))
