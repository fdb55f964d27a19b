"""Benchmark casting: 1,000 delegates on real Socket.IO clients each cast a ballot at once.

Run with `python bench/bench_votes.py [--clients 1000] [--processes 4] [--rounds 3]
[--repeat 3]`. It migrates a fresh database (SQLite in a temporary folder, or DATABASE_URL if
it names PostgreSQL), starts the real gevent server (`serve.py`) on 127.0.0.1, makes a workshop
with that many joined delegates and secret ranking ballots on 10 lines of work (one for each
cast a phone makes), and opens one python-socketio AsyncClient per delegate (websocket
transport), spread over several processes so the load client is not the bottleneck.
Once every client is connected, all send at once, each `--repeat` events one after another
(a cast on each of the round's ballots), and the time from sending to the receipt (the
acknowledgement, which comes after the commit) is recorded. The bare server and ours both run
throughout; each of `--rounds` rounds measures the bare ack, then each of ours, and the table
shows each phase's round of median rate (a burst lasts about a second: the machine's moods,
which move either server's rate by half from one second to the next, are what the rounds and
the repeats even out). It prints:

* bare Flask-SocketIO (gevent): the same clients sending an event answered by a trivial handler;
* ours, `state.sync`: an authenticated, validated read of the workshop state (no write);
* ours, `ballot.cast`: votes durably stored per second, p50/p95/p99 from send to receipt, and
  whether the number of ballot papers in the database equals the number sent;
* ours, `ballot.sync`: each phone then asks for the ballot's state and turnout (a read per
  phone, answered in groups as every re-read is);
* bare again in the same round, answering each of our events with an answer of the same size
  (the median of ours, padded): what carrying that answer costs the framework and the
  clients, which share the machine's cores; each of ours is printed with its ratio to both;
* bare again in the same round, storing one row per event in the same database,
  group-committed as ours are (`STORED`): the least a durable write costs here, beside
  `ballot.cast`.

Each row also gives the server's CPU time per event during the burst (its threads' run time,
from /proc): steadier than the rates, which move with the clients sharing the two cores. On
PostgreSQL also the database's own CPU time per event (its processes on the same cores).
Every phase starts once the server has counted the previous phase's phones as gone.

A projector screen connected during the burst counts the `ballot.turnout` updates it receives
(coalesced by the server, at most about two per second). Bounded: every phase has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import (  # noqa: E402
    free_port,
    signed_session,
    start_server,
)

SECRET_KEY = "bench-votes-secret-of-a-throw-away-server"  # noqa: S105
OPTIONS = 10
CONNECT_TIMEOUT = 120
PHASE_TIMEOUT = 120

BARE_SERVER = """
from gevent import monkey; monkey.patch_all()
import socket
import sys
from flask import Flask
from flask_socketio import SocketIO
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler
app = Flask("bare")
sio = SocketIO(app, async_mode="gevent")
@app.route("/")
def index():
    return "ok"
@sio.on("ack")
def ack(payload=None):
    return {"ok": True}
@sio.on("ack_sized")
def ack_sized(payload):
    return {"ok": True, "pad": "x" * int(payload["size"])}
