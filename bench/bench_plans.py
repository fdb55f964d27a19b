"""Benchmark co-writing action plans: phones typing into the same plans at once, live.

Run with `python bench/bench_plans.py [--phones 30] [--plans 6] [--seconds 60] [--rate 2]`
(`--seconds 10` for a quick run). It migrates a fresh database (SQLite in a temporary folder,
or `--database-url postgresql+psycopg://...`, whose public schema is DROPPED and made again),
makes a workshop whose top lines are carried forward into `--plans` action plans, invites one
delegate per phone and puts them in working groups (phone i in plan i mod plans), and starts
the real gevent server (`serve.py`) on a free 127.0.0.1 port. Each phone logs in through its
invitation link, connects a python-socketio AsyncClient (websocket), sends `plan.open`, then
for `--seconds` types like a person: about `--rate` edits a second, one in flight at a time,
each inserting a unique marker word (`p07e0123`: phone 7, its 123rd word) at a random word
boundary of a text field, mostly its own field and sometimes (`--shared`) another phone's of
its group, always from the version it last knew (its last acknowledgement or the last
`plan.field` it received), so edits from stale versions are three-way merged by the server.
A refused overlapping edit (`conflict` with the `current` text) is shown, then typed again on
the fresh text; a `conflict` without it ("too many people are saving this field") is sent
again after a pause, like a phone would; both are counted apart.

Printed, beside a bare Flask-SocketIO gevent server run in the same way in the same run (an
in-memory last-writer-wins handler answering the same-size ack and broadcasting the same
`plan.field` and `plan.progress` to the same rooms): edits sent, acknowledged, merged,
conflicts, other errors, edits applied per second, p50/p99 from send to acknowledgement and
from send to the `plan.field` broadcast reaching another phone of the plan (matched by
`edit_id`), and server and client CPU. Then every acknowledged marker is looked for in the
final stored text of its field (read through the app): each must be there exactly once.

Exit status 1 when a marker is lost or duplicated, an acknowledgement lacks its marker, or the
server answered an edit with a server error or logged a traceback (the log is then kept); 2
when phones could not connect. Loopback only,
every phase bounded by a timeout, every process started here stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing as mp
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from bench_votes import quantile, stop  # noqa: E402
from common import (  # noqa: E402
    cpu_seconds,
    fresh_database,
    machine_times,
    make_app,
    start_bare,
)

from tests.helpers import csrf_from  # noqa: E402
from tests.servers import free_port, server_env, start_server  # noqa: E402

#: The plan's free-text fields phones write in (own field of the k-th phone of a group: k-th).
TEXT_FIELDS = ("objective", "results_national", "results_continental",
               "results_international", "resources", "context")
SEED = "The working group drafts this part of the plan together during the session."
CONNECT_TIMEOUT = 90  # all phones connected and their plan open
CALL_TIMEOUT = 20  # one edit's acknowledgement
DRAIN = 1.5  # after the last edit, time for its broadcasts to arrive
CONFLICT_PAUSE = 0.2  # the phone shows the conflict, the person types again
MAX_ATTEMPTS = 6  # the same word typed again after this many conflicts in a row: given up

BARE_HANDLERS = """
from flask_socketio import join_room

FIELDS = {}


@sio.on("plan.open")
def plan_open(payload):
    plan_id = payload["plan_id"]
    join_room(f"p{plan_id}")
    fields = {key: {"value": value, "version": version}
              for (plan, key), (version, value) in FIELDS.items() if plan == plan_id}
    return {"ok": True, "plan": {"plan_id": plan_id, "fields": fields}, "progress": {}}


