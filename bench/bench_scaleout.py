"""Benchmark several server processes behind HAProxy: thousands of phones in one workshop.

Run with `python bench/bench_scaleout.py [--phones 3000] [--processes 2] [--client-processes 4]`
(`--print-config` prints the HAProxy configuration it writes, and stops). Everything runs on
127.0.0.1 and is stopped at the end: a throw-away PostgreSQL cluster (initdb in a temporary
folder, fsync=off; or DATABASE_URL if it names PostgreSQL, whose public schema is dropped), a
Redis server (the Socket.IO message queue and the HTTP limits' store), the server processes and
HAProxy in front of them, sticky by a cookie so that Engine.IO long-polling stays on the process
that holds its session.

Each phone is a python-socketio AsyncClient with a cookie jar of its own, as a browser has: it
fetches its step (where the proxy's cookie is set), then connects by long-polling and upgrades to
a WebSocket, through the proxy. Measured through the proxy, in the same run, for three set-ups:

* bare Flask-SocketIO (gevent), as many processes as ours, sharing Redis, behind the same proxy:
  a `goto` event broadcast to every phone, a fixed fragment, an `ack` event (the floor);
* ours with one process behind the proxy;
* ours with `--processes` processes behind the proxy.

Go: the facilitator sends `agenda.goto`; the time from sending until each phone has received
the `state` event and has the step's part: inflated from the state when it came with it (a
discussion step's list, a vote step's blank paper, drawn once for every phone of a language,
the page orders the paper), else fetched (GET /d/step
with its cookies; the bare server's phones always fetch its fixed fragment). Votes:
every phone casts a secret ranking ballot at once; votes durably stored per second, send to
receipt, and the stored papers counted against the receipts. The CPU time each part used
during both phases shows what limits the figures. Bounded: every phase has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import logging
import multiprocessing as mp
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_votes import (  # noqa: E402
    SECRET_KEY,
    count_votes,
    line,
    prepare,
    profiled,
    quantile,
    stop,
)
from common import bare_server, cpu_seconds, fresh_database, machine_times  # noqa: E402

from tests.servers import (  # noqa: E402
    PostgresCluster,
    RedisServer,
    free_port,
    signed_session,
    start_process,
    start_server,
)

CONNECT_TIMEOUT = 300
PHASE_TIMEOUT = 120
PROXY_COOKIE = "WSRV"

HAPROXY_CONFIG = """\
# HAProxy in front of {count} Workshop server process(es) (bench/bench_scaleout.py writes it).
global
    maxconn {maxconn}

defaults
    mode http
    maxconn {maxconn}
    timeout connect 5s
    # A long-polling request waits up to Engine.IO's ping interval (10 s) for news.
    timeout client 60s
    timeout server 60s
    # An upgraded WebSocket is a tunnel: Engine.IO pings in it every 10 s (and the server drops
    # a phone silent for 20 s more), so this only has to outlive a quiet socket.
    timeout tunnel 1h
    timeout http-request 10s
    timeout http-keep-alive 15s
    # The phone's address in X-Forwarded-For (the servers run with TRUSTED_PROXIES=1).
    option forwardfor

frontend phones
    bind 127.0.0.1:{port}
    default_backend workshop

backend workshop
    # The fewest open connections (WebSockets last for hours) takes the next new phone.
    balance leastconn
    # Sticky: the first answer sets this cookie, naming the process; every later request of
    # the browser (long-polling, the WebSocket upgrade, fragments) goes back to the same one.
    cookie {cookie} insert indirect nocache httponly
    # A process that stops accepting connections (3 checks, 6 s) gets no new phones. A TCP
    # check, not an HTTP one: a process slow to answer under a burst must not be taken out,
    # since its long-polling phones would lose their sessions.
    default-server check inter 2s fall 3 rise 2
{servers}
"""

# The bare server's Go: a fixed fragment and a broadcast of the payload it is sent. With the
# message queue, as ours, so that a broadcast reaches the phones of every process.
BARE_HANDLERS = """
FRAGMENT = "<section><h2>Step</h2>" + "<p>Line of work</p>" * 100 + "</section>"
@app.route("/d/step")
def step():
    return FRAGMENT
