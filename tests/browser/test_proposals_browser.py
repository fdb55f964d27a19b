"""Proposals and discussion in real browsers: phones, the projector wall and moderation.

Issue 3's acceptance list, played out by people: delegates on 360 px phones put lines of work
forward, comment, reply, support and filter; a projector shows the wall; the facilitator merges
duplicates on a laptop. Every test makes its own workshop. Setup that is not the story (other
delegates' supports, comments, translations) goes through the services, in the live server's
database. Nothing sleeps: `expect` waits for what the socket brings.
"""

from __future__ import annotations

import itertools
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tests.browser.people import (
    LIVE,
    SHOTS,
    Room,
    Setup,
    assert_not_reloaded,
    fill_join_form,
    go,
    mark,
    no_horizontal_scroll,
    online,
    send_proposal,
)
from tests.conftest import LiveServer
from tests.helpers import (
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
)
from tests.live.clients import Person, at_once
from workshop.agenda import delegates as delegate_services
from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.schemas import InviteIn
from workshop.auth.models import User
from workshop.extensions import db
from workshop.proposals import services as proposal_services
from workshop.proposals.models import Comment, Proposal, Support
from workshop.proposals.schemas import ProposalIn, TranslationIn

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


# --- The cast ---------------------------------------------------------------------------------


@pytest.fixture
def cast(live: LiveServer) -> Setup:
    """An organiser, a facilitator and an organisation (in the live server's database)."""
    return Setup(
        organiser=create_user("organiser"),
        facilitator=create_user("facilitator"),
        organisation=organisation("CSB Burundi", "central_africa", "Burundi"),
    )


def organisation(name: str, region: str, country: str) -> Organisation:
    """An organisation; names are unique in the database every test shares, hence the number."""
    return create_organisation(region=region, country=country, name=f"{name} {next(_numbers)}")


def new_workshop(cast: Setup, kind: str) -> Workshop:
    """A workshop whose current step is of `kind` (set before any screen opens)."""
    workshop = create_workshop(cast.organiser, steps=3, facilitator=cast.facilitator)
    go_to_kind(workshop, kind)
    return workshop


def projector_moved_to(room: Room, cast: Setup, workshop: Workshop, kind: str) -> Page:
    """The projector, opened on the welcome step, follows the facilitator's "Go" to `kind`.

    (Opening it straight on a propose or discuss step fails: see
    test_projector_opens_on_a_propose_step.)
    """
    go_to_kind(workshop, "welcome")
    projector = room.projector(workshop)
    console = room.console(workshop, cast.facilitator)
    go(console, next(s.id for s in workshop.steps if s.kind == kind))
    expect(projector.locator("#step .proposals")).to_have_count(1, timeout=LIVE)
    return projector


def invitation(workshop: Workshop, organisation: Organisation, name: str,
               locale: str | None = None) -> tuple[Delegate, str]:
    """The organiser invites a delegate: the delegate and the token of their personal link."""
    organiser = db.session.get(User, workshop.created_by_id)
    return delegate_services.invite_delegate(organiser, workshop, InviteIn(
        name=name, organisation_id=organisation.id, locale=locale))


def open_invitation(room: Room, token: str) -> Page:
    """A phone opens a personal link and is live on /d."""
    page = room.phone()
    page.goto(f"/i/{token}")
    expect(page).to_have_url(re.compile(r"/d$"))
    online(page)
    return page


def invited_phone(room: Room, workshop: Workshop, organisation: Organisation, name: str,
                  locale: str | None = None) -> tuple[Page, Delegate]:
    """A delegate invited by the organiser, live on /d on their phone."""
    delegate, token = invitation(workshop, organisation, name, locale)
    return open_invitation(room, token), delegate


def open_discussion(page: Page, workshop: Workshop, proposal_id: int) -> None:
    page.goto(f"/w/{workshop.id}/proposals/{proposal_id}")
    online(page)


def moderation(room: Room, cast: Setup, workshop: Workshop) -> Page:
    """The facilitator's laptop on the moderation page, its socket connected."""
    page = room.staff(cast.facilitator, f"/w/{workshop.id}/proposals/moderate")
    online(page)
    return page


def card(page: Page, proposal_id: int) -> Locator:
    return page.locator(f"#proposal-{proposal_id}")


def shown_cards(page: Page) -> Locator:
    """The cards the filters leave visible, in the order the page shows them."""
    return page.locator("#cards > .card:not([hidden])")


def expect_order(page: Page, ids: list[int]) -> None:
    cards = shown_cards(page)
    expect(cards).to_have_count(len(ids))
    for i, proposal_id in enumerate(ids):
        expect(cards.nth(i)).to_have_attribute("data-proposal-id", str(proposal_id))


def fresh() -> None:
    """Forget what this session read: see the server's latest commits."""
    db.session.rollback()


def support_rows(proposal_ids: list[int]) -> int:
    fresh()
    return db.session.scalar(sa.select(sa.func.count(Support.id)).where(
        Support.proposal_id.in_(proposal_ids)))