@sio.on("plan.edit")
def plan_edit(payload):
    plan_id, key, value = payload["plan_id"], payload["field"], payload["value"]
    version = FIELDS.get((plan_id, key), (0, ""))[0] + 1
    FIELDS[(plan_id, key)] = (version, value)
    room = f"p{plan_id}"
    sio.emit("plan.field", {"plan_id": plan_id, "field": key, "version": version,
                            "value": value, "by": "Phone", "edit_id": payload.get("edit_id"),
                            "kind": "edit"}, to=room)
    sio.emit("plan.progress", {"plan_id": plan_id, "filled": 9, "total": 19,
                               "updated_at": "2027-03-01T10:00:00Z", "writers": ["Phone"],
                               "locked": False}, to=room)
    return {"ok": True, "plan_id": plan_id, "field": key, "version": version, "value": value,
            "merged": False, "duplicate": False}
"""


# --- The workshop, its plans and its phones (in-process app) ----------------------------------


def prepare(app, phones: int, plans: int) -> dict[str, Any]:
    """A workshop with `plans` plans carried forward and one invited delegate per phone, put
    in the working group of plan (i mod plans); every text field starts with a sentence."""
    from tests.helpers import (
        carry_forward,
        create_organisation,
        create_user,
        create_workshop,
        edit_plan,
        invite,
    )
    from workshop.extensions import db
    from workshop.plans.schemas import AssignIn
    from workshop.plans.services import assign_member

    with app.app_context():
        organiser = create_user("organiser")
        workshop = create_workshop(organiser, steps=6)
        made, _, _ = carry_forward(workshop, n=plans, lines=plans + 2)
        if len(made) != plans:
            raise RuntimeError(f"{len(made)} plans made, {plans} wanted")
        for plan in made:
            for key in TEXT_FIELDS:
                edit_plan(organiser, plan, key, SEED)
        organisation = create_organisation()
        people = []
        for i in range(phones):
            plan = made[i % plans]
            delegate, token = invite(workshop, organiser, organisation, name=f"Phone {i:02d}")
            assign_member(organiser, workshop, AssignIn(workshop_id=workshop.id,
                                                        delegate_id=delegate.id,
                                                        plan_id=plan.id))
            people.append({"index": i, "plan_id": plan.id, "token": token,
                           "own": TEXT_FIELDS[(i // plans) % len(TEXT_FIELDS)]})
        result = {"workshop_id": workshop.id, "plan_ids": [p.id for p in made],
                  "people": people}
        db.session.remove()
        db.engine.dispose()
    for person in people:  # the fields of its group: where it sometimes writes too
        person["group"] = sorted({p["own"] for p in people if p["plan_id"] == person["plan_id"]})
    return result


def log_in(url: str, token: str) -> tuple[str, str]:
    """Open the invitation link like a phone: the session cookie and the page's CSRF token."""
    http = requests.Session()
    page = http.get(f"{url}/i/{token}", timeout=30)
    page.raise_for_status()
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return cookie, csrf_from(page.text)


# --- Phones -----------------------------------------------------------------------------------


def insert_word(text: str, word: str, rng: random.Random) -> str:
    """`text` with `word` typed at a random word boundary (start, a space, or the end)."""
    if not text:
        return word
    bounds = [0, *(m.start() for m in re.finditer(" ", text)), len(text)]
    at = rng.choice(bounds)
    if at == 0:
        return f"{word} {text}"
    return f"{text[:at]} {word}{text[at:]}"


