"""A ballot paper drawn once for every phone: on Go to a vote step, and when a ballot opens on
the step a phone shows, the paper comes with the event and the phone makes it its delegate's
(their id, their own order of the lines, the same as the server's), with no request for the
step part. A phone it does not fit fetches its own: after its delegate voted, or once they
carry a proxy (the server tells the phone, which redraws an open ballot at once).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import (
    LIVE,
    Room,
    Setup,
    assert_not_reloaded,
    go,
    mark,
    online,
    step_requests,
)
from tests.browser.test_proposals_browser import invitation, invited_phone, open_invitation
from tests.helpers import create_lines, create_workshop, go_to_kind
from tests.voting.test_shared_paper import ORDER_KEYS
from workshop.extensions import db
from workshop.voting import services as voting
from workshop.voting.models import Ballot, Vote

pytestmark = pytest.mark.browser


def vote_room(cast: Setup, start: str = "welcome"):
    """A workshop with five lines of work and a vote step; everyone starts on `start`."""
    workshop = create_workshop(cast.organiser, steps=3, facilitator=cast.facilitator)
    create_lines(workshop, 5)
    go_to_kind(workshop, "vote")
    vote_step = workshop.current_step_id
    go_to_kind(workshop, start)
    return workshop, vote_step, workshop.current_step_id


def open_ranking(room: Room, cast: Setup, workshop, minutes: str = "",
                 method: str = "ranking") -> Ballot:
    desk = room.staff(cast.facilitator, f"/w/{workshop.id}/ballots")
    desk.locator("#title").fill("Rank the lines of work")
    desk.locator("#method").select_option(method)
    if method == "points":
        desk.locator("#budget").fill("10")
        desk.locator("#max_per_option").fill("5")
    desk.locator("#closes_in_minutes").fill(minutes)
    desk.get_by_role("button", name="Open the ballot").click()
    expect(desk.locator(".ballot-card.open")).to_have_count(1)
    db.session.rollback()
    return db.session.scalars(db.select(Ballot).where(Ballot.workshop_id == workshop.id)).one()


def shown_order(page: Page) -> list[int]:
    """The options of the phone's paper, top to bottom, whatever the method."""
    return [int(o) for o in page.locator("form.paper [data-option]").evaluate_all(
        "items => items.map(el => el.dataset.option)")]


def test_a_paper_drawn_for_everyone_becomes_each_phones_own(room: Room, cast: Setup):
    workshop, vote_step, propose = vote_room(cast, "propose")  # drawn for everyone too
    phones = [invited_phone(room, workshop, cast.organisation, name) for name in ("Aline", "Bruno")]
    asked = {delegate.id: step_requests(page) for page, delegate in phones}
    for page, _delegate in phones:
        mark(page)
    console = room.console(workshop, cast.facilitator)
    go(console, vote_step)
    for page, _delegate in phones:
        expect(page.locator("#step .no-ballot")).to_be_visible(timeout=LIVE)

    ballot = open_ranking(room, cast, workshop, minutes="10")
    for page, delegate in phones:
        expect(page.locator(".ballot-title")).to_have_text("Rank the lines of work", timeout=LIVE)
        paper = page.locator("form.paper")
        expect(paper).to_have_attribute("data-delegate-id", str(delegate.id))
        # Their own order, as the server orders a paper it draws for them alone.
        assert shown_order(page) == voting.shuffled_options(ballot, delegate.id)
        expect(page.locator(".countdown")).to_have_text(re.compile(r"^(9:\d\d|10:00)$"))
        assert_not_reloaded(page)
    assert shown_order(phones[0][0]) != shown_order(phones[1][0])
    assert asked == {delegate.id: [] for _page, delegate in phones}

    # Aline votes from the paper that came with the event.
    aline, aline_delegate = phones[0]
    first, second = voting.shuffled_options(ballot, aline_delegate.id)[:2]
    for option in (second, first):
        aline.locator(f"form.paper .option[data-option='{option}'] .pick").tap()
    aline.locator("form.paper .cast").click()
    expect(aline.locator("form.paper .receipt")).to_be_visible(timeout=LIVE)
    db.session.rollback()
    assert list(db.session.scalars(db.select(Vote.choices).where(
        Vote.ballot_id == ballot.id))) == [[second, first]]

    # Bruno starts ranking and leaves it unsent: a draft kept on his phone, under his id.
    bruno, bruno_delegate = phones[1]
    bruno_first = voting.shuffled_options(ballot, bruno_delegate.id)[0]
    bruno.locator(f"form.paper .option[data-option='{bruno_first}'] .pick").tap()
    expect(bruno.locator("form.paper .ranked .rank-item")).to_have_count(1)

    # Back on the step later: Aline's paper is her vote (fetched), Bruno's the blank one made
    # his again, with his draft.
    go(console, propose)
    go(console, vote_step)
    expect(aline.locator("form.paper .cast")).to_have_text("Change my vote", timeout=LIVE)
    expect(aline.locator("form.paper .ranked .rank-item")).to_have_count(2)
    expect(bruno.locator("form.paper .cast")).to_have_text("Send my vote", timeout=LIVE)
    expect(bruno.locator("form.paper .ranked .rank-item")).to_have_attribute(
        "data-option", str(bruno_first))
    assert len(asked[aline_delegate.id]) == 1
    assert asked[bruno_delegate.id] == []


