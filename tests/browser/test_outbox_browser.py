"""Never lose a word, never say it twice: the phone's outbox across a cut network.

A proposal whose answer was lost in a cut is sent again after the reconnection and stored once;
a proposal or a comment written offline, or a vote sent just before the link went, stays on the
phone, says so, and is sent once when the link is back: the link stays away for OUTAGE_SECONDS
(30 by default, as a room's Wi-Fi drop does; long enough for the server to drop the socket).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from tests.browser.people import LIVE, RECONNECT, Room, Setup, online, send_proposal
from tests.browser.test_proposals_browser import invitation, new_workshop, organisation
from tests.conftest import PHONE
from tests.helpers import create_proposal
from workshop.extensions import db
from workshop.proposals.models import Comment, Proposal

pytestmark = pytest.mark.browser

SOCKET = re.compile(r"/socket\.io/")
OUTAGE_MS = int(float(os.environ.get("OUTAGE_SECONDS", "30")) * 1000)


def stay_offline(page: Page) -> None:
    """The outage itself: the test's condition is its length, so it is waited out."""
    page.wait_for_timeout(OUTAGE_MS)


@dataclass
class Cable:
    """The phone's line to the server, which the test can cut after a given message.

    Every websocket goes through the test: frames are passed on both ways until the phone
    sends a frame containing `cut_after`; that frame still reaches the server, then nothing
    more passes either way and HTTP long-polling is refused, as when a phone leaves the Wi-Fi
    just after a tap. `mend()` closes the dead socket so the phone reconnects through a sound
    line.
    """

    cut_after: str
    cut: bool = False
    mended: bool = False
    sockets: list[WebSocketRoute] = field(default_factory=list)

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.sockets.append(ws)

        def from_phone(message: str | bytes) -> None:
            if self.cut:
                return
            if not self.mended and isinstance(message, str) and self.cut_after in message:
                self.cut = True  # before sending: the answer may come back during send()
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if not self.cut:
                ws.send(message)

        ws.on_message(from_phone)
        server.on_message(from_server)

    def refuse_polling(self, route: Route) -> None:
        if self.cut:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def mend(self) -> None:
        """The network is back, for good: the same message passes the next time."""
        self.cut = False
        self.mended = True
        for ws in self.sockets:
            ws.close(code=1001, reason="back online")
        self.sockets.clear()


def phone_on_a_cable(room: Room, token: str, cable: Cable) -> Page:
    ctx = room.context(PHONE)
    ctx.route_web_socket(SOCKET, cable.route)
    ctx.route(SOCKET, cable.refuse_polling)
    page = room.phone(ctx)
    page.goto(f"/i/{token}")
    expect(page).to_have_url(re.compile(r"/d$"))
    online(page)
    # Socket.IO starts on long-polling and upgrades: the cut must hit the websocket.
    page.wait_for_function(
        "() => window.Live.current.socket.io.engine.transport.name === 'websocket'")
    return page