class Phone:
    """One delegate's phone: its socket, the versions it knows, and its typing."""

    def __init__(self, spec: dict[str, Any], workshop_id: int | None, stats: dict[str, Any],
                 rng: random.Random, widths: tuple[int, int]) -> None:
        import socketio

        self.spec, self.workshop_id, self.stats, self.rng = spec, workshop_id, stats, rng
        self.widths = widths
        self.sio = socketio.AsyncClient(reconnection=False)
        self.known: dict[str, tuple[int, str]] = {}
        self.words = 0
        self.ready = False
        self.mine = f"ph{spec['index']:03d}w"  # the start of this phone's edit ids
        self.sio.on("plan.field", self.on_field)
        self.sio.on("plan.progress", self.on_progress)
        self.sio.on("disconnect", self.on_disconnect)

    def learn(self, field: str, version: int, value: Any) -> None:
        """Keep the newest version seen of a field (acks and broadcasts may cross)."""
        if isinstance(value, str) and version >= self.known.get(field, (-1, ""))[0]:
            self.known[field] = (version, value)

    def on_field(self, data: dict[str, Any]) -> None:
        """A saved change of the plan: note when another phone's edit arrived here."""
        edit_id = data.get("edit_id") or ""
        if not edit_id.startswith(self.mine):
            self.stats["arrivals"].append((edit_id, time.perf_counter()))
        self.learn(data["field"], data["version"], data["value"])

    def on_progress(self, data: dict[str, Any]) -> None:
        """The plan's progress (counted only)."""
        self.stats["progress_events"] += 1

    def on_disconnect(self, *args: Any) -> None:
        """The socket closed (counted: none should close during the run)."""
        if self.ready:
            self.stats["disconnects"] += 1

    async def connect(self, url: str) -> bool:
        """Connect with the session cookie, open the plan, learn its texts."""
        headers = {"Cookie": self.spec["cookie"]} if self.spec.get("cookie") else {}
        auth = {"workshop": self.workshop_id, "csrf": self.spec.get("csrf", "")}
        try:
            await self.sio.connect(url, headers=headers, auth=auth, transports=["websocket"],
                                   wait_timeout=CONNECT_TIMEOUT)
            ack = await self.sio.call("plan.open", {"workshop_id": self.workshop_id,
                                                    "plan_id": self.spec["plan_id"]},
                                      timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # counted as not connected
            self.stats["error_samples"].append(f"connect: {exc!r}"[:200])
            return False
        if not (ack and ack.get("ok")):
            self.stats["error_samples"].append(f"plan.open: {ack}"[:200])
            return False
        for key, field in ack["plan"]["fields"].items():
            self.learn(key, field["version"], field["value"])
        self.ready = True
        return True

    async def type_until(self, end: float, rate: float, shared: float) -> None:
        """Type words at about `rate` a second until `end`, one edit in flight at a time."""
        await asyncio.sleep(self.rng.uniform(0, 1 / rate))
        while time.perf_counter() < end and self.sio.connected:
            began = time.perf_counter()
            await self.type_word(shared)
            pause = self.rng.uniform(0.5, 1.5) / rate - (time.perf_counter() - began)
            pause = min(pause, end - time.perf_counter())
            if pause > 0:
                await asyncio.sleep(pause)

    async def type_word(self, shared: float) -> None:
        """Insert one new marker word into a field; after a conflict, again on the new text."""
        import socketio

        stats, spec = self.stats, self.spec
        others = [f for f in spec["group"] if f != spec["own"]]
        field = self.rng.choice(others) if others and self.rng.random() < shared else spec["own"]
        self.words += 1
        phone_width, word_width = self.widths
        marker = f"p{spec['index']:0{phone_width}d}e{self.words:0{word_width}d}"
        for attempt in range(MAX_ATTEMPTS):
            version, text = self.known.get(field, (0, ""))
            edit_id = f"{self.mine}{self.words:05d}t{attempt}"
            payload = {"workshop_id": self.workshop_id, "plan_id": spec["plan_id"],
                       "field": field, "base_version": version,
                       "value": insert_word(text, marker, self.rng), "edit_id": edit_id}
            stats["sent"] += 1
            sent = time.perf_counter()
            try:
                ack = await self.sio.call("plan.edit", payload, timeout=CALL_TIMEOUT)
            except socketio.exceptions.TimeoutError:
                ack = {"ok": False, "error": "timeout (no acknowledgement)"}
            except Exception as exc:
                ack = {"ok": False, "error": f"not sent: {type(exc).__name__}"}
            ack = ack if isinstance(ack, dict) else {"ok": False, "error": f"answer {ack!r}"}
            answered = time.perf_counter()
            if ack.get("ok"):
                stats["ack_latencies"].append(answered - sent)
                stats["ok"] += 1
                stats["merged"] += bool(ack.get("merged"))
                stats["duplicate"] += bool(ack.get("duplicate"))
                if not ack.get("duplicate"):
                    stats["sends"][edit_id] = (sent, spec["plan_id"])
                if marker not in (ack.get("value") or ""):
                    stats["ack_without_marker"] += 1
                stats["acked"].append((spec["plan_id"], field, marker))
                self.learn(field, ack["version"], ack["value"])
                return
            current = ack.get("current")
            if ack.get("error") == "conflict" and isinstance(current, dict):
                stats["conflicts"] += 1  # overlap: both versions shown, typed again
                self.learn(field, current["version"], current["value"])
                await asyncio.sleep(CONFLICT_PAUSE)
                continue
            if ack.get("error") == "conflict" and not ack.get("fields"):
                stats["busy"] += 1  # "too many people saving this field": try again
                await asyncio.sleep(CONFLICT_PAUSE)
                continue
            stats["errors"][str(ack.get("error"))] += 1
            if len(stats["error_samples"]) < 5:
                stats["error_samples"].append(f"plan.edit {field}: {ack}"[:300])
            stats["unacked"].append((spec["plan_id"], field, marker))
            return
        stats["gave_up"] += 1
        stats["unacked"].append((spec["plan_id"], field, marker))


def new_stats() -> dict[str, Any]:
    """One client process's counters and samples."""
    return {"sent": 0, "ok": 0, "merged": 0, "duplicate": 0, "conflicts": 0, "busy": 0,
            "gave_up": 0,
            "ack_without_marker": 0, "disconnects": 0, "progress_events": 0,
            "errors": collections.Counter(), "error_samples": [], "acked": [], "unacked": [],
            "sends": {}, "arrivals": [], "ack_latencies": []}


async def _phones(url: str, specs: list[dict], params: dict[str, Any], ready, go) -> dict:
    stats = new_stats()
    rng = random.Random(params["seed"])
    phones = [Phone(spec, params["workshop_id"], stats, random.Random(rng.random()),
                    params["widths"]) for spec in specs]
    gate = asyncio.Semaphore(20)

    async def connect(phone: Phone) -> bool:
        async with gate:
            return await phone.connect(url)

    await asyncio.gather(*(connect(p) for p in phones))
    stats["connected"] = [(p.spec["index"], p.spec["plan_id"]) for p in phones if p.ready]
    ready.put(len(stats["connected"]))
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, go.wait, CONNECT_TIMEOUT * 2):
        cpu = time.process_time()
        stats["started"] = time.perf_counter()
        end = stats["started"] + params["seconds"]
        await asyncio.gather(*(p.type_until(end, params["rate"], params["shared"])
                               for p in phones if p.ready))
        stats["finished"] = time.perf_counter()
        stats["cpu"] = time.process_time() - cpu
        await asyncio.sleep(DRAIN)
    for phone in phones:
        phone.ready = False  # closing now: not counted as a socket lost during the run
    await asyncio.gather(*(p.sio.disconnect() for p in phones if p.sio.connected),
                         return_exceptions=True)
    return stats


