"""The projector at 1280×720, 1920×1080 and 3840×2160, read from the back of the room.

A workshop in French with 31 long lines of work in four languages, 40 delegates from every
region, a ballot with votes from all of them, its results and the action plans. At each size,
on each kind of step: nothing is cut off (measured from element boxes: every visible element
inside the screen, no element that does not scroll holding more than it shows), long lists are
paged with "first–last of total" and every line is reached through the pages, the figures
people must read are at least 28 px at 1080p and scale with the screen, and axe-core finds no
serious problem. Screenshots go to SHOTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.people import LIVE, SHOTS, Room, Setup, online
from tests.helpers import (
    cast_vote,
    create_delegate,
    create_organisation,
    create_workshop,
    go_to_kind,
    open_test_ballot,
)
from tests.live.clients import Person
from workshop.agenda.models import Delegate, Workshop
from workshop.auth.models import User
from workshop.extensions import db
from workshop.proposals import services as proposals
from workshop.proposals.models import Proposal
from workshop.vocabulary import REGIONS
from workshop.voting import services as voting
from workshop.voting.schemas import SelectTopIn

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]
FIGURES = ("#join-code", "#timer", ".turnout-total", ".turnout-regions .voted",
           ".ballot-timer", ".standing .score", ".standing .consensus", ".ballot-closed",
           ".plan-card .big", ".pager-status:not(.single)")
MIN_PX_1080 = 28

TITLES = [
    "Protección social universal para trabajadoras del hogar y de la economía informal en "
    "América Latina",
    "Reconnaissance des mutuelles de santé communautaires dans les politiques nationales de "
    "couverture",
    "Sociale dialoog over een rechtvaardige transitie in de Belgische haven- en chemiesector",
    "Decent work for young people leaving school in rural districts, with apprenticeships",
    "Liberté syndicale et protection des délégués contre les licenciements abusifs",
    "Derechos laborales en las cadenas de suministro: debida diligencia obligatoria",
    "Health insurance that follows migrant workers across borders and between employers",
    "Coopératives agricoles et accès au crédit pour les femmes rurales",
]
DESCRIPTION = ("Les organisations membres demandent un cadre légal clair, un financement durable "
               "et une participation réelle des travailleurs et travailleuses aux décisions qui "
               "les concernent, au niveau national comme continental, avec un suivi annuel.")


@dataclass
class World:
    workshop: Workshop
    organiser: User
    lines: list[Proposal]
    delegates: list[Delegate]


def build(cast: Setup) -> World:
    """The French workshop with lines, delegates, comments and a ballot (see the module)."""
    workshop = create_workshop(cast.organiser, steps=7, facilitator=cast.facilitator,
                               durations=(None, 20, 30, 15, None, 45, None))
    workshop.default_locale = "fr"
    free_text = next(s for s in workshop.steps if s.kind == "free_text")
    free_text.body = "\n".join([DESCRIPTION] * 4)
    db.session.commit()
    orgs = {region: create_organisation(region=region)
            for region in REGIONS}
    delegates = [create_delegate(workshop, orgs[region], name=f"Délégué {region} {i}")
                 for region in REGIONS for i in range(8)]
    languages = ("es", "fr", "nl", "en", "fr", "es", "en", "fr")
    lines = [Proposal(workshop_id=workshop.id, title=f"{TITLES[i % 8]} ({i + 1})",
                      description=DESCRIPTION if i % 3 == 0 else "", language=languages[i % 8],
                      theme="decent_work", level="national", delegate_id=delegates[i].id,
                      organisation_id=delegates[i].organisation_id,
                      region=delegates[i].organisation.region) for i in range(31)]
    db.session.add_all(lines)
    db.session.commit()
    go_to_kind(workshop, "discuss")
    for i, delegate in enumerate(delegates[:12]):
        proposals.set_support(delegate, workshop, lines[i % 5].id, True)
        proposals.add_comment(delegate, workshop, lines[0].id,
                              f"Commentaire {i + 1} : " + DESCRIPTION[: 60 + 15 * (i % 5)])
    return World(workshop, cast.organiser, lines, delegates)


def vote(world: World) -> None:
    """A ballot on every line, open ten minutes, with a vote from every delegate."""
    ballot = open_test_ballot(world.workshop, "approval", actor=world.organiser,
                              title="Quels axes de travail porter au plan d'action ?",
                              closes_in_minutes=10)
    # Some do not vote (turnout below 100 %); the others give every line a different score.
    voters = [d for i, d in enumerate(world.delegates) if i % 9 != 8]
    options = sorted(o.proposal_id for o in ballot.options)
    for i, delegate in enumerate(voters):
        cast_vote(delegate, ballot, options[: i + 1])


def close_and_carry_forward(world: World) -> None:
    workshop = world.workshop
    ballot = voting.ballot_for_step(workshop, next(s for s in workshop.steps if s.kind == "vote"))
    voting.close_ballot(world.organiser, workshop, ballot)
    voting.select_top(world.organiser, workshop, ballot, SelectTopIn(
        workshop_id=workshop.id, ballot_id=ballot.id, n=12))


# --- Measuring --------------------------------------------------------------------------------

CUT_OFF = """() => {
    const W = innerWidth, H = innerHeight, bad = [];
    const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (typeof el.className === "string" && el.className.trim()
            ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    const box = r => [r.left, r.top, r.right, r.bottom].map(Math.round).join(",");
    for (const el of document.querySelectorAll("body *")) {
        if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
        const cs = getComputedStyle(el);
        if (cs.display === "none" || cs.visibility !== "visible") continue;
        if (el.classList.contains("sr-only")) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1)
            bad.push(`${name(el)} is outside the screen (${box(r)})`);
        const more = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        const scrolls = /(auto|scroll)/.test(cs.overflowX + " " + cs.overflowY);
        if (more && scrolls) bad.push(`${name(el)} scrolls`);
        else if (more && cs.display !== "inline")
            bad.push(`${name(el)} holds more than it shows (${el.scrollWidth}x${el.scrollHeight}` +
                     ` in ${el.clientWidth}x${el.clientHeight})`);
    }
    return bad;
}"""

SIZES_OF = """selectors => {
    const out = {};
    const px = el => parseFloat(getComputedStyle(el).fontSize);
    for (const s of selectors) {
        const shown = [...document.querySelectorAll(s)].filter(el => el.getClientRects().length &&
            getComputedStyle(el).visibility === "visible" && el.textContent.trim());
        if (shown.length) out[s] = Math.min(...shown.map(px));
    }
    return out;
}"""


def screens(room: Room, workshop: Workshop) -> Iterator[tuple[tuple[int, int], Page]]:
    for width, height in SIZES:
        ctx = room.context({"viewport": {"width": width, "height": height}})
        page = room.page(ctx)
        page.goto(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
        online(page)
        yield (width, height), page


def settled(page: Page, kind: str) -> None:
    """The step of this kind is drawn and its lists are paged."""
    page.reload()
    expect(page.locator(f"#step .step[data-kind='{kind}'][data-paged='true']")).to_have_count(1)
    online(page)


def check(pages: dict[tuple[int, int], Page], kind: str) -> dict[tuple[int, int], dict]:
    """Nothing cut off at any size; a screenshot of each; the figures' sizes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for (width, height), page in pages.items():
        settled(page, kind)
        page.screenshot(path=SHOTS / f"projector-{kind}-{width}x{height}.png")
        cut = page.evaluate(CUT_OFF)
        assert cut == [], f"{kind} at {width}×{height}: " + "\n".join(cut)
        sizes[(width, height)] = page.evaluate(SIZES_OF, list(FIGURES))
    base = sizes[(1920, 1080)]
    for selector, px in base.items():
        assert px >= MIN_PX_1080, f"{selector} is {px} px at 1080p on {kind}"
        assert sizes[(1280, 720)][selector] >= 0.66 * MIN_PX_1080, (selector, kind)
        assert sizes[(3840, 2160)][selector] >= 1.9 * px, (selector, kind)
    assert_accessible(pages[(1920, 1080)], f"projector, {kind} step")
    return sizes


