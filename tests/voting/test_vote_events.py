"""Voting over Socket.IO (Flask-SocketIO's test client, sharing the HTTP login session)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect
from tests.helpers import (
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    join,
    login,
    received,
)
from workshop.agenda.models import Delegate
from workshop.auth.models import User
from workshop.extensions import db
from workshop.voting.models import Ballot, Participation, Vote


@pytest.fixture
def room(app):
    """A console, two phones (west Africa, Asia) and a projector on one workshop."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    ids = [p.id for p in create_lines(workshop, 4)]
    staff_client = app.test_client()
    login(staff_client, facilitator)
    phones = []
    for name, region in (("Amina", "west_africa"), ("Chitra", "asia")):
        client = app.test_client()
        join(client, workshop, create_organisation(region=region), name=name)
        phones.append(connect(app, client, workshop))
    staff = connect(app, staff_client, workshop, f"/w/{workshop.id}/console")
    screen_client = app.test_client()
    screen_client.get(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    screen = connect(app, screen_client, workshop, f"/w/{workshop.id}/projector")
    for sock in (staff, screen, *phones):
        sock.get_received()
    return workshop, ids, staff, phones, screen


def open_over_socket(staff, workshop, **fields) -> int:
    ack = staff.emit("ballot.open", {"workshop_id": workshop.id, "title": "Which lines?",
                                     "method": "approval", **fields}, callback=True)
    assert ack["ok"] is True, ack
    return ack["ballot_id"]


def stored() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Vote)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Participation)))


def test_open_reaches_every_screen(room):
    workshop, ids, staff, (amina, chitra), screen = room
    ballot_id = open_over_socket(staff, workshop, method="ranking", closes_in_minutes=10)
    for sock in (amina, chitra, screen, staff):
        [event] = received(sock, "ballot")
        assert event["ballot_id"] == ballot_id
        assert event["status"] == "open"
        assert event["method"] == "ranking"
        assert 590_000 < event["remaining_ms"] <= 600_000


def test_cast_acks_after_commit_with_a_receipt_and_turnout_goes_to_staff_and_screens(room):
    workshop, ids, staff, (amina, chitra), screen = room
    ballot_id = open_over_socket(staff, workshop)
    for sock in (amina, chitra, screen, staff):
        sock.get_received()
    ack = amina.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                     "choices": [ids[1], ids[0]]}, callback=True)
    assert ack["ok"] is True
    assert ack["changed"] is False
    assert len(ack["receipt"]) == 14  # ABCD-EFGH-JKLM
    assert stored() == (1, 1)
    for sock in (staff, screen):
        [turnout] = received(sock, "ballot.turnout")
        assert turnout["voted"] == 1
        assert turnout["eligible"] == 2
        assert turnout["by_region"]["west_africa"] == {"voted": 1, "eligible": 1}
        assert "standings" not in turnout  # never results while open
    assert received(chitra, "ballot.turnout") == []  # phones do not get turnout


def test_the_retry_of_the_same_ballot_counts_once(room):
    workshop, ids, staff, (amina, _), _ = room
    ballot_id = open_over_socket(staff, workshop, secret=True)
    paper = {"workshop_id": workshop.id, "ballot_id": ballot_id, "choices": [ids[2]],
             "secret": "f" * 64}
    first = amina.emit("ballot.cast", paper, callback=True)
    second = amina.emit("ballot.cast", paper, callback=True)
    assert first["ok"]
    assert second["ok"]
    assert second["receipt"] == first["receipt"]
    assert second["changed"] is True
    assert stored() == (1, 1)


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"choices": "everything"}, "validation", "choices"),
    ({"choices": [True]}, "validation", "choices"),
    ({"choices": None}, "validation", "choices"),
    ({"ballot_id": "one"}, "validation", "ballot_id"),
    ({"ballot_id": 999_999}, "not_found", "ballot_id"),
    ({"secret": "not hex"}, "validation", "secret"),
    ({"on_behalf_of": 999_999}, "forbidden", "on_behalf_of"),
    ({"extra": 1}, "validation", "extra"),
    ({"workshop_id": 999_999}, "validation", "workshop_id"),
])
def test_bad_cast_payloads_name_the_field_and_store_nothing(room, change, error, field):
    workshop, ids, staff, (amina, _), _ = room
    ballot_id = open_over_socket(staff, workshop)
    ack = amina.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                     "choices": [ids[0]], **change}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == error
    assert field in ack["fields"], ack
    assert stored() == (0, 0)


