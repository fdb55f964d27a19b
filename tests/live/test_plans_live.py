"""Action plans against the real gevent server with real Socket.IO clients (python-socketio).

Every refused edit must come back with a clear error (naming the field where there is one) and
leave the plan as it was: the field's version and value unchanged, no new change in its
history. An edit sent twice is stored once; a plan's changes reach the sockets that opened it,
and only those; after a reconnect `plan.open` gives the current versions.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers import (
    carry_forward,
    create_organisation,
    create_user,
    create_workshop,
    edit_plan,
    go_to_kind,
)
from tests.live.clients import Person
from workshop.agenda.models import Delegate
from workshop.auth.models import User
from workshop.extensions import db
from workshop.plans import services as plans
from workshop.plans.models import Plan, PlanChange, PlanField
from workshop.plans.schemas import AssignIn, LockIn

pytestmark = pytest.mark.live

PLAN_EVENTS = ("plan.field", "plan.progress", "plan.locked")


@dataclass
class Room:
    """A workshop on its action-plan step with three plans and people on sockets.

    Amina and Bola write plan 1, Chidi writes plan 2, Dede is in no group; the facilitator
    is on the console. Every socket also records the plans' broadcasts.
    """

    workshop: Any
    organiser: User
    plans: list[Plan]
    staff: Person
    amina: Person
    bola: Person
    chidi: Person
    dede: Person

    def edit(self, person: Person, plan: Plan, field: str, value: Any, base_version: int,
             **extra: Any) -> dict:
        return person.call("plan.edit", {
            "workshop_id": self.workshop.id, "plan_id": plan.id, "field": field,
            "base_version": base_version, "value": value, **extra})

    def open(self, person: Person, plan: Plan) -> dict:
        ack = person.call("plan.open", {"workshop_id": self.workshop.id, "plan_id": plan.id})
        assert ack["ok"] is True, ack
        return ack


def connect(person: Person, workshop_id: int) -> None:
    person.connect(workshop_id)
    for name in PLAN_EVENTS:
        person.sio.on(name, lambda data, name=name: person.events.put((name, data)))


def delegate_id(workshop, name: str) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(Delegate.id).where(Delegate.name == name,
                                                          Delegate.workshop_id == workshop.id))


@pytest.fixture
def room(live):
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=6, facilitator=facilitator)
    organiser = db.session.get(User, workshop.created_by_id)
    made, _, _ = carry_forward(workshop, n=3)
    go_to_kind(workshop, "action_plan")
    org = create_organisation(region="west_africa", country="Senegal")
    people = {name: Person(live.url).join(workshop.join_code, org.id, name)
              for name in ("Amina", "Bola", "Chidi", "Dede")}
    for name, plan in (("Amina", made[0]), ("Bola", made[0]), ("Chidi", made[1])):
        plans.assign_member(organiser, workshop, AssignIn(
            workshop_id=workshop.id, delegate_id=delegate_id(workshop, name), plan_id=plan.id))
    staff = Person(live.url).login(facilitator.email, workshop.id)
    everyone = [staff, *people.values()]
    for person in everyone:
        connect(person, workshop.id)
    yield Room(workshop, organiser, made, staff, people["Amina"], people["Bola"],
               people["Chidi"], people["Dede"])
    for person in everyone:
        person.close()


def stored(plan: Plan, field: str) -> tuple[int, Any, int]:
    """(version, value) of a field as the server committed it, and the plan's change count."""
    db.session.rollback()
    row = db.session.scalar(sa.select(PlanField).where(PlanField.plan_id == plan.id,
                                                       PlanField.key == field))
    changes = db.session.scalar(sa.select(sa.func.count()).select_from(PlanChange)
                                .where(PlanChange.plan_id == plan.id))
    return row.version, row.value, changes


def changes_with(plan: Plan, value: Any) -> list[PlanChange]:
    db.session.rollback()
    return [c for c in db.session.scalars(sa.select(PlanChange)
                                          .where(PlanChange.plan_id == plan.id))
            if c.value == value]


def preset(room: Room, field: str, value: Any) -> int:
    """Write a field through the service (as the organiser); its new version."""
    plan = room.plans[0]
    db.session.rollback()
    base = stored(plan, field)[0]
    return edit_plan(room.organiser, plan, field, value, base_version=base).version


def queued(person: Person) -> list[tuple[str, Any]]:
    """The events received so far (without waiting)."""
    got = []
    while True:
        try:
            got.append(person.events.get_nowait())
        except queue.Empty:
            return got


