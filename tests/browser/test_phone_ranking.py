"""The ballot paper on a 360 px phone: long titles in any language stay readable, and a
ranking is reordered by tapping its buttons, by dragging with a mouse and by dragging with a
finger; what the server stores is the order the phone shows.

Layout is checked from element boxes (no screenshots): nothing scrolls sideways, each title
lies inside the screen and keeps most of the width, and no word is cut unless it is longer
than the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tests.browser.people import LIVE, Room, fill_join_form, online
from tests.conftest import PHONE
from tests.helpers import create_organisation, create_user, create_workshop, open_test_ballot
from workshop.agenda import services as agenda
from workshop.agenda.models import Organisation, Workshop
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.voting.models import Ballot, Vote

pytestmark = pytest.mark.browser

WIDTH = PHONE["viewport"]["width"]
# Titles as delegates write them: long, in the four languages, and a compound word longer
# than a phone's line.
TITLES = (
    ("fr", "Renforcer la négociation collective dans les secteurs de l'économie informelle, en "
           "particulier pour les travailleuses domestiques et les vendeuses des marchés urbains"),
    ("de", "Arbeitnehmerinteressenvertretungsorganisationsentwicklungsprogramm für Jugendliche"),
    ("es", "Ampliar la protección social a los trabajadores de plataformas digitales y "
           "a quienes trabajan por cuenta propia sin contrato"),
    ("nl", "Arbeidsomstandighedenverbetering en veiligheidsinspecties op bouwplaatsen"),
    ("en", "Decent work"),
)


@dataclass
class Vote360:
    workshop: Workshop
    organisation: Organisation
    lines: list[Proposal]
    ballot: Ballot


def vote_step(method: str) -> Vote360:
    """A workshop on its vote step with the long titles above on an open ballot."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=5, facilitator=facilitator)
    lines = [Proposal(workshop_id=workshop.id, title=title, theme="decent_work",
                      level="national", language=lang) for lang, title in TITLES]
    db.session.add_all(lines)
    db.session.commit()
    step = next(s for s in workshop.steps if s.kind == "vote")
    agenda.goto_step(facilitator, workshop, step.id)
    ballot = open_test_ballot(workshop, method, actor=facilitator)
    organisation = create_organisation(region="central_africa", country="Burundi")
    return Vote360(workshop, organisation, lines, ballot)


def join(room: Room, setup: Vote360, **context) -> Page:
    page = room.phone(room.context({**PHONE, **context}) if context else None)
    page.goto(f"/j/{setup.workshop.join_code}")
    fill_join_form(page, "Claudine Ndayisenga", setup.organisation)
    expect(page).to_have_url(re.compile(r"/d$"))
    online(page)
    expect(page.locator("form.paper.js")).to_be_visible()
    return page


def item(page: Page, line: Proposal) -> Locator:
    return page.locator(f"form.paper .rank-item[data-option='{line.id}']")


def ranked_ids(page: Page) -> list[int]:
    return [int(x) for x in page.locator("form.paper .ranked .rank-item").evaluate_all(
        "items => items.map(li => li.dataset.option)")]


def cast_and_read(page: Page, ballot: Ballot) -> list:
    """Send the paper, wait for the receipt, return what the server stored."""
    form = page.locator("form.paper")
    form.locator(".cast").click()
    expect(form.locator(".receipt")).to_be_visible(timeout=LIVE)
    db.session.rollback()
    return db.session.scalar(sa.select(Vote.choices).where(Vote.ballot_id == ballot.id))


# --- Layout -------------------------------------------------------------------------------------

LAYOUT = """(selector) => {
  const width = document.documentElement.clientWidth;
  const canvas = document.createElement("canvas").getContext("2d");
  const problems = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width) continue;
    const name = el.textContent.trim().slice(0, 30);
    if (box.left < 0 || box.right > width) problems.push(`${name}: outside the screen`);
    const lines = new Set([...el.getClientRects()].map(r => Math.round(r.top))).size;
    const wraps = box.height > parseFloat(getComputedStyle(el).lineHeight) * 1.5 || lines > 1;
    if (wraps && box.width < width * 0.6) {
      problems.push(`${name}: squeezed to ${Math.round(box.width)} px`);
    }
    const style = getComputedStyle(el);
    canvas.font = style.font;
    const hyphenated = style.hyphens === "auto" && el.closest("[lang]") !== null;
    for (const node of el.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        const longer = canvas.measureText(m[0]).width > box.width;
        if (tops.size > 1 && !longer && !hyphenated) problems.push(`${m[0]}: cut mid-word`);
      }
    }
  }
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px)`);
  }
  return problems;
}"""


def layout_problems(page: Page, selector: str = "form.paper .title") -> list[str]:
    return page.evaluate(LAYOUT, selector)


