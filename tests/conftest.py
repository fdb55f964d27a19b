"""Fixtures: an in-process app per test, and (for live and browser tests) a real gevent server.

The database is SQLite unless TEST_DATABASE_URL / LIVE_DATABASE_URL name a PostgreSQL server
(CI runs the whole suite a second time that way).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule

from config import TestConfig
from tests.servers import ROOT, free_port, server_env, start_server
from workshop import create_app
from workshop.extensions import db, socketio


def _databases_of_this_worker() -> None:
    """Under pytest-xdist (`-n 2`), each worker gets PostgreSQL databases of its own, named
    after the worker (`workshop_test_gw0`, made on first use): the in-process tests drop and
    create the schema for every test, and the live server empties its database at start."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    for name in ("TEST_DATABASE_URL", "LIVE_DATABASE_URL"):
        url = os.environ.get(name)
        if not url or not url.startswith("postgresql"):
            continue
        own = sa.engine.make_url(url)
        own = own.set(database=f"{own.database}_{worker}")
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                           {"name": own.database}) is None:
                conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
        os.environ[name] = own.render_as_string(hide_password=False)
    # TestConfig read the environment when config.py was imported, before this ran.
    TestConfig.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"


_databases_of_this_worker()

_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _same_builder(self: Rule, append_unknown: bool = True):
    """Werkzeug compiles Python source for every URL rule of every app: 133 rules, 0.25 s of
    the 0.28 s `create_app` takes, paid again by each of the suite's ~2,800 apps. A rule's
    builder depends only on its path, its parts and its defaults (it reaches the rule's own
    converters through its `self` argument), so the tests reuse the one compiled for an
    identical rule. Test-only: a server builds its app once."""
    key = (self.rule, append_unknown, tuple(self._trace),
           repr(sorted((self.defaults or {}).items())))
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


Rule._compile_builder = _same_builder


class _SharedTemplates(BytecodeCache):
    """Every test's app would compile each template it renders anew (a third of a socket
    test's time); they share the compiled code instead, keyed by Jinja on the template's
    name and the checksum of its source."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_templates = _SharedTemplates()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """A fresh app and empty schema for each test."""
    with app_for(TestConfig, monkeypatch) as app:
        yield app


@contextlib.contextmanager
def app_for(config: type, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app of this configuration with an empty schema, inside its app context."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = _templates
    handle_event = socketio._handle_event

    def fresh_event(*args, **kwargs):
        # A real server gives each socket event a fresh app context; the test client reuses
        # the test's, so empty `g` to keep one socket's login from leaking into another's.
        g.__dict__.clear()
        return handle_event(*args, **kwargs)

    monkeypatch.setattr(socketio, "_handle_event", fresh_event)

    @app.before_request
    def _fresh_globals() -> None:
        # The test's app context is reused by every request of the test client; start each
        # request with empty `g`, as a real server does, so no login or locale leaks across.
        g.__dict__.clear()

    with app.app_context():
        _empty_schema()
        yield app
        db.session.remove()
        # The app outlives the test (extensions keep references to it); give its pooled
        # connections back now, or PostgreSQL runs out of clients a few hundred tests later.
        for engine in db.engines.values():
            engine.dispose()


#: Databases (by URL) whose schema this process made: from then on a test only empties them.
_made: set[str] = set()


def _empty_schema() -> None:
    """The whole schema, empty. In memory (SQLite) it is made anew: a new app has a new
    database. PostgreSQL makes it once per process and empties every table before each test
    (0.03 s instead of 0.18 s for dropping and making 27 tables, a third of some tests' time);
    sequences restart, as they would in a new schema."""
    if db.engine.dialect.name != "postgresql":
        db.drop_all()
        db.create_all()
        return
    url = db.engine.url.render_as_string(hide_password=False)
    if url not in _made:
        db.drop_all()
        db.create_all()
        _made.add(url)
        return
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask):
    """A test client of the app."""
    return app.test_client()


def reset_database(url: str) -> None:
    """Empty a PostgreSQL database (a SQLite file is simply new)."""
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass
class LiveServer:
    """A real server process and an in-process app on the same database, to set up data."""

    url: str
    app: Flask
    proc: subprocess.Popen
    env: dict

    def kill(self) -> None:
        """End the server outright (SIGKILL), as a crash or a pulled plug would."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def restart(self, log: Path) -> None:
        """Start the server again on the same port and database."""
        port = int(self.url.rsplit(":", 1)[1])
        self.proc = start_server(self.env, port, log)


@contextlib.contextmanager
def serving(url: str, folder: Path) -> Iterator[LiveServer]:
    """Migrate the database at `url` with `flask db upgrade`, serve it with gevent on a free
    port (log in `folder`), and give an app on the same database for setting up data."""
    port = free_port()
    env = server_env(url, port)
    subprocess.run([sys.executable, "-m", "flask", "--app", "workshop", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)

    class SetupConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        PUBLIC_URL = f"http://127.0.0.1:{port}"

    server = LiveServer(url=f"http://127.0.0.1:{port}", app=create_app(SetupConfig),
                        proc=start_server(env, port, folder / "server.log"), env=env)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.terminate()
            server.proc.wait(timeout=10)
        with server.app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """The session's server, on LIVE_DATABASE_URL (emptied first) or a new SQLite file."""
    tmp = Path(tempfile.mkdtemp(prefix="workshop-live-"))
    url = os.environ.get("LIVE_DATABASE_URL") or f"sqlite:///{tmp / 'live.db'}"
    reset_database(url)
    try:
        with serving(url, tmp) as server:
            yield server
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of the test's own (its SQLite file, its port) that it may kill and restart,
    with an app context for setting up data; nobody else's test is disturbed."""
    with (serving(f"sqlite:///{tmp_path / 'own.db'}", tmp_path) as server,
          server.app.app_context()):
        yield server
        db.session.remove()


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server, with an app context for setting up data through the services."""
    with live_server.app.app_context():
        yield live_server
        db.session.remove()


# --- Browser: Playwright driving Debian's Chromium -------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 12; Pixel 5) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
}
DESKTOP = {"viewport": {"width": 1366, "height": 800}}


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Use Debian's Chromium: Playwright cannot download its own browser here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args():
    """Pages are phones unless a test opens a desktop context."""
    return PHONE
