"""Benchmark the facilitator's console with a thousand phones in the room: each console event
beside a bare server making the same broadcast.

Run with `python bench/bench_console.py [--phones 1000] [--rounds 20] [--processes 4]`. It
migrates a fresh database (SQLite in a temporary folder, or DATABASE_URL if it names
PostgreSQL, whose public schema is dropped and made again), starts the real gevent server
(`serve.py`) on 127.0.0.1, makes a workshop on a discussion step with two lines of work, a
second discussion step, an open ballot with a closing time and that many joined delegates, and
connects one python-socketio AsyncClient per delegate (websocket), spread over several
processes, and the facilitator's console. The console then sends each of its events `--rounds`
times, one round at a time: a round is over when every phone has received what the event
broadcasts (`state`, `notice` or `ballot`), and the next is sent then. For each event it
records the console's acknowledgement (after the commit) and the delivery: the time from
sending until the last phone had the broadcast. The bare server (Flask-SocketIO, gevent) is
measured the same way with an event that broadcasts a message of the same size (the mean
size of ours, as the console received it) to every phone, then acknowledges.

A console event is sent by one person at a time, so what counts is how long the room waits:
each event is printed with its ratio to the bare server's delivery (ours / bare, p50).
Phones must receive exactly one broadcast per round: a phone missing one, or receiving more,
is printed as a mismatch and the run fails. Bounded: every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import queue as queues
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_votes import (  # noqa: E402
    CONNECT_TIMEOUT,
    PHASE_TIMEOUT,
    SECRET_KEY,
    burst_setup,
    connect_clients,
    quantile,
    stop,
)
from common import fresh_database, make_app, start_bare  # noqa: E402

from tests.servers import free_port, signed_session, start_server  # noqa: E402

#: What the phones receive: the bare server's broadcast is `news`.
BROADCASTS = ("state", "notice", "ballot", "news")

#: What our server sends each phone as it connects.
CONNECTED = {"state": 1}

#: The bare server's console events (each of ours, by name): a message of `size` characters
#: to every client, then the acknowledgement, as our handlers broadcast after their commit
#: and then answer.
BARE = """
def console(payload):
    sio.emit("news", {"html": "x" * int(payload["size"])})
    return {"ok": True}
"""


def prepare(database_url: str, phones: int) -> dict[str, Any]:
    """The workshop, its steps, lines and open ballot, the delegates' and the facilitator's
    signed sessions."""
    from tests.helpers import create_organisation, create_proposal, create_user, create_workshop
    from workshop.agenda import services as agenda
    from workshop.agenda.models import Delegate
    from workshop.agenda.schemas import StepIn
    from workshop.auth.logins import start_login
    from workshop.db import utcnow
    from workshop.extensions import db
    from workshop.voting import services as voting
    from workshop.voting.schemas import BallotOpen

    app = make_app(database_url)
    with app.app_context():
        organiser = create_user("organiser")
        workshop = create_workshop(organiser)
        org = create_organisation(name="Union of domestic workers", region="west_africa")
        lines = [create_proposal(workshop, title=f"Line of work {i}").id for i in range(2)]
        steps = [agenda.add_step(organiser, workshop, StepIn(kind="discuss", title=title)).id
                 for title in ("The lines of work", "The lines of work again")]
        agenda.goto_step(organiser, workshop, steps[0])
        ballot = voting.open_ballot(organiser, workshop, BallotOpen(
            workshop_id=workshop.id, title="Which lines first?", method="approval",
            secret=False, closes_in_minutes=60))
        delegates = [Delegate(workshop_id=workshop.id, name=f"Delegate {i}",
                              organisation_id=org.id, locale=("en", "fr", "es", "nl")[i % 4],
                              joined_at=utcnow()) for i in range(phones)]
        db.session.add_all(delegates)
        db.session.commit()
        people = [signed_session(app, SECRET_KEY, {"_user_id": start_login(d), "_fresh": True})
                  for d in delegates]
        staff = signed_session(app, SECRET_KEY, {"_user_id": start_login(organiser),
                                                 "_fresh": True})
        result = {"workshop_id": workshop.id, "lines": lines, "steps": steps,
                  "ballot_id": ballot.id, "people": people, "staff": staff}
        db.session.remove()
        db.engine.dispose()
    return result


def console_events(setup: dict[str, Any]) -> list[tuple[str, Callable[[int], dict], str]]:
    """Each console event: its name, its payload in round i, and what phones receive."""
    w, lines, steps, b = (setup["workshop_id"], setup["lines"], setup["steps"],
                          setup["ballot_id"])
    return [
        ("agenda.goto", lambda i: {"workshop_id": w, "step_id": steps[(i + 1) % 2]}, "state"),
        ("timer.start", lambda i: {"workshop_id": w, "seconds": 300 + i}, "state"),
        ("timer.extend", lambda i: {"workshop_id": w, "seconds": 30}, "state"),
        ("proposal.spotlight", lambda i: {"workshop_id": w, "proposal_id": lines[i % 2]},
         "state"),
        ("message.broadcast", lambda i: {"workshop_id": w, "text": f"Coffee in {i} minutes."},
         "notice"),
        ("ballot.extend", lambda i: {"workshop_id": w, "ballot_id": b, "minutes": 1}, "ballot"),
        ("ballot.show_results", lambda i: {"workshop_id": w, "ballot_id": b,
                                           "visible": i % 2 == 0}, "ballot"),
    ]


# --- Phones -----------------------------------------------------------------------------------


async def _phones(url: str, people: list, workshop_id: int | None, ready, progress,
                  leave) -> None:
    """Connect these phones; whenever every one of them has received one more of a broadcast,
    say so (name, how many each has now, when); at the end, each phone's counts."""
    counts = [dict.fromkeys(BROADCASTS, 0) for _ in people]
    everyone = dict.fromkeys(BROADCASTS, 0)
    connected: list[bool] = []  # known once all have tried: until then nothing is said

    def tell(name: str) -> None:
        least = min(c[name] for c, ok in zip(counts, connected, strict=True) if ok)
        if least > everyone[name]:
            everyone[name] = least
            progress.put((name, least, time.perf_counter()))

    def listen(i: int, sio: Any) -> None:
        def receiver(name: str) -> Callable[[Any], None]:
            def received(_data: Any = None) -> None:
                counts[i][name] += 1
                if connected:
                    tell(name)
            return received
        for name in BROADCASTS:
            sio.on(name, receiver(name))

    clients, connected[:] = await connect_clients(url, people, workshop_id, listen)
    if any(connected):
        for name in BROADCASTS:
            tell(name)
    ready.put(sum(connected))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, leave.wait, CONNECT_TIMEOUT + 30 * PHASE_TIMEOUT)
    progress.put(("counts", [c for c, ok in zip(counts, connected, strict=True) if ok], 0.0))
    await asyncio.gather(*(c.disconnect() for c in clients if c.connected),
                         return_exceptions=True)


