"""axe-core over every HTML page of the app but the projector, in real Chromium.

One rich workshop (proposals with comments and a translation suggestion, a closed ranking
ballot with votes, an open one on the vote step, action plans carried forward, one edited) is
built once for the module; each page is one test case. Delegate pages are checked at phone
size in the light and the dark colour scheme, staff pages on a laptop. Each page must have no
critical or serious violation of WCAG 2.2 AA or axe's best practices (tests/browser/axe.py).
The list of pages is checked against the app's GET routes, so a new page without a case here
fails `test_every_html_page_is_checked`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from config import TestConfig
from tests.browser.axe import assert_accessible
from tests.browser.people import LIVE, Room, go, online
from tests.conftest import DESKTOP, PHONE, LiveServer
from tests.helpers import (
    PASSWORD,
    carry_forward,
    cast_vote,
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    edit_plan,
    invite,
    open_test_ballot,
)
from workshop import create_app
from workshop.agenda import services as agenda
from workshop.agenda.models import Workshop
from workshop.auth.models import User
from workshop.extensions import db
from workshop.plans import services as plans
from workshop.plans.schemas import AssignIn
from workshop.proposals import services as proposals
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import TranslationIn
from workshop.voting import services as voting
from workshop.voting.models import Vote

pytestmark = pytest.mark.browser

STEP_KINDS = ("welcome", "propose", "discuss", "vote", "results", "action_plan", "free_text")


@dataclass(frozen=True)
class World:
    """Ids and secrets of the module's workshop (rows themselves belong to a closed session)."""

    workshop_id: int
    join_code: str
    organiser_email: str
    token: str
    proposal_id: int
    closed_ballot_id: int
    open_ballot_id: int
    plan_id: int
    steps: dict[str, int]


def _build() -> World:
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    workshop = create_workshop(organiser, steps=len(STEP_KINDS), facilitator=facilitator)
    steps = {s.kind: s.id for s in workshop.steps}
    org = create_organisation(region="central_africa", country="Burundi")
    me, token = invite(workshop, organiser, org, name="Amina Diallo")
    other = create_delegate(workshop, org, name="Jean Nkurunziza")
    mine = create_proposal(workshop, me, title="Un salaire minimum vital pour les travailleuses "
                           "domestiques", description="Campagne nationale et négociation.")
    create_proposal(workshop, other, title="Formation syndicale des jeunes",
                    description="Des cercles d'étude dans chaque région.")
    first = proposals.add_comment(other, workshop, mine.id, "Which sectors first?")
    proposals.add_comment(me, workshop, mine.id, "Domestic work and agriculture.",
                          parent_id=first.id)
    proposals.suggest_translation(other, workshop, mine.id, TranslationIn(
        language="es", title="Un salario mínimo vital para las trabajadoras domésticas",
        description="Campaña nacional y negociación."))
    made, lines, _approval = carry_forward(workshop, n=2)
    plans.assign_member(organiser, workshop, AssignIn(workshop_id=workshop.id,
                                                      delegate_id=me.id, plan_id=made[0].id))
    edit_plan(organiser, made[0], "objective", "By 2031")
    closed = open_test_ballot(workshop, "ranking", title="Which lines first?")
    for voter in (me, other):
        cast_vote(voter, closed, [p.id for p in lines[:3]])
    voting.close_ballot(organiser, workshop, closed)
    opened = open_test_ballot(workshop, "ranking", title="Priorities for next year",
                              step_id=steps["vote"])
    return World(workshop_id=workshop.id, join_code=workshop.join_code,
                 organiser_email=organiser.email, token=token, proposal_id=mine.id,
                 closed_ballot_id=closed.id, open_ballot_id=opened.id, plan_id=made[0].id,
                 steps=steps)


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    with live_server.app.app_context():
        built = _build()
        db.session.remove()
    return built


