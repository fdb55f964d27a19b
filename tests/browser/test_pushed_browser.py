"""A step drawn for every phone arrives with the state: a phone shows it without asking.

On Go to a propose or discuss step, the phone gets the step's part with the `state` event
(gzip-compressed, inflated by the page), marks the lines its delegate supports from what the
page was given when it loaded, and puts its own CSRF token and request keys in the form: a
proposal sent from that form is stored. No request for the step part (GET /d/step) is made.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.people import (
    LIVE,
    Room,
    Setup,
    assert_not_reloaded,
    go,
    mark,
    send_proposal,
    step_requests,
    step_title,
)
from tests.browser.test_proposals_browser import (
    card,
    fresh,
    invitation,
    invited_phone,
    new_workshop,
    open_invitation,
    organisation,
)
from tests.helpers import create_proposal, go_to_kind
from workshop.extensions import db
from workshop.proposals import services as proposal_services
from workshop.proposals.models import Proposal

pytestmark = pytest.mark.browser


def pressed(page: Page, proposal_id: int, value: str) -> None:
    expect(card(page, proposal_id).locator("button.support")).to_have_attribute(
        "aria-pressed", value, timeout=LIVE)


def test_a_phone_shows_a_list_that_came_with_the_state_marked_and_usable(room: Room,
                                                                         cast: Setup):
    workshop = new_workshop(cast, "propose")
    supported = create_proposal(workshop, title="Health mutuals for street vendors")
    other = create_proposal(workshop, title="A minimum wage for domestic workers")
    delegate, token = invitation(workshop, cast.organisation, "Aline", None)
    # Supported before the page loaded: the page is never shown a list that says so.
    proposal_services.set_support(delegate, workshop, supported.id, True)
    go_to_kind(workshop, "welcome")
    db.session.commit()
    phone = open_invitation(room, token)
    requests = step_requests(phone)
    mark(phone)
    console = room.console(workshop, cast.facilitator)
    steps = {step.kind: step.id for step in workshop.steps}

    go(console, steps["discuss"])
    expect(step_title(phone)).to_have_text("Step 3", timeout=LIVE)
    pressed(phone, supported.id, "true")
    pressed(phone, other.id, "false")

    # Withdrawn here: a list that comes later shows it withdrawn too.
    card(phone, supported.id).locator("button.support").click()
    pressed(phone, supported.id, "false")
    go(console, steps["welcome"])
    expect(phone.locator("#step .step[data-kind='welcome']")).to_be_visible(timeout=LIVE)
    go(console, steps["propose"])
    expect(step_title(phone)).to_have_text("Step 2", timeout=LIVE)
    pressed(phone, supported.id, "false")

    # The form that came with the state sends a proposal with this page's token and key.
    form = send_proposal(phone, "Cooperatives for waste pickers")
    expect(form.locator("[data-sent]")).to_be_visible(timeout=LIVE)
    expect(phone.locator("#cards > .card").filter(has_text="Cooperatives for waste pickers")
           ).to_have_count(1, timeout=LIVE)
    assert_not_reloaded(phone)
    # Only the welcome step (drawn for each delegate) was fetched.
    assert len(requests) == 1, requests
    fresh()
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(
        Proposal.workshop_id == workshop.id, Proposal.delegate_id == delegate.id)) == 1


def test_a_phone_that_cannot_inflate_fetches_its_step(room: Room, cast: Setup):
    workshop = new_workshop(cast, "welcome")
    create_proposal(workshop, title="Decent work in the care economy")
    go_to_kind(workshop, "welcome")
    phone, _ = invited_phone(room, workshop, organisation("UNTM Mali", "west_africa", "Mali"),
                             "Moussa")
    phone.evaluate("window.DecompressionStream = undefined")
    requests = step_requests(phone)
    console = room.console(workshop, cast.facilitator)
    go(console, next(step.id for step in workshop.steps if step.kind == "discuss"))
    expect(phone.locator("#cards > .card").filter(has_text="Decent work in the care economy")
           ).to_have_count(1, timeout=LIVE)
    assert len(requests) == 1
