"""Benchmark the delegates' other socket events: a thousand phones giving a +1, commenting and
putting forward a line of work at once, each beside a bare server doing the same broadcast.

Run with `python bench/bench_events.py [--clients 1000] [--processes 4] [--rounds 3]
[--repeat 1]`. It migrates a fresh
database (SQLite in a temporary folder, or DATABASE_URL if it names PostgreSQL, whose public
schema is dropped and made again), starts the real gevent server (`serve.py`) on 127.0.0.1,
makes a workshop on a propose step with 10 lines of work and that many joined delegates, and
opens one python-socketio AsyncClient per delegate (websocket), spread over several processes.
Once every client is connected, all send at once, each `--repeat` events one after another;
the time from sending to the acknowledgement (after the commit) is recorded. Both servers run
throughout, and each of `--rounds` rounds measures the bare server's phases, then ours: each
ratio is taken within its round and printed as the median over the rounds, with the lowest
and highest. Each of these events also tells every phone of
the workshop what changed (`proposal.counts`, `comment.created`, `proposal.card`), so a
thousand events mean up to a million messages: the bare server is measured twice, answering
`ack` alone and answering after broadcasting a message of the same size to every client, and
each of ours is printed with its ratio to both. Phases, in this order:

* `proposal.support`: each phone gives a +1 to one of the 10 lines (another one each time);
* `proposal.comment`: each phone, on the discussion page of one of them (a tenth of the
  phones on each), comments there: the comment goes to the phones on that page (the bare
  server broadcasts to a room of a tenth of its clients);
* `proposal.create`: each phone puts forward a line of work of its own.

Then the stored rows are counted: supports, comments and lines must equal the acknowledgements.
The per-socket write limit (SOCKET_LIMIT_WRITE) is raised for the run: each phone sends three
writes within seconds, which the limit exists to refuse. Bounded: every phase has a timeout.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_votes import (  # noqa: E402
    SECRET_KEY,
    Series,
    burst_arguments,
    burst_setup,
    line,
    load,
    median_round,
    print_head,
    profiled,
    round_ratio,
    stop,
    wait_until_gone,
)
from common import fresh_database, make_app, start_bare  # noqa: E402

from tests.servers import free_port, signed_session, start_server  # noqa: E402

LINES = 10

#: The bare server's broadcast: a message of `size` characters to every connected client, then
#: the acknowledgement, as our handlers broadcast after their commit and then answer.
BROADCAST = """
from flask_socketio import join_room

# A thousand broadcasts to every client keep the load clients busy for half a minute: their
# answers to the server's pings come late, and the default 20 s would drop them mid-phase
# (measuring nothing of the server's own speed).
sio.server.eio.ping_timeout = 120

@sio.on("connect")
def connect(auth=None):
    if isinstance(auth, dict) and "line" in auth:
        join_room(f"l{auth['line']}")

@sio.on("ack_all")
def ack_all(payload):
    sio.emit("news", {"html": "x" * int(payload["size"])}, to=payload.get("room"))
    return {"ok": True}
"""

#: Sizes of what each of our events broadcasts (measured on this workshop: a line's counts;
#: a comment and a line's card as drawn for one language, with their fields).
SIZES = {"proposal.support": 120, "proposal.comment": 900, "proposal.create": 1600}


def prepare(database_url: str, clients: int) -> dict[str, Any]:
    """A workshop on a propose step with its lines and `clients` delegates; their sessions."""
    from tests.helpers import create_organisation, create_proposal, create_user, create_workshop
    from workshop.agenda.models import Delegate
    from workshop.auth.logins import start_login
    from workshop.db import utcnow
    from workshop.extensions import db
    from workshop.vocabulary import REGIONS

    app = make_app(database_url)
    with app.app_context():
        organiser = create_user("organiser")
        workshop = create_workshop(organiser)
        orgs = [create_organisation(name=f"Org {i} {region}", region=region)
                for i in range(3) for region in REGIONS]
        lines = [create_proposal(workshop, title=f"Line of work {i}").id for i in range(LINES)]
        delegates = [Delegate(workshop_id=workshop.id, name=f"Delegate {i}",
                              organisation_id=orgs[i % len(orgs)].id,
                              locale=("en", "fr", "es", "nl")[i % 4], joined_at=utcnow())
                     for i in range(clients)]
        db.session.add_all(delegates)
        db.session.commit()
        people = [signed_session(app, SECRET_KEY, {"_user_id": start_login(d), "_fresh": True})
                  for d in delegates]
        result = {"workshop_id": workshop.id, "lines": lines, "people": people}
        db.session.remove()
        db.engine.dispose()
    return result


def stored(database_url: str, workshop_id: int) -> dict[str, int]:
    """Supports, comments and lines of work stored for the workshop, read straight from the
    database."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    queries = {
        "proposal.support": "SELECT count(*) FROM support s JOIN proposal p "
                            "ON p.id = s.proposal_id WHERE p.workshop_id = :w",
        "proposal.comment": "SELECT count(*) FROM comment c JOIN proposal p "
                            "ON p.id = c.proposal_id WHERE p.workshop_id = :w",
        "proposal.create": "SELECT count(*) - :lines FROM proposal WHERE workshop_id = :w",
    }
    with engine.connect() as conn:
        counts = {name: conn.execute(sa.text(sql), {"w": workshop_id, "lines": LINES})
                  .scalar_one() for name, sql in queries.items()}
    engine.dispose()
    return counts