# Served as Flask-SocketIO's gevent deployment, Nagle's algorithm off, frames unmasked in C
# and the garbage collector tuned as ours (serving.py, collector.py): like with like.
from workshop.collector import collect_when_quiet, tune_garbage_collector
from workshop.serving import unmask_frames_in_c
tune_garbage_collector()
unmask_frames_in_c()
sio.start_background_task(collect_when_quiet, lambda: False)  # no batches: always quiet
listener = pywsgi.WSGIServer.get_listener(("127.0.0.1", int(sys.argv[1])), family=socket.AF_INET)
listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, log=None).serve_forever()
"""


#: The bare server's least durable write (added to BARE_SERVER as `ack_stored`): each event
#: stores one row of its own (a 64-character value) in the same database, through the same
#: engine settings as ours (SQLAlchemy Core, psycopg or SQLite in WAL with synchronous=FULL),
#: group-committed as ours are (a leader writes what is queued, at most 200, in one
#: transaction, commits, then every writer of that batch is answered). No checks, no reads,
#: no objects: the floor under any durable write on this machine. Written out rather than
#: through workshop.group_commit, whose own bookkeeping is part of what ours is measured for.
STORED = """
import os, threading, time
import sqlalchemy as sa
from workshop.db import tune_sqlite
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=4)
tune_sqlite(engine)
rows = sa.Table("bare_write", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("value", sa.String(64), nullable=False))
rows.drop(engine, checkfirst=True)
rows.create(engine)
queued, leading = [], [False]
@sio.on("ack_stored")
def ack_stored(payload):
    done = threading.Event()
    queued.append((str(payload["value"])[:64], done))
    if not leading[0]:
        leading[0] = True
        try:
            while queued:
                time.sleep(0)  # let the writes received meanwhile queue up
                batch, queued[:] = queued[:200], queued[200:]
                with engine.begin() as conn:
                    conn.execute(rows.insert(), [{"value": value} for value, _ in batch])
                for _, waiting in batch:
                    waiting.set()
        finally:
            leading[0] = False
    done.wait()
    return {"ok": True}
"""


# --- Servers ----------------------------------------------------------------------------------


def stop(proc: subprocess.Popen) -> None:
    """Stop a server process we started."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- The workshop, its delegates and their sessions -------------------------------------------


def prepare(database_url: str, clients: int, ballots: int = 1) -> dict[str, Any]:
    """Create the workshop, delegates and `ballots` open ballots (one for each round of
    casts); sign each delegate's session cookie."""
    from config import TestConfig
    from workshop import create_app
    from workshop.agenda.models import Delegate, Organisation
    from workshop.auth.logins import start_login
    from workshop.auth.services import create_user
    from workshop.db import utcnow
    from workshop.extensions import db
    from workshop.proposals.models import Proposal
    from workshop.sockets import projector_pass, projector_session_key
    from workshop.vocabulary import ORG_TYPES, REGIONS
    from workshop.voting import services
    from workshop.voting.schemas import BallotOpen

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(BenchConfig)
    rng = random.Random(2027)
    with app.app_context():
        from workshop.agenda import services as agenda
        from workshop.agenda.schemas import WorkshopIn

        organiser = create_user("bench@example.org", "Bench", "bench-password", "organiser")
        workshop = agenda.create_workshop(organiser, WorkshopIn(title="Bench", kind="virtual"))
        orgs = [Organisation(name=f"Org {i}", country="Senegal", region=region, type=org_type)
                for i, (region, org_type) in enumerate(
                    (rng.choice(list(REGIONS)), rng.choice(list(ORG_TYPES))) for _ in range(60))]
        db.session.add_all(orgs)
        db.session.flush()
        delegates = [Delegate(workshop_id=workshop.id, name=f"Delegate {i}",
                              organisation_id=rng.choice(orgs).id, locale="en",
                              joined_at=utcnow()) for i in range(clients)]
        db.session.add_all(delegates)
        db.session.add_all([Proposal(workshop_id=workshop.id, title=f"Line {i}",
                                     theme="decent_work", level="national", language="en")
                            for i in range(OPTIONS)])
        db.session.commit()
        opened = [services.open_ballot(organiser, workshop, BallotOpen(
            workshop_id=workshop.id, title=f"Rank the lines of work ({k + 1})",
            method="ranking", secret=True)) for k in range(ballots)]
        def signed(values: dict) -> tuple[str, str]:
            return signed_session(app, SECRET_KEY, values)

        # Each delegate gets a login session of their own, as joining would give them.
        people = [signed({"_user_id": start_login(d), "_fresh": True}) for d in delegates]
        screen = signed({projector_session_key(workshop.id):
                         projector_pass(workshop.projector_key)})
        result = {"workshop_id": workshop.id, "ballot_ids": [b.id for b in opened],
                  "options": opened[0].option_ids, "people": people, "screen": screen}
        db.session.remove()
        db.engine.dispose()
    return result