def _client_process(url, specs, params, ready, go, results) -> None:
    results.put(asyncio.run(_phones(url, specs, params, ready, go)))


def run_phase(url: str, specs: list[dict], params: dict[str, Any], processes: int,
              server_pid: int) -> dict[str, Any]:
    """All phones connect and open their plan; then all type for `seconds`; merged results."""
    ctx = mp.get_context("fork")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [specs[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_client_process,
                         args=(url, share, {**params, "seed": params["seed"] + i}, ready, go,
                               results))
             for i, share in enumerate(shares) if share]
    try:
        for proc in procs:
            proc.start()
        connected = sum(ready.get(timeout=CONNECT_TIMEOUT * 2) for _ in procs)
        server_cpu, machine, span = cpu_seconds(server_pid), machine_times(), time.perf_counter()
        go.set()
        parts = [results.get(timeout=params["seconds"] + CALL_TIMEOUT + CONNECT_TIMEOUT)
                 for _ in procs]
        server_cpu = cpu_seconds(server_pid) - server_cpu
        machine = [b - a for a, b in zip(machine, machine_times(), strict=True)]
        span = time.perf_counter() - span
        for proc in procs:
            proc.join(timeout=30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
    result = combine(parts, connected, server_cpu)
    result["machine"] = machine  # busy, iowait, total: all cores, all processes
    result["server_share"] = server_cpu / span  # of one core, over the same span
    return result


def combine(parts: list[dict], connected: int, server_cpu: float) -> dict[str, Any]:
    """The client processes' counts added up; latencies matched across processes by edit id
    (perf_counter is CLOCK_MONOTONIC, one clock for every process of the machine)."""
    total = new_stats()
    for part in parts:
        for key in ("sent", "ok", "merged", "duplicate", "conflicts", "busy", "gave_up",
                    "ack_without_marker", "disconnects", "progress_events"):
            total[key] += part[key]
        total["errors"].update(part["errors"])
        for key in ("error_samples", "acked", "unacked", "arrivals", "ack_latencies"):
            total[key].extend(part[key])
        total["sends"].update(part["sends"])
    members = collections.Counter(plan for part in parts for _, plan in part["connected"])
    broadcast = sorted(t - total["sends"][e][0] for e, t in total["arrivals"]
                       if e in total["sends"])
    expected = sum(members[plan] - 1 for _, plan in total["sends"].values())
    ran = [p for p in parts if "started" in p]
    wall = (max(p["finished"] for p in ran) - min(p["started"] for p in ran)) if ran else 0.0
    applied = total["ok"] - total["duplicate"]
    total.update({
        "connected": connected, "wall": wall, "rate": applied / wall if wall else 0.0,
        "broadcast": broadcast, "missing_broadcasts": expected - len(broadcast),
        "ack_latencies": sorted(total["ack_latencies"]), "server_cpu": server_cpu,
        "client_cpu": [p["cpu"] / wall if wall else 0.0 for p in ran],
    })
    return total


# --- Checking what was stored -----------------------------------------------------------------


MARKER = re.compile(r"p\d+e\d+")


def check_stored(app, plan_ids: list[int], result: dict[str, Any]) -> dict[str, int]:
    """Every acknowledged marker in its field's final stored text, exactly once."""
    import sqlalchemy as sa

    from workshop.extensions import db
    from workshop.plans.models import PlanField

    with app.app_context():
        rows = db.session.execute(sa.select(PlanField.plan_id, PlanField.key, PlanField.value)
                                  .where(PlanField.plan_id.in_(plan_ids),
                                         PlanField.key.in_(TEXT_FIELDS))).all()
        db.session.remove()
        db.engine.dispose()
    texts = {(plan, key): value for plan, key, value in rows}
    everywhere = collections.Counter(m for v in texts.values() for m in MARKER.findall(v))
    lost = duplicated = glued = 0
    for plan, field, marker in result["acked"]:
        text = texts.get((plan, field), "")
        found = text.count(marker)
        lost += found == 0
        duplicated += found > 1 or everywhere[marker] > found
        glued += found == 1 and not re.search(rf"(^|\s){marker}(\s|$)", text)
    unacked = {m for _, _, m in result["unacked"]}
    sent = {m for _, _, m in result["acked"]} | unacked
    return {"acked": len(result["acked"]), "lost": lost, "duplicated": duplicated,
            "glued": glued, "unacked_stored": sum(1 for m in unacked if everywhere[m]),
            "unknown": sum(1 for m in everywhere if m not in sent),
            "chars": sum(len(v) for v in texts.values())}


def scan_log(path: Path) -> dict[str, int]:
    """Tracebacks and locked-database messages in a server's log."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return {"tracebacks": text.count("Traceback"),
            "locked": text.lower().count("database is locked")}


# --- Report -----------------------------------------------------------------------------------


def report(args, kind: str, bare: dict, ours: dict, stored: dict, log: dict) -> None:
    """Print the two runs side by side, then the storage check."""
    def ms(values: list[float], q: float) -> str:
        return f"{quantile(values, q):,.0f}" if values else "-"

    def errors(r: dict) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "0"

    def row(name: str, b: Any, o: Any, ratio: str = "") -> None:
        print(f"{name:<44} {b!s:>14} {o!s:>14} {ratio:>9}")

    def ratio(o: float, b: float) -> str:
        return f"{o / b:.2f}x" if b else "-"

    def machine(r: dict) -> str:
        busy, iowait, total = r["machine"]
        return f"{busy / total:.0%} / {iowait / total:.0%}"

    procs = min(args.processes, args.phones)
    print(f"{ours['connected']} of {args.phones} phones on {args.plans} plans "
          f"({args.phones / args.plans:.0f} per plan) in {procs} client processes "
          f"(python-socketio AsyncClient, websocket), each typing about {args.rate:g} words/s "
          f"for {args.seconds:g} s ({args.shared:.0%} of them in another phone's field); "
          f"one gevent server on 127.0.0.1; database: {kind}.")
    row("", "bare Flask-SIO", "ours", "ours/bare")
    row("edits sent (retries after conflicts included)", bare["sent"], ours["sent"])
    row("acknowledged ok", bare["ok"], ours["ok"])
    row("  of which merged (three-way, stale base)", bare["merged"], ours["merged"])
    row("  of which duplicates (same edit_id again)", bare["duplicate"], ours["duplicate"])
    row("conflicts: refused overlap, typed again", bare["conflicts"], ours["conflicts"])
    row("'too many saving this field', sent again", bare["busy"], ours["busy"])
    row(f"words given up after {MAX_ATTEMPTS} refusals in a row", bare["gave_up"],
        ours["gave_up"])
    row("other errors", errors(bare), errors(ours))
    row("edits applied per second", f"{bare['rate']:.1f}", f"{ours['rate']:.1f}",
        ratio(ours["rate"], bare["rate"]))
    for q in (.5, .99):
        row(f"send -> acknowledgement p{q * 100:.0f} (ms)", ms(bare["ack_latencies"], q),
            ms(ours["ack_latencies"], q),
            ratio(quantile(ours["ack_latencies"], q), quantile(bare["ack_latencies"], q)))
    for q in (.5, .99):
        row(f"send -> plan.field at another phone p{q * 100:.0f} (ms)", ms(bare["broadcast"], q),
            ms(ours["broadcast"], q),
            ratio(quantile(ours["broadcast"], q), quantile(bare["broadcast"], q)))
    row("plan.field deliveries to other phones", len(bare["broadcast"]), len(ours["broadcast"]))
    row("  missing (expected minus received)", bare["missing_broadcasts"],
        ours["missing_broadcasts"])
    row("sockets closed during the run", bare["disconnects"], ours["disconnects"])
    row("server CPU (% of one core)", f"{bare['server_share']:.0%}",
        f"{ours['server_share']:.0%}")
    row("server CPU ms per applied edit",
        f"{1000 * bare['server_cpu'] / max(1, bare['ok']):.1f}",
        f"{1000 * ours['server_cpu'] / max(1, ours['ok']):.1f}",
        ratio(ours["server_cpu"] / max(1, ours["ok"]), bare["server_cpu"] / max(1, bare["ok"])))
    row("client CPU per process (% of one core)",
        "/".join(f"{c:.0%}" for c in bare["client_cpu"]),
        "/".join(f"{c:.0%}" for c in ours["client_cpu"]))
    row("whole machine: CPU busy / waiting for disk", machine(bare), machine(ours))
    for sample in ours["error_samples"][:5]:
        print(f"  ours: {sample}")
    print(f"stored text checked ({stored['chars']:,} characters in {args.plans} plans x "
          f"{len(TEXT_FIELDS)} fields): {stored['acked']:,} acknowledged words, "
          f"{stored['lost']} lost, {stored['duplicated']} duplicated, {stored['glued']} glued "
          f"to a neighbour; {stored['unacked_stored']} unacknowledged words stored anyway, "
          f"{stored['unknown']} unknown; acknowledgements without their word: "
          f"{ours['ack_without_marker']}; server log: {log['tracebacks']} tracebacks, "
          f"{log['locked']} 'database is locked'.")


# --- Main -------------------------------------------------------------------------------------


def main() -> None:
    """Set up, run the bare server and ours with the same phones, check, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=30)
    parser.add_argument("--plans", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=2, help="words per second per phone")
    parser.add_argument("--shared", type=float, default=0.3,
                        help="share of words typed in another phone's field of the group")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (its public schema is dropped); default SQLite")
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    if not (1 <= args.plans <= args.phones <= 500 and 0 < args.seconds <= 900
            and 0 < args.rate <= 20 and 0 <= args.shared <= 1 and args.processes >= 1):
        parser.error("need 1 <= plans <= phones <= 500, 0 < seconds <= 900, 0 < rate <= 20")
    tmp = Path(tempfile.mkdtemp(prefix="bench-plans-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    servers: list[subprocess.Popen] = []
    try:
        env = server_env(database_url, 0)
        env.pop("SOCKETIO_MESSAGE_QUEUE", None)
        fresh_database(database_url, env)
        app = make_app(database_url)
        setup = prepare(app, args.phones, args.plans)
        widths = (max(2, len(str(args.phones - 1))),
                  max(4, len(str(int(args.seconds * args.rate * 2) + 10))))
        params = {"seconds": args.seconds, "rate": args.rate, "shared": args.shared,
                  "seed": args.seed, "widths": widths}

        bare_proc, bare_url = start_bare(BARE_HANDLERS, env, tmp / "bare.log")
        servers.append(bare_proc)
        specs = [{k: p[k] for k in ("index", "plan_id", "own", "group")}
                 for p in setup["people"]]
        bare = run_phase(bare_url, specs, {**params, "workshop_id": None}, args.processes,
                         bare_proc.pid)
        stop(bare_proc)

        port = free_port()
        env["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = start_server(env, port, tmp / "server.log")
        servers.append(server)
        url = f"http://127.0.0.1:{port}"
        for spec, person in zip(specs, setup["people"], strict=True):
            spec["cookie"], spec["csrf"] = log_in(url, person["token"])
        ours = run_phase(url, specs, {**params, "workshop_id": setup["workshop_id"]},
                         args.processes, server.pid)
        stop(server)
        log = scan_log(tmp / "server.log")
        if log["tracebacks"]:
            kept = Path(tempfile.gettempdir()) / f"bench-plans-server-{int(time.time())}.log"
            shutil.copy(tmp / "server.log", kept)
            print(f"server log with tracebacks kept in {kept}")
        stored = check_stored(app, setup["plan_ids"], ours)
    except BaseException:
        for name in ("server.log", "bare.log"):
            if (tmp / name).exists():
                print(f"--- end of {name} ---\n{(tmp / name).read_text()[-4000:]}",
                      file=sys.stderr)
        raise
    finally:
        for proc in servers:
            if proc.poll() is None:
                stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, kind, bare, ours, stored, log)
    if ours["connected"] < args.phones or not ours["ok"]:
        sys.exit(2)
    if (stored["lost"] or stored["duplicated"] or ours["ack_without_marker"]
            or ours["errors"].get("server") or log["tracebacks"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
