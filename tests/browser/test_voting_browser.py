"""Voting in real browsers: phones (360 px, touch) cast every method, change a vote, check a
secret ballot's receipt; the projector shows turnout, then results.

Playwright drives Debian's Chromium against the real gevent server. Nothing sleeps: every
wait is Playwright's auto-waiting `expect`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.people import go
from tests.conftest import DESKTOP, PHONE, LiveServer
from tests.helpers import (
    PASSWORD,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from workshop.agenda import services as agenda
from workshop.agenda.models import Delegate
from workshop.extensions import db
from workshop.voting.models import Ballot, Vote

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms for anything pushed over the socket
SHOTS = os.environ.get("SHOTS_DIR")  # set it to keep screenshots of the screens


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot when SHOTS_DIR is set (to look at the layouts)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"voting-{name}.png"), full_page=True)


class People:
    """Browser contexts (own cookies each) for the people of one test; closed at the end."""

    def __init__(self, browser: Browser, live: LiveServer) -> None:
        self.browser = browser
        self.live = live
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def page(self, options: dict) -> Page:
        ctx = self.browser.new_context(**options, base_url=self.live.url)
        ctx.set_default_timeout(10_000)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        return page

    def phone(self, workshop, organisation, name: str) -> Page:
        """A phone that joined with the code and is live."""
        page = self.page(PHONE)
        page.goto(f"/j/{workshop.join_code}")
        page.locator("#name").fill(name)
        page.locator("#organisation_id").select_option(str(organisation.id))
        page.get_by_role("button", name="Join").click()
        expect(page).to_have_url(re.compile(r"/d$"))
        online(page)
        return page

    def staff(self, user, path: str) -> Page:
        page = self.page(DESKTOP)
        page.goto(f"/login?next={path}")
        page.locator("#email").fill(user.email)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        return page

    def projector(self, workshop) -> Page:
        page = self.page(DESKTOP)
        page.goto(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
        online(page)
        return page


@pytest.fixture
def people(browser: Browser, live: LiveServer) -> Iterator[People]:
    crowd = People(browser, live)
    yield crowd
    for ctx in crowd.contexts:
        ctx.close()
    assert crowd.errors == [], "uncaught script errors"


@pytest.fixture
def room(live):
    """A workshop on its vote step, four lines of work, a facilitator and an organisation."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=5, facilitator=facilitator)
    lines = create_lines(workshop, 4)
    vote_step = next(s for s in workshop.steps if s.kind == "vote")
    agenda.goto_step(facilitator, workshop, vote_step.id)
    organisation = create_organisation(region="central_africa", country="Burundi")
    return workshop, facilitator, lines, organisation


def online(page: Page) -> None:
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=LIVE)


def option(page: Page, line):
    """The option of a line of work on the phone's ballot paper."""
    return page.locator(f"form.paper .option[data-option='{line.id}']")


def send(page: Page) -> str:
    """Send the paper; wait for this send's "Vote received"; return the receipt code shown."""
    form = page.locator("form.paper").first
    before = int(form.get_attribute("data-received") or 0)
    form.locator(".cast").click()
    expect(form).to_have_attribute("data-received", str(before + 1), timeout=LIVE)
    receipt = page.locator("form.paper .receipt")
    expect(receipt).to_be_visible(timeout=LIVE)
    expect(receipt).to_contain_text("Vote received.")
    code = receipt.locator(".receipt-code").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code), code
    return code


def stored_choices(ballot) -> list:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Vote.choices).where(Vote.ballot_id == ballot.id)))


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


# --- One test per method ----------------------------------------------------------------------


