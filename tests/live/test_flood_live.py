"""One socket flooding the real server: refused, then dropped; everyone else stays fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from tests.helpers import create_organisation, create_workshop, go_to_kind
from tests.live.clients import Person
from tests.servers import ROOT
from workshop.extensions import db
from workshop.proposals.models import Proposal

pytestmark = pytest.mark.live


def test_a_flood_from_one_socket_leaves_others_fast_and_stores_at_most_the_limit(live):
    workshop = create_workshop(steps=3)
    go_to_kind(workshop, "propose")
    org = create_organisation(region="asia", country="Nepal")
    flooder = Person(live.url).join(workshop.join_code, org.id, "Script")
    other = Person(live.url).join(workshop.join_code, org.id, "Sita")
    other.connect(workshop.id)
    cookie = "; ".join(f"{c.name}={c.value}" for c in flooder.http.cookies)
    flood = subprocess.Popen(  # its own process: the flood must not starve this one's client
        [sys.executable, "-m", "tests.live.flood", live.url, cookie, flooder.csrf,
         str(workshop.id), "3000"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    times = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # a person's pace of reads: ten a second
        start = time.monotonic()
        ack = other.call("state.sync", {"workshop_id": workshop.id})
        times.append(time.monotonic() - start)
        assert ack["ok"], ack
        time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
    out, _ = flood.communicate(timeout=30)
    report = json.loads(out)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    # Not starved: at ten reads a second the other delegate got through most of their reads
    # (a starved client would wait on each). A count, not a timing: the machine's load must
    # not decide the test; the figure itself is printed for whoever reads the log.
    print(f"other client: {len(times)} reads in 3 s, p99 {p99:.3f} s")
    assert len(times) >= 10, f"only {len(times)} reads in 3 s (p99 {p99:.3f} s)"
    assert not report["connected"]  # dropped for flooding
    assert report["sent"] < 3000
    refused = [a for a in report["answers"] if not a.get("ok")]
    assert refused
    assert {a["error"] for a in refused} == {"rate_limited"}
    db.session.expire_all()
    stored = db.session.scalar(sa.select(sa.func.count(Proposal.id))
                               .where(Proposal.workshop_id == workshop.id))
    # At most the socket's burst plus what its rate refilled while it flooded
    # (SOCKET_LIMIT_WRITE "2/10": 10 at once, then 2 a second).
    assert stored <= 10 + 2 * report["elapsed"] + 1
    # Refused events stored nothing (how soon the socket is dropped, and so how many went out,
    # depends on the machine: a ratio to what was sent would be a timing).
    assert stored <= report["sent"] - len(refused)
    other.close()