def test_a_phone_given_a_proxy_shows_the_paper_it_carries(room: Room, cast: Setup):
    workshop, vote_step, welcome = vote_room(cast)
    holder, holder_delegate = invited_phone(room, workshop, cast.organisation, "Chantal")
    _absent, absent_delegate = invited_phone(room, workshop, cast.organisation, "Didier")
    asked = step_requests(holder)
    console = room.console(workshop, cast.facilitator)
    go(console, vote_step)
    open_ranking(room, cast, workshop)
    expect(holder.locator("form.paper")).to_have_count(1, timeout=LIVE)
    assert asked == []

    desk = room.staff(cast.organiser, f"/w/{workshop.id}/proxies")
    desk.locator("#holder_id").select_option(str(holder_delegate.id))
    desk.locator("#absent_id").select_option(str(absent_delegate.id))
    desk.get_by_role("button", name="Give the proxy").click()
    # The holder's phone is told, and draws its papers again: its own and the one it carries.
    expect(holder.locator("form.paper")).to_have_count(2, timeout=LIVE)
    expect(holder.locator(".proxy-title")).to_contain_text("Didier")
    assert len(asked) == 1

    # Reloaded, the page knows it carries a proxy: Go to the step fetches its papers.
    holder.reload()
    online(holder)
    go(console, welcome)  # a welcome step is fetched by every phone (it greets by name)
    expect(holder.locator("#step .step[data-kind='welcome']")).to_be_visible(timeout=LIVE)
    go(console, vote_step)
    expect(holder.locator("form.paper")).to_have_count(2, timeout=LIVE)
    assert len(asked) == 3


def test_a_vote_from_another_phone_redraws_this_ones(room: Room, cast: Setup):
    workshop, vote_step, _propose = vote_room(cast, "propose")
    _delegate, token = invitation(workshop, cast.organisation, "Estelle")
    first, second = open_invitation(room, token), open_invitation(room, token)
    console = room.console(workshop, cast.facilitator)
    go(console, vote_step)
    ballot = open_ranking(room, cast, workshop)
    for page in (first, second):
        expect(page.locator("form.paper")).to_have_count(1, timeout=LIVE)
    option = ballot.option_ids[0]
    first.locator(f"form.paper .option[data-option='{option}'] .pick").tap()
    first.locator("form.paper .cast").click()
    expect(first.locator("form.paper")).to_have_attribute("data-received", "1", timeout=LIVE)
    # The other phone is told and draws the delegate's paper again: the vote is there.
    expect(second.locator("form.paper .cast")).to_have_text("Change my vote", timeout=LIVE)
    expect(second.locator("form.paper .ranked .rank-item")).to_have_count(1)
    # The phone that sent it keeps its paper as it is (not drawn again under the receipt).
    expect(first.locator("form.paper")).to_have_attribute("data-received", "1")


@pytest.mark.parametrize("method", ["approval", "points", "matrix"])
def test_every_method_is_put_in_the_delegates_order(room: Room, cast: Setup, method: str):
    workshop, vote_step, _propose = vote_room(cast, "propose")
    phone, delegate = invited_phone(room, workshop, cast.organisation, "Félix")
    asked = step_requests(phone)
    console = room.console(workshop, cast.facilitator)
    go(console, vote_step)
    expect(phone.locator("#step .no-ballot")).to_be_visible(timeout=LIVE)
    ballot = open_ranking(room, cast, workshop, method=method)
    expect(phone.locator(f"form.paper[data-method='{method}']")).to_be_visible(timeout=LIVE)
    assert shown_order(phone) == voting.shuffled_options(ballot, delegate.id)
    assert asked == []
    # The page's order function gives the server's figures (tests/voting/test_shared_paper.py).
    for args, key in ORDER_KEYS:
        assert phone.evaluate("args => Live.orderKey(...args)", list(args)) == key


def test_a_phone_off_the_register_fetches_and_is_let_in_when_admitted(room: Room, cast: Setup):
    workshop, vote_step, _propose = vote_room(cast, "propose")
    workshop.voting_register = True
    db.session.commit()
    phone = room.joined_phone(workshop, cast.organisation, "Gaston")  # by the code: waiting
    asked = step_requests(phone)
    console = room.console(workshop, cast.facilitator)
    go(console, vote_step)
    open_ranking(room, cast, workshop)
    # The paper drawn for everyone is not for a delegate off the register: the phone fetches.
    expect(phone.locator(".not-registered")).to_be_visible(timeout=LIVE)
    expect(phone.locator("form.paper")).to_have_count(0)
    assert len(asked) == 1
    # Checked in on the console: the phone is told and shows its paper at once.
    console.reload()
    console.locator("#waiting li").filter(has_text="Gaston").get_by_role(
        "button", name="Admit").click()
    expect(phone.locator("form.paper")).to_have_count(1, timeout=LIVE)
    expect(phone.locator(".not-registered")).to_have_count(0)