def test_approval_the_phone_switches_to_the_ballot_and_limits_ticks(people, room):
    workshop, facilitator, lines, org = room
    phone = people.phone(workshop, org, "Aline")
    expect(phone.locator(".no-ballot")).to_be_visible()
    # The facilitator opens it with the ballots page's form; the phone switches by itself.
    desk = people.staff(facilitator, f"/w/{workshop.id}/ballots")
    desk.locator("#title").fill("Which lines do you support?")
    desk.locator("#method").select_option("approval")
    desk.locator("#max_approvals").fill("2")
    desk.get_by_role("button", name="Open the ballot").click()
    expect(desk.locator(".ballot-card.open")).to_have_count(1)
    expect(phone.locator(".ballot-title")).to_have_text("Which lines do you support?",
                                                        timeout=LIVE)
    db.session.rollback()
    ballot = db.session.scalar(sa.select(Ballot).where(Ballot.workshop_id == workshop.id))
    option(phone, lines[0]).tap()
    option(phone, lines[2]).tap()
    expect(phone.locator(".approval-count")).to_have_text("2 / 2")
    expect(option(phone, lines[1]).locator("input")).to_be_disabled()
    fits_the_screen(phone)
    send(phone)
    assert stored_choices(ballot) == [sorted([lines[0].id, lines[2].id])]


def test_points_steppers_keep_to_the_budget(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "points", actor=facilitator, budget=5, max_per_option=3)
    phone = people.phone(workshop, org, "Bienvenu")
    plus_a = option(phone, lines[0]).locator(".plus")
    for _ in range(4):
        if plus_a.is_enabled():
            plus_a.tap()
    expect(option(phone, lines[0]).locator("input")).to_have_value("3")  # at most 3 on one
    expect(plus_a).to_be_disabled()
    plus_b = option(phone, lines[1]).locator(".plus")
    plus_b.tap()
    plus_b.tap()
    expect(phone.locator(".points-left")).to_have_text("0")
    expect(plus_b).to_be_disabled()  # the budget is spent
    expect(option(phone, lines[2]).locator(".plus")).to_be_disabled()
    option(phone, lines[0]).locator(".minus").tap()
    expect(phone.locator(".points-left")).to_have_text("1")
    fits_the_screen(phone)
    shot(phone, "points")
    send(phone)
    assert stored_choices(ballot) == [[[lines[0].id, 2], [lines[1].id, 2]]]


def test_ranking_by_tapping_and_moving_up_and_down(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator)
    phone = people.phone(workshop, org, "Claudine")
    for line in (lines[2], lines[0], lines[3]):
        option(phone, line).locator(".pick").tap()
    ranked = phone.locator("form.paper .ranked .rank-item")
    expect(ranked).to_have_count(3)
    expect(ranked.nth(0)).to_have_attribute("data-option", str(lines[2].id))
    option(phone, lines[3]).locator(".up").tap()  # 3rd -> 2nd
    option(phone, lines[2]).locator(".down").tap()  # 1st -> 2nd
    option(phone, lines[0]).locator(".remove").tap()
    expect(ranked).to_have_count(2)
    expect(ranked.nth(0).locator(".place")).to_have_text("1.")
    fits_the_screen(phone)
    shot(phone, "ranking")
    send(phone)
    shot(phone, "ranking-received")
    assert stored_choices(ballot) == [[lines[3].id, lines[2].id]]


def test_matrix_rates_two_criteria(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "matrix", actor=facilitator, criterion_2="Cost")
    phone = people.phone(workshop, org, "Didier")
    row = option(phone, lines[1])
    expect(row).to_contain_text("Importance")
    expect(row).to_contain_text("Cost")
    row.locator(".scale").nth(0).get_by_text("5", exact=True).tap()
    row.locator(".scale").nth(1).get_by_text("2", exact=True).tap()
    half = option(phone, lines[3])
    half.locator(".scale").nth(0).get_by_text("4", exact=True).tap()
    phone.locator("form.paper .cast").click()
    expect(phone.locator("[data-error-for='choices']")).to_contain_text("from 1 to 5")
    half.locator(".scale").nth(1).get_by_text("3", exact=True).tap()
    fits_the_screen(phone)
    shot(phone, "matrix")
    send(phone)
    assert stored_choices(ballot) == [sorted([[lines[1].id, 5, 2], [lines[3].id, 4, 3]])]