def page_through(page: Page, selector: str, total: int) -> set[str]:
    """Turn the pages with the presenter's clicker until back at the first page: the ids of
    every item seen, each page's indicator checked against the items it shows."""
    seen: set[str] = set()
    first = None
    for _ in range(total + 1):
        shown = page.evaluate("""sel => [...document.querySelectorAll(sel)]
            .filter(el => el.getClientRects().length)
            .map(el => el.id || el.dataset.option || el.dataset.planProgress)""", selector)
        status = page.locator("#step .pager-status:not(.single)").first.inner_text()
        numbers = [int(n) for n in re.findall(r"\d+", status)]
        assert numbers[1] - numbers[0] + 1 == len(shown), status
        assert numbers[2] == total, status
        if first == shown[0]:
            break
        first = first or shown[0]
        seen.update(shown)
        page.keyboard.press("PageDown")
    return seen


# --- The test ---------------------------------------------------------------------------------


def test_projector_fits_and_reads_at_three_sizes_on_every_step(room: Room, cast: Setup):
    world = build(cast)
    workshop = world.workshop
    pages = dict(screens(room, workshop))
    big = pages[(1920, 1080)]
    expect(big.locator("html")).to_have_attribute("lang", "fr")

    go_to_kind(workshop, "welcome")
    check(pages, "welcome")

    go_to_kind(workshop, "free_text")
    check(pages, "free_text")

    go_to_kind(workshop, "propose")
    check(pages, "propose")
    expect(big.locator("#wall-h")).to_contain_text("Axes de travail")
    for page in pages.values():
        status = page.locator("#wall-pages")
        expect(status).to_have_text(re.compile(r"^1–\d+ \S+ 31$"))
        assert page_through(page, "#cards > .card", 31) == {f"proposal-{p.id}" for p in world.lines}

    # A line proposed now reaches the paged wall live, and the pages are laid out again.
    phone = Person(room.live.url).join(workshop.join_code, world.delegates[0].organisation_id,
                                       "Nouvelle déléguée")
    phone.connect(workshop.id)
    try:
        ack = phone.call("proposal.create", {"workshop_id": workshop.id, "theme": "decent_work",
                                             "level": "national", "title": "Une ligne de plus"})
        assert ack["ok"] is True, ack
    finally:
        phone.close()
    for page in pages.values():
        expect(page.locator("#wall-pages")).to_have_text(re.compile(r"\D32$"), timeout=LIVE)
        expect(page.locator("#cards").get_by_text("Une ligne de plus")).to_be_visible()
        assert page.evaluate(CUT_OFF) == []
    assert len(page_through(big, "#cards > .card", 32)) == 32

    go_to_kind(workshop, "discuss")
    check(pages, "discuss")

    go_to_kind(workshop, "vote")
    vote(world)
    check(pages, "vote")
    for page in pages.values():
        regions = page.locator(".turnout-regions li[data-region]")
        expect(regions).to_have_count(len(REGIONS))
        for i in range(len(REGIONS)):
            expect(regions.nth(i)).to_be_visible()

    close_and_carry_forward(world)
    go_to_kind(workshop, "results")
    check(pages, "results")
    expect(big.locator(".ballot-closed")).to_be_visible()
    assert len(page_through(big, ".standing", 32)) == 32

    go_to_kind(workshop, "action_plan")
    check(pages, "action_plan")
    assert len(page_through(big, ".plan-card", 12)) == 12


