"""Pieces the Socket.IO benchmarks share: a fresh migrated database, a bare Flask-SocketIO
server extended with more handlers (and started), and CPU time (one process's, the whole machine's).

The bare server is `bench_votes.BARE_SERVER` (gevent, a trivial `ack` handler) with the
caller's handlers added before it starts serving, so every benchmark measures its own code
against the same bare framework.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bench_votes import BARE_SERVER

ROOT = Path(__file__).resolve().parents[1]


def make_app(database_url: str):
    """The app bound to the benchmark's database (for setting up and for checking)."""
    from config import TestConfig
    from workshop import create_app

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    return create_app(BenchConfig)


def fresh_database(database_url: str, env: dict[str, str]) -> None:
    """Migrate an empty database: a new SQLite file, or PostgreSQL's public schema dropped
    and made again (so never point `database_url` at a database whose data matters).

    :raise RuntimeError: the migration failed (the message ends with its output).
    """
    if database_url.startswith("postgresql"):
        import sqlalchemy as sa

        engine = sa.create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "workshop", "db", "upgrade"],
                          cwd=ROOT, env={**env, "DATABASE_URL": database_url},
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"migration failed:\n{done.stderr[-3000:]}")


def cpu_seconds(pid: int) -> float:
    """The CPU seconds a running process (Linux) has used so far, all its threads, to the
    nanosecond (their run time in /proc's schedstat; /proc/PID/stat counts 10 ms ticks, 10 us
    an event of a thousand).

    :raise OSError: no such process (it ended).
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def database_cpu_seconds() -> float:
    """The CPU seconds the local PostgreSQL's processes (named `postgres`: the server and
    every backend) have used so far: what the database costs on the same cores as the server
    and the clients (benchmarks target 127.0.0.1 only). Running processes to the nanosecond
    (/proc's schedstat); those that ended (a backend whose connection the pool closed, an
    autovacuum worker) through the server's count of its ended children, in 10 ms ticks."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            total += int((proc / "schedstat").read_text().split()[0]) / 1e9
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
            parent = Path(f"/proc/{fields[1]}/comm")
            if not (parent.exists() and parent.read_text().strip() == "postgres"):
                total += (int(fields[13]) + int(fields[14])) / tick  # the server: cutime, cstime
    return total


def machine_times() -> tuple[float, float, float]:
    """Seconds of CPU time of the whole machine (all cores) so far: (busy, iowait, total)."""
    with open("/proc/stat") as f:
        ticks = [int(t) for t in f.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle - iowait) / hz, iowait / hz, sum(ticks) / hz


def bare_server(handlers: str) -> str:
    """The source of the bare gevent server with `handlers` (code using its `sio`) added.

    Run it as `python -c SOURCE PORT`, like bench_votes does.
    """
    head, run, tail = BARE_SERVER.rpartition("# Served as")
    if not run:
        raise RuntimeError("bench_votes.BARE_SERVER no longer ends with its serving part")
    return f"{head}{textwrap.dedent(handlers)}\n{run}{tail}"


def start_bare(handlers: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """The bare server with `handlers` (see `bare_server`; "" for the plain one) on a free
    port of 127.0.0.1: its process and its URL."""
    from tests.servers import free_port, start_process

    port = free_port()
    proc = start_process([sys.executable, "-c", bare_server(handlers), str(port)], env, port,
                         log)
    return proc, f"http://127.0.0.1:{port}"