def stored(model, **where) -> int:
    db.session.rollback()  # see the live server's latest commits
    stmt = sa.select(sa.func.count(model.id))
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def test_a_proposal_whose_answer_was_lost_is_stored_once(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    _, token = invitation(workshop, cast.organisation, "Aline")
    cable = Cable(cut_after="proposal.create")
    aline = phone_on_a_cable(room, token, cable)
    _, other = invitation(workshop, organisation("GEFONT Nepal", "asia", "Nepal"), "Bishnu")
    bishnu = room.phone()
    bishnu.goto(f"/i/{other}")
    online(bishnu)
    title = "Health mutuals for street vendors"

    form = send_proposal(aline, title, "health_protection")

    # The server stored it and told the room; Aline's phone heard nothing back.
    expect(bishnu.locator("#cards > .card").filter(has_text=title)).to_have_count(1,
                                                                                   timeout=LIVE)
    assert cable.cut
    expect(form.locator("[data-sent]")).to_be_hidden()
    expect(form.locator("#p-title")).to_have_value(title)

    cable.mend()

    expect(form.locator("[data-sent]")).to_be_visible(timeout=10_000)
    expect(form.locator("#p-title")).to_have_value("")
    assert stored(Proposal, workshop_id=workshop.id, title=title) == 1
    expect(bishnu.locator("#cards > .card").filter(has_text=title)).to_have_count(1)
    assert aline.evaluate("localStorage.getItem('workshop.outbox')") == "[]"


def test_a_proposal_written_while_the_link_goes_is_sent_once_when_it_is_back(room: Room,
                                                                              cast: Setup):
    workshop = new_workshop(cast, "propose")
    _, token = invitation(workshop, cast.organisation, "Dalia")
    ctx = room.context(PHONE)
    phone = room.phone(ctx)
    phone.goto(f"/i/{token}")
    online(phone)
    title = "Mutual health cover for seasonal farm workers"
    form = phone.locator("#propose-form")
    form.locator("#p-title").fill(title)
    ctx.set_offline(True)  # mid-proposal: the room's Wi-Fi drops while she writes
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline",
                                                           timeout=LIVE)
    form.locator("#p-theme").select_option("health_protection")
    form.locator("#p-level").select_option("national")
    form.get_by_role("button", name="Send").click()
    expect(form.locator("[data-form-error]")).to_contain_text("kept on this phone")
    expect(form.locator("#p-title")).to_have_value(title)
    stay_offline(phone)
    assert stored(Proposal, workshop_id=workshop.id, title=title) == 0

    ctx.set_offline(False)
    expect(form.locator("[data-sent]")).to_be_visible(timeout=15_000)
    expect(form.locator("#p-title")).to_have_value("")
    assert stored(Proposal, workshop_id=workshop.id, title=title) == 1
    ctx.set_offline(True)  # a second drop sends nothing again
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline",
                                                           timeout=LIVE)
    ctx.set_offline(False)
    online(phone, timeout=RECONNECT)
    assert stored(Proposal, workshop_id=workshop.id, title=title) == 1
    assert phone.evaluate("localStorage.getItem('workshop.outbox')") == "[]"


def test_a_comment_written_offline_waits_on_the_phone_and_is_sent_once(room: Room,
                                                                         cast: Setup):
    workshop = new_workshop(cast, "discuss")
    line = create_proposal(workshop, title="Just transition for dock workers")
    _, token = invitation(workshop, cast.organisation, "Chidi")
    ctx = room.context(PHONE)
    phone = room.phone(ctx)
    phone.goto(f"/i/{token}")
    online(phone)
    phone.goto(f"/w/{workshop.id}/proposals/{line.id}")
    online(phone)
    text = "Dockers in Lomé and Cotonou asked for this twice already."

    ctx.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline",
                                                           timeout=LIVE)
    phone.locator("#c-body").fill(text)
    form = phone.locator("#comment-form")
    form.get_by_role("button", name="Send").click()

    expect(form.locator("[data-form-error]")).to_contain_text("kept on this phone")
    expect(phone.locator("#c-body")).to_have_value(text)  # nothing typed is lost
    assert stored(Comment, proposal_id=line.id) == 0
    stay_offline(phone)
    assert stored(Comment, proposal_id=line.id) == 0

    ctx.set_offline(False)
    online(phone, timeout=RECONNECT)
    expect(phone.locator("#comments")).to_contain_text(text, timeout=LIVE)
    expect(phone.locator("#c-body")).to_have_value("")
    assert stored(Comment, proposal_id=line.id, body=text) == 1
    # Reconnecting again sends nothing more.
    ctx.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline",
                                                           timeout=LIVE)
    ctx.set_offline(False)
    online(phone, timeout=RECONNECT)
    assert stored(Comment, proposal_id=line.id, body=text) == 1