def _phone_worker(*args: Any) -> None:
    asyncio.run(_phones(*args))


# --- The console ------------------------------------------------------------------------------


async def _console(url: str, staff: tuple | None, workshop_id: int | None,
                   phases: list[tuple[str, Callable[[int], dict], str]], rounds: int,
                   workers: int, progress, initial: dict[str, int]) -> dict[str, dict]:
    """Once every phone has what it receives as it connects (`initial`: our server sends
    each its `state`), send each phase's event `rounds` times, a round once the last one
    reached every phone; the acknowledgement and delivery times and the size of what the
    phones received."""
    [console], [ok] = await connect_clients(url, [staff], workshop_id)
    if not ok:
        raise RuntimeError("the console could not connect")
    sizes: dict[str, list[int]] = {name: [] for name in BROADCASTS}
    for name in BROADCASTS:
        console.on(name, lambda data, name=name: sizes[name].append(len(json.dumps(data))))
    loop = asyncio.get_running_loop()
    done: dict[str, int] = {**dict.fromkeys(BROADCASTS, 0), **initial}  # each phone's due
    seen: dict[tuple[str, int], list[float]] = {}

    async def everyone_has(wanted: tuple[str, int]) -> float:
        """When the last phone received the `wanted[1]`-th broadcast named `wanted[0]`."""
        while len(seen.get(wanted, [])) < workers:
            name, n, at = await loop.run_in_executor(None, progress.get, True, PHASE_TIMEOUT)
            seen.setdefault((name, n), []).append(at)
        return max(seen[wanted])

    for wanted in initial.items():
        await everyone_has(wanted)
    results = {}
    for event, payload, broadcast in phases:
        acks, deliveries, refused = [], [], []
        before = len(sizes[broadcast])
        for i in range(rounds):
            done[broadcast] += 1
            wanted = (broadcast, done[broadcast])
            sent = time.perf_counter()
            answer = await console.call(event, payload(i), timeout=PHASE_TIMEOUT)
            acks.append(time.perf_counter() - sent)
            if not (answer and answer.get("ok")):
                refused.append(answer)
                done[broadcast] -= 1
                continue
            deliveries.append(await everyone_has(wanted) - sent)
        received = sizes[broadcast][before:]
        results[event] = {"acks": sorted(acks), "deliveries": sorted(deliveries),
                          "refused": refused,
                          "size": round(sum(received) / len(received)) if received else 0,
                          "broadcast": broadcast}
    await console.disconnect()
    return results