# --- Changing a vote, secret ballots, the projector --------------------------------------------


def test_changing_a_vote_replaces_it_and_survives_a_reload(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "approval", actor=facilitator)
    phone = people.phone(workshop, org, "Espérance")
    option(phone, lines[0]).tap()
    first = send(phone)
    expect(phone.locator("form.paper .cast")).to_have_text("Change my vote")
    option(phone, lines[0]).tap()
    option(phone, lines[3]).tap()
    assert send(phone) == first  # the same paper, changed
    assert stored_choices(ballot) == [[lines[3].id]]
    phone.reload()
    expect(option(phone, lines[3]).locator("input")).to_be_checked()
    expect(option(phone, lines[0]).locator("input")).not_to_be_checked()
    expect(phone.locator("form.paper .receipt-code")).to_have_text(first)


def test_secret_ballot_receipt_is_in_the_published_list(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator, secret=True)
    phone = people.phone(workshop, org, "Fabrice")
    option(phone, lines[1]).locator(".pick").tap()
    code = send(phone)
    db.session.rollback()
    vote = db.session.scalar(sa.select(Vote).where(Vote.ballot_id == ballot.id))
    assert vote.delegate_id is None
    # Changing it from the same phone keeps the receipt (same secret, same paper).
    option(phone, lines[2]).locator(".pick").tap()
    assert send(phone) == code
    assert stored_choices(ballot) == [[lines[1].id, lines[2].id]]

    console = people.staff(facilitator, f"/w/{workshop.id}/console")
    online(console)
    card = console.locator(f".ballot-card[data-ballot-id='{ballot.id}']")
    card.get_by_role("button", name="Close the ballot").click()
    expect(phone.locator(".ballot-closed")).to_be_visible(timeout=LIVE)
    expect(phone.locator(".receipt-note .receipt-code")).to_have_text(code)
    expect(phone.locator(".standings")).to_be_visible()
    shot(phone, "secret-closed")
    shot(console, "console")

    phone.get_by_role("link", name="Check a receipt").click()
    phone.locator("#code").fill(code.lower().replace("-", " "))
    phone.get_by_role("button", name="Check").click()
    expect(phone.locator("#check-result")).to_contain_text("is in the published list")
    expect(phone.locator("#receipts tr.found")).to_have_count(1)
    # Receipts are listed apart from the papers: the found row holds no choice.
    expect(phone.locator("#receipts tr.found")).not_to_contain_text(lines[1].title)
    shot(phone, "receipts")
    phone.locator("#code").fill("AAAA-BBBB-CCCC")
    phone.get_by_role("button", name="Check").click()
    expect(phone.locator("#check-result")).to_contain_text("is not in the published list")


def test_a_secret_vote_whose_secret_is_lost_is_replaced_from_the_phone(people, room):
    workshop, facilitator, lines, org = room
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, secret=True)
    phone = people.phone(workshop, org, "Gloria")
    option(phone, lines[0]).tap()
    first = send(phone)
    expect(phone.locator("form.paper .replace-lost")).to_be_hidden()  # this phone has the secret
    # The phone forgets everything (another browser, a cleared phone): the secret is gone.
    phone.evaluate("() => localStorage.clear()")
    phone.reload()
    paper = phone.locator("form.paper")
    expect(paper.locator("[data-form-error]")).to_contain_text("another phone or browser")
    # Sending without the box is refused and changes nothing.
    option(phone, lines[2]).tap()
    paper.locator(".cast").click()
    expect(paper.locator("[data-form-error]")).to_contain_text("replace it here", timeout=LIVE)
    assert stored_choices(ballot) == [[lines[0].id]]
    paper.locator(".replace-lost input").check()
    second = send(phone)
    assert second != first
    assert stored_choices(ballot) == [[lines[2].id]]
    expect(paper.locator(".replace-lost")).to_be_hidden()
    phone.reload()  # the new paper is this phone's now: it changes with its secret
    expect(option(phone, lines[2]).locator("input")).to_be_checked()
    expect(phone.locator("form.paper .receipt-code")).to_have_text(second)