def test_a_secret_vote_whose_answer_was_lost_gets_its_receipt_after_a_reload(room: Room,
                                                                              cast: Setup):
    from tests.helpers import create_lines, create_workshop, open_test_ballot
    from workshop.agenda import services as agenda
    from workshop.voting.models import Vote

    workshop = create_workshop(cast.organiser, steps=5, facilitator=cast.facilitator)
    lines = create_lines(workshop, 3)
    agenda.goto_step(cast.facilitator, workshop,
                     next(s.id for s in workshop.steps if s.kind == "vote"))
    ballot = open_test_ballot(workshop, "ranking", actor=cast.facilitator, secret=True)
    _, token = invitation(workshop, cast.organisation, "Fabrice")
    cable = Cable(cut_after="ballot.cast")
    phone = phone_on_a_cable(room, token, cable)

    phone.locator(f"form.paper .option[data-option='{lines[1].id}'] .pick").tap()
    phone.locator("form.paper .cast").click()
    # Stored on the server; the answer never reached the phone.
    deadline = 100
    while stored(Vote, ballot_id=ballot.id) == 0 and deadline:
        phone.wait_for_timeout(100)
        deadline -= 1
    assert stored(Vote, ballot_id=ballot.id) == 1
    assert cable.cut
    expect(phone.locator("form.paper .receipt")).to_be_hidden()
    kept = phone.evaluate("JSON.stringify(localStorage)")
    assert "receipt" not in kept, kept
    # The network stays away: nor can the phone send the vote again over HTTP.
    phone.context.set_offline(True)
    error = phone.locator("form.paper [data-form-error]")
    expect(error).to_contain_text("kept on this phone", timeout=20_000)
    stay_offline(phone)

    phone.context.set_offline(False)
    cable.mend()
    phone.reload()
    online(phone)

    receipt = phone.locator("form.paper .receipt")
    expect(receipt).to_be_visible(timeout=LIVE)
    expect(phone.locator("form.paper .receipt-code")).to_have_text(
        re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$"))
    expect(phone.locator("form.paper [data-form-error]")).to_be_hidden()
    assert stored(Vote, ballot_id=ballot.id) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(Vote.choices).where(Vote.ballot_id == ballot.id)) == \
        [lines[1].id]


@dataclass
class LostAnswer:
    """A sound line that loses one frame: the server's answer to the first message the phone
    sends containing `lose_answer_to`. The socket stays connected, so nothing reconnects."""

    lose_answer_to: str
    sent: bool = False
    lost: int = 0

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_phone(message: str | bytes) -> None:
            if isinstance(message, str) and self.lose_answer_to in message:
                self.sent = True
            server.send(message)

        def from_server(message: str | bytes) -> None:
            # "43…": an Engine.IO message carrying a Socket.IO acknowledgement.
            if (self.sent and not self.lost and isinstance(message, str)
                    and message.startswith("43")):
                self.lost += 1
                return
            ws.send(message)

        ws.on_message(from_phone)
        server.on_message(from_server)


def test_a_comment_whose_answer_alone_was_lost_is_sent_again_without_a_reconnection(
        room: Room, cast: Setup):
    """The answer never came but the socket stayed up: the phone does not wait for a
    reconnection that may never come; it sends the comment again after its wait for the
    answer, and the server keeps it once."""
    workshop = new_workshop(cast, "discuss")
    line = create_proposal(workshop, title="Paid leave for seasonal farm workers")
    _, token = invitation(workshop, cast.organisation, "Kwame")
    text = "Cocoa pickers in Ashanti lose their jobs when they fall ill."
    line_of = LostAnswer(lose_answer_to=text)
    ctx = room.context(PHONE)
    ctx.route_web_socket(SOCKET, line_of.route)
    phone = room.phone(ctx)
    phone.goto(f"/i/{token}")
    online(phone)
    phone.goto(f"/w/{workshop.id}/proposals/{line.id}")
    online(phone)
    phone.wait_for_function(
        "() => window.Live.current.socket.io.engine.transport.name === 'websocket'")
    reconnections = phone.evaluate("window.__connects = 0; window.Live.current.socket.on("
                                   "'connect', () => window.__connects++); 0")

    phone.locator("#c-body").fill(text)
    phone.locator("#comment-form").get_by_role("button", name="Send").click()
    expect(phone.locator("#comment-form [data-form-error]")).to_contain_text(
        "kept on this phone", timeout=20_000)  # the phone's wait for the answer is 15 s
    assert line_of.lost == 1
    expect(phone.locator("#c-body")).to_have_value("", timeout=15_000)  # answered, once sent again
    assert stored(Comment, proposal_id=line.id, body=text) == 1
    assert phone.evaluate("window.__connects") == reconnections  # no reconnection needed