@pytest.mark.parametrize(("method", "ui"), [
    ("ranking", "en"), ("approval", "en"), ("points", "en"), ("matrix", "en"),
    ("ranking", "fr"), ("matrix", "fr"),  # French labels run longer than English ones
])
def test_long_titles_fit_a_360_px_phone(room: Room, live, method: str, ui: str) -> None:
    setup = vote_step(method)
    page = join(room, setup)
    if ui != "en":
        page.goto(f"/d?lang={ui}")
        online(page)
        expect(page.locator("html")).to_have_attribute("lang", ui)
        expect(page.locator("form.paper.js")).to_be_visible()
    if method == "ranking":
        for line in setup.lines:
            item(page, line).locator(".pick").click()
        expect(page.locator("form.paper .ranked .rank-item")).to_have_count(len(TITLES))
    assert layout_problems(page) == []
    # Every title is marked with its own language, so the browser hyphenates it rightly.
    langs = page.locator("form.paper .title").evaluate_all("els => els.map(e => e.lang)")
    assert sorted(langs) == sorted(lang for lang, _ in TITLES)
    # At 200 % text it still fits (the controls wrap below, the page never scrolls sideways).
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    cast = page.locator("form.paper .cast")
    assert cast.evaluate("b => b.getBoundingClientRect().right") <= WIDTH


# --- Reordering ---------------------------------------------------------------------------------


def rank_all(page: Page, lines: list[Proposal]) -> None:
    for line in lines:
        item(page, line).locator(".pick").click()
    expect(page.locator("form.paper .ranked .rank-item")).to_have_count(len(lines))


def test_reorder_with_the_buttons_says_where_each_line_went(room: Room, live) -> None:
    setup = vote_step("ranking")
    a, b, c, d, e = setup.lines
    page = join(room, setup)
    rank_all(page, [a, b, c, d])
    news = page.locator("form.paper .rank-news")
    expect(news).to_have_attribute("aria-live", "polite")
    expect(news).to_have_text("Added at position 4 of 4.")
    item(page, a).locator(".down").click()
    expect(news).to_have_text("Moved to position 2 of 4.")
    item(page, d).locator(".up").click()
    expect(news).to_have_text("Moved to position 3 of 4.")
    item(page, c).locator(".remove").click()
    expect(news).to_have_text("Removed from your ranking.")
    assert ranked_ids(page) == [b.id, a.id, d.id]
    expect(item(page, b).locator(".place")).to_have_text("1.")
    assert cast_and_read(page, setup.ballot) == [b.id, a.id, d.id]


def drag_points(page: Page, moving: Proposal, onto: Proposal) -> tuple[dict, dict]:
    """The centre of `moving`'s handle, and a point in the upper quarter of `onto`."""
    handle = item(page, moving).locator(".handle").bounding_box()
    target = item(page, onto).bounding_box()
    assert handle
    assert target
    start = {"x": handle["x"] + handle["width"] / 2, "y": handle["y"] + handle["height"] / 2}
    end = {"x": start["x"], "y": target["y"] + target["height"] * 0.25}
    return start, end


def test_reorder_by_dragging_with_a_mouse(room: Room, live) -> None:
    setup = vote_step("ranking")
    a, b, c, d, _ = setup.lines
    page = join(room, setup, has_touch=False, is_mobile=False)
    rank_all(page, [a, b, c, d])
    start, end = drag_points(page, d, a)
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=12)
    page.mouse.up()
    assert ranked_ids(page) == [d.id, a.id, b.id, c.id]
    expect(page.locator("form.paper .rank-news")).to_have_text("Moved to position 1 of 4.")
    # And down again, a to the bottom, past the bottom of the screen: the page scrolls
    # while the pointer rests near the screen's edge.
    item(page, a).locator(".handle").scroll_into_view_if_needed()
    start, _ = drag_points(page, a, c)
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(start["x"], PHONE["viewport"]["height"] - 10, steps=12)
    expect(page.locator("form.paper .ranked .rank-item").last).to_have_attribute(
        "data-option", str(a.id))
    page.mouse.up()
    assert ranked_ids(page) == [d.id, b.id, c.id, a.id]
    assert cast_and_read(page, setup.ballot) == [d.id, b.id, c.id, a.id]


def test_reorder_by_dragging_with_a_finger(room: Room, live) -> None:
    setup = vote_step("ranking")
    a, b, c, _, e = setup.lines
    page = join(room, setup)  # has_touch, is_mobile
    rank_all(page, [a, b, c, e])
    start, end = drag_points(page, c, a)
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, point: dict | None) -> None:
        cdp.send("Input.dispatchTouchEvent", {
            "type": kind, "touchPoints": [point] if point else []})

    touch("touchStart", start)
    steps = 12
    for i in range(1, steps + 1):
        y = start["y"] + (end["y"] - start["y"]) * i / steps
        touch("touchMove", {"x": start["x"], "y": y})
    touch("touchEnd", None)
    expect(page.locator("form.paper .rank-news")).to_have_text("Moved to position 1 of 4.")
    assert ranked_ids(page) == [c.id, a.id, b.id, e.id]
    # The page did not scroll while the finger dragged (the handle takes the gesture).
    assert page.evaluate("window.scrollX") == 0
    assert cast_and_read(page, setup.ballot) == [c.id, a.id, b.id, e.id]