def count_votes(database_url: str, ballot_id: int) -> int:
    """Ballot papers stored for the ballot, read straight from the database."""
    return count_rows(database_url, "ballot_vote", "ballot_id = :b", b=ballot_id)


def read_value(database_url: str, sql: str, **values: Any) -> Any:
    """The one value `sql` selects, read straight from the database (not the server's)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), values).scalar_one()
    finally:
        engine.dispose()


def count_rows(database_url: str, table: str, where: str = "1 = 1", **values: Any) -> int:
    """Rows of `table` (a name of ours) matching `where`."""
    return read_value(database_url, f"SELECT count(*) FROM {table} WHERE {where}",  # noqa: S608
                      **values)


def wait_until_gone(database_url: str, workshop_id: int, timeout: float = PHASE_TIMEOUT) -> float:
    """Wait until the server has counted every phone of the workshop as gone (the delegates'
    open sockets, read from the database), so that one phase's leaving (a batch of presence
    updates per few hundred phones) does not fall in the next phase's burst; how long that
    took, in seconds. (Polled: the server announces nothing the benchmark could await.)"""
    start = time.monotonic()
    while time.monotonic() - start < timeout and read_value(
            database_url, "SELECT coalesce(sum(connections), 0) FROM delegate "
            "WHERE workshop_id = :w", w=workshop_id):
        time.sleep(0.1)
    return time.monotonic() - start


# --- Load clients -----------------------------------------------------------------------------


async def connect_clients(url: str, people: list, workshop_id: int | None,
                          listen: Callable[[int, Any], None] | None = None
                          ) -> tuple[list, list[bool]]:
    """One python-socketio AsyncClient per person (None: no login), connected over websocket
    50 at a time (`listen(i, client)` first, to hear what comes with the connection); the
    clients and whether each connected."""
    import socketio

    clients = [socketio.AsyncClient(reconnection=False) for _ in people]
    for i, client in enumerate(clients):
        if listen is not None:
            listen(i, client)
    gate = asyncio.Semaphore(50)

    async def connect(sio, person) -> bool:
        async with gate:
            try:
                headers, auth = {}, None
                if person:  # (session cookie, CSRF token[, more of the connection's auth])
                    headers = {"Cookie": f"session={person[0]}"}
                    auth = {"workshop": workshop_id, "csrf": person[1],
                            **(person[2] if len(person) > 2 else {})}
                await sio.connect(url, headers=headers, auth=auth, transports=["websocket"],
                                  wait_timeout=30)
                return True
            except Exception:  # counted as not connected
                return False

    connected = await asyncio.gather(*(connect(c, p) for c, p in zip(clients, people,
                                                                     strict=True)))
    return clients, list(connected)


class Series(list):
    """The payloads one client sends one after the other, each once the previous one is
    answered (a phase of `--repeat` events per client); a plain payload is sent once."""


async def _clients(url: str, people: list, workshop_id: int | None, event: str,
                   payloads: list, ready, go, leave, results) -> None:
    clients, connected = await connect_clients(url, people, workshop_id)
    ready.put(sum(connected))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, go.wait, CONNECT_TIMEOUT + PHASE_TIMEOUT)

    sizes: list[int] = []

    async def one(sio, payload) -> list[tuple[float | None, bool]]:
        answers = []
        for sent in payload if isinstance(payload, Series) else [payload]:
            start = time.perf_counter()
            try:
                ack = await sio.call(event, sent, timeout=PHASE_TIMEOUT)
            except Exception:
                answers.append((None, False))
                continue
            took = time.perf_counter() - start
            sizes.append(len(json.dumps(ack, separators=(",", ":"))))
            answers.append((took, bool(ack and ack.get("ok"))))
        return answers

    started = time.perf_counter()
    answers = [answer for each in await asyncio.gather(
        *(one(c, p) for c, p, ok in zip(clients, payloads, connected, strict=True) if ok))
        for answer in each]
    finished = time.perf_counter()
    results.put({"latencies": [t for t, ok in answers if ok and t is not None],
                 "ok": sum(1 for _, ok in answers if ok), "sent": len(answers),
                 "started": started, "finished": finished, "sizes": sizes})
    # Clients leave once every client has its answer (see load): leaving while others still
    # send would measure the leaving as well.
    await loop.run_in_executor(None, leave.wait, PHASE_TIMEOUT + 60)
    await asyncio.gather(*(c.disconnect() for c in clients if c.connected),
                         return_exceptions=True)


def _worker(url, people, workshop_id, event, payloads, ready, go, leave, results) -> None:
    asyncio.run(_clients(url, people, workshop_id, event, payloads, ready, go, leave, results))


def load(url: str, people: list, workshop_id: int | None, event: str, payloads: list,
         processes: int, watch: Any = None, server_pid: int | None = None) -> dict[str, Any]:
    """All clients connect; then all send `event` at once; latencies and throughput, and
    with `server_pid` the CPU time that server used from the send until the last answer."""
    from common import cpu_seconds, database_cpu_seconds  # (common builds on this module)

    ctx = mp.get_context("fork")
    ready, results, go, leave = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    shares = [list(range(i, len(people), processes)) for i in range(processes)]
    procs = [ctx.Process(target=_worker, args=(url, [people[j] for j in share], workshop_id,
                                               event, [payloads[j] for j in share], ready, go,
                                               leave, results))
             for share in shares]
    for proc in procs:
        proc.start()
    try:
        connected = sum(ready.get(timeout=CONNECT_TIMEOUT) for _ in procs)
        with watch or contextlib.nullcontext():  # e.g. a profiler on the server, for the burst
            cpu_before = cpu_seconds(server_pid) if server_pid else None
            # The database's own CPU, when it runs here beside the server (PostgreSQL).
            database = os.environ.get("DATABASE_URL", "").startswith("postgresql")
            database_before = database_cpu_seconds() if database else 0.0
            go.set()
            parts = [results.get(timeout=PHASE_TIMEOUT + 30) for _ in procs]
            cpu = None if cpu_before is None else cpu_seconds(server_pid) - cpu_before
            database_cpu = database_cpu_seconds() - database_before if database else None
    finally:
        leave.set()  # every client has its answer (or the phase failed): all leave
        for proc in procs:
            proc.join(timeout=30)
    latencies = sorted(t for part in parts for t in part["latencies"])
    # Processes share one monotonic clock (perf_counter is CLOCK_MONOTONIC on Linux).
    wall = max(p["finished"] for p in parts) - min(p["started"] for p in parts)
    ok = sum(p["ok"] for p in parts)
    sizes = sorted(size for part in parts for size in part["sizes"])
    return {"connected": connected, "sent": sum(p["sent"] for p in parts), "ok": ok,
            "wall": wall, "rate": ok / wall if wall else 0.0, "latencies": latencies,
            "cpu": cpu, "database_cpu": database_cpu,
            "size": sizes[len(sizes) // 2] if sizes else 0}  # the median answer's, in bytes


def quantile(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds (nearest rank)."""
    if not values:
        return float("nan")
    return 1000 * values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def line(name: str, r: dict[str, Any]) -> str:
    """One row of the results table."""
    lat = r["latencies"]
    cpu = f"{1e6 * r['cpu'] / r['sent']:>9.0f}" if r.get("cpu") is not None and r["sent"] else ""
    database = (f"{1e6 * r['database_cpu'] / r['sent']:>9.0f}"
                if cpu and r.get("database_cpu") is not None else "")
    return (f"{name:<30} {r['rate']:>9,.0f}/s {quantile(lat, .5):>8.0f} "
            f"{quantile(lat, .95):>8.0f} {quantile(lat, .99):>8.0f}   {r['ok']:>5}/{r['sent']}"
            f"{cpu}{database}")