@pytest.fixture(scope="module")
def staff_state(browser: Browser, live_server: LiveServer, world: World) -> dict:
    """The organiser's cookies, logged in once through the real form."""
    ctx = browser.new_context(**DESKTOP, base_url=live_server.url)
    page = ctx.new_page()
    page.goto("/login")
    page.locator("#email").fill(world.organiser_email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/workshops$"))
    state = ctx.storage_state()
    ctx.close()
    return state


def go_to(world: World, kind: str) -> None:
    """Make the step of this kind current (through the service, as the console does)."""
    workshop = db.session.get(Workshop, world.workshop_id)
    organiser = db.session.get(User, workshop.created_by_id)
    if workshop.current_step is None or workshop.current_step.kind != kind:
        agenda.goto_step(organiser, workshop, world.steps[kind])


# --- The pages --------------------------------------------------------------------------------

W = "/w/{w}"
STAFF_PAGES = {
    "console.console": W + "/console",
    "console.audit": W + "/audit",
    "manage.manage": W + "/manage",
    "manage.workshops": "/workshops",
    "manage.new_workshop": "/workshops/new",
    "manage.organisations": "/organisations",
    "exports.dashboard": W + "/dashboard",
    "registration.index": W + "/registration",
    "proposals.moderate": W + "/proposals/moderate",
    "proposals.import_file": W + "/proposals/import",
    "proposals.discussion": W + "/proposals/{p}",
    "voting.ballots": W + "/ballots",
    "voting.paper": W + "/ballots/{o}/paper",
    "voting.receipts": W + "/ballots/{c}/receipts",
    "voting.results_page": W + "/ballots/{c}/results",
    "voting.proxies": W + "/proxies",
    "plans.index": W + "/plans",
    "plans.show": W + "/plans/{plan}",
    "plans.history": W + "/plans/{plan}/history",
    "plans.template": W + "/plans/template",
    "api_account.tokens_page": "/account/tokens",
    "api.docs_page": "/api/v1/docs",
}
# Pages anyone opens on a phone, before joining.
PUBLIC_PAGES = {
    "phone.landing": "/",
    "phone.join": "/j/{code}",
    "auth.login": "/login",
    "phone.invitation": "/i/not-a-valid-invitation",  # the error page; a valid one redirects
}
# Pages a delegate reaches from the follow page.
DELEGATE_PAGES = {
    "proposals.discussion": W + "/proposals/{p}",
    "voting.results_page": W + "/ballots/{c}/results",
    "voting.receipts": W + "/ballots/{c}/receipts",
    "plans.show": W + "/plans/{plan}",
}
# HTML pages not checked here, and why.
ELSEWHERE = {
    "phone.step_fragment": "a fragment of /d, checked inside it",
    "phone.follow": "checked at every step kind below",
    "voting.panel": "a fragment of the console and the ballots page, checked inside them",
    "proposals.translations": "a fragment of the discussion page, checked inside it",
}
SCHEMES = ("light", "dark")


def url(path: str, world: World) -> str:
    return path.format(w=world.workshop_id, p=world.proposal_id, o=world.open_ballot_id,
                       c=world.closed_ballot_id, plan=world.plan_id, code=world.join_code)


def test_every_html_page_is_checked() -> None:
    """Every GET route that answers HTML has a case here (APIs and files are not pages)."""
    app = create_app(TestConfig)
    covered = set(STAFF_PAGES) | set(PUBLIC_PAGES) | set(DELEGATE_PAGES) | set(ELSEWHERE)
    files = re.compile(r"(\.(json|csv|zip|xlsx|pdf|docx)$|^/api/v1/(?!docs$)|^/static/)")
    pages = {r.endpoint for r in app.url_map.iter_rules()
             if "GET" in r.methods and not files.search(r.rule)
             and not r.endpoint.startswith("projector.")}  # the projector's own tests
    assert pages - covered == set()


# --- The checks -------------------------------------------------------------------------------


@pytest.fixture
def phone_of(room: Room, world: World, live) -> Callable[..., Page]:
    """A phone in a colour scheme; `login=True` opens the delegate's invitation link first."""

    def open_phone(scheme: str, login: bool = True) -> Page:
        page = room.phone(room.context(PHONE, color_scheme=scheme))
        if login:
            page.goto(f"/i/{world.token}")
            expect(page).to_have_url(re.compile(r"/d$"))
        return page

    return open_phone


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", STEP_KINDS)
def test_follow_page_at_each_step(phone_of, world: World, kind: str, scheme: str) -> None:
    go_to(world, kind)
    page = phone_of(scheme)
    online(page)
    expect(page.locator("#step .step")).to_have_attribute("data-kind", kind)
    assert_accessible(page, f"/d at a {kind} step ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("endpoint", sorted(PUBLIC_PAGES))
def test_public_page(phone_of, world: World, endpoint: str, scheme: str) -> None:
    page = phone_of(scheme, login=False)
    page.goto(url(PUBLIC_PAGES[endpoint], world))
    assert_accessible(page, f"{endpoint} ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("endpoint", sorted(DELEGATE_PAGES))
def test_delegate_page(phone_of, world: World, endpoint: str, scheme: str) -> None:
    go_to(world, "discuss")
    page = phone_of(scheme)
    response = page.goto(url(DELEGATE_PAGES[endpoint], world))
    assert response is not None
    assert response.ok, f"{endpoint}: {response.status}"
    assert_accessible(page, f"{endpoint} on a phone ({scheme})")


@pytest.mark.parametrize("endpoint", sorted(STAFF_PAGES))
def test_staff_page(room: Room, world: World, staff_state: dict, live, endpoint: str) -> None:
    page = room.page(room.context(DESKTOP, storage_state=staff_state))
    response = page.goto(url(STAFF_PAGES[endpoint], world))
    assert response is not None
    assert response.ok, f"{endpoint}: {response.status}"
    assert_accessible(page, endpoint)


# --- Touch targets and large text on the delegate's phone ----------------------------------------

TARGETS = """() => {
  const small = [];
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.querySelectorAll(controls)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    const style = getComputedStyle(el);
    // A link inside running text is excepted (WCAG 2.5.5): its line says more than it does.
    if (el.tagName === "A" && style.display === "inline" &&
        el.parentElement.textContent.trim() !== el.textContent.trim()) continue;
    // A tick box or radio is hit through its label: measure the label and what it holds.
    let boxes = [el.getBoundingClientRect()];
    const label = (el.type === "checkbox" || el.type === "radio") ? el.closest("label") : null;
    if (label) boxes = [label, ...label.querySelectorAll("*")].map(x => x.getBoundingClientRect());
    const width = Math.max(...boxes.map(b => b.right)) - Math.min(...boxes.map(b => b.left));
    const height = Math.max(...boxes.map(b => b.bottom)) - Math.min(...boxes.map(b => b.top));
    if (width < 43.5 || height < 43.5) {
      const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.type).trim();
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${name.slice(0, 30)}": ` +
                 `${Math.round(width)}×${Math.round(height)}`);
    }
  }
  return small;
}"""


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_phone_touch_targets_and_text_at_200_percent(phone_of, world: World, kind: str) -> None:
    """Every control of the follow page is at least 44×44 CSS px, and at 200 % text the page
    still fits 360 px (nothing scrolls sideways, no control leaves the screen)."""
    go_to(world, kind)
    page = phone_of("light")
    online(page)
    expect(page.locator("#step .step")).to_have_attribute("data-kind", kind)
    if kind == "vote":  # a ranked line shows its buttons
        page.locator("form.paper .unranked .pick").first.click()
        expect(page.locator("form.paper .ranked .rank-item")).to_have_count(1)
    tiny = page.evaluate(TARGETS)
    assert tiny == [], "\n".join(tiny)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    width = PHONE["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    outside = page.evaluate("""(width) => [...document.querySelectorAll(
        "a[href], button, input:not([type=hidden]), select, textarea")]
        .filter(el => el.getClientRects().length && !el.closest(".table-wrap"))
        .filter(el => el.getBoundingClientRect().left < 0
                      || el.getBoundingClientRect().right > width)
        .map(el => el.outerHTML.slice(0, 80))""", width)
    assert outside == []


# --- The keyboard alone ------------------------------------------------------------------------


def tab_to(page: Page, target, limit: int = 80) -> None:
    """Press Tab until `target` has the focus (as a keyboard user would)."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("el => el === document.activeElement", handle):
            return
    raise AssertionError(f"{target} never got the focus with Tab")


@dataclass
class Small:
    workshop: Workshop
    facilitator: User
    lines: list
    page: Page


@pytest.fixture
def small(room: Room, live) -> Small:
    """A fresh workshop (welcome, propose, discuss, vote), three lines of work, a phone that
    joined with the code."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=4, facilitator=facilitator)
    org = create_organisation(region="central_africa", country="Burundi")
    lines = [create_proposal(workshop, title=f"Keyboard line {n}") for n in (1, 2, 3)]
    agenda.goto_step(facilitator, workshop, workshop.steps[0].id)
    page = room.joined_phone(workshop, org, "Grâce Niyonzima")
    return Small(workshop, facilitator, lines, page)


def test_proposing_with_the_keyboard_alone(small: Small) -> None:
    agenda.goto_step(small.facilitator, small.workshop, small.workshop.steps[1].id)
    page = small.page
    page.reload()
    tab_to(page, page.locator("#p-title"))
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")
    page.keyboard.type("Every control is reached with Tab.")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the first theme
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the first level
    tab_to(page, page.locator("#propose-form button[type=submit]"))
    page.keyboard.press("Enter")
    expect(page.locator("#propose-form [data-sent]")).to_be_visible(timeout=LIVE)
    expect(page.locator("#propose-form [data-sent]")).to_have_attribute("role", "status")
    db.session.rollback()
    titles = db.session.scalars(sa.select(Proposal.title).where(
        Proposal.workshop_id == small.workshop.id))
    assert "Typed without a mouse" in list(titles)


def test_commenting_with_the_keyboard_alone(small: Small) -> None:
    agenda.goto_step(small.facilitator, small.workshop, small.workshop.steps[2].id)
    page = small.page
    page.goto(f"/w/{small.workshop.id}/proposals/{small.lines[0].id}")
    online(page)
    tab_to(page, page.locator("#c-body"))
    page.keyboard.type("A comment typed with the keyboard")
    tab_to(page, page.locator("#comment-form button[type=submit]"))
    page.keyboard.press("Space")
    expect(page.locator("#comments")).to_contain_text("A comment typed with the keyboard",
                                                      timeout=LIVE)


def test_voting_with_the_keyboard_alone(small: Small, live) -> None:
    vote = small.workshop.steps[3]
    ballot = open_test_ballot(small.workshop, "ranking", actor=small.facilitator,
                              step_id=vote.id)
    agenda.goto_step(small.facilitator, small.workshop, vote.id)
    page = small.page
    page.reload()
    online(page)
    first, second, _ = small.lines
    pick = "form.paper .rank-item[data-option='{}'] .{}"
    tab_to(page, page.locator(pick.format(first.id, "pick")))
    page.keyboard.press("Enter")
    tab_to(page, page.locator(pick.format(second.id, "pick")))
    page.keyboard.press("Space")
    news = page.locator("form.paper .rank-news")
    expect(news).to_have_text("Added at position 2 of 2.")
    # The focus stayed on the line just added: its "Move up" button is a Tab or two away.
    tab_to(page, page.locator(pick.format(second.id, "up")), limit=5)
    page.keyboard.press("Enter")
    expect(news).to_have_text("Moved to position 1 of 2.")
    tab_to(page, page.locator("form.paper .cast"))
    page.keyboard.press("Enter")
    receipt = page.locator("form.paper .receipt")
    expect(receipt).to_be_visible(timeout=LIVE)
    expect(receipt).to_have_attribute("role", "status")
    db.session.rollback()
    stored = db.session.scalar(sa.select(Vote.choices).where(Vote.ballot_id == ballot.id))
    assert stored == [second.id, first.id]


# --- Live regions ------------------------------------------------------------------------------


def test_live_regions_announce_a_new_step_a_receipt_and_results(small: Small, room: Room) -> None:
    """A screen reader hears the new step, the vote's receipt and the results: each comes in
    a live region that was on the page before its text changed."""
    vote = small.workshop.steps[3]
    ballot = open_test_ballot(small.workshop, "approval", actor=small.facilitator,
                              step_id=vote.id, title="Which lines go forward?")
    page = small.page
    news = page.locator("#news")
    expect(news).to_have_attribute("aria-live", "polite")
    expect(news).to_have_attribute("role", "status")
    expect(news).to_have_text("")
    console = room.console(small.workshop, small.facilitator)
    go(console, vote.id)
    expect(news).to_have_text(f"New step: {vote.title}", timeout=LIVE)
    receipt = page.locator("form.paper .receipt")
    expect(receipt).to_have_attribute("role", "status")
    page.locator(f"form.paper .option[data-option='{small.lines[0].id}']").click()
    page.locator("form.paper .cast").click()
    expect(receipt.locator(".receipt-code")).to_have_text(
        re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}"), timeout=LIVE)
    card = console.locator(f".ballot-card[data-ballot-id='{ballot.id}']")
    card.get_by_role("button", name="Close the ballot").click()
    expect(news).to_have_text("Results are in: Which lines go forward?", timeout=LIVE)
    expect(page.locator("#step .results")).to_be_visible()
