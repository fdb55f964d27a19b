"""Voting against the real gevent server with real Socket.IO clients (python-socketio).

Every refused ballot paper must come back with a clear error and leave nothing stored; a paper
sent again (a retry after a dropped connection) must count once.
"""

from __future__ import annotations

import queue
import threading

import pytest
import sqlalchemy as sa

from tests.helpers import (
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from tests.live.clients import Person
from workshop.agenda.models import Delegate
from workshop.auth.models import User
from workshop.extensions import db
from workshop.voting import proxies
from workshop.voting.models import Ballot, Participation, Vote
from workshop.voting.schemas import ProxyIn

pytestmark = pytest.mark.live

SECRET = "5" * 64


@pytest.fixture
def room(live):
    """A workshop with lines of work, a facilitator's console and two joined phones."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=5, facilitator=facilitator)
    ids = [p.id for p in create_lines(workshop, 4)]
    staff = Person(live.url).login(facilitator.email, workshop.id)
    amina = Person(live.url).join(workshop.join_code,
                                  create_organisation(region="west_africa").id, "Amina")
    chitra = Person(live.url).join(workshop.join_code,
                                   create_organisation(region="asia", country="India").id,
                                   "Chitra")
    for person in (staff, amina, chitra):
        person.connect(workshop.id)
    yield workshop, ids, facilitator, staff, amina, chitra
    for person in (staff, amina, chitra):
        person.close()


def stored(ballot_id: int) -> tuple[int, int]:
    """(ballot papers, participations) as the server committed them."""
    db.session.rollback()
    votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote)
                              .where(Vote.ballot_id == ballot_id))
    parts = db.session.scalar(sa.select(sa.func.count()).select_from(Participation)
                              .where(Participation.ballot_id == ballot_id))
    return votes, parts


def paper(workshop, ballot, choices, **extra) -> dict:
    return {"workshop_id": workshop.id, "ballot_id": ballot.id, "choices": choices, **extra}


def delegate_id(workshop, name: str) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(Delegate.id).where(Delegate.name == name,
                                                          Delegate.workshop_id == workshop.id))


def test_a_vote_is_stored_before_its_receipt_and_turnout_reaches_the_console(room):
    workshop, ids, _, staff, amina, _ = room
    turnouts: queue.Queue = queue.Queue()
    staff.sio.on("ballot.turnout", turnouts.put)
    ballot = open_test_ballot(workshop, "ranking")
    ack = amina.call("ballot.cast", paper(workshop, ballot, [ids[2], ids[0]]))
    assert ack["ok"] is True, ack
    assert stored(ballot.id) == (1, 1)  # committed when the receipt arrived
    assert db.session.scalar(sa.select(Vote.choices)
                             .where(Vote.ballot_id == ballot.id)) == [ids[2], ids[0]]
    turnout = turnouts.get(timeout=5)
    assert (turnout["ballot_id"], turnout["voted"], turnout["eligible"]) == (ballot.id, 1, 2)
    assert turnout["by_region"]["west_africa"] == {"voted": 1, "eligible": 1}


def test_a_vote_after_close_is_refused(room):
    workshop, ids, facilitator, staff, amina, _ = room
    ballot = open_test_ballot(workshop, "approval")
    assert staff.call("ballot.close", {"workshop_id": workshop.id, "ballot_id": ballot.id})["ok"]
    ack = amina.call("ballot.cast", paper(workshop, ballot, [ids[0]]))
    assert ack["ok"] is False
    assert ack["error"] == "conflict"
    assert "closed" in ack["message"]
    assert stored(ballot.id) == (0, 0)


def test_a_vote_after_the_closing_time_is_refused(room):
    workshop, ids, _, _, amina, _ = room
    ballot = open_test_ballot(workshop, "approval", closes_in_minutes=1)
    ballot.closes_at = ballot.opened_at  # its time is up
    db.session.commit()
    ack = amina.call("ballot.cast", paper(workshop, ballot, [ids[0]]))
    assert ack["error"] == "conflict"
    assert stored(ballot.id) == (0, 0)
    db.session.rollback()
    assert db.session.get(Ballot, ballot.id).status == "closed"  # closed by the late vote


def test_a_vote_on_someone_elses_behalf_is_refused(room):
    workshop, ids, _, _, amina, _ = room
    ballot = open_test_ballot(workshop, "approval")
    ack = amina.call("ballot.cast", paper(workshop, ballot, [ids[0]],
                                          on_behalf_of=delegate_id(workshop, "Chitra")))
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    assert "on_behalf_of" in ack["fields"]
    assert stored(ballot.id) == (0, 0)


def test_a_proxy_holder_casts_both_ballots(room):
    workshop, ids, _, _, amina, chitra = room
    organiser = db.session.get(User, workshop.created_by_id)
    proxies.assign_proxy(organiser, workshop, ProxyIn(
        workshop_id=workshop.id, holder_id=delegate_id(workshop, "Amina"),
        absent_id=delegate_id(workshop, "Chitra")))
    ballot = open_test_ballot(workshop, "approval")
    assert amina.call("ballot.cast", paper(workshop, ballot, [ids[0]]))["ok"]
    assert amina.call("ballot.cast", paper(workshop, ballot, [ids[1]],
                                           on_behalf_of=delegate_id(workshop, "Chitra")))["ok"]
    assert stored(ballot.id) == (2, 2)
    # Chitra's own phone would now change Chitra's (named) ballot, not add one.
    assert chitra.call("ballot.cast", paper(workshop, ballot, [ids[3]]))["ok"]
    assert stored(ballot.id) == (2, 2)


@pytest.mark.parametrize(("choice", "needle"), [
    ("unknown", "not one of this ballot's options"),
    ("repeated", "appears twice"),
])
def test_a_ranking_with_an_unknown_or_repeated_option_is_refused(room, choice, needle):
    workshop, ids, _, _, amina, _ = room
    ballot = open_test_ballot(workshop, "ranking")
    choices = [ids[0], 987_654] if choice == "unknown" else [ids[1], ids[0], ids[1]]
    ack = amina.call("ballot.cast", paper(workshop, ballot, choices))
    assert ack["ok"] is False
    assert ack["error"] == "validation"
    assert needle in ack["fields"]["choices"]
    assert stored(ballot.id) == (0, 0)


def test_points_over_budget_are_refused(room):
    workshop, ids, _, _, amina, _ = room
    ballot = open_test_ballot(workshop, "points", budget=10, max_per_option=6)
    ack = amina.call("ballot.cast", paper(workshop, ballot, {str(ids[0]): 6, str(ids[1]): 5}))
    assert ack["ok"] is False
    assert "Over budget" in ack["fields"]["choices"]
    assert stored(ballot.id) == (0, 0)


def test_a_non_delegate_voting_is_refused(room):
    workshop, ids, _, staff, _, _ = room
    ballot = open_test_ballot(workshop, "approval")
    ack = staff.call("ballot.cast", paper(workshop, ballot, [ids[0]]))
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    assert stored(ballot.id) == (0, 0)


def test_the_retry_of_the_same_ballot_counts_once(live, room):
    workshop, ids, _, _, amina, _ = room
    ballot = open_test_ballot(workshop, "approval", secret=True)
    same = paper(workshop, ballot, [ids[1]], secret=SECRET)
    # The phone sends, and its connection drops before the receipt comes back ...
    amina.sio.emit("ballot.cast", same)
    amina.sio.disconnect()
    # ... it reconnects and sends the same paper again, twice at once for good measure.
    amina.connect(workshop.id)
    acks: list[dict] = []
    threads = [threading.Thread(target=lambda: acks.append(amina.call("ballot.cast", same)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["ok"] for a in acks] == [True, True], acks
    assert acks[0]["receipt"] == acks[1]["receipt"]
    assert stored(ballot.id) == (1, 1)
    # Another secret from the same delegate is another paper: refused, still one.
    ack = amina.call("ballot.cast", paper(workshop, ballot, [ids[2]], secret="6" * 64))
    assert ack["error"] == "voted_elsewhere"  # a conflict the phone can offer to resolve
    assert stored(ballot.id) == (1, 1)
