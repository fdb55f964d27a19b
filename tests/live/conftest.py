"""Fixtures the live tests share: a Redis of a test's own, and two server processes on it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.servers import RedisServer, free_port, server_env, start_server


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A Redis of the test's own: the test stops and starts it."""
    server = RedisServer.available()
    if server is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def two_processes(live: LiveServer, redis: RedisServer, tmp_path: Path) -> Iterator[
        list[tuple[str, subprocess.Popen]]]:
    """Two server processes on the live server's database, sharing the Redis queue."""
    started = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = server_env(live.env["DATABASE_URL"], port,
                             SOCKETIO_MESSAGE_QUEUE=f"{redis.url}/0")
            started.append((f"http://127.0.0.1:{port}",
                            start_server(env, port, tmp_path / f"{name}.log")))
        yield started
    finally:
        for _url, proc in started:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