def run(url: str, people: list, staff: tuple | None, workshop_id: int | None,
        phases: list, rounds: int, processes: int, initial: dict[str, int]
        ) -> tuple[dict[str, dict], list[dict]]:
    """Phones in their processes, the console here; every phone's counts at the end."""
    ctx = mp.get_context("fork")
    ready, progress, leave = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [people[i::processes] for i in range(min(processes, len(people)))]
    procs = [ctx.Process(target=_phone_worker,
                         args=(url, share, workshop_id, ready, progress, leave))
             for share in shares]
    for proc in procs:
        proc.start()
    try:
        connected = sum(ready.get(timeout=CONNECT_TIMEOUT) for _ in procs)
        if connected != len(people):
            raise RuntimeError(f"only {connected} of {len(people)} phones connected")
        results = asyncio.run(_console(url, staff, workshop_id, phases, rounds, len(procs),
                                       progress, initial))
    finally:
        leave.set()
    counts: list[dict] = []
    deadline = time.monotonic() + PHASE_TIMEOUT
    while len(counts) < len(people) and time.monotonic() < deadline:
        try:
            name, value, _ = progress.get(timeout=max(0.1, deadline - time.monotonic()))
        except queues.Empty:
            break
        if name == "counts":
            counts.extend(value)
    for proc in procs:
        proc.join(timeout=30)
    return results, counts


def mismatches(counts: list[dict], expected: dict[str, int]) -> int:
    """Phones that did not receive exactly one broadcast per round."""
    return sum(1 for c in counts if any(c[name] != n for name, n in expected.items()))


def expected_counts(results: dict[str, dict], initial: dict[str, int]) -> dict[str, int]:
    """How many of each broadcast every phone should have received."""
    wanted: dict[str, int] = {**dict.fromkeys(BROADCASTS, 0), **initial}
    for r in results.values():
        wanted[r["broadcast"]] = wanted.get(r["broadcast"], 0) + len(r["deliveries"])
    return wanted


def main() -> None:
    """Ours, then the bare server with ours' sizes; a table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    # The console sends faster than a facilitator could: the per-socket write limit is raised.
    tmp, database_url, env = burst_setup("bench-console-", SOCKET_LIMIT_WRITE="1000/10")
    procs = []
    try:
        fresh_database(database_url, env)
        setup = prepare(database_url, args.phones)
        wid, phases = setup["workshop_id"], console_events(setup)

        port = free_port()
        server = start_server(env, port, tmp / "server.log")
        procs.append(server)
        ours, ours_counts = run(f"http://127.0.0.1:{port}", setup["people"], setup["staff"],
                                wid, phases, args.rounds, args.processes, CONNECTED)
        stop(server)

        handlers = BARE + "".join(f"sio.on({event!r})(console)\n" for event in ours)
        bare, bare_url = start_bare(handlers, env, tmp / "bare.log")
        procs.append(bare)
        bare_phases = [(event, lambda i, size=r["size"]: {"size": size}, "news")
                       for event, r in ours.items()]
        bares, bare_counts = run(bare_url, [None] * args.phones, None, None, bare_phases,
                                 args.rounds, args.processes, {})
        stop(bare)
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)

    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"{args.phones:,} phones in {args.processes} processes and one console "
          f"(python-socketio AsyncClient, websocket) against one gevent server on 127.0.0.1; "
          f"database: {kind}; {args.rounds} rounds of each event, one at a time.")
    print(f"{'':<22} {'size':>6}  {'ack p50':>8} {'ack p99':>8}  {'all p50':>8} {'all p99':>8}"
          f"  {'bare ack p50':>12} {'all p50':>8} {'p99':>6}  ratio")
    for event, r in ours.items():
        b = bares[event]
        ratio = quantile(r["deliveries"], .5) / max(quantile(b["deliveries"], .5), 1e-9)
        print(f"{event:<22} {r['size']:>5}B  {quantile(r['acks'], .5):>6.0f}ms "
              f"{quantile(r['acks'], .99):>6.0f}ms  {quantile(r['deliveries'], .5):>6.0f}ms "
              f"{quantile(r['deliveries'], .99):>6.0f}ms  {quantile(b['acks'], .5):>10.0f}ms "
              f"{quantile(b['deliveries'], .5):>6.0f}ms"
              f" {quantile(b['deliveries'], .99):>4.0f}ms  {ratio:.2f}x"
              + (f"  ({len(r['refused'])} refused: {r['refused'][0]})" if r["refused"] else ""))
    wrong = (mismatches(ours_counts, expected_counts(ours, CONNECTED))
             + mismatches(bare_counts, expected_counts(bares, {})))
    refused = sum(len(r["refused"]) for r in ours.values())
    print(f"(ms: from sending to the console's acknowledgement, and until the last phone had "
          f"the broadcast; ratio: ours / bare, p50.) Phones with a broadcast missing or extra: "
          f"{wrong}; {len(ours_counts) + len(bare_counts)} phones reported.")
    shutil.rmtree(tmp, ignore_errors=True)
    if wrong or refused:
        sys.exit(1)


if __name__ == "__main__":
    main()