def french_proposal(workshop: Workshop, delegate: Delegate, title: str,
                    description: str = "") -> Proposal:
    """A line of work written in French (the workshop must be on a propose step)."""
    return proposal_services.submit_proposal(delegate, workshop, ProposalIn(
        title=title, description=description, theme="health_protection", level="continental",
        language="fr"))


def no_injected_markup(page: Page) -> None:
    """Nothing of the hostile text became an element."""
    assert page.locator("img[src='x'], .card img, .comment img, #duplicates img").count() == 0
    assert page.locator("#live script, #step script").count() == 0


# --- 1. Propose -------------------------------------------------------------------------------


def test_proposal_from_a_phone_reaches_the_other_phone_and_the_wall(room: Room, cast: Setup):
    workshop = new_workshop(cast, "welcome")
    asia = organisation("GEFONT Nepal", "asia", "Nepal")
    projector = projector_moved_to(room, cast, workshop, "propose")
    aline, author = invited_phone(room, workshop, cast.organisation, "Aline")
    bishnu, _ = invited_phone(room, workshop, asia, "Bishnu")
    screens = [aline, bishnu, projector]
    for screen in screens:
        expect(screen.locator(".line-count")).to_have_text("0")
        mark(screen)
    title = "Social protection floors for informal workers"

    form = aline.locator("#propose-form")
    form.locator("#p-title").fill(title)
    form.locator("#p-description").fill("Extend health mutuals to street vendors.")
    form.locator("#p-theme").select_option("health_protection")
    form.locator("#p-level").select_option("continental")
    form.get_by_label("Gender").check()
    form.get_by_label("Informal economy").check()
    form.get_by_role("button", name="Send").click()

    expect(form.locator("[data-sent]")).to_be_visible(timeout=LIVE)
    expect(form.locator("[data-sent]")).to_have_text("Your proposal was received.")
    expect(form.locator("#p-title")).to_have_value("")  # ready for the next one
    for screen in screens:
        line = screen.locator("#cards > .card").filter(has_text=title)
        expect(line).to_have_count(1, timeout=LIVE)
        expect(line.locator(".card-title")).to_have_text(title)
        expect(line).to_contain_text("Health and universal social protection")
        expect(line).to_contain_text("Continental")
        expect(line).to_contain_text("Informal economy")
        expect(line).to_contain_text(f"From: {cast.organisation.name}")  # attached by the server
        expect(line).to_contain_text("Central Africa")
        expect(screen.locator(".line-count")).to_have_text("1")
        assert_not_reloaded(screen)
    SHOTS.mkdir(parents=True, exist_ok=True)
    projector.screenshot(path=SHOTS / "projector-propose-1366x800.png")

    fresh()
    stored = db.session.scalars(sa.select(Proposal).where(
        Proposal.workshop_id == workshop.id)).one()
    assert (stored.title, stored.theme, stored.level) == (
        title, "health_protection", "continental")
    assert stored.tags == ["gender", "informal_economy"]
    assert (stored.delegate_id, stored.organisation_id) == (author.id, cast.organisation.id)
    assert (stored.country, stored.region) == ("Burundi", "central_africa")


def test_a_rush_of_lines_from_other_phones_reaches_a_phone_and_the_wall(room: Room,
                                                                        cast: Setup):
    workshop = new_workshop(cast, "welcome")
    projector = projector_moved_to(room, cast, workshop, "propose")
    aline, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    others = [Person(room.live.url).join(workshop.join_code, cast.organisation.id, f"Delegate {n}")
              for n in range(4)]
    titles = [f"Maternity cover for market women {n}" for n in range(4)]
    for screen in (aline, projector):
        mark(screen)
    try:
        for person in others:
            person.connect(workshop.id)
        at_once(others, "proposal.create", [
            {"workshop_id": workshop.id, "title": title, "theme": "health_protection",
             "level": "national"} for title in titles], timeout=LIVE / 1000)
    finally:
        for person in others:
            person.close()
    # Cards come a few at a time (`proposal.card`, `proposal.cards`): all shown.
    for screen in (aline, projector):
        for title in titles:
            expect(screen.locator("#cards > .card").filter(has_text=title)).to_have_count(
                1, timeout=LIVE)
        expect(screen.locator(".line-count")).to_have_text("4")
        assert_not_reloaded(screen)


def test_a_rush_of_supports_on_several_lines_shows_every_count_on_a_phone(room: Room,
                                                                         cast: Setup):
    workshop = new_workshop(cast, "propose")
    lines = [create_proposal(workshop, title=f"Sick pay for domestic workers {n}").id
             for n in range(3)]
    aline, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    mark(aline)
    plan = [lines[0]] * 3 + [lines[1]] * 2 + [lines[2]]  # the line each other phone supports
    others = [Person(room.live.url).join(workshop.join_code, cast.organisation.id, f"Delegate {n}")
              for n in range(len(plan))]
    try:
        for person in others:
            person.connect(workshop.id)
        at_once(others, "proposal.support", [
            {"workshop_id": workshop.id, "proposal_id": line_id} for line_id in plan],
            timeout=LIVE / 1000)
    finally:
        for person in others:
            person.close()
    # Counts of several lines come as one message (`proposal.counts.many`): each shown.
    for line_id, supporters in zip(lines, ("3", "2", "1"), strict=True):
        expect(card(aline, line_id).locator(".supporters")).to_have_text(supporters,
                                                                         timeout=LIVE)
    assert_not_reloaded(aline)