def test_projector_shows_turnout_then_results(people, room):
    workshop, facilitator, lines, org = room
    second_org = create_organisation(region="asia", country="Nepal")
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, closes_in_minutes=10)
    aline = people.phone(workshop, org, "Aline")
    people.phone(workshop, second_org, "Bishnu")
    screen = people.projector(workshop)
    turnout = screen.locator(f".turnout[data-ballot-id='{ballot.id}']")
    expect(turnout.locator(".turnout-total .voted")).to_have_text("0")
    expect(turnout.locator(".turnout-total .eligible")).to_have_text("2")
    expect(screen.locator(".countdown")).to_have_text(re.compile(r"^(9|10):\d\d$"))
    expect(screen.locator(".standings")).to_have_count(0)  # no results while open

    option(aline, lines[2]).tap()
    send(aline)
    expect(turnout.locator(".turnout-total .voted")).to_have_text("1", timeout=LIVE)
    region = turnout.locator("[data-region='central_africa']")
    expect(region.locator(".voted")).to_have_text("1")
    expect(turnout.locator("[data-region='asia'] .voted")).to_have_text("0")
    expect(screen.locator(".standings")).to_have_count(0)
    shot(screen, "projector-turnout")

    console = people.staff(facilitator, f"/w/{workshop.id}/console")
    online(console)
    card = console.locator(f".ballot-card[data-ballot-id='{ballot.id}']")
    expect(card.locator(".voted")).to_have_text("1")
    card.get_by_role("button", name="Close the ballot").click()
    standings = screen.locator(".standings .standing")
    expect(standings).to_have_count(4, timeout=LIVE)
    expect(standings.first).to_have_attribute("data-option", str(lines[2].id))
    expect(standings.first.locator(".rank")).to_have_text("1")
    expect(standings.nth(1).locator(".rank")).to_have_text("2")  # the three others tie ...
    expect(standings.nth(3).locator(".rank")).to_have_text("2")  # ... and share rank 2
    shot(screen, "projector-results")
    db.session.rollback()
    assert db.session.scalar(sa.select(Delegate.id).where(Delegate.name == "Aline",
                                                          Delegate.workshop_id == workshop.id))


def test_a_phone_loads_the_ballots_script_only_when_a_vote_step_arrives(people, live):
    """A phone that joined on a propose step was sent that step's script only (a first visit
    is lighter on a slow link); Go on the vote step brings the ballot's script with the paper,
    and the paper works without a reload."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=5, facilitator=facilitator)
    lines = create_lines(workshop, 4)
    propose = next(s for s in workshop.steps if s.kind == "propose")
    vote_step = next(s for s in workshop.steps if s.kind == "vote")
    agenda.goto_step(facilitator, workshop, propose.id)
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, max_approvals=2)
    phone = people.phone(workshop, create_organisation(), "Nadia")
    phone.evaluate("window.__before_go = 1")

    def scripts() -> list[str]:
        return phone.eval_on_selector_all(
            "script[src]", "tags => tags.map(t => t.getAttribute('src').split('?')[0])")

    assert "/static/js/proposals.js" in scripts()
    assert not {"/static/js/ballot.js", "/static/js/plans.js",
                "/static/vendor/diff_match_patch.min.js"} & set(scripts())
    console = people.staff(facilitator, f"/w/{workshop.id}/console")
    go(console, vote_step.id)
    expect(phone.locator("form.paper")).to_be_visible(timeout=LIVE)
    option(phone, lines[1]).tap()  # ballot.js counts the ticks once it has loaded
    expect(phone.locator(".approval-count")).to_have_text("1 / 2", timeout=LIVE)
    assert scripts().count("/static/js/ballot.js") == 1
    send(phone)
    assert stored_choices(ballot) == [[lines[1].id]]
    assert phone.evaluate("window.__before_go") == 1  # no reload