def payloads(event: str, n: int, workshop_id: int, lines: list[int], k: int,
             repeat: int) -> list[Series]:
    """What each phone sends in round `k`: `repeat` events one after another (a +1 to a line
    it has not supported yet: round and repeat pick a different one each time)."""
    times = range(repeat)
    if event == "proposal.support":
        return [Series({"workshop_id": workshop_id,
                        "proposal_id": lines[(i + k * repeat + j) % len(lines)]} for j in times)
                for i in range(n)]
    if event == "proposal.comment":  # on the line whose discussion the phone shows
        return [Series({"workshop_id": workshop_id, "proposal_id": lines[i % len(lines)],
                        "body": f"Comment {i}: the informal economy needs this line of work.",
                        "request_id": f"comment-{k}-{j}-{i:06d}"} for j in times)
                for i in range(n)]
    return [Series({"workshop_id": workshop_id,
                    "title": f"Health cover for street vendors {k}-{j}-{i}",
                    "description": "Extend mutual health insurance to street vendors, fishers "
                                   "and domestic workers.", "theme": "decent_work",
                    "level": "national", "request_id": f"line-{k}-{j}-{i:06d}"} for j in times)
            for i in range(n)]


def main() -> None:
    """Rounds of: the bare ack, the bare ack with each broadcast, each of our events; a table
    (each phase's round of median rate) and the ratios, each taken within its round."""
    # One event a client: a burst of a thousand broadcasts to a thousand phones lasts seconds
    # already (three would swamp the load clients' own event loops, bare or ours).
    args = burst_arguments(__doc__, "one file per event (the first round)", rounds=True,
                           repeat=1)
    if args.rounds * args.repeat > LINES:
        sys.exit(f"--rounds x --repeat is at most {LINES}: each +1 goes to another line")
    tmp, database_url, env = burst_setup("bench-events-", SOCKET_LIMIT_WRITE="100/10")
    procs = []
    rounds: dict[str, list[dict]] = {}
    try:
        fresh_database(database_url, env)
        setup = prepare(database_url, args.clients)
        people, wid, lines = setup["people"], setup["workshop_id"], setup["lines"]
        n = len(people)
        times = range(args.repeat)
        # The i-th client of the comment phases joins room `l<i mod LINES>` as it connects
        # (the bare server's) or follows that line's discussion (ours).
        on_line = [("", "", {"line": i % LINES}) for i in range(n)]
        following = [(*person, {"line": lines[i % LINES]}) for i, person in enumerate(people)]

        bare, bare_url = start_bare(BROADCAST, env, tmp / "bare.log")
        procs.append(bare)
        port = free_port()
        server = start_server(env, port, tmp / "server.log")
        procs.append(server)
        url = f"http://127.0.0.1:{port}"

        def measure(name: str, *how: Any, watch: Any = None, pid: int) -> None:
            rounds.setdefault(name, []).append(
                load(*how, args.processes, watch, server_pid=pid))

        for k in range(args.rounds):
            measure("bare: ack", bare_url, [None] * n, None, "ack",
                    [Series({} for _ in times)] * n, pid=bare.pid)
            for event, size in SIZES.items():
                room = event == "proposal.comment"  # to the phones on that discussion page
                measure(f"bare: {event}", bare_url, on_line if room else [None] * n, None,
                        "ack_all", [Series({"size": size, **({"room": f"l{i % LINES}"}
                                                           if room else {})} for _ in times)
                                    for i in range(n)], pid=bare.pid)
            for event in SIZES:
                measure(event, url, following if event == "proposal.comment" else people, wid,
                        event, payloads(event, n, wid, lines, k, args.repeat),
                        watch=profiled(server.pid, args.profile if k == 0 else None, event),
                        pid=server.pid)
                wait_until_gone(database_url, wid)
        stop(server)
        stop(bare)
        counts = stored(database_url, wid)
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)

    median = {name: median_round(results) for name, results in rounds.items()}
    print_head(n, args.processes, database_url)
    print(f"{args.rounds} rounds, each measuring the bare server then ours, each client sending "
          f"{args.repeat} events one after another; each row is the round of median rate.")
    print(line("bare: ack", median["bare: ack"]))
    for event, size in SIZES.items():
        to = f"1/{LINES}" if event == "proposal.comment" else "all"
        print(line(f"bare: ack + {size} B to {to}", median[f"bare: {event}"]))
    for event in SIZES:
        print(line(f"ours: {event}", median[event]))
    acks = {event: sum(r["ok"] for r in rounds[event]) for event in SIZES}
    lost = {event: acks[event] - counts[event] for event in SIZES}
    print("stored: " + ", ".join(f"{event} {counts[event]:,} for {acks[event]:,} acks"
                                 for event in SIZES)
          + (" -> nothing lost" if not any(lost.values()) else f" -> MISMATCH {lost}"))
    print(f"ratio to the bare ack / to the bare ack with the same broadcast, same round, median "
          f"of {args.rounds} (lowest-highest): " + ", ".join(
              f"{round_ratio(rounds, event, 'bare: ack')} / "
              + round_ratio(rounds, event, f"bare: {event}").removeprefix(f"{event} ")
              for event in SIZES))
    shutil.rmtree(tmp, ignore_errors=True)
    if any(lost.values()) or any(r["ok"] != r["sent"] for rs in rounds.values() for r in rs):
        sys.exit(1)


if __name__ == "__main__":
    main()
