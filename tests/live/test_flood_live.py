"""One socket flooding the real server: refused, then dropped; everyone else stays fast."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from tests.helpers import create_organisation, create_workshop, go_to_kind
from tests.live.clients import Person
from workshop.extensions import db
from workshop.proposals.models import Proposal

pytestmark = pytest.mark.live


def test_a_flood_from_one_socket_leaves_others_fast_and_stores_at_most_the_limit(live):
    workshop = create_workshop(steps=3)
    go_to_kind(workshop, "propose")
    org = create_organisation(region="asia", country="Nepal")
    flooder = Person(live.url).join(workshop.join_code, org.id, "Script")
    other = Person(live.url).join(workshop.join_code, org.id, "Sita")
    flood = flooder.connect(workshop.id)
    other.connect(workshop.id)
    answers: list[dict] = []
    stop = threading.Event()

    def send() -> None:
        # About 1,000 events a second, without waiting for answers, until the server drops us.
        for i in range(3000):
            if stop.is_set() or not flood.connected:
                return
            try:
                flood.emit("proposal.create", {
                    "workshop_id": workshop.id, "title": f"Spam {i}", "theme": "decent_work",
                    "level": "national"}, callback=answers.append)
            except Exception:  # noqa: BLE001 (the socket was closed under us: the point)
                return
            time.sleep(0.001)

    sender = threading.Thread(target=send)
    sender.start()
    times = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # a person's pace of reads: ten a second
        start = time.monotonic()
        ack = other.call("state.sync", {"workshop_id": workshop.id})
        times.append(time.monotonic() - start)
        assert ack["ok"], ack
        time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
    stop.set()
    sender.join(timeout=10)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    assert p99 < 0.2, f"p99 {p99:.3f} s over {len(times)} round trips"
    assert not flood.connected  # dropped for flooding
    refused = [a for a in answers if not a.get("ok")]
    assert refused
    assert {a["error"] for a in refused} == {"rate_limited"}
    db.session.expire_all()
    stored = db.session.scalar(sa.select(sa.func.count(Proposal.id))
                               .where(Proposal.workshop_id == workshop.id))
    assert stored <= 10  # the socket's burst (config SOCKET_LIMIT_WRITE "2/10")
    flooder.close()
    other.close()
