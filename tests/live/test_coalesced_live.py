"""Rushes on the real gevent server: +1s on one line reach every screen as the line's counts
coalesced (the first at once, the rest together half a second later), ending on the count the
database holds; +1s on several lines as messages naming several lines; new lines in few
messages of several cards, each line once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.helpers import create_organisation, create_proposal, create_user, create_workshop
from tests.live.clients import Person, at_once
from workshop.agenda.models import Workshop
from workshop.extensions import db
from workshop.proposals.models import Proposal, Support

pytestmark = pytest.mark.live

PHONES = 6


@contextlib.contextmanager
def phones_and_watcher(url: str, workshop: Workshop, *names: str
                       ) -> Iterator[tuple[list[Person], Person]]:
    """PHONES joined phones and one more watching, all connected; the watcher's queue gets
    ("heard", (name, data)) for each event of `names`. Every socket closed at the end."""
    org = create_organisation(region="west_africa")
    phones = [Person(url).join(workshop.join_code, org.id, f"Phone {i}") for i in range(PHONES)]
    watcher = Person(url).join(workshop.join_code, org.id, "Watcher")
    try:
        for person in (*phones, watcher):
            person.connect(workshop.id)
        for name in names:
            watcher.sio.on(name, lambda data, name=name: watcher.events.put(("heard",
                                                                             (name, data))))
        yield phones, watcher
    finally:
        for person in (*phones, watcher):
            person.close()


def test_a_rush_of_supports_reaches_every_screen_coalesced_ending_on_the_stored_count(live):
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=3, facilitator=facilitator)
    line_id = create_proposal(workshop, title="Health cover for street vendors").id
    org = create_organisation(region="west_africa")
    phones = [Person(live.url).join(workshop.join_code, org.id, f"Phone {i}")
              for i in range(PHONES)]
    staff = Person(live.url).login(facilitator.email, workshop.id)
    try:
        for person in (*phones, staff):
            person.connect(workshop.id)
        staff.sio.on("proposal.counts", lambda data: staff.events.put(("counts", data)))
        acks = at_once(phones, "proposal.support",
                       [{"workshop_id": workshop.id, "proposal_id": line_id}] * PHONES)
        assert [a.get("ok") for a in acks] == [True] * PHONES

        seen = [staff.next_event("counts")]
        while seen[-1]["supporters"] < PHONES:
            seen.append(staff.next_event("counts", timeout=3))  # the coalesced one: ≤ 0.5 s
        assert all(c["id"] == line_id for c in seen)
        assert [c["supporters"] for c in seen] == sorted(c["supporters"] for c in seen)
        # Six commits, fewer broadcasts: the first at once, the rest together.
        assert len(seen) < PHONES
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Support)
                                 .where(Support.proposal_id == line_id)) == PHONES
    finally:
        for person in (*phones, staff):
            person.close()


def test_a_rush_of_supports_on_several_lines_reaches_a_screen_as_few_messages_of_counts(live):
    workshop = create_workshop(steps=3)
    line_ids = [create_proposal(workshop, title=f"Line {n}").id for n in range(3)]
    with phones_and_watcher(live.url, workshop, "proposal.counts",
                            "proposal.counts.many") as (phones, watcher):
        acks = at_once(phones, "proposal.support",
                       [{"workshop_id": workshop.id, "proposal_id": line_ids[n % len(line_ids)]}
                        for n in range(PHONES)])
        assert [a.get("ok") for a in acks] == [True] * PHONES

        wanted = {line_id: PHONES // len(line_ids) for line_id in line_ids}
        shown: dict[int, int] = {}
        messages: list[str] = []
        while shown != wanted:
            name, data = watcher.next_event("heard", timeout=3)  # the batch: within 0.5 s
            messages.append(name)
            for line in [data] if name == "proposal.counts" else data["lines"]:
                assert line["supporters"] >= shown.get(line["id"], 0)  # never backwards
                shown[line["id"]] = line["supporters"]
        # Six +1s on three lines: fewer messages, and some name several lines at once.
        assert len(messages) < PHONES
        assert "proposal.counts.many" in messages


def test_a_rush_of_new_lines_reaches_every_screen_in_few_messages_each_line_once(live):
    workshop = create_workshop(steps=3)
    create_proposal(workshop)  # on a propose step
    with phones_and_watcher(live.url, workshop, "proposal.card",
                            "proposal.cards") as (phones, watcher):
        acks = at_once(phones, "proposal.create", [
            {"workshop_id": workshop.id, "title": f"Health cover for fishers {n}",
             "theme": "decent_work", "level": "national"} for n in range(PHONES)])
        assert [a.get("ok") for a in acks] == [True] * PHONES
        wanted = {a["proposal_id"] for a in acks}

        seen: list[int] = []
        messages: list[str] = []
        while set(seen) != wanted:
            name, data = watcher.next_event("heard", timeout=3)  # the batch: within 0.5 s
            messages.append(name)
            seen.extend([data["id"]] if name == "proposal.card" else
                        [card["id"] for card in data["cards"]])
        assert sorted(seen) == sorted(wanted)  # each line once
        assert "proposal.cards" in messages  # several lines in one message
        assert len(messages) < PHONES
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.workshop_id == workshop.id)) == PHONES + 1
