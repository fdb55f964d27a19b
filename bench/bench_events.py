"""Benchmark the delegates' other socket events: a thousand phones giving a +1, commenting and
putting forward a line of work at once, each beside a bare server doing the same broadcast.

Run with `python bench/bench_events.py [--clients 1000] [--processes 4]`. It migrates a fresh
database (SQLite in a temporary folder, or DATABASE_URL if it names PostgreSQL, whose public
schema is dropped and made again), starts the real gevent server (`serve.py`) on 127.0.0.1,
makes a workshop on a propose step with 10 lines of work and that many joined delegates, and
opens one python-socketio AsyncClient per delegate (websocket), spread over several processes.
Once every client is connected, all send at once; the time from sending to the
acknowledgement (after the commit) is recorded. Each of these events also tells every phone of
the workshop what changed (`proposal.counts`, `comment.created`, `proposal.card`), so a
thousand events mean up to a million messages: the bare server is measured twice, answering
`ack` alone and answering after broadcasting a message of the same size to every client, and
each of ours is printed with its ratio to both. Phases, in this order:

* `proposal.support`: each phone gives a +1 to one of the 10 lines (random);
* `proposal.comment`: each phone, on the discussion page of one of them (a tenth of the
  phones on each), comments there: the comment goes to the phones on that page (the bare
  server broadcasts to a room of a tenth of its clients);
* `proposal.create`: each phone puts forward a line of work of its own.

Then the stored rows are counted: supports, comments and lines must equal the acknowledgements.
The per-socket write limit (SOCKET_LIMIT_WRITE) is raised for the run: each phone sends three
writes within seconds, which the limit exists to refuse. Bounded: every phase has a timeout.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_votes import (  # noqa: E402
    SECRET_KEY,
    burst_arguments,
    burst_setup,
    line,
    load,
    print_head,
    profiled,
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


def payloads(event: str, n: int, workshop_id: int, lines: list[int]) -> list[dict]:
    """What each phone sends in a phase."""
    rng = random.Random(event)
    if event == "proposal.support":
        return [{"workshop_id": workshop_id, "proposal_id": rng.choice(lines)}
                for _ in range(n)]
    if event == "proposal.comment":  # on the line whose discussion the phone shows
        return [{"workshop_id": workshop_id, "proposal_id": lines[i % len(lines)],
                 "body": f"Comment {i}: the informal economy needs this line of work.",
                 "request_id": f"comment-{i:06d}"} for i in range(n)]
    return [{"workshop_id": workshop_id, "title": f"Health cover for street vendors {i}",
             "description": "Extend mutual health insurance to street vendors, fishers and "
                            "domestic workers.", "theme": "decent_work", "level": "national",
             "request_id": f"line-{i:06d}"} for i in range(n)]


def main() -> None:
    """Bare (ack, ack with broadcast) then each of our events; a table and the ratios."""
    args = burst_arguments(__doc__, "one file per event")
    tmp, database_url, env = burst_setup("bench-events-", SOCKET_LIMIT_WRITE="100/10")
    procs = []
    rows: list[tuple[str, dict]] = []
    ours: dict[str, dict] = {}
    try:
        fresh_database(database_url, env)
        setup = prepare(database_url, args.clients)
        people, wid = setup["people"], setup["workshop_id"]
        n = len(people)

        bare, bare_url = start_bare(BROADCAST, env, tmp / "bare.log")
        procs.append(bare)
        bare_ack = load(bare_url, [None] * n, None, "ack", [{}] * n, args.processes,
                        server_pid=bare.pid)
        rows.append(("bare: ack", bare_ack))
        bare_all = {}
        for event, size in SIZES.items():
            if event == "proposal.comment":  # to the phones on the same discussion page
                # The i-th client joins room `l<i mod LINES>` as it connects.
                clients = [("", "", {"line": i % LINES}) for i in range(n)]
                bare_all[event] = load(bare_url, clients, None, "ack_all",
                                       [{"size": size, "room": f"l{i % LINES}"}
                                        for i in range(n)], args.processes,
                                       server_pid=bare.pid)
                rows.append((f"bare: ack + {size} B to 1/{LINES}", bare_all[event]))
                continue
            bare_all[event] = load(bare_url, [None] * n, None, "ack_all", [{"size": size}] * n,
                                   args.processes, server_pid=bare.pid)
            rows.append((f"bare: ack + {size} B to all", bare_all[event]))
        stop(bare)

        port = free_port()
        server = start_server(env, port, tmp / "server.log")
        procs.append(server)
        url = f"http://127.0.0.1:{port}"
        lines = setup["lines"]
        for event in SIZES:
            # Each phone commenting shows that line's discussion: it follows it from the start.
            phones = ([(*person, {"line": lines[i % LINES]}) for i, person in enumerate(people)]
                      if event == "proposal.comment" else people)
            ours[event] = load(url, phones, wid, event,
                               payloads(event, n, wid, lines), args.processes,
                               profiled(server.pid, args.profile, event), server.pid)
            wait_until_gone(database_url, wid)
            rows.append((f"ours: {event}", ours[event]))
        stop(server)
        counts = stored(database_url, wid)
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)

    print_head(n, args.processes, database_url)
    for name, result in rows:
        print(line(name, result))
    lost = {event: ours[event]["ok"] - counts[event] for event in SIZES}
    print("stored: " + ", ".join(f"{event} {counts[event]:,} for {ours[event]['ok']:,} acks"
                                 for event in SIZES)
          + (" -> nothing lost" if not any(lost.values()) else f" -> MISMATCH {lost}"))
    if bare_ack["rate"]:
        print("ratio to the bare ack rate / to the bare ack with the same broadcast: " + ", ".join(
            f"{event} {ours[event]['rate'] / bare_ack['rate']:.2f}x / "
            f"{ours[event]['rate'] / max(bare_all[event]['rate'], 1e-9):.2f}x"
            for event in SIZES))
    shutil.rmtree(tmp, ignore_errors=True)
    if any(lost.values()) or any(r["ok"] != r["sent"] for r in ours.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