def test_staff_and_projector_cannot_vote(room):
    workshop, ids, staff, _, screen = room
    ballot_id = open_over_socket(staff, workshop)
    for sock in (staff, screen):
        ack = sock.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                        "choices": [ids[0]]}, callback=True)
        assert ack["error"] == "forbidden"
    assert stored() == (0, 0)


def test_a_delegate_cannot_drive_a_ballot(room):
    workshop, ids, staff, (amina, _), _ = room
    ack = amina.emit("ballot.open", {"workshop_id": workshop.id, "title": "Mine",
                                     "method": "approval"}, callback=True)
    assert ack["error"] == "forbidden"
    ballot_id = open_over_socket(staff, workshop)
    for event, extra in (("ballot.close", {}), ("ballot.extend", {"minutes": 5}),
                         ("ballot.show_results", {"visible": True})):
        ack = amina.emit(event, {"workshop_id": workshop.id, "ballot_id": ballot_id, **extra},
                         callback=True)
        assert ack["error"] == "forbidden", event
    db.session.expire_all()
    assert db.session.get(Ballot, ballot_id).status == "open"


def test_close_freezes_and_tells_every_screen(room):
    workshop, ids, staff, (amina, chitra), screen = room
    ballot_id = open_over_socket(staff, workshop)
    amina.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                               "choices": [ids[0]]}, callback=True)
    for sock in (amina, chitra, screen):
        sock.get_received()
    ack = staff.emit("ballot.close", {"workshop_id": workshop.id, "ballot_id": ballot_id},
                     callback=True)
    assert ack["ok"] is True
    assert len(ack["hash"]) == 64
    for sock in (amina, chitra, screen):
        [event] = received(sock, "ballot")
        assert (event["status"], event["hash"]) == ("closed", ack["hash"])
    late = chitra.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                       "choices": [ids[1]]}, callback=True)
    assert late["error"] == "conflict"
    assert stored() == (1, 1)


def test_show_results_extend_and_sync(room):
    workshop, _, staff, (amina, _), _ = room
    ballot_id = open_over_socket(staff, workshop)
    ack = staff.emit("ballot.show_results", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                             "visible": True}, callback=True)
    assert ack["ok"] is True
    assert received(amina, "ballot")[-1]["results_visible"] is True
    ack = staff.emit("ballot.extend", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                       "minutes": 3}, callback=True)
    assert 170_000 < ack["remaining_ms"] <= 180_000
    ack = amina.emit("ballot.sync", {"workshop_id": workshop.id, "ballot_id": ballot_id},
                     callback=True)
    assert ack["ballot"]["results_visible"] is True
    assert ack["turnout"]["voted"] == 0


def test_paper_proxy_and_top_n_over_the_socket(app, room):
    workshop, ids, staff, (amina, chitra), _ = room
    organiser_client = app.test_client()
    login(organiser_client, db.session.get(User, workshop.created_by_id))
    organiser = connect(app, organiser_client, workshop, f"/w/{workshop.id}/console")
    by_name = {d.name: d.id for d in db.session.scalars(sa.select(Delegate))}
    ack = organiser.emit("proxy.assign", {"workshop_id": workshop.id,
                                          "holder_id": by_name["Amina"],
                                          "absent_id": by_name["Chitra"]}, callback=True)
    assert ack["ok"] is True, ack
    ballot_id = open_over_socket(staff, workshop)
    ack = amina.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                     "choices": [ids[0], ids[1]],
                                     "on_behalf_of": by_name["Chitra"]}, callback=True)
    assert ack["ok"] is True, ack
    ack = staff.emit("ballot.paper", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                      "delegate_id": by_name["Amina"],
                                      "choices": [ids[1]]}, callback=True)
    assert ack["ok"] is True, ack
    assert stored() == (2, 2)
    staff.emit("ballot.close", {"workshop_id": workshop.id, "ballot_id": ballot_id},
               callback=True)
    ack = staff.emit("ballot.select_top", {"workshop_id": workshop.id, "ballot_id": ballot_id,
                                           "n": 1}, callback=True)
    assert ack == {"ok": True, "selected": [ids[1]]}