def test_the_join_column_fits_with_wider_letters_by_shrinking_its_qr_code(room: Room,
                                                                          cast: Setup):
    """Machines differ in their sans-serif font: with DejaVu Sans (wider than Noto Sans) the join
    line wraps once more and, beside a timer, the column held more than the screen (seen on a
    CI machine). The QR code gives way, and stays large enough to scan from the room."""
    world = build(cast)
    go_to_kind(world.workshop, "propose")
    ctx = room.context({"viewport": {"width": 1280, "height": 720}})
    page = room.page(ctx)
    page.goto(f"/w/{world.workshop.id}/projector?key={world.workshop.projector_key}")
    online(page)
    settled(page, "propose")
    expect(page.locator("#timer")).to_be_visible()
    qr = page.locator(".qr svg")
    full = qr.bounding_box()["height"]
    page.evaluate("""() => {
        document.styleSheets[0].insertRule(
            "body.projector * { font-family: 'DejaVu Sans' !important; }");
        document.querySelector('.join-label').textContent += ' (https://atelier.example.org/rejoindre)';
    }""")  # through the CSSOM: the page's Content-Security-Policy refuses a <style> element
    assert page.evaluate(CUT_OFF) == []
    box = qr.bounding_box()
    shrunk = box["height"]
    assert shrunk < full, (shrunk, full)
    assert shrunk >= 0.45 * full, (shrunk, full)  # the CSS floor: 11 of 24 units
    assert abs(box["width"] - shrunk) <= 1, box  # still square: it scans