def events_until(person: Person, name: str, timeout: float = 5) -> list[tuple[str, Any]]:
    """Every event received up to and including the next `name`."""
    got = []
    while True:
        event, data = person.events.get(timeout=timeout)
        got.append((event, data))
        if event == name:
            return got


# --- What is stored -----------------------------------------------------------------------------


def test_a_group_members_edit_is_stored_and_reaches_the_plans_room(room):
    plan = room.plans[0]
    for person in (room.amina, room.bola):
        room.open(person, plan)
    room.open(room.chidi, room.plans[1])
    for person in (room.bola, room.chidi, room.dede):
        person.drain()
    db.session.rollback()
    filled = plans.progress(db.session.get(Plan, plan.id))["filled"]
    ack = room.edit(room.amina, plan, "objective", "Social protection for 2 million workers.",
                    0, edit_id="amina-edit-0001")
    assert ack["ok"] is True, ack
    assert (ack["version"], ack["merged"], ack["duplicate"]) == (1, False, False)
    assert stored(plan, "objective")[:2] == (1, "Social protection for 2 million workers.")

    field = room.bola.next_event("plan.field")
    assert field["plan_id"] == plan.id
    assert (field["field"], field["version"], field["by"]) == ("objective", 1, "Amina")
    assert field["value"] == "Social protection for 2 million workers."
    assert field["edit_id"] == "amina-edit-0001"
    progress = room.bola.next_event("plan.progress")
    assert progress["plan_id"] == plan.id
    assert progress["filled"] == filled + 1  # counts the field just written
    assert "Amina" in progress["writers"]

    # Chidi follows plan 2 and Dede no plan: neither hears of plan 1's change. An edit of plan 2
    # (sent after it) reaches Chidi; whatever came before it must not be about plan 1.
    assert room.edit(room.chidi, room.plans[1], "objective", "Plan two.", 0)["ok"] is True
    before = events_until(room.chidi, "plan.field")
    assert before[-1][1]["plan_id"] == room.plans[1].id
    assert not [d for e, d in before if e == "plan.field" and d["plan_id"] == plan.id]
    # Dede: a broadcast to the whole workshop sent after the edit closes the window.
    room.dede.drain()
    assert room.staff.call("plan.spotlight", {"workshop_id": room.workshop.id,
                                              "plan_id": plan.id})["ok"] is True
    before = events_until(room.dede, "state")
    assert [e for e, _ in before if e.startswith("plan.")] == []


def test_the_same_edit_id_twice_is_stored_once(room):
    plan = room.plans[0]
    payload = ("objective", "Written once, sent twice.", 0)
    first = room.edit(room.amina, plan, *payload, edit_id="retry-after-drop-1")
    again = room.edit(room.amina, plan, *payload, edit_id="retry-after-drop-1")
    assert first["ok"] is True
    assert again["ok"] is True
    assert again["duplicate"] is True
    assert again["version"] == first["version"] == 1
    assert again["value"] == "Written once, sent twice."
    assert len(changes_with(plan, "Written once, sent twice.")) == 1
    # Even after someone else wrote meanwhile, the resend stores nothing and reports what is
    # there now.
    assert room.edit(room.bola, plan, "objective", "Bola's text.", 1)["ok"] is True
    late = room.edit(room.amina, plan, *payload, edit_id="retry-after-drop-1")
    assert (late["ok"], late["duplicate"], late["version"], late["value"]) == (
        True, True, 2, "Bola's text.")
    assert stored(plan, "objective")[:2] == (2, "Bola's text.")
    assert len(changes_with(plan, "Written once, sent twice.")) == 1


def test_a_stale_edit_elsewhere_in_the_text_is_merged_keeping_both(room):
    plan = room.plans[0]
    base = preset(room, "objective", "Train organisers. Write a guide.")
    assert room.edit(room.amina, plan, "objective", "Train 40 organisers. Write a guide.",
                     base)["ok"] is True
    ack = room.edit(room.bola, plan, "objective", "Train organisers. Write a short guide.", base)
    assert ack["ok"] is True, ack
    assert ack["merged"] is True
    assert ack["value"] == "Train 40 organisers. Write a short guide."
    assert stored(plan, "objective")[:2] == (base + 2,
                                            "Train 40 organisers. Write a short guide.")
    assert changes_with(plan, ack["value"])[0].kind == "merge"