def print_head(n: int, processes: int, database_url: str) -> None:
    """What was measured, and the results table's header."""
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"{n:,} clients in {processes} processes (python-socketio AsyncClient, "
          f"websocket) against one gevent server on 127.0.0.1; database: {kind}; "
          f"{os.cpu_count()} cores shared by server and clients.")
    print(f"{'':<30} {'events/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   ok/sent"
          f"  CPU us/ev" + ("  DB us/ev" if kind == "PostgreSQL" else ""))


# --- Turnout as a projector sees it -----------------------------------------------------------


def watch_turnout(url: str, workshop_id: int, screen: tuple[str, str], done, counts) -> None:
    """A projector screen: count the `ballot.turnout` updates and the last count it showed."""
    import socketio

    async def run() -> None:
        sio = socketio.AsyncClient(reconnection=False)
        seen = {"events": 0, "voted": 0}

        @sio.on("ballot.turnout")
        async def _turnout(data):
            seen["events"] += 1
            seen["voted"] = max(seen["voted"], data["voted"])

        await sio.connect(url, headers={"Cookie": f"session={screen[0]}"},
                          auth={"workshop": workshop_id, "csrf": screen[1]},
                          transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)
        counts.put("connected")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, done.wait, CONNECT_TIMEOUT + 2 * PHASE_TIMEOUT)
        await asyncio.sleep(1.0)  # the last coalesced update comes at most 0.5 s late
        await sio.disconnect()
        counts.put(seen)

    asyncio.run(run())


