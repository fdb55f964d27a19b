"""A step drawn for every phone comes with the `state` broadcast (workshop/agenda/pushed.py)."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect, states
from tests.helpers import (
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
    join,
    login,
)
from workshop.agenda import pushed
from workshop.agenda import services as agenda
from workshop.agenda.models import Delegate
from workshop.agenda.schemas import StepIn
from workshop.extensions import db
from workshop.kept import kept
from workshop.proposals import services as proposals
from workshop.voting import services as voting
from workshop.voting.schemas import BallotOpen


def room(app, languages=("en",)):
    """A facilitator's console and one phone per language, all connected to one workshop."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    staff_client = app.test_client()
    login(staff_client, facilitator)
    staff = connect(app, staff_client, workshop, f"/w/{workshop.id}/console")
    phones = []
    for n, language in enumerate(languages):
        client = app.test_client()
        join(client, workshop, create_organisation(), name=f"Phone {n}")
        phones.append((client, connect(app, client, workshop, f"/d?lang={language}")))
    for _client, sock in phones:
        sock.get_received()
    staff.get_received()
    return workshop, staff, phones


def phone_delegate(n: int = 0) -> Delegate:
    """The delegate of the room's phone `n` (see `room`)."""
    return db.session.scalars(sa.select(Delegate).where(Delegate.name == f"Phone {n}")).one()


def inflate(part: dict) -> str:
    """The HTML of a step's part sent with the state (gzip, as base64 text)."""
    return gzip.decompress(base64.b64decode(part["gzip"])).decode()


def drawing(part: dict) -> tuple[str, str]:
    """What of a part is drawn (and kept): not the server's clock at sending."""
    return part["key"], part["gzip"]


def go(staff, workshop, step_id: int, *phones) -> None:
    """The facilitator's Go, once what the phones received before is set aside."""
    for sock in phones:
        sock.get_received()
    ack = staff.emit("agenda.goto", {"workshop_id": workshop.id, "step_id": step_id},
                     callback=True)
    assert ack["ok"], ack