def test_pages_turn_by_themselves_without_a_fade_for_reduced_motion(room: Room, cast: Setup):
    world = build(cast)
    go_to_kind(world.workshop, "propose")
    ctx = room.context({"viewport": {"width": 1280, "height": 720}, "reduced_motion": "reduce"})
    page = room.page(ctx)
    page.clock.install()
    page.goto(f"/w/{world.workshop.id}/projector?key={world.workshop.projector_key}")
    online(page)
    status = page.locator("#wall-pages")
    expect(status).to_have_text(re.compile(r"^1–"))
    page.clock.run_for(25_000)  # slower pages for reduced motion: 24 s
    expect(status).not_to_have_text(re.compile(r"^1–"))
    animation = page.evaluate("""() => getComputedStyle(
        [...document.querySelectorAll('#cards > .card')].find(el => el.getClientRects().length)
    ).animationName""")
    assert animation == "none"


def test_facilitator_spotlights_a_line_and_its_discussion_on_the_projector(room: Room,
                                                                           cast: Setup):
    world = build(cast)
    workshop, line = world.workshop, world.lines[0]
    go_to_kind(workshop, "discuss")
    console = room.console(workshop, cast.facilitator)
    ctx = room.context({"viewport": {"width": 1920, "height": 1080}})
    projector = room.page(ctx)
    projector.goto(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    online(projector)
    expect(projector.locator("#cards")).to_be_visible()

    row = console.locator(f"#spot-lines li[data-proposal-id='{line.id}']")
    row.get_by_role("button", name="Spotlight on projector").click()

    spot = projector.locator("#spotlight")
    expect(spot.locator(f"#proposal-{line.id} .card-title")).to_have_text(line.title, timeout=LIVE)
    expect(spot.locator("#comments > .comment")).not_to_have_count(0)
    expect(projector.locator("#cards")).to_have_count(0)
    expect(row.get_by_role("button")).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    expect(projector.locator("#step .step[data-paged='true']")).to_have_count(1)
    assert projector.evaluate(CUT_OFF) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    projector.screenshot(path=SHOTS / "projector-spotlight-1920x1080.png")
    assert_accessible(projector, "projector, a line in the spotlight")

    # A comment written now appears under the line in the spotlight, live.
    phone = Person(room.live.url).join(workshop.join_code, world.delegates[0].organisation_id,
                                       "Rosa")
    phone.connect(workshop.id)
    try:
        ack = phone.call("proposal.comment", {"workshop_id": workshop.id, "proposal_id": line.id,
                                              "body": "Et les travailleuses migrantes ?"})
        assert ack["ok"] is True, ack
    finally:
        phone.close()
    expect(spot.get_by_text("Et les travailleuses migrantes ?")).to_be_visible(timeout=LIVE)
    expect(projector.locator("#spot-pages")).to_have_text(re.compile(r"\D13$"))

    projector.reload()  # kept on the workshop: a reloaded projector shows it too
    expect(projector.locator(f"#spotlight #proposal-{line.id}")).to_be_visible()

    console.get_by_role("button", name="Clear spotlight").click()
    expect(projector.locator("#spotlight")).to_have_count(0, timeout=LIVE)
    expect(projector.locator("#cards")).to_be_visible()