#: Our events, measured in each round after the bare ack.
OURS = ("state.sync", "ballot.cast", "ballot.sync")


def cast_payload(rng: random.Random, workshop_id: int, ballot_id: int,
                 options: list[int]) -> dict[str, Any]:
    """A phone's secret ranking of some of the options, with its secret."""
    ranking = rng.sample(options, rng.randint(1, len(options)))
    return {"workshop_id": workshop_id, "ballot_id": ballot_id, "choices": ranking,
            "secret": f"{rng.getrandbits(256):064x}"}


def median_round(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Of one phase's rounds, the one of median rate (the lower of the two middle ones)."""
    ranked = sorted(results, key=lambda r: r["rate"])
    return ranked[(len(ranked) - 1) // 2]


def round_ratio(rounds: dict[str, list[dict[str, Any]]], name: str, baseline: str) -> str:
    """`name`'s rate to `baseline`'s in each round: the median over the rounds, and the
    lowest and highest (a round's phases run seconds apart, so they share the machine's
    mood; rounds apart, the rates of either move by half)."""
    ratios = sorted(r["rate"] / max(b["rate"], 1e-9)
                    for r, b in zip(rounds[name], rounds[baseline], strict=True))
    return f"{name} {statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


# --- Main -------------------------------------------------------------------------------------


@contextlib.contextmanager
def profiled(pid: int, folder: Path | None, name: str) -> Iterator[None]:
    """py-spy on a server process while the block runs (PROFILE_RATE samples a second, 200
    unless set): its samples in `folder` (`name`.txt, folded stacks) and the functions that
    took the most time printed; without a folder, nothing."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.txt"
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                            str(pid), "--rate", os.environ.get("PROFILE_RATE", "200"),
                            "--format", "raw", "--output", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        print_profile(name, out)


def print_profile(name: str, folded: Path, top: int = 25) -> None:
    """The functions (ours and the libraries') found on most samples, with their share."""
    if not folded.exists():
        print(f"profile {name}: py-spy wrote nothing")
        return
    seen_in: dict[str, int] = {}
    total = 0
    for row in folded.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            function, _, where = frame.partition(" (")
            key = f"{function} ({where.split(':')[0].rsplit('/', 2)[-1] if where else '?'})"
            seen_in[key] = seen_in.get(key, 0) + int(count)
    print(f"profile of the server during {name} ({total} samples; share of samples in which "
          f"each function was on the stack):")
    for key, count in sorted(seen_in.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * count / max(total, 1):5.1f}%  {key}")


def burst_arguments(doc: str, profiles: str, rounds: bool = False,
                    repeat: int = 3) -> argparse.Namespace:
    """The options of a burst benchmark (this one, bench_events): clients, their processes,
    where py-spy writes the server's samples (`profiles` names its files), and with `rounds`
    how many rounds and how many events each client sends in one (`repeat` by default)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    if rounds:
        parser.add_argument("--repeat", type=int, default=repeat,
                            help="events each client sends in a burst, one after another "
                                 f"({repeat})")
        parser.add_argument("--rounds", type=int, default=3,
                            help="measure the bare server and ours this many times, "
                                 "alternately, and print the median (3)")
    parser.add_argument("--profile", metavar="DIR", type=Path,
                        help="record the server with py-spy during each burst (folded stacks "
                             f"in DIR: {profiles})")
    return parser.parse_args()


def burst_setup(prefix: str, **settings: str) -> tuple[Path, str, dict[str, str]]:
    """A temporary folder, the database (DATABASE_URL if it names PostgreSQL, else a SQLite
    file in the folder) and the server's environment (production, one process) with
    `settings`."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        database_url = f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
           "WORKSHOP_CONFIG": "production", **settings}
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    return tmp, database_url, env


def main() -> None:
    """Run the phases, in rounds, and print them side by side."""
    args = burst_arguments(__doc__, "read.txt, cast.txt, ballot-sync.txt (the first round)",
                           rounds=True)
    tmp, database_url, env = burst_setup("bench-votes-")
    procs: list[subprocess.Popen] = []
    from common import fresh_database, start_bare  # (common builds on this module)

    rounds: dict[str, list[dict[str, Any]]] = {}
    stored: list[int] = []
    try:
        fresh_database(database_url, env)
        setup = prepare(database_url, args.clients, args.rounds * args.repeat)
        people = setup["people"]
        n = len(people)

        # Both servers run throughout; each round measures the bare one, then ours, then the
        # bare one answering as much as ours did and storing a row per event.
        bare, bare_url = start_bare(STORED, env, tmp / "bare.log")
        procs.append(bare)
        port = free_port()
        server = start_server(env, port, tmp / "server.log")
        procs.append(server)
        url = f"http://127.0.0.1:{port}"
        wid = setup["workshop_id"]
        ctx = mp.get_context("fork")
        counts, done = ctx.Queue(), ctx.Event()
        watcher = ctx.Process(target=watch_turnout,
                              args=(url, wid, setup["screen"], done, counts))
        watcher.start()
        counts.get(timeout=CONNECT_TIMEOUT)
        rng = random.Random(7)
        times = range(args.repeat)

        def measure(name: str, url: str, people: list, workshop_id: int | None, event: str,
                    payloads: list, watch: Any = None, server_pid: int | None = None
                    ) -> dict[str, Any]:
            result = load(url, people, workshop_id, event, payloads, args.processes, watch,
                          server_pid)
            rounds.setdefault(name, []).append(result)
            return result

        for k in range(args.rounds):
            def spied(name: str, first: bool = k == 0) -> Any:
                return profiled(server.pid, args.profile if first else None, name)

            # Each client sends `repeat` events one after another: a cast on each of the
            # round's ballots, a re-read of each.
            ballots = setup["ballot_ids"][k * args.repeat:(k + 1) * args.repeat]
            measure("bare", bare_url, [None] * n, None, "ack",
                    [Series({"n": i} for _ in times) for i in range(n)], server_pid=bare.pid)
            ours = {"state.sync": measure(
                "state.sync", url, people, wid, "state.sync",
                [Series({"workshop_id": wid} for _ in times)] * n, spied("read"), server.pid)}
            wait_until_gone(database_url, wid)
            payloads = [Series(cast_payload(rng, wid, bid, setup["options"]) for bid in ballots)
                        for _ in range(n)]
            ours["ballot.cast"] = measure("ballot.cast", url, people, wid, "ballot.cast",
                                          payloads, spied("cast"), server.pid)
            stored.append(sum(count_votes(database_url, bid) for bid in ballots))
            wait_until_gone(database_url, wid)
            ours["ballot.sync"] = measure(
                "ballot.sync", url, people, wid, "ballot.sync",
                [Series({"workshop_id": wid, "ballot_id": bid} for bid in ballots)] * n,
                spied("ballot-sync"), server.pid)
            wait_until_gone(database_url, wid)
            # The bare server answering as much as each of ours did (the clients read it), and
            # storing one row per event, group-committed: the least durable write.
            for name, result in ours.items():
                measure(f"as much as {name}", bare_url, [None] * n, None, "ack_sized",
                        [Series({"size": result["size"]} for _ in times)] * n,
                        server_pid=bare.pid)
            measure("stored", bare_url, [None] * n, None, "ack_stored",
                    [Series({"value": cast["secret"]} for cast in series)
                     for series in payloads], server_pid=bare.pid)
        done.set()
        seen = counts.get(timeout=30)
        watcher.join(timeout=5)
        stop(server)
        stop(bare)
        floor_rows = count_rows(database_url, "bare_write")
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)

    casts = rounds["ballot.cast"]
    median = {name: median_round(results) for name, results in rounds.items()}
    bare_result, cast = median["bare"], median["ballot.cast"]
    print_head(n, args.processes, database_url)
    print(f"{len(casts)} rounds, each measuring the bare server then ours, each client sending "
          f"{args.repeat} events one after another; each row is the round of median rate.")
    print(line("bare Flask-SocketIO ack", bare_result))
    print(line("ours: state.sync (read)", median["state.sync"]))
    print(line("ours: ballot.cast (stored)", cast))
    print(line("ours: ballot.sync (read)", median["ballot.sync"]))
    for name in OURS:
        print(line(f"bare: answer of {median[name]['size']:,} B", median[f"as much as {name}"]))
    print(line("bare: one row stored (floor)", median["stored"]))
    sent, ok = sum(r["sent"] for r in casts), sum(r["ok"] for r in casts)
    lost = sent - sum(stored)
    print(f"votes durably stored: {sum(stored):,} in the database for {sent:,} sent "
          f"({ok:,} receipts) over {len(setup['ballot_ids'])} ballots -> "
          f"{'nothing lost' if lost == 0 else f'{lost} LOST'}; median "
          f"{cast['rate']:,.0f} votes/s")
    print(f"turnout on the projector during the bursts: {seen['events']} updates (coalesced), "
          f"the highest showing {seen['voted']:,} voted")
    if bare_result["rate"]:
        p50_ratio = quantile(cast["latencies"], .5) / max(quantile(bare_result["latencies"], .5),
                                                          1e-9)
        print(f"ratio: ballot.cast runs at {cast['rate'] / bare_result['rate']:.2f}x the bare "
              f"framework's rate, with {p50_ratio:.1f}x its p50 (the median rounds)")
        print("ratio to the bare rate of the same round, median of "
              f"{len(casts)} (lowest-highest): "
              + ", ".join(round_ratio(rounds, name, "bare") for name in OURS))
        print("ratio to the bare server answering as much, same round: " + ", ".join(
            f"{name} ({median[name]['size']:,} B) "
            + round_ratio(rounds, name, f"as much as {name}").removeprefix(f"{name} ")
            for name in OURS))
        stored_ok = sum(r["ok"] for r in rounds["stored"])
        print(f"ratio to the bare server storing one row per event ({floor_rows:,} stored for "
              f"{stored_ok:,} acks), the least durable write, same round: "
              + round_ratio(rounds, "ballot.cast", "stored") + "; that write itself: "
              + round_ratio(rounds, "stored", "bare").removeprefix("stored ")
              + " the bare ack")
    shutil.rmtree(tmp, ignore_errors=True)
    if sum(stored) != ok or ok != sent:
        sys.exit(1)


if __name__ == "__main__":
    main()