def personal_tokens_blanked(html: str) -> str:
    """The step part a phone fetched, with what is its own blanked as in the shared part."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)
    html = re.sub(r'name="request_id" value="[^"]*"', 'name="request_id" value=""', html)
    return re.sub(r"data-supported='[^']*'", "data-supported='[]'", html)


def test_a_propose_step_comes_with_the_state_as_the_phone_would_fetch_it(app):
    workshop, staff, [(client, phone)] = room(app)
    create_proposal(workshop, title="Clean water for every clinic")  # on the propose step
    go(staff, workshop, workshop.steps[0].id)
    go(staff, workshop, workshop.steps[1].id, phone)
    [state] = states(phone)
    part = state["phone"]
    assert part["key"] == state["step"]["key"]
    html = inflate(part)
    assert "Clean water for every clinic" in html
    assert 'name="csrf_token" value=""' in html
    assert 'name="request_id" value=""' in html
    fetched = client.get("/d/step").get_data(as_text=True)
    assert "data-line-of" not in fetched
    shared = re.sub(r" data-line-of='[^']*'", "", html)
    assert shared == personal_tokens_blanked(fetched)


def test_the_part_says_which_line_each_proposal_is_in_never_who_supports_what(app):
    workshop, staff, [(client, phone)] = room(app)
    line = create_proposal(workshop, title="Line one")
    merged = create_proposal(workshop, title="Merged into line one")
    merged.merged_into_id = line.id
    db.session.commit()
    go(staff, workshop, workshop.steps[2].id, phone)
    [state] = states(phone)
    html = inflate(state["phone"])
    line_of = re.search(r"data-line-of='([^']*)'", html).group(1)
    assert line_of == f'{{"{line.id}": {line.id}, "{merged.id}": {line.id}}}'
    assert "data-supported='[]'" in html


def test_a_phone_page_keeps_what_its_delegate_supports(app):
    workshop, _staff, [(client, _phone)] = room(app)
    line = create_proposal(workshop)
    create_proposal(workshop)
    assert page_keeps(client)["supported_proposals"] == []
    delegate = phone_delegate(0)
    proposals.set_support(delegate, workshop, line.id, True)
    db.session.commit()
    assert page_keeps(client)["supported_proposals"] == [line.id]


def page_keeps(client) -> dict:
    """What a phone's page keeps of its delegate (#live's data-keeps)."""
    page = client.get("/d").get_data(as_text=True)
    return json.loads(html.unescape(re.search(r"data-keeps='([^']*)'", page).group(1)))


def test_each_language_gets_its_own_part_drawn_once(app):
    workshop, staff, phones = room(app, languages=("en", "en", "fr"))
    store = kept("pushed-steps")
    before = store.made
    go(staff, workshop, workshop.steps[1].id)
    parts = [states(sock)[0]["phone"] for _client, sock in phones]
    assert drawing(parts[0]) == drawing(parts[1])  # the same bytes for every phone of a language
    assert "Put forward a line of work" in inflate(parts[0])
    assert "Proposer un axe de travail" in inflate(parts[2])
    assert store.made - before == 4  # one drawing per language
    # The same step goes on (a timer started): the phones have its part; the state comes
    # alone, small, and nothing is drawn again.
    assert staff.emit("timer.start", {"workshop_id": workshop.id, "seconds": 60},
                      callback=True)["ok"]
    for _client, sock in phones:
        [state] = states(sock)
        assert state["timer"]["status"] == "running"
        assert "phone" not in state
    assert store.made - before == 4
    # Back to this step after a new line of work: a new version of the list, drawn again.
    create_proposal(workshop, title="A later line")
    go(staff, workshop, workshop.steps[0].id)
    go(staff, workshop, workshop.steps[1].id, phones[0][1])
    [state] = states(phones[0][1])
    assert "A later line" in inflate(state["phone"])
    assert store.made - before == 8
    # The same key and list again: kept.
    go(staff, workshop, workshop.steps[0].id)
    go(staff, workshop, workshop.steps[1].id, phones[0][1])
    assert drawing(states(phones[0][1])[0]["phone"]) == drawing(state["phone"])
    assert store.made - before == 8


def test_a_renamed_step_sends_its_part_again_also_from_outside_a_request(app):
    workshop, staff, [(_client, phone)] = room(app)
    go(staff, workshop, workshop.steps[1].id, phone)
    first = states(phone)[0]["phone"]
    step = workshop.steps[1]
    # A service called outside any request (as a command would): the part is drawn all the
    # same, under the public address.
    agenda.update_step(create_user("organiser"), workshop, step.id,
                       StepIn(kind=step.kind, title="Put your lines forward", body=step.body))
    [state] = states(phone)
    assert state["phone"]["key"] == state["step"]["key"] != first["key"]
    assert "Put your lines forward" in inflate(state["phone"])


def test_the_console_gets_the_state_once(app):
    workshop, staff, _phones = room(app, languages=("en", "fr"))
    go(staff, workshop, workshop.steps[1].id)
    assert len(states(staff)) == 1


@pytest.mark.parametrize("kind", ["welcome", "vote"])
def test_a_step_with_something_personal_is_fetched(app, kind):
    workshop, staff, [(_client, phone)] = room(app)
    target = workshop.steps[0].id  # the welcome step: it greets its delegate by name
    if kind == "vote":  # results that move with every vote, beside each delegate's paper
        for _ in range(2):
            create_proposal(workshop)
        go_to_kind(workshop, "vote")
        ballot = voting.open_ballot(workshop.facilitators[0], workshop, BallotOpen(
            workshop_id=workshop.id, title="B", method="approval"))
        voting.show_results(workshop.facilitators[0], workshop, ballot, True)
        db.session.commit()
        target = workshop.current_step_id
    go(staff, workshop, workshop.steps[1].id)  # away, to a propose step
    go(staff, workshop, target, phone)
    [state] = states(phone)
    assert state["step"]["kind"] == kind
    assert "phone" not in state


def test_a_part_that_cannot_be_drawn_leaves_the_state_to_go_out(app, monkeypatch):
    workshop, staff, [(_client, phone)] = room(app)

    def broken(*args, **kwargs):
        raise RuntimeError("no drawing today")

    monkeypatch.setattr(pushed, "phone_part", broken)
    go(staff, workshop, workshop.steps[1].id)
    [state] = states(phone)
    assert state["step"]["id"] == workshop.steps[1].id
    assert "phone" not in state
