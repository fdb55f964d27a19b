"""The server is killed outright and started again while phones hold work they could not send.

A vote sent while the server is down stays on the phone with its secret, a comment written then
stays in the phone's outbox; once the server is back the phones reconnect by themselves, send
each once, and the vote's receipt comes back. The server here is the test's own (its own
SQLite file and port), so killing it disturbs no other test.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from tests.browser.people import Room, online
from tests.conftest import LiveServer
from tests.helpers import (
    create_lines,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
    open_test_ballot,
)
from workshop.agenda import delegates as delegate_services
from workshop.agenda.schemas import InviteIn
from workshop.extensions import db
from workshop.proposals.models import Comment
from workshop.voting.models import Vote

pytestmark = pytest.mark.browser


def stored(model, **where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def test_a_vote_and_a_comment_kept_while_the_server_is_down_are_sent_once_after_it_restarts(
        browser: Browser, own_server: LiveServer, tmp_path: Path):
    room = Room(browser, own_server)
    organiser, facilitator = create_user("organiser"), create_user("facilitator")
    organisation = create_organisation(region="west_africa", country="Togo")

    def invited(workshop, name: str) -> str:
        return delegate_services.invite_delegate(organiser, workshop, InviteIn(
            name=name, organisation_id=organisation.id))[1]

    voting = create_workshop(organiser, steps=5, facilitator=facilitator)
    lines = create_lines(voting, 3)
    closed_line = create_proposal(voting, title="Pensions for domestic workers")
    go_to_kind(voting, "vote")
    ballot = open_test_ballot(voting, "ranking", actor=facilitator, secret=True)
    talking = create_workshop(organiser, steps=5, facilitator=facilitator)
    line = create_proposal(talking, title="Maternity cover for market traders")
    go_to_kind(talking, "discuss")

    voter, writer, late = room.phone(), room.phone(), room.phone()
    voter.goto(f"/i/{invited(voting, 'Afi')}")
    writer.goto(f"/i/{invited(talking, 'Kossi')}")
    writer.goto(f"/w/{talking.id}/proposals/{line.id}")
    late.goto(f"/i/{invited(voting, 'Edem')}")
    late.goto(f"/w/{voting.id}/proposals/{closed_line.id}")  # discussion over: a vote step
    for phone in (voter, writer, late):
        online(phone)
        # Upgraded to a WebSocket first: a server that dies during the upgrade probe leaves
        # the client waiting for its ping timeout (45 s) before it notices.
        phone.wait_for_function(
            "() => window.Live.current.socket.io.engine.transport.name === 'websocket'")

    own_server.kill()
    for phone in (voter, writer, late):
        expect(phone.locator("#connection")).not_to_have_attribute("data-state", "online",
                                                                   timeout=10_000)
    voter.locator(f"form.paper .option[data-option='{lines[2].id}'] .pick").tap()
    voter.locator("form.paper .cast").click()
    expect(voter.locator("form.paper [data-form-error]")).to_contain_text(
        "kept on this phone", timeout=20_000)
    text = "Market women in Lomé pay for maternity care out of pocket."
    for phone in (writer, late):
        phone.locator("#c-body").fill(text)
        phone.locator("#comment-form").get_by_role("button", name="Send").click()
        expect(phone.locator("#comment-form [data-form-error]")).to_contain_text(
            "kept on this phone")

    own_server.restart(tmp_path / "server-again.log")
    # Nobody reloads: the phones come back by themselves and send what they kept, once.
    receipt = voter.locator("form.paper .receipt")
    expect(receipt).to_be_visible(timeout=30_000)
    expect(receipt.locator(".receipt-code")).not_to_be_empty()
    expect(writer.locator("#comments")).to_contain_text(text, timeout=30_000)
    expect(writer.locator("#c-body")).to_have_value("")
    # A comment the server refuses once it is back says why, and keeps what was written.
    expect(late.locator("#comment-form [data-form-error]")).to_contain_text(
        "during the propose and discuss steps", timeout=30_000)
    expect(late.locator("#c-body")).to_have_value(text)
    assert stored(Vote, ballot_id=ballot.id) == 1
    assert db.session.scalar(sa.select(Vote.choices)) == [lines[2].id]
    assert stored(Comment, proposal_id=line.id, body=text) == 1
    assert stored(Comment, proposal_id=closed_line.id) == 0
    room.close()
    assert room.errors == []
    assert room.dialogs == []


def test_a_vote_and_a_comment_sent_while_the_database_is_held_are_stored_once_it_is_free(
        browser: Browser, own_server: LiveServer):
    """The server is up but cannot write (another writer holds the database past the server's
    wait): the phones say so in plain words, keep the vote and the comment, and send them
    again by themselves; once the database is free each is stored once."""
    room = Room(browser, own_server)
    organiser, facilitator = create_user("organiser"), create_user("facilitator")
    organisation = create_organisation(region="asia", country="Cambodia")
    voting = create_workshop(organiser, steps=5, facilitator=facilitator)
    lines = create_lines(voting, 3)
    go_to_kind(voting, "vote")
    ballot = open_test_ballot(voting, "ranking", actor=facilitator, secret=True)
    talking = create_workshop(organiser, steps=5, facilitator=facilitator)
    topic = create_proposal(talking, title="Union dues by mobile money")
    go_to_kind(talking, "discuss")
    voter, writer = room.phone(), room.phone()
    for phone, workshop, name in ((voter, voting, "Sokha"), (writer, talking, "Dara")):
        _delegate, token = delegate_services.invite_delegate(organiser, workshop, InviteIn(
            name=name, organisation_id=organisation.id))
        phone.goto(f"/i/{token}")
    writer.goto(f"/w/{talking.id}/proposals/{topic.id}")
    for phone in (voter, writer):
        online(phone)

    held = sqlite3.connect(own_server.env["DATABASE_URL"][len("sqlite:///"):],
                           isolation_level=None)
    held.execute("BEGIN IMMEDIATE")
    try:
        voter.locator(f"form.paper .option[data-option='{lines[0].id}'] .pick").tap()
        voter.locator("form.paper .cast").click()
        text = "Mobile money lets workers in the provinces pay their dues."
        writer.locator("#c-body").fill(text)
        writer.locator("#comment-form").get_by_role("button", name="Send").click()
        # The server answers "unavailable" once its wait for the database is over; a phone
        # whose answer is slower than its own patience (the server waits for SQLite's lock
        # with the whole process) says it kept the action. Either way it is kept.
        kept = re.compile(r"cannot reach its database|kept on this phone")
        for phone, box in ((voter, "form.paper [data-form-error]"),
                           (writer, "#comment-form [data-form-error]")):
            expect(phone.locator(box)).to_contain_text(kept, timeout=20_000)
        assert stored(Vote, ballot_id=ballot.id) == 0
    finally:
        held.execute("ROLLBACK")
        held.close()
    # Nobody taps again: the phones send what they kept once the server can store it.
    expect(voter.locator("form.paper .receipt")).to_be_visible(timeout=30_000)
    expect(writer.locator("#comments")).to_contain_text(text, timeout=30_000)
    expect(writer.locator("#c-body")).to_have_value("")
    assert stored(Vote, ballot_id=ballot.id) == 1
    assert stored(Comment, proposal_id=topic.id, body=text) == 1
    room.close()
    assert room.errors == []
    assert room.dialogs == []
