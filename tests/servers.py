"""Real server processes for live tests and benchmarks: ports, start-up, environment."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Poll the server until it answers (or fail if it exits or stays silent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer in {timeout} s")


def start_process(args: list[str], env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """Start a server command (output to a log file) and wait until it answers on `port`."""
    log = open(log_path, "w")  # noqa: SIM115  (closed with the process)
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc)
    except BaseException:  # a server that never answered is not left running
        proc.kill()
        proc.wait()
        raise
    return proc


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """Start `serve.py` (gevent) on a port."""
    return start_process([sys.executable, str(ROOT / "serve.py"), "--port", str(port)], env,
                         port, log_path)


class RedisServer:
    """A throw-away Redis on loopback (no persistence) that a test may stop and start again on
    the same port, as an operator restarting it would."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"  # a database number after it: /0, /1
        self.proc: subprocess.Popen | None = None

    @classmethod
    def available(cls) -> RedisServer | None:
        """A server to start, or None when redis-server is not installed."""
        binary = shutil.which("redis-server")
        return cls(binary) if binary else None

    def start(self) -> None:
        """Start it (again) and wait until it answers."""
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb in a temporary folder, fsync=off) on a loopback
    port, which a test may stop and start again as an operator restarting it would."""

    def __init__(self, bindir: Path, *options: str) -> None:
        self.bindir = bindir
        self.options = options  # more `-c name=value` settings for the server
        self.folder = Path(tempfile.mkdtemp(prefix="workshop-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()

    @classmethod
    def available(cls, *options: str) -> PostgresCluster | None:
        """A cluster to make with the newest installed PostgreSQL, or None without one."""
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                       key=lambda p: int(p.parent.name))
        return cls(found[-1], *options) if found else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def postmaster(self) -> int:
        """The server's process id (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def init(self) -> None:
        """Make the cluster and start it."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")
        self.start()

    def create_database(self, name: str) -> str:
        """A new database of the cluster; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def start(self) -> None:
        settings = " ".join(f"-c {option}" for option in self.options)
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off "
                  f"{settings}", "start")

    def stop(self) -> None:
        """Stop at once, ending every connection (what a crash or a restart does to them)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs, and delete its files."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def server_env(database_url: str, port: int, **extra: str) -> dict:
    """The environment of a production-like server under test."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-test-secret-of-throw-away-servers",
        "WORKSHOP_CONFIG": "production",
        # Every browser test logs in from 127.0.0.1: the HTTP limits have their own tests.
        "RATELIMIT_ENABLED": "0",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        **extra,
    }


def signed_session(app, secret_key: str, values: dict) -> tuple[str, str]:
    """A session cookie as a server with `secret_key` would set it, holding `values`, and a
    CSRF token valid in it: many phones' logins without a form post each."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    keep = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = secret_key
    try:
        serializer = app.session_interface.get_signing_serializer(app)
        with app.test_request_context():
            g.pop("csrf_token", None)  # generate_csrf caches one token per app context
            session.update(values)
            token = generate_csrf()
            return serializer.dumps(dict(session)), token
    finally:
        app.config["SECRET_KEY"] = keep