@sio.on("goto")
def goto(payload=None):
    sio.emit("state", payload)
    return {"ok": True}
"""
PLAIN_SOCKETIO = 'SocketIO(app, async_mode="gevent")'
QUEUED_SOCKETIO = ('SocketIO(app, async_mode="gevent", '
                   'message_queue=__import__("os").environ.get("SOCKETIO_MESSAGE_QUEUE"))')


def bare_source() -> str:
    """The bare server (bench_votes' with the Go handlers) on the Socket.IO message queue.

    :raise RuntimeError: the bare server no longer builds its SocketIO as expected.
    """
    source = bare_server(BARE_HANDLERS)
    if PLAIN_SOCKETIO not in source:
        raise RuntimeError(f"bench_votes.BARE_SERVER no longer holds {PLAIN_SOCKETIO}")
    return source.replace(PLAIN_SOCKETIO, QUEUED_SOCKETIO)


def haproxy_config(port: int, backends: list[int], maxconn: int) -> str:
    """HAProxy's configuration: one frontend on `port`, sticky over `backends`."""
    servers = "\n".join(f"    server app{i} 127.0.0.1:{p} cookie app{i}"
                        for i, p in enumerate(backends, 1))
    return HAPROXY_CONFIG.format(count=len(backends), maxconn=maxconn, port=port,
                                 cookie=PROXY_COOKIE, servers=servers)


# --- What the bench starts: PostgreSQL, Redis, servers, HAProxy --------------------------------


def raise_fd_limit() -> int:
    """Lift this process's soft limit on open files to the hard one (its children inherit it):
    thousands of sockets on loopback need two descriptors each."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


@contextmanager
def postgres() -> Iterator[tuple[str, int | None]]:
    """DATABASE_URL if it names PostgreSQL, else a throw-away cluster on a loopback port
    (fsync=off: the figures leave out the disk's flushes); yields its URL and, for our own
    cluster, the postmaster's pid."""
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith("postgresql"):
        yield given, None
        return
    cluster = PostgresCluster.available("max_connections=300")
    if cluster is None:
        sys.exit("bench_scaleout: install PostgreSQL (apt-get install postgresql) or set "
                 "DATABASE_URL to a PostgreSQL database it may empty.")
    try:
        cluster.init()
        yield cluster.create_database("workshop_bench"), cluster.postmaster
    finally:
        cluster.remove()


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """A Redis on a loopback port that keeps nothing on disk; yields its URL and pid."""
    server = RedisServer.available()
    if server is None:
        sys.exit("bench_scaleout: install redis-server (apt-get install redis-server).")
    try:
        server.start()
        yield server.url, server.proc.pid
    finally:
        server.stop()


@contextmanager
def processes(start: Callable[[int, Path], subprocess.Popen], count: int,
              logs: Path) -> Iterator[list[tuple[int, int]]]:
    """Start `count` server processes, each on a free port; yields their (port, pid) and
    stops them all at the end."""
    procs: list[subprocess.Popen] = []
    started: list[tuple[int, int]] = []
    try:
        for _ in range(count):
            port = free_port()
            procs.append(start(port, logs / f"server-{port}.log"))
            started.append((port, procs[-1].pid))
        yield started
    finally:
        for proc in procs:
            stop(proc)


@contextmanager
def haproxy(backends: list[int], maxconn: int, logs: Path) -> Iterator[tuple[str, int]]:
    """HAProxy in the foreground with our configuration; yields its URL and pid."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        sys.exit("bench_scaleout: install HAProxy (apt-get install haproxy).")
    port = free_port()
    config = logs / "haproxy.cfg"
    config.write_text(haproxy_config(port, backends, maxconn))
    subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True)
    proc = start_process([binary, "-db", "-f", str(config)], dict(os.environ), port,
                         logs / "haproxy.log")
    try:
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        stop(proc)


# --- The workshop's agenda, the facilitator, a second ballot ---------------------------------


def prepare_agenda(database_url: str, workshop_id: int, kind: str = "discuss") -> dict[str, Any]:
    """Two steps of `kind` (phones start on the first; the step's part comes with the state:
    a discussion step's list, a vote step's blank paper of the open ballot), a second secret
    ballot (one per run of ours) and the organiser's signed session, who facilitates."""
    from config import TestConfig
    from workshop import create_app
    from workshop.agenda import services as agenda
    from workshop.agenda.models import Workshop
    from workshop.agenda.schemas import StepIn
    from workshop.auth.logins import start_login
    from workshop.auth.models import User
    from workshop.extensions import db
    from workshop.voting import services
    from workshop.voting.schemas import BallotOpen

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(BenchConfig)
    with app.app_context():
        organiser = db.session.scalar(db.select(User).where(User.role == "organiser"))
        workshop = db.session.get(Workshop, workshop_id)
        steps = [agenda.add_step(organiser, workshop, StepIn(kind=kind, title=title)).id
                 for title in ("The lines of work", "The lines of work again")]
        agenda.goto_step(organiser, workshop, steps[0])
        ballot = services.open_ballot(organiser, workshop, BallotOpen(
            workshop_id=workshop_id, title="Rank the lines of work again", method="ranking",
            secret=True))
        staff = signed_session(app, SECRET_KEY, {"_user_id": start_login(organiser),
                                                 "_fresh": True})
        result = {"steps": steps, "ballot_id": ballot.id, "staff": staff}
        db.session.remove()
        db.engine.dispose()
    return result


# --- Phones -----------------------------------------------------------------------------------


class Phone:
    """A delegate's phone: its own cookie jar (the login session, then the proxy's cookie) and
    a Socket.IO client that long-polls, then upgrades to a WebSocket, as a browser does."""

    def __init__(self, url: str, person: tuple[str, str] | None, workshop_id: int | None,
                 target: int) -> None:
        import aiohttp
        import socketio

        self.url, self.person, self.workshop_id, self.target = url, person, workshop_id, target
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        if person:
            self.http.cookie_jar.update_cookies({"session": person[0]})
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http,
                                        request_timeout=60)
        self.sio.on("state", self._on_state)
        self.sio.on("disconnect", self._on_disconnect)
        self.state_at: float | None = None
        self.fetched_at: float | None = None
        self.fetched = "no state"  # then "ok", "HTTP <status>" or what went wrong
        self.with_state = False  # the step's part came with the state: nothing fetched
        self.marks: set[str] = set()  # as the page's (workshop/steps.py): fetch when named
        self.done = asyncio.Event()
        self.server = ""

    async def fetch_step(self) -> str:
        """GET the step's fragment with this phone's cookies: "ok" (200 with a body; no
        redirect followed), else "HTTP <status>"."""
        async with self.http.get(f"{self.url}/d/step", allow_redirects=False) as response:
            body = await response.read()
            return "ok" if response.status == 200 and body else f"HTTP {response.status}"

    async def connect(self) -> bool:
        """Load the step (the proxy picks a process and says which in its cookie), then open
        the socket on the same process."""
        try:
            if await self.fetch_step() != "ok":
                return False
            self.server = next((c.value for c in self.http.cookie_jar
                                if c.key == PROXY_COOKIE), "")
            auth = {"workshop": self.workshop_id, "csrf": self.person[1]} if self.person else None
            await self.sio.connect(self.url, auth=auth, transports=["polling", "websocket"],
                                   wait_timeout=60)
            return self.sio.transport() == "websocket"
        except Exception:  # counted as not connected
            return False

    async def _on_state(self, data: dict) -> None:
        """On the state that names the target step: the step's part that came with it,
        inflated, as the page does; else fetch the step's fragment, as the page does."""
        step = data.get("step") or {}
        if self.state_at is not None or step.get("id") != self.target:
            return
        self.state_at = time.perf_counter()
        part = data.get("phone") or {}
        try:
            # A phone whose marks the part names fetches its own (none here: nobody carries
            # a proxy or has voted on the second ballot before the Go).
            if (part.get("key") == step.get("key") and part.get("gzip")
                    and not set(part.get("fetch_if", ())) & self.marks):
                html = gzip.decompress(base64.b64decode(part["gzip"]))
                self.fetched = "ok" if html else "empty part"
                self.with_state = True
            else:
                self.fetched = await self.fetch_step()
        except Exception as exc:
            self.fetched = type(exc).__name__
        self.fetched_at = time.perf_counter()
        self.done.set()

    async def _on_disconnect(self, reason: Any = None) -> None:
        """A phone the server dropped (it missed its pings) waits for no state any more."""
        if self.state_at is None:
            self.fetched = "disconnected"
            self.done.set()

    async def cast(self, event: str, payload: dict) -> tuple[float, str]:
        """Send `event` and wait for its acknowledgement (the receipt, after the commit):
        the time taken, and "ok" or what went wrong (the refusal's error code)."""
        start = time.perf_counter()
        try:
            ack = await self.sio.call(event, payload, timeout=PHASE_TIMEOUT)
        except Exception as exc:
            return time.perf_counter() - start, type(exc).__name__
        outcome = "ok" if ack and ack.get("ok") else str((ack or {}).get("error", ack))
        return time.perf_counter() - start, outcome

    async def close(self) -> None:
        """Disconnect and close the HTTP session (the socket client does not own it)."""
        try:
            if self.sio.connected:
                await self.sio.disconnect()
        finally:
            await self.http.close()


async def _phones(url: str, people: list, workshop_id: int | None, target: int, event: str,
                  payloads: list, pipes: dict) -> None:
    """One client process: connect its phones; report Go once it is over; cast when told."""
    phones = [Phone(url, person, workshop_id, target) for person in people]
    gate = asyncio.Semaphore(50)
    loop = asyncio.get_running_loop()

    async def connect(phone: Phone) -> bool:
        async with gate:
            return await phone.connect()

    try:
        connected = await asyncio.gather(*(connect(p) for p in phones))
        live = [p for p, ok in zip(phones, connected, strict=True) if ok]
        pipes["ready"].put({"connected": len(live),
                            "servers": Counter(p.server for p in live)})
        await loop.run_in_executor(None, pipes["went"].wait, CONNECT_TIMEOUT + 60)
        cpu = time.process_time()
        if live:
            await asyncio.wait([asyncio.ensure_future(p.done.wait()) for p in live],
                               timeout=PHASE_TIMEOUT)
        pipes["go"].put({"state": [p.state_at for p in live if p.state_at is not None],
                         "fetched": [p.fetched_at for p in live if p.fetched == "ok"],
                         "with_state": sum(1 for p in live if p.with_state),
                         "outcomes": Counter(p.fetched for p in live),
                         "cpu": time.process_time() - cpu})
        await loop.run_in_executor(None, pipes["vote"].wait, 2 * PHASE_TIMEOUT)
        cpu = time.process_time()
        started = time.perf_counter()
        answers = await asyncio.gather(*(p.cast(event, payloads[i]) for i, p in
                                         enumerate(phones) if connected[i]))
        finished = time.perf_counter()
        pipes["votes"].put({"latencies": [t for t, outcome in answers if outcome == "ok"],
                            "outcomes": Counter(outcome for _t, outcome in answers),
                            "ok": sum(1 for _, outcome in answers if outcome == "ok"),
                            "sent": len(answers),
                            "started": started, "finished": finished,
                            "cpu": time.process_time() - cpu})
        # Phones leave once every phone has its receipt, as in a room: one client process's
        # phones closing while the others still vote would measure their leaving as well.
        await loop.run_in_executor(None, pipes["leave"].wait, PHASE_TIMEOUT + 60)
    finally:
        await asyncio.gather(*(p.close() for p in phones), return_exceptions=True)


def _worker(*args: Any) -> None:
    # The Engine.IO client logs every socket the server dropped; the results count them.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    asyncio.run(_phones(*args))


# --- A whole run: phones connect, Go, votes ----------------------------------------------------


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (PostgreSQL's backends under its postmaster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                after_name = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(after_name[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each process of each group; PostgreSQL's group is its
    postmaster with the backends it has now (the pools open more under a burst)."""
    def used(pid: int) -> float:
        try:
            return cpu_seconds(pid)
        except OSError:  # ended meanwhile
            return 0.0

    snapshot = {}
    for name, pids in groups.items():
        members = [*pids, *children(pids[0])] if name == "PostgreSQL" else pids
        snapshot[name] = {pid: used(pid) for pid in members}
    return snapshot


class CpuMeter:
    """Where the CPU went during one phase: each group's seconds, the load clients' (they
    report their own), and the machine's busy share."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.before = cpu_snapshot(groups)
        self.machine = machine_times()

    def spent(self, clients: float) -> dict[str, float]:
        """CPU seconds since the meter started, by part."""
        after = cpu_snapshot(self.groups)
        busy, _iowait, total = (a - b for a, b in zip(machine_times(), self.machine,
                                                      strict=True))
        used = {name: sum(t - self.before[name].get(pid, 0.0) for pid, t in pids.items())
                for name, pids in after.items()}
        return {**used, "load clients": clients, "machine busy": busy, "machine total": total}


def run(url: str, plan: dict[str, Any], groups: dict[str, list[int]],
        client_processes: int, profile: Callable[[], ExitStack] = ExitStack) -> dict[str, Any]:
    """Connect every phone through the proxy, then Go, then every phone votes at once
    (`profile`: what runs around the votes, e.g. py-spy on the servers)."""
    import socketio

    ctx = mp.get_context("fork")
    pipes = {"ready": ctx.Queue(), "go": ctx.Queue(), "votes": ctx.Queue(),
             "went": ctx.Event(), "vote": ctx.Event(), "leave": ctx.Event()}
    people = plan["people"]
    shares = [list(range(i, len(people), client_processes)) for i in range(client_processes)]
    procs = [ctx.Process(target=_worker, args=(
        url, [people[j] for j in share], plan["workshop_id"], plan["target"], plan["event"],
        [plan["payloads"][j] for j in share], pipes)) for share in shares]
    facilitator = socketio.Client(reconnection=False)
    result: dict[str, Any] = {}
    try:
        for proc in procs:
            proc.start()
        ready = [pipes["ready"].get(timeout=CONNECT_TIMEOUT + 30) for _ in procs]
        result["connected"] = sum(r["connected"] for r in ready)
        result["servers"] = sum((r["servers"] for r in ready), Counter())
        staff = plan["staff"]
        facilitator.connect(url, headers={"Cookie": f"session={staff[0]}"} if staff else {},
                            auth={"workshop": plan["workshop_id"], "csrf": staff[1]}
                            if staff else None, transports=["websocket"], wait_timeout=60)
        meter = CpuMeter(groups)
        pipes["went"].set()
        sent = time.perf_counter()
        ack = facilitator.call(plan["goto"], plan["goto_payload"], timeout=PHASE_TIMEOUT)
        result["goto_ack"] = time.perf_counter() - sent
        result["goto_ok"] = bool(ack and ack.get("ok"))
        go = [pipes["go"].get(timeout=PHASE_TIMEOUT + 30) for _ in procs]
        result["go_cpu"] = meter.spent(sum(g["cpu"] for g in go))
        result["state"] = sorted(t - sent for g in go for t in g["state"])
        result["fetched"] = sorted(t - sent for g in go for t in g["fetched"])
        result["go_outcomes"] = sum((g["outcomes"] for g in go), Counter())
        result["with_state"] = sum(g["with_state"] for g in go)
        with profile():
            meter = CpuMeter(groups)
            pipes["vote"].set()
            parts = [pipes["votes"].get(timeout=PHASE_TIMEOUT + 30) for _ in procs]
            result["vote_cpu"] = meter.spent(sum(p["cpu"] for p in parts))
        ok = sum(p["ok"] for p in parts)
        wall = max(p["finished"] for p in parts) - min(p["started"] for p in parts)
        result["votes"] = {"ok": ok, "sent": sum(p["sent"] for p in parts), "wall": wall,
                           "outcomes": sum((p["outcomes"] for p in parts), Counter()),
                           "rate": ok / wall if wall else 0.0,
                           "latencies": sorted(t for p in parts for t in p["latencies"])}
    finally:
        pipes["leave"].set()
        if facilitator.connected:
            facilitator.disconnect()
        deadline = time.monotonic() + 60
        for proc in procs:
            proc.join(timeout=max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
    return result


# --- Main -------------------------------------------------------------------------------------


def plans(setup: dict[str, Any], agenda: dict[str, Any], phones: int) -> dict[str, dict]:
    """What each set-up's phones send: bare (`goto`, `ack`), then ours twice, each run with
    its own ballot and moving to the other step."""
    wid, people = setup["workshop_id"], setup["people"]
    rng = random.Random(7)

    def ballots(ballot_id: int) -> list[dict]:
        options = setup["options"]
        return [{"workshop_id": wid, "ballot_id": ballot_id,
                 "choices": rng.sample(options, rng.randint(1, len(options))),
                 "secret": f"{rng.getrandbits(256):064x}"} for _ in range(phones)]

    first, second = agenda["steps"]
    bare = {"people": [None] * phones, "workshop_id": None, "staff": None, "target": 1,
            "goto": "goto", "goto_payload": {"step": {"id": 1}}, "event": "ack",
            "payloads": [{"n": i} for i in range(phones)]}
    ours = [{"people": people, "workshop_id": wid, "staff": agenda["staff"], "target": target,
             "goto": "agenda.goto", "goto_payload": {"workshop_id": wid, "step_id": target},
             "event": "ballot.cast", "payloads": ballots(ballot), "ballot_id": ballot}
            for target, ballot in ((second, setup["ballot_id"]), (first, agenda["ballot_id"]))]
    return {"bare": bare, "one": ours[0], "many": ours[1]}


def measure_all(args: argparse.Namespace, tmp: Path) -> tuple[dict[str, dict], dict[str, Any]]:
    """Start the shared services, then each set-up in turn behind its own HAProxy."""
    results: dict[str, dict] = {}
    maxconn = max(4000, 2 * args.phones + 1000)
    with ExitStack() as stack:
        database_url, postmaster = stack.enter_context(postgres())
        redis_url, redis_pid = stack.enter_context(redis_server())
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
               "WORKSHOP_CONFIG": "production", "SOCKETIO_MESSAGE_QUEUE": f"{redis_url}/0",
               "RATELIMIT_STORAGE_URI": f"{redis_url}/1", "TRUSTED_PROXIES": "1"}
        fresh_database(database_url, env)
        setup = prepare(database_url, args.phones)
        agenda = prepare_agenda(database_url, setup["workshop_id"], args.step)
        runs = plans(setup, agenda, args.phones)
        bare_code = bare_source()
        starts = {
            "bare": (lambda port, log: start_process([sys.executable, "-c", bare_code, str(port)],
                                                     env, port, log), args.processes),
            "one": (lambda port, log: start_server(env, port, log), 1),
            "many": (lambda port, log: start_server(env, port, log), args.processes),
        }
        for name, (start, count) in starts.items():
            with processes(start, count, tmp) as servers, \
                    haproxy([port for port, _pid in servers], maxconn, tmp) as (url, proxy_pid):
                groups = {"servers": [pid for _port, pid in servers], "HAProxy": [proxy_pid],
                          "Redis": [redis_pid], "facilitator": [os.getpid()]}
                if postmaster:
                    groups["PostgreSQL"] = [postmaster]
                print(f"... {name}: {count} process(es) behind {url}", flush=True)
                results[name] = run(url, runs[name], groups, args.client_processes,
                                    _profiler(args.profile if name != "bare" else None, name,
                                              groups["servers"]))
            results[name]["errors"] = logged_errors([tmp / f"server-{port}.log"
                                                     for port, _pid in servers])
            if name != "bare":  # counted once the servers stopped: no batch still writing
                results[name]["stored"] = count_votes(database_url, runs[name]["ballot_id"])
    return results, {"postgres": "throw-away, fsync=off" if postmaster else "DATABASE_URL"}


def _profiler(folder: Path | None, name: str, pids: list[int]) -> Callable[[], ExitStack]:
    """py-spy on each of the set-up's servers during the votes (`--profile`); else nothing."""

    def profile() -> ExitStack:
        stack = ExitStack()
        for index, pid in enumerate(pids if folder is not None else []):
            stack.enter_context(profiled(pid, folder, f"{name}-votes-{index + 1}"))
        return stack

    return profile


def logged_errors(logs: list[Path]) -> Counter:
    """The errors the servers logged (the last line of a traceback, or a failed socket event):
    the logs go with the temporary folder, so the bench says what they held."""
    found: Counter = Counter()
    for log in logs:
        for text in log.read_text(errors="replace").splitlines():
            if text[:1].strip() and ("Error" in text or "Exception" in text
                                     or " failed: " in text) and not text.startswith("Traceback"):
                found[text[:110]] += 1
    return found


def go_line(name: str, r: dict[str, Any]) -> str:
    """One row of the Go table: when phones had the state, and when they had the fragment."""
    state, fetched = r["state"], r["fetched"]
    return (f"{name:<24} {quantile(state, .5):>7.0f} {quantile(state, .95):>7.0f} "
            f"{quantile(state, .99):>7.0f}   {quantile(fetched, .5):>7.0f} "
            f"{quantile(fetched, .95):>7.0f} {quantile(fetched, .99):>7.0f}   "
            f"{len(fetched):>5}/{r['connected']}   {1000 * r['goto_ack']:>6.0f}")


def cpu_line(name: str, cpu: dict[str, float], phones: int) -> str:
    """Where the CPU went during a phase: CPU seconds by part, the servers' milliseconds per
    phone, and the machine's busy share."""
    parts = {k: v for k, v in cpu.items() if k not in ("machine busy", "machine total")}
    rest = cpu["machine busy"] - sum(parts.values())
    shown = ", ".join(f"{k} {v:.1f}" for k, v in {**parts, "rest": rest}.items())
    share = cpu["machine busy"] / cpu["machine total"] if cpu["machine total"] else 0.0
    per_phone = 1000 * cpu["servers"] / phones if phones else float("nan")
    return (f"  {name:<22} {shown} (servers {per_phone:.1f} ms per phone); "
            f"machine {share:.0%} busy over {cpu['machine total'] / (os.cpu_count() or 1):.1f} s")


def report(args: argparse.Namespace, results: dict[str, dict], info: dict[str, Any]) -> bool:
    """Print the tables and ratios; True when every vote sent was acknowledged and stored."""
    n = args.processes
    names = {"bare": f"bare Flask-SocketIO x{n}", "one": "ours x1", "many": f"ours x{n}"}
    print(f"\n{args.phones:,} phones in one workshop, {args.client_processes} client processes "
          f"(python-socketio AsyncClient: long-polling, then WebSocket), through HAProxy on "
          f"127.0.0.1 (sticky cookie); PostgreSQL ({info['postgres']}), Redis message queue; "
          f"{os.cpu_count()} cores shared by everything. Baseline: bare Flask-SocketIO (gevent), "
          f"as many processes behind the same proxy and Redis queue, with a fixed fragment and a "
          f"trivial ack.")
    for key, r in results.items():
        spread = ", ".join(f"{k or '?'} {v}" for k, v in sorted(r["servers"].items()))
        print(f"  {names[key]:<22} {r['connected']:,}/{args.phones:,} connected ({spread})")
    print(f"\nGo: from the facilitator's goto until each phone has the state / has fetched its "
          f"step (ms)\n{'':<24} {'state p50':>7} {'p95':>7} {'p99':>7}   {'step p50':>7} "
          f"{'p95':>7} {'p99':>7}   phones   ack ms")
    for key, r in results.items():
        print(go_line(names[key], r))
    for key, r in results.items():
        if r["with_state"]:
            print(f"  {names[key]}: {r['with_state']:,} phones had the step's part with the "
                  f"state (nothing fetched)")
        missed = ", ".join(f"{n} {why}" for why, n in r["go_outcomes"].items() if why != "ok")
        if missed:
            print(f"  {names[key]}: no step for {missed}")
    print(f"\nVotes: every phone casts at once\n{'':<30} {'events/s':>11} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8}   ok/sent")
    for key, r in results.items():
        print(line(names[key] + (" ack" if key == "bare" else " ballot.cast"), r["votes"]))
    good = True
    for key in ("one", "many"):
        r = results[key]
        votes = r["votes"]
        lost = votes["ok"] - r["stored"]
        failed = ", ".join(f"{n} {why}" for why, n in votes["outcomes"].items() if why != "ok")
        print(f"{names[key]}: {r['stored']:,} papers stored for {votes['ok']:,} receipts "
              f"({votes['sent']:,} sent) -> "
              f"{'nothing lost' if lost <= 0 else f'{lost} receipts with no paper: LOST'}"
              f"{f'; no receipt: {failed}' if failed else ''}"
              f"{f' ({-lost} of them stored all the same)' if lost < 0 else ''}")
        good = good and r["stored"] >= votes["ok"]
    for key, r in results.items():
        for text, count in r["errors"].most_common(3):
            print(f"  {names[key]} logged {count:,}x: {text}")
    print("\nCPU seconds used during Go / during the votes:")
    for key, r in results.items():
        print(cpu_line(f"{names[key]}, Go", r["go_cpu"], r["connected"]))
        print(cpu_line(f"{names[key]}, votes", r["vote_cpu"], r["votes"]["sent"]))
    one, many, bare = results["one"], results["many"], results["bare"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    print(f"\nratios: ours x{n} / ours x1: votes/s "
          f"{ratio(many['votes']['rate'], one['votes']['rate'])}, Go p99 "
          f"{ratio(quantile(many['fetched'], .99), quantile(one['fetched'], .99))}; "
          f"ours x{n} / bare x{n}: votes/s {ratio(many['votes']['rate'], bare['votes']['rate'])}, "
          f"Go p99 {ratio(quantile(many['fetched'], .99), quantile(bare['fetched'], .99))}")
    go_p99 = quantile(many["fetched"], .99)
    complete = len(many["fetched"]) == many["connected"] == args.phones
    print(f"goal (ours x{n}): Go p99 <= 1 s: {'yes' if go_p99 <= 1000 and complete else 'no'} "
          f"({go_p99:,.0f} ms, {len(many['fetched']):,} of {args.phones:,} phones); votes >= "
          f"1,000/s: {'yes' if many['votes']['rate'] >= 1000 else 'no'} "
          f"({many['votes']['rate']:,.0f}/s)")
    return good


def main() -> None:
    """Measure the three set-ups and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=2, help="server processes")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--step", choices=("discuss", "vote"), default="discuss",
                        help="the kind of step Go moves to")
    parser.add_argument("--profile", metavar="DIR", type=Path,
                        help="run py-spy on our servers during the votes; samples in DIR")
    parser.add_argument("--print-config", action="store_true",
                        help="print the HAProxy configuration for --processes servers and stop")
    args = parser.parse_args()
    if args.print_config:
        print(haproxy_config(8000, [5001 + i for i in range(args.processes)],
                             max(4000, 2 * args.phones + 1000)))
        return
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    try:
        results, info = measure_all(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not report(args, results, info):
        sys.exit(1)


if __name__ == "__main__":
    main()
