"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import ROOT


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "workshop", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_migrated_database_matches_the_models(live_server):
    """The live server's database was built by `flask db upgrade`; nothing is left to migrate."""
    result = flask(live_server.env, "db", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_downgrade_and_upgrade_round_trip(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
           "SECRET_KEY": "migration-test-secret-000000", "WORKSHOP_CONFIG": "production"}
    for args in (("db", "upgrade"), ("db", "downgrade", "base"), ("db", "upgrade"),
                 ("seed-demo",), ("seed-demo",)):
        result = flask(env, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    assert "Join code:" in result.stdout