def test_empty_title_shows_the_error_and_keeps_what_was_typed(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    phone, _ = invited_phone(room, workshop, cast.organisation, "Chantal")
    mark(phone)
    form = phone.locator("#propose-form")
    form.locator("#p-description").fill("Cooperatives of domestic workers in every country.")
    form.locator("#p-theme").select_option("decent_work")
    form.locator("#p-level").select_option("national")
    form.get_by_label("Youth").check()

    form.get_by_role("button", name="Send").click()

    error = form.locator("[data-error-for='title']")
    expect(error).to_be_visible(timeout=LIVE)
    expect(error).to_have_text(re.compile(r"\S"))
    expect(form.locator("[data-sent]")).to_be_hidden()
    expect(form.locator("#p-description")).to_have_value(
        "Cooperatives of domestic workers in every country.")
    expect(form.locator("#p-theme")).to_have_value("decent_work")
    expect(form.locator("#p-level")).to_have_value("national")
    expect(form.get_by_label("Youth")).to_be_checked()
    expect(form.locator("[data-error-for='description']")).to_be_hidden()
    fresh()
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(
        Proposal.workshop_id == workshop.id)) == 0

    form.locator("#p-title").fill("Domestic workers' cooperatives")  # correct it and send
    form.get_by_role("button", name="Send").click()

    expect(form.locator("[data-sent]")).to_be_visible(timeout=LIVE)
    expect(error).to_be_hidden()
    expect(phone.locator(".card-title")).to_have_text("Domestic workers' cooperatives",
                                                      timeout=LIVE)
    assert_not_reloaded(phone)