def test_two_edits_sent_at_the_same_moment_from_one_version_are_both_kept(room):
    plan = room.plans[0]
    base = preset(room, "objective", "Organise riders. Sign agreements.")
    edits = {room.amina: "Organise riders in Lagos. Sign agreements.",
             room.bola: "Organise riders. Sign collective agreements."}
    payloads = {value: (person, {"workshop_id": room.workshop.id, "plan_id": plan.id,
                                 "field": "objective", "base_version": base, "value": value})
                for person, value in edits.items()}
    acks: dict[str, dict] = {}
    threads = [threading.Thread(target=lambda v=value, p=person, m=payload: acks.__setitem__(
        v, p.call("plan.edit", m))) for value, (person, payload) in payloads.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(ack["ok"] for ack in acks.values()), acks
    assert sorted(ack["version"] for ack in acks.values()) == [base + 1, base + 2]
    assert sorted(ack["merged"] for ack in acks.values()) == [False, True]
    both = "Organise riders in Lagos. Sign collective agreements."
    assert stored(plan, "objective")[:2] == (base + 2, both)
    assert max(acks.values(), key=lambda ack: ack["version"])["value"] == both


# --- What is refused, storing nothing ------------------------------------------------------------


def refused(ack: dict, error: str, *, names: str | None = None) -> dict:
    """The ack is the error `error` (naming `names` among its fields, if given)."""
    assert ack["ok"] is False, ack
    assert ack["error"] == error, ack
    assert ack["message"], ack
    if names is not None:
        assert names in ack["fields"], ack
        assert ack["fields"][names], ack
    return ack


def test_a_stale_edit_of_the_same_words_is_a_conflict_that_carries_the_stored_text(room):
    plan = room.plans[0]
    base = preset(room, "objective", "We meet in May in Dakar.")
    assert room.edit(room.amina, plan, "objective", "We meet in June in Dakar.", base)["ok"]
    before = stored(plan, "objective")
    ack = refused(room.edit(room.bola, plan, "objective", "We meet in July in Dakar.", base),
                  "conflict", names="value")
    assert ack["current"] == {"field": "objective", "version": base + 1,
                              "value": "We meet in June in Dakar.", "by": "Amina"}
    assert stored(plan, "objective") == before
    assert changes_with(plan, "We meet in July in Dakar.") == []


def test_a_delegate_of_another_group_may_not_write(room):
    plan = room.plans[0]
    assert room.workshop.plans_open_editing is False
    before = stored(plan, "objective")
    for person in (room.chidi, room.dede):
        refused(room.edit(person, plan, "objective", "Not my group's plan.", 0), "forbidden")
    assert stored(plan, "objective") == before


def test_another_workshops_plan_is_not_found(room):
    other = create_workshop(steps=6)
    foreign = carry_forward(other, n=1)[0][0]
    before = stored(foreign, "objective")
    # Named with this workshop's id: no such plan here.
    ack = room.amina.call("plan.edit", {
        "workshop_id": room.workshop.id, "plan_id": foreign.id, "field": "objective",
        "base_version": 0, "value": "Hijack."})
    refused(ack, "not_found", names="plan_id")
    # Named with its own workshop's id: not the workshop this socket is connected to.
    ack = room.amina.call("plan.edit", {
        "workshop_id": other.id, "plan_id": foreign.id, "field": "objective",
        "base_version": 0, "value": "Hijack."})
    refused(ack, "validation", names="workshop_id")
    assert stored(foreign, "objective") == before
    assert room.amina.call("plan.open", {"workshop_id": room.workshop.id,
                                         "plan_id": foreign.id})["error"] == "not_found"


def test_an_unknown_future_version_is_refused(room):
    plan = room.plans[0]
    base = preset(room, "objective", "Version one.")
    before = stored(plan, "objective")
    refused(room.edit(room.amina, plan, "objective", "From the future.", base + 5),
            "validation", names="base_version")
    assert stored(plan, "objective") == before


@pytest.mark.parametrize(("field", "value", "names"), [
    ("title", "x" * 201, "value"),  # the title's limit is 200 characters
    ("objective", "y" * 20_001, "value"),  # a paragraph's is 20,000
    ("activities", [{"_id": "r1", "activity": "z" * 2_001}], "value.0.activity"),
])
def test_a_value_over_the_fields_length_limit_is_refused(room, field, value, names):
    plan = room.plans[0]
    before = stored(plan, field)
    ack = refused(room.edit(room.amina, plan, field, value, before[0]), "validation",
                  names=names)
    assert "at most" in ack["fields"][names]
    assert stored(plan, field) == before


@pytest.mark.parametrize(("value", "names"), [
    ("Train organisers", "value"),  # a table is a list of rows, not a text
    (["Train organisers"], "value.0"),  # a row is an object
    ([{"_id": "r1", "activity": ["a", "list"]}], "value.0.activity"),
    ([{"_id": "r1", "activity": "Train", "2027": "yes"}], "value.0.2027"),
    ([{"_id": "r1", "activity": "Train", "colour": "red"}], "value.0.colour"),
    ([{"activity": "no id"}], "value.0._id"),
])
def test_a_wrong_type_for_a_table_field_is_refused(room, value, names):
    plan = room.plans[0]
    before = stored(plan, "activities")
    refused(room.edit(room.amina, plan, "activities", value, before[0]),
            "validation", names=names)
    assert stored(plan, "activities") == before


@pytest.mark.parametrize("names", ["plan_id", "workshop_id", "base_version"])
def test_an_id_over_2_31_is_refused(room, names):
    plan = room.plans[0]
    before = stored(plan, "objective")
    payload = {"workshop_id": room.workshop.id, "plan_id": plan.id, "field": "objective",
               "base_version": 0, "value": "Big numbers.", names: 2**31}
    refused(room.amina.call("plan.edit", payload), "validation", names=names)
    assert stored(plan, "objective") == before


def test_an_unknown_field_is_refused(room):
    plan = room.plans[0]
    before = stored(plan, "objective")
    refused(room.edit(room.amina, plan, "budget_line", "No such field.", 0), "validation",
            names="field")
    assert stored(plan, "objective") == before


def test_a_locked_plan_refuses_edits(room):
    plan = room.plans[0]
    room.open(room.amina, plan)
    room.amina.drain()
    ack = room.staff.call("plan.lock", {"workshop_id": room.workshop.id, "plan_id": plan.id,
                                        "locked": True})
    assert ack == {"ok": True, "plan_ids": [plan.id]}
    assert room.amina.next_event("plan.locked") == {"plan_id": plan.id, "locked": True}
    before = stored(plan, "objective")
    ack = refused(room.edit(room.amina, plan, "objective", "After the bell.", 0,
                            edit_id="after-the-bell-1"), "conflict")
    assert "locked" in ack["message"]
    assert "current" not in ack
    # Not even the facilitator writes in a locked plan.
    refused(room.edit(room.staff, plan, "objective", "Staff too.", 0), "conflict")
    assert stored(plan, "objective") == before
    # Unlocked, the same edit goes through.
    plans.lock_plans(room.organiser, room.workshop, LockIn(
        workshop_id=room.workshop.id, plan_id=plan.id, locked=False))
    assert room.edit(room.amina, plan, "objective", "After the bell.", 0)["ok"] is True


# --- Reconnecting -------------------------------------------------------------------------------


def test_after_a_reconnect_plan_open_gives_the_current_versions(room):
    plan = room.plans[0]
    opened = room.open(room.amina, plan)["plan"]
    assert opened["writable"] is True
    assert opened["fields"]["objective"]["version"] == 0
    title = opened["fields"]["title"]
    assert title["version"] == 1  # pre-filled from the line of work
    room.amina.close()
    # While Amina's phone is away, Bola writes twice.
    room.open(room.bola, plan)
    first = room.edit(room.bola, plan, "objective", "While you were away.", 0)
    second = room.edit(room.bola, plan, "title", title["value"] + " (revised)", 1)
    assert (first["version"], second["version"]) == (1, 2)
    connect(room.amina, room.workshop.id)
    # A fresh socket is in no plan's room until it opens one again ...
    room.amina.drain()
    assert room.edit(room.bola, plan, "objective", "Still away.", 1)["ok"] is True
    room.bola.next_event("plan.field")
    reopened = room.open(room.amina, plan)["plan"]
    assert reopened["fields"]["objective"]["version"] == 2
    assert reopened["fields"]["objective"]["value"] == "Still away."
    assert reopened["fields"]["objective"]["by"] == "Bola"
    assert reopened["fields"]["title"] == {**reopened["fields"]["title"], "version": 2,
                                           "value": title["value"] + " (revised)"}
    assert [e for e, _ in queued(room.amina) if e == "plan.field"] == []
    # ... and, reopened, it follows the plan again.
    assert room.edit(room.bola, plan, "objective", "Back again.", 2)["ok"] is True
    field = room.amina.next_event("plan.field")
    assert (field["version"], field["value"]) == (3, "Back again.")