def test_received_note_does_not_stay_next_to_a_new_error(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    phone, _ = invited_phone(room, workshop, cast.organisation, "Chantal")
    form = send_proposal(phone, "Decent work in cooperatives")
    expect(form.locator("[data-sent]")).to_be_visible(timeout=LIVE)

    form.locator("#p-description").fill("A second one, its title forgotten.")
    form.get_by_role("button", name="Send").click()

    expect(form.locator("[data-error-for='title']")).to_be_visible(timeout=LIVE)
    expect(form.locator("[data-sent]")).to_be_hidden()


@pytest.mark.parametrize("kind", ["propose", "discuss"])
def test_projector_opens_on_a_propose_or_discuss_step(room: Room, cast: Setup, kind: str):
    workshop = new_workshop(cast, "propose")
    create_proposal(workshop, title="Decent work in cooperatives")
    go_to_kind(workshop, kind)

    projector = room.projector(workshop)  # e.g. the facilitator reloads the big screen

    expect(projector.locator("#cards .card-title")).to_have_text("Decent work in cooperatives")


# --- 2. Comment and reply ---------------------------------------------------------------------


def send_comment(page: Page, text: str) -> None:
    page.locator("#c-body").fill(text)
    page.locator("#comment-form").get_by_role("button", name="Send").click()
    expect(page.locator("#c-body")).to_have_value("", timeout=LIVE)  # acknowledged


def test_comment_and_reply_reach_the_other_phone_nested(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    line = create_proposal(workshop, title="Health mutuals for informal workers")
    go_to_kind(workshop, "discuss")
    aline, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    bishnu, _ = invited_phone(room, workshop, cast.organisation, "Bishnu")
    for phone in (aline, bishnu):
        open_discussion(phone, workshop, line.id)
        mark(phone)
    comment_text = "Start with the mutuals that already exist in Burundi."
    reply_text = "In Nepal the unions run some: let us share how."

    send_comment(aline, comment_text)

    comment = bishnu.locator("#comments > li.comment").filter(has_text=comment_text)
    expect(comment).to_have_count(1, timeout=LIVE)
    expect(comment.locator(":scope > .comment-head")).to_contain_text("Aline")
    comment_id = comment.get_attribute("data-comment-id")
    expect(card(bishnu, line.id).locator(".comments")).to_have_text("1", timeout=LIVE)

    comment.get_by_role("button", name="Reply").click()  # the reply button sets the parent
    expect(bishnu.locator("#comment-form .replying")).to_be_visible()
    expect(bishnu.locator("#comment-form [name='parent_id']")).to_have_value(comment_id)
    send_comment(bishnu, reply_text)

    for phone in (aline, bishnu):
        nested = phone.locator(f"#comment-{comment_id} > .replies > li.comment")
        expect(nested).to_have_count(1, timeout=LIVE)
        expect(nested.locator(":scope > .comment-body")).to_have_text(reply_text)
        expect(nested.locator(":scope > .comment-head")).to_contain_text("Bishnu")
        expect(phone.locator("#comments > li.comment")).to_have_count(1)  # not a new thread
        expect(card(phone, line.id).locator(".comments")).to_have_text("2", timeout=LIVE)
        assert_not_reloaded(phone)
    expect(bishnu.locator("#comment-form .replying")).to_be_hidden()

    fresh()
    rows = db.session.scalars(sa.select(Comment).where(Comment.proposal_id == line.id)
                              .order_by(Comment.id)).all()
    assert [(c.body, c.parent_id) for c in rows] == [
        (comment_text, None), (reply_text, int(comment_id))]

    aline.reload()  # and the server renders the same thread
    expect(aline.locator(f"#comment-{comment_id} > .replies > li.comment")).to_have_text(
        re.compile(re.escape(reply_text)))


def test_a_comment_after_a_reply_starts_a_new_thread(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    line = create_proposal(workshop, title="Just transition in mining regions")
    go_to_kind(workshop, "discuss")
    phone, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    open_discussion(phone, workshop, line.id)
    send_comment(phone, "First thought.")
    first = phone.locator("#comments > li.comment")
    expect(first).to_have_count(1, timeout=LIVE)
    first.get_by_role("button", name="Reply").click()
    send_comment(phone, "A reply to it.")
    expect(first.locator(":scope > .replies > li.comment")).to_have_count(1, timeout=LIVE)
    expect(phone.locator("#comment-form .replying")).to_be_hidden()  # looks like a new comment

    send_comment(phone, "A new, separate thought.")

    expect(phone.locator("#comments > li.comment")).to_have_count(2, timeout=LIVE)


# --- 3. Support and withdraw ------------------------------------------------------------------


def test_support_and_withdraw_update_the_other_phone_and_count_once(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    line = create_proposal(workshop, title="Social dialogue councils in every region")
    go_to_kind(workshop, "discuss")
    aline, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    aline_tab = room.phone(aline.context)  # the same delegate, a second tab opened earlier
    aline_tab.goto("/d")
    online(aline_tab)
    bishnu, _ = invited_phone(room, workshop, cast.organisation, "Bishnu")
    for phone in (aline, aline_tab, bishnu):
        expect(card(phone, line.id).locator(".supporters")).to_have_text("0")
        mark(phone)
    plus_one = card(aline, line.id).locator("button.support")
    expect(plus_one).to_have_attribute("aria-pressed", "false")

    plus_one.dblclick()  # a nervous double tap: two +1s on the way before any answer

    expect(plus_one).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    expect(card(bishnu, line.id).locator(".supporters")).to_have_text("1", timeout=LIVE)
    # The stale tab still shows an unpressed +1: pressing it gives the same +1 again.
    stale = card(aline_tab, line.id).locator("button.support")
    expect(stale).to_have_attribute("aria-pressed", "false")
    stale.click()
    expect(stale).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    expect(card(bishnu, line.id).locator(".supporters")).to_have_text("1")
    expect(card(aline, line.id).locator(".supporters")).to_have_text("1")
    assert support_rows([line.id]) == 1

    card(bishnu, line.id).locator("button.support").click()
    expect(card(aline, line.id).locator(".supporters")).to_have_text("2", timeout=LIVE)

    plus_one.click()  # withdraw

    expect(plus_one).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    expect(card(bishnu, line.id).locator(".supporters")).to_have_text("1", timeout=LIVE)
    expect(card(bishnu, line.id).locator("button.support")).to_have_attribute(
        "aria-pressed", "true")
    assert support_rows([line.id]) == 1
    for phone in (aline, aline_tab, bishnu):
        assert_not_reloaded(phone)

    aline.reload()  # the server remembers who supports what
    expect(card(aline, line.id).locator("button.support")).to_have_attribute(
        "aria-pressed", "false")
    expect(card(aline, line.id).locator(".supporters")).to_have_text("1")


# --- 4. Filter and sort -----------------------------------------------------------------------


def test_filters_and_sorting_on_a_discuss_step(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    west = organisation("CNTS Senegal", "west_africa", "Senegal")
    asia = organisation("SEWA India", "asia", "India")
    latam = organisation("CGTP Peru", "latin_america", "Peru")
    by = {org.id: create_delegate(workshop, org) for org in (west, asia, latam)}
    p1 = create_proposal(workshop, by[west.id], "Green jobs", theme="decent_work",
                         level="national")
    p2 = create_proposal(workshop, by[asia.id], "Universal health cover",
                         theme="health_protection", level="continental")
    p3 = create_proposal(workshop, by[latam.id], "Solidarity economy",
                         theme="decent_work", level="international")
    p4 = create_proposal(workshop, by[asia.id], "Civic space watch", theme="social_dialogue",
                         level="national")
    supporters = [create_delegate(workshop, west) for _ in range(3)]
    plan = {p1: 1, p2: 3, p3: 2, p4: 0}  # supporters of each
    talk = {p1: 2, p2: 0, p3: 1, p4: 3}  # comments on each
    for proposal, n in plan.items():
        for delegate in supporters[:n]:
            proposal_services.set_support(delegate, workshop, proposal.id, True)
    for proposal, n in talk.items():
        for i in range(n):
            proposal_services.add_comment(supporters[0], workshop, proposal.id, f"Point {i}")
    go_to_kind(workshop, "discuss")
    phone, _ = invited_phone(room, workshop, cast.organisation, "Dolores")
    other, _ = invited_phone(room, workshop, cast.organisation, "Emeka")
    mark(phone)
    ids = {name: p.id for name, p in (("p1", p1), ("p2", p2), ("p3", p3), ("p4", p4))}
    newest = [ids["p4"], ids["p3"], ids["p2"], ids["p1"]]
    expect_order(phone, newest)

    theme = phone.locator("[data-filter='theme']")
    region = phone.locator("[data-filter='regions']")
    level = phone.locator("[data-filter='level']")
    sort = phone.locator("[data-sort]")

    theme.select_option("decent_work")
    expect_order(phone, [ids["p3"], ids["p1"]])
    level.select_option("national")
    expect_order(phone, [ids["p1"]])
    theme.select_option("")
    expect_order(phone, [ids["p4"], ids["p1"]])
    level.select_option("")
    region.select_option("asia")
    expect_order(phone, [ids["p4"], ids["p2"]])
    region.select_option("latin_america")
    expect_order(phone, [ids["p3"]])
    region.select_option("belgium")
    expect_order(phone, [])
    region.select_option("")
    expect_order(phone, newest)

    sort.select_option("supporters")
    expect_order(phone, [ids["p2"], ids["p3"], ids["p1"], ids["p4"]])
    sort.select_option("comments")
    expect_order(phone, [ids["p4"], ids["p1"], ids["p3"], ids["p2"]])
    sort.select_option("created")
    expect_order(phone, newest)

    # Live: another delegate's +1 moves a line up a phone sorted by support, filters kept.
    sort.select_option("supporters")
    level.select_option("national")
    expect_order(phone, [ids["p1"], ids["p4"]])
    card(other, ids["p4"]).locator("button.support").click()
    expect(card(phone, ids["p4"]).locator(".supporters")).to_have_text("1", timeout=LIVE)
    expect_order(phone, [ids["p4"], ids["p1"]])  # tied at 1: the newer first
    assert_not_reloaded(phone)


# --- 5. Translations --------------------------------------------------------------------------


def test_spanish_reader_sees_the_translation_and_can_open_the_french(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    author = create_delegate(workshop, cast.organisation, name="Jean-Claude")
    fr_title = "Mutuelles de santé pour les travailleurs de l'économie informelle"
    fr_text = "Étendre la protection sociale aux vendeurs de rue."
    es_title = "Mutuales de salud para los trabajadores de la economía informal"
    es_text = "Extender la protección social a los vendedores ambulantes."
    translated = french_proposal(workshop, author, fr_title, fr_text)
    proposal_services.translate_proposal(cast.organiser, workshop, translated.id, TranslationIn(
        language="es", title=es_title, description=es_text))
    untranslated = french_proposal(workshop, author, "Dialogue social au niveau régional")
    go_to_kind(workshop, "discuss")

    rosa = room.phone()  # joins choosing Spanish on the join form
    rosa.goto(f"/j/{workshop.join_code}")
    rosa.locator("#locale").select_option("es")
    fill_join_form(rosa, "Rosa Quispe", cast.organisation)
    expect(rosa).to_have_url(re.compile(r"/d$"))
    online(rosa)
    mark(rosa)
    english, _ = invited_phone(room, workshop, cast.organisation, "Emma", locale="en")

    line = card(rosa, translated.id)
    expect(line.locator(".card-title")).to_have_text(es_title)
    expect(line.locator(".card-title")).to_have_attribute("lang", "es")
    expect(line.locator(".card-text")).to_have_text(es_text)
    original = line.locator("details.original")
    expect(original.locator("p[lang='fr']").first).to_be_hidden()
    original.locator("summary").click()
    expect(original.locator("p[lang='fr']").first).to_be_visible()
    expect(original.locator("p[lang='fr']").first).to_have_text(fr_title)
    expect(original).to_contain_text(fr_text)
    # No Spanish yet: the French original, with nothing to open.
    expect(card(rosa, untranslated.id).locator(".card-title")).to_have_text(
        "Dialogue social au niveau régional")
    expect(card(rosa, untranslated.id).locator("details.original")).to_have_count(0)
    # An English reader has no English version: the original, as written.
    expect(card(english, translated.id).locator(".card-title")).to_have_text(fr_title)
    expect(card(english, translated.id).locator("details.original")).to_have_count(0)

    # The discussion page speaks Spanish too, with the way back to the French.
    rosa_page = room.phone(rosa.context)
    open_discussion(rosa_page, workshop, translated.id)
    expect(rosa_page).to_have_title(es_title)
    expect(rosa_page.locator("p.body")).to_have_text(es_text)
    rosa_page.locator("details.original summary").click()
    expect(rosa_page.locator("details.original p[lang='fr']").first).to_have_text(fr_title)

    # Emma (not the author) translates it into Spanish: a suggestion for the author, so
    # Rosa's phone stays French until it is accepted (see the next test).
    open_discussion(english, workshop, untranslated.id)
    english.locator("details.translate summary").click()
    english.locator("#t-language").select_option("es")
    english.locator("#t-title").fill("Diálogo social a nivel regional")
    english.get_by_role("button", name="Suggest this translation").click()
    expect(english.locator("#translate-form [data-sent]")).to_be_visible(timeout=LIVE)
    expect(card(rosa, untranslated.id).locator(".card-title")).to_have_text(
        "Dialogue social au niveau régional")
    expect(card(rosa, untranslated.id).locator("details.original")).to_have_count(0)
    expect(english.locator(".card-title")).to_have_text("Dialogue social au niveau régional")
    assert_not_reloaded(rosa)


def test_suggested_translation_is_read_only_once_the_author_accepts_it(room: Room,
                                                                        cast: Setup):
    """Issue 9: Emma's phone suggests a Spanish translation of Jean-Claude's French line;
    Rosa, reading Spanish, still reads the French; Jean-Claude's phone is offered the
    suggestion live and accepts it; Rosa's phone then reads the Spanish, and the history
    names both."""
    workshop = new_workshop(cast, "propose")
    fr_title = "Mutuelles de santé communautaires"
    es_title = "Mutuales de salud comunitarias"
    author_page, author = invited_phone(room, workshop, cast.organisation, "Jean-Claude",
                                        locale="fr")
    line = french_proposal(workshop, author, fr_title)
    go_to_kind(workshop, "discuss")
    emma, _ = invited_phone(room, workshop, cast.organisation, "Emma", locale="en")
    rosa, _ = invited_phone(room, workshop, cast.organisation, "Rosa", locale="es")
    mark(rosa)
    expect(card(rosa, line.id).locator(".card-title")).to_have_text(fr_title)

    # The author reads the line's discussion page: no suggestion yet.
    open_discussion(author_page, workshop, line.id)
    expect(author_page.locator("#translations .suggestion")).to_have_count(0)
    expect(author_page.locator("#translate-form")).to_have_attribute(
        "data-op", "proposal.translate")

    # Emma suggests (over the socket: her page does not reload).
    open_discussion(emma, workshop, line.id)
    mark(emma)
    emma.locator("details.translate summary").click()
    expect(emma.locator("#translate-form")).to_have_attribute("data-op", "translation.suggest")
    emma.locator("#t-language").select_option("es")
    emma.locator("#t-title").fill(es_title)
    emma.get_by_role("button", name="Suggest this translation").click()
    expect(emma.locator("#translate-form [data-sent]")).to_be_visible(timeout=LIVE)
    assert_not_reloaded(emma)
    # Her own suggestion is listed for her, waiting; nobody else's page changes.
    expect(emma.locator("#translations .suggestion")).to_have_count(1, timeout=LIVE)
    expect(emma.locator("#translations .suggestion button.accept")).to_have_count(0)

    # The author's page is offered it live, with Emma's name, and accepts it.
    offered = author_page.locator("#translations .suggestion")
    expect(offered).to_have_count(1, timeout=LIVE)
    expect(offered).to_contain_text("Emma")
    expect(offered.locator(".suggestion-title")).to_have_text(es_title)
    expect(card(rosa, line.id).locator(".card-title")).to_have_text(fr_title)
    no_horizontal_scroll(author_page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    author_page.screenshot(path=SHOTS / "phone-suggested-translation-360.png", full_page=True)
    offered.locator("button.accept").click()
    expect(author_page.locator("#translations .suggestion")).to_have_count(0, timeout=LIVE)

    # Rosa's phone reads the Spanish at once, naming who translated it; the original is a
    # tap away.
    title = card(rosa, line.id).locator(".card-title")
    expect(title).to_have_text(es_title, timeout=LIVE)
    expect(title).to_have_attribute("lang", "es")
    expect(card(rosa, line.id).locator("details.original summary")).to_contain_text("Emma")
    assert_not_reloaded(rosa)
    # The history names the translator and the author who accepted it.
    open_discussion(rosa, workshop, line.id)
    rosa.locator("#translation-history summary").click()
    entry = rosa.locator("#translation-history li").first
    expect(entry).to_contain_text("Emma")
    expect(entry).to_contain_text("Jean-Claude")
    expect(entry).to_contain_text(es_title)
    # Emma's page follows too: her suggestion is no longer waiting.
    expect(emma.locator("#translations .suggestion")).to_have_count(0, timeout=LIVE)


# --- 6. Merging duplicates --------------------------------------------------------------------


def test_merge_shows_one_line_with_everyone_s_support_and_undo_restores(room: Room,
                                                                       cast: Setup):
    workshop = new_workshop(cast, "propose")
    west = organisation("UNTM Mali", "west_africa", "Mali")
    asia = organisation("GEFONT Nepal", "asia", "Nepal")
    first = create_proposal(workshop, create_delegate(workshop, west),
                            "Social protection for informal workers", theme="health_protection")
    second = create_proposal(workshop, create_delegate(workshop, asia),
                             "Social protection of informal economy workers",
                             theme="health_protection")
    kept = create_proposal(workshop, title="Decent work in the care economy")
    go_to_kind(workshop, "discuss")
    d1, aline_link = invitation(workshop, cast.organisation, "Aline")
    d2, bishnu_link = invitation(workshop, asia, "Bishnu")
    d3 = create_delegate(workshop, west)
    for delegate, proposal in ((d1, first), (d2, first), (d2, second), (d3, second)):
        proposal_services.set_support(delegate, workshop, proposal.id, True)
    phones = [open_invitation(room, aline_link), open_invitation(room, bishnu_link)]
    for phone in phones:
        expect(card(phone, first.id).locator(".supporters")).to_have_text("2")
        expect(card(phone, second.id).locator(".supporters")).to_have_text("2")
        mark(phone)
    facilitator = moderation(room, cast, workshop)
    expect(facilitator.locator("#duplicates")).to_contain_text(first.title)
    SHOTS.mkdir(parents=True, exist_ok=True)
    facilitator.screenshot(path=SHOTS / "moderation-1366x800.png")
    facilitator.screenshot(path=SHOTS / "moderation-1366-full.png", full_page=True)

    for proposal in (first, second):
        facilitator.locator(f"input[name='proposal_ids'][value='{proposal.id}']").check()
    facilitator.locator("#m-title").fill("Social protection floors for the informal economy")
    facilitator.get_by_role("button", name="Merge the ticked lines").click()
    expect(facilitator.locator(".flash.success")).to_contain_text("Merged into one line of work.")

    fresh()
    merged = db.session.scalars(sa.select(Proposal).where(
        Proposal.workshop_id == workshop.id, Proposal.source == "merge")).one()
    for phone in phones:
        expect(card(phone, first.id)).to_have_count(0, timeout=LIVE)
        expect(card(phone, second.id)).to_have_count(0)
        line = card(phone, merged.id)
        expect(line.locator(".card-title")).to_have_text(
            "Social protection floors for the informal economy", timeout=LIVE)
        expect(line.locator(".supporters")).to_have_text("3")  # Bishnu's two +1s count once
        expect(line).to_contain_text("Merged from 2 proposals")
        expect(line.locator(".origin")).to_contain_text(west.name)
        expect(line.locator(".origin")).to_contain_text(asia.name)
        expect(card(phone, kept.id)).to_have_count(1)
        expect(phone.locator(".line-count")).to_have_text("2")
        assert_not_reloaded(phone)

    facilitator.locator(f".moderated[data-proposal-id='{merged.id}']").get_by_role(
        "button", name="Undo the merge").click()

    for phone in phones:
        expect(card(phone, merged.id)).to_have_count(0, timeout=LIVE)
        expect(card(phone, first.id).locator(".supporters")).to_have_text("2", timeout=LIVE)
        expect(card(phone, second.id).locator(".supporters")).to_have_text("2", timeout=LIVE)
        expect(card(phone, first.id).locator(".card-title")).to_have_text(first.title)
        expect(phone.locator(".line-count")).to_have_text("3")
        assert_not_reloaded(phone)
    assert support_rows([first.id, second.id]) == 4  # nothing lost on the way


def test_supporter_of_a_merged_proposal_sees_their_plus_one_on_the_merged_line(
        room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    first = create_proposal(workshop, title="Youth employment guarantee")
    second = create_proposal(workshop, title="Guarantee of jobs for young people")
    go_to_kind(workshop, "discuss")
    phone, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    card(phone, first.id).locator("button.support").click()
    expect(card(phone, first.id).locator("button.support")).to_have_attribute(
        "aria-pressed", "true", timeout=LIVE)
    facilitator = moderation(room, cast, workshop)
    for proposal in (first, second):
        facilitator.locator(f"input[name='proposal_ids'][value='{proposal.id}']").check()
    facilitator.locator("#m-title").fill("Jobs for young people")
    facilitator.get_by_role("button", name="Merge the ticked lines").click()
    merged = phone.locator("#cards > .card").filter(has_text="Jobs for young people")
    expect(merged.locator(".supporters")).to_have_text("1", timeout=LIVE)

    expect(merged.locator("button.support")).to_have_attribute("aria-pressed", "true")


# --- 7. Hostile text --------------------------------------------------------------------------


def test_markup_in_user_text_is_shown_as_text_everywhere(room: Room, cast: Setup):
    workshop = new_workshop(cast, "welcome")
    projector = projector_moved_to(room, cast, workshop, "propose")
    aline, _ = invited_phone(room, workshop, cast.organisation, "Aline")
    bishnu, _ = invited_phone(room, workshop, cast.organisation, "Bishnu")

    # Through the live path: the socket and the wall.
    form = send_proposal(aline, HOSTILE, "labour_rights", "international",
                         description=f"Description {HOSTILE}")
    expect(form.locator("[data-sent]")).to_be_visible(timeout=LIVE)

    for screen in (aline, bishnu, projector):
        line = screen.locator("#cards > .card")
        expect(line.locator(".card-title")).to_have_text(HOSTILE, timeout=LIVE)
        expect(line.locator(".card-text")).to_have_text(f"Description {HOSTILE}")
        no_injected_markup(screen)
    fresh()
    proposal = db.session.scalars(sa.select(Proposal).where(
        Proposal.workshop_id == workshop.id)).one()
    create_proposal(workshop, title=HOSTILE)  # a twin, so moderation suggests the pair

    # The discussion page, with a hostile comment arriving live.
    for phone in (aline, bishnu):
        open_discussion(phone, workshop, proposal.id)
        expect(phone).to_have_title(HOSTILE)
        expect(phone.locator(".card-title")).to_have_text(HOSTILE)
    send_comment(bishnu, HOSTILE)
    expect(aline.locator("#comments .comment-body")).to_have_text(HOSTILE, timeout=LIVE)
    aline.reload()
    expect(aline.locator("#comments .comment-body")).to_have_text(HOSTILE)
    expect(aline.locator("p.body")).to_have_text(f"Description {HOSTILE}")
    for phone in (aline, bishnu):
        no_injected_markup(phone)

    # The moderation page: the list and the duplicate suggestions.
    facilitator = moderation(room, cast, workshop)
    expect(facilitator.locator(".moderated .card-title")).to_have_text([HOSTILE, HOSTILE])
    expect(facilitator.locator("#duplicates tbody td").filter(has_text=HOSTILE)).to_have_count(2)
    facilitator.goto(f"/w/{workshop.id}/proposals/{proposal.id}")  # staff's discussion view
    expect(facilitator.locator("#comments .comment-body")).to_have_text(HOSTILE)
    expect(facilitator.locator("#e-title")).to_have_value(HOSTILE)
    no_injected_markup(facilitator)
    # room's teardown fails the test if any alert() opened


# --- 8. Small screens -------------------------------------------------------------------------


def test_a_busy_step_fits_a_360_px_phone(room: Room, cast: Setup):
    workshop = new_workshop(cast, "propose")
    long_org = create_organisation(
        region="west_africa", country="Burkina Faso",
        name="Confédération nationale des travailleurs du Burkina – Section des mutuelles")
    author = create_delegate(workshop, long_org, name="Marie-Thérèse Ouédraogo")
    lines = [
        french_proposal(workshop, author, "Couverture sanitaire universelle et mutuelles de "
                        "santé communautaires dans toutes les régions",
                        description="Voir https://example.org/programme/2027-2031/"
                        "protection-sociale-universelle-mutuelles-communautaires-rapport-final"),
        create_proposal(workshop, author, "Antidiscriminationlegislationenforcementnetworks",
                        theme="labour_rights", level="continental"),
        create_proposal(workshop, title="Decent work for domestic workers",
                        description="Organise, train, negotiate.\n" * 4),
        create_proposal(workshop, title="Civic space monitoring", theme="social_dialogue"),
    ]
    proposal_services.translate_proposal(cast.organiser, workshop, lines[0].id, TranslationIn(
        language="en", title="Universal health coverage and community health mutuals"))
    phone, _ = invited_phone(room, workshop, cast.organisation, "Ngozi", locale="en")
    expect(phone.locator("#cards > .card")).to_have_count(4)
    no_horizontal_scroll(phone)  # the propose step: the form and the list

    go_to_kind(workshop, "discuss")
    proposal_services.set_support(author, workshop, lines[0].id, True)
    proposal_services.add_comment(author, workshop, lines[0].id, "D'accord.")
    phone.reload()
    online(phone)
    expect(phone.locator("#step .step-title")).to_have_text("Step 3")
    expect(phone.locator("#cards > .card")).to_have_count(4)
    plus_one = card(phone, lines[2].id).locator("button.support")
    plus_one.click()
    expect(plus_one).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    no_horizontal_scroll(phone)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SHOTS / "phone-discuss-360x740.png")
    card(phone, lines[0].id).locator("details.original summary").click()
    no_horizontal_scroll(phone)
    phone.screenshot(path=SHOTS / "phone-discuss-360-full.png", full_page=True)

    open_discussion(phone, workshop, lines[0].id)
    phone.locator("details.translate summary").click()
    no_horizontal_scroll(phone)
    phone.screenshot(path=SHOTS / "phone-discussion-360-full.png", full_page=True)
