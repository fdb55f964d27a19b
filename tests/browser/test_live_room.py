"""A live room in real browsers: phones, a projector and the facilitator's console.

Playwright drives Debian's Chromium against the real gevent server (`live_server`). Every test
makes its own workshop. Nothing here sleeps: assertions use Playwright's auto-waiting `expect`
or `wait_for_function` (the only deliberate wait is a short in-page watch that proves a paused
timer does not move).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.conftest import DESKTOP, PHONE, LiveServer
from tests.helpers import (
    PASSWORD,
    create_organisation,
    create_user,
    create_workshop,
    invite,
)
from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.auth.models import User
from workshop.extensions import db

pytestmark = pytest.mark.browser

LIVE = 3_000  # ms: "within a second or two" for anything pushed over the socket
SHOTS = Path(os.environ.get("SHOTS_DIR", Path(tempfile.gettempdir()) / "shots"))


# --- The cast ---------------------------------------------------------------------------------


@dataclass
class Room:
    """Opens the people of a live room, each in their own browser context (own cookies).

    Every page is watched: a JavaScript dialog (e.g. an injected `alert`) or an uncaught
    script error fails the test at teardown.
    """

    browser: Browser
    live: LiveServer
    contexts: list[BrowserContext] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def context(self, options: dict, **extra) -> BrowserContext:
        ctx = self.browser.new_context(**options, base_url=self.live.url, **extra)
        ctx.set_default_timeout(10_000)
        self.contexts.append(ctx)
        return ctx

    def page(self, ctx: BrowserContext) -> Page:
        page = ctx.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        return page

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def staff(self, user: User, path: str) -> Page:
        """A staff laptop, logged in through the real form, then sent on to `path`."""
        page = self.page(self.context(DESKTOP))
        page.goto(f"/login?next={path}")
        page.locator("#email").fill(user.email)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        return page

    def console(self, workshop: Workshop, user: User) -> Page:
        """A facilitator's laptop on the console, its socket connected."""
        page = self.staff(user, f"/w/{workshop.id}/console")
        online(page)
        return page

    def projector(self, workshop: Workshop) -> Page:
        """The big screen, opened with the workshop's projector key (no login)."""
        page = self.page(self.context(DESKTOP))
        page.goto(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
        online(page)
        return page

    def phone(self, ctx: BrowserContext | None = None) -> Page:
        return self.page(ctx or self.context(PHONE))

    def joined_phone(self, workshop: Workshop, organisation: Organisation, name: str,
                     ctx: BrowserContext | None = None) -> Page:
        """A phone that joined through /j/<code> and is live on /d."""
        page = self.phone(ctx)
        page.goto(f"/j/{workshop.join_code}")
        fill_join_form(page, name, organisation)
        expect(page).to_have_url(re.compile(r"/d$"))
        online(page)
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def room(browser: Browser, live: LiveServer) -> Iterator[Room]:
    """The people of a live room; at the end no dialog may have opened, no script failed."""
    people = Room(browser, live)
    yield people
    people.close()
    assert people.dialogs == [], "a JavaScript dialog opened (injected script?)"
    assert people.errors == [], "uncaught script errors"


@dataclass
class Setup:
    organiser: User
    facilitator: User
    organisation: Organisation


@pytest.fixture
def cast(live: LiveServer) -> Setup:
    """An organiser, a facilitator and an organisation (in the live server's database)."""
    return Setup(
        organiser=create_user("organiser"),
        facilitator=create_user("facilitator"),
        organisation=create_organisation(region="central_africa", country="Burundi"),
    )


def new_workshop(cast: Setup, steps: int = 3, durations: tuple[int | None, ...] = ()) -> Workshop:
    return create_workshop(cast.organiser, steps=steps, facilitator=cast.facilitator,
                           durations=durations)


# --- Small steps of the story -----------------------------------------------------------------


def online(page: Page) -> None:
    """Wait until the page's socket is connected."""
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=LIVE)


def fill_join_form(page: Page, name: str, organisation: Organisation) -> None:
    page.locator("#name").fill(name)
    page.locator("#organisation_id").select_option(str(organisation.id))
    page.get_by_role("button", name="Join").click()


def go(console: Page, step_id: int) -> None:
    """The facilitator clicks "Go" on a step; the console marks it current."""
    item = console.locator(f"#agenda li[data-step-id='{step_id}']")
    item.get_by_role("button", name="Go").click()
    expect(item).to_have_class(re.compile(r"\bcurrent\b"), timeout=LIVE)


def step_title(page: Page):
    return page.locator("#step .step-title")


def mark(page: Page) -> None:
    """Put a marker in the page's JavaScript world: a reload would wipe it."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"


def timer_seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def delegate_count(workshop: Workshop) -> int:
    db.session.rollback()  # see the server's latest commits
    return db.session.scalar(
        sa.select(sa.func.count(Delegate.id)).where(Delegate.workshop_id == workshop.id)
    )


# --- Joining ----------------------------------------------------------------------------------


def test_delegate_joins_by_code_and_console_sees_them_live(room: Room, cast: Setup):
    workshop = new_workshop(cast)
    console = room.console(workshop, cast.facilitator)
    mark(console)
    expect(console.locator("#joined-total")).to_have_text("0")

    phone = room.phone()
    phone.goto("/")
    phone.locator("#code").fill(workshop.join_code.lower())  # codes are typed carelessly
    phone.get_by_role("button", name="Continue").click()
    expect(phone).to_have_url(re.compile(rf"/j/{workshop.join_code}$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(workshop.title)
    fill_join_form(phone, "Aline Nshimirimana", cast.organisation)

    expect(phone).to_have_url(re.compile(r"/d$"))
    expect(phone).to_have_title(workshop.title)
    expect(phone.locator(".who")).to_have_text(
        f"Aline Nshimirimana, {cast.organisation.name}")
    expect(phone.locator("#step")).to_contain_text(workshop.title)  # no step yet: the title
    online(phone)

    row = console.locator("#delegates li").filter(has_text="Aline Nshimirimana")
    expect(row).to_have_count(1, timeout=LIVE)
    expect(row).to_contain_text(f"{cast.organisation.name} · Burundi")
    expect(row).to_have_class("online", timeout=LIVE)
    expect(console.locator("#joined-total")).to_have_text("1", timeout=LIVE)
    expect(console.locator("#by-region [data-region='central_africa'] b")).to_have_text("1")
    assert_not_reloaded(console)


def test_delegate_opens_invitation_link_and_is_in(room: Room, cast: Setup):
    workshop = new_workshop(cast)
    _, token = invite(workshop, cast.organiser, cast.organisation, name="Rosa Quispe")

    phone = room.phone()
    phone.goto(f"/i/{token}")

    expect(phone).to_have_url(re.compile(r"/d$"))
    expect(phone.locator(".who")).to_have_text(f"Rosa Quispe, {cast.organisation.name}")
    online(phone)
    # The landing page now offers the way back, without a code.
    phone.goto("/")
    phone.get_by_role("link", name=f"Back to {workshop.title}").click()
    expect(phone).to_have_url(re.compile(r"/d$"))


# --- Following the facilitator ----------------------------------------------------------------


def test_go_moves_phones_and_projector_without_reload(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=3)
    step1, step2 = workshop.steps[0], workshop.steps[1]
    console = room.console(workshop, cast.facilitator)
    go(console, step1.id)
    screens = [
        room.joined_phone(workshop, cast.organisation, "Aline"),
        room.joined_phone(workshop, cast.organisation, "Bongani"),
        room.projector(workshop),
    ]
    for screen in screens:
        expect(step_title(screen)).to_have_text("Step 1")
        mark(screen)

    go(console, step2.id)

    for screen in screens:
        expect(step_title(screen)).to_have_text("Step 2", timeout=LIVE)
        expect(screen.locator("#step .body")).to_have_text("Body of step 2")
        assert_not_reloaded(screen)


def test_reloaded_phone_keeps_its_identity_and_the_current_step(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=3)
    console = room.console(workshop, cast.facilitator)
    phone = room.joined_phone(workshop, cast.organisation, "Chandra Tamang")
    go(console, workshop.steps[2].id)
    expect(step_title(phone)).to_have_text("Step 3", timeout=LIVE)

    phone.reload()

    expect(phone).to_have_url(re.compile(r"/d$"))
    expect(phone.locator(".who")).to_have_text(f"Chandra Tamang, {cast.organisation.name}")
    expect(step_title(phone)).to_have_text("Step 3")
    online(phone)
    rows = console.locator("#delegates li")
    expect(rows).to_have_count(1)
    expect(rows).to_have_class("online", timeout=LIVE)
    assert delegate_count(workshop) == 1


def test_timer_counts_down_pauses_and_extends_on_every_screen(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=2)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    projector = room.projector(workshop)
    phone = room.joined_phone(workshop, cast.organisation, "Dinh")
    timer = projector.locator("#timer")
    expect(timer).to_be_hidden()  # the step has no duration: no timer yet

    console.locator("#timer-seconds").select_option(str(60))
    console.locator("#timer-start").click()

    expect(timer).to_have_text(re.compile(r"^(1:00|0:59)$"), timeout=LIVE)
    expect(timer).to_have_attribute("data-status", "running")
    expect(phone.locator("#timer")).to_have_text(re.compile(r"^(1:00|0:59|0:58)$"))
    first = timer_seconds(timer.inner_text())
    projector.wait_for_function(
        """first => {
            const [m, s] = document.getElementById("timer").textContent.split(":");
            return Number(m) * 60 + Number(s) < first;
        }""", arg=first, timeout=5_000)

    console.locator("#timer-pause").click()
    expect(timer).to_have_attribute("data-status", "paused", timeout=LIVE)
    expect(phone.locator("#timer")).to_have_attribute("data-status", "paused", timeout=LIVE)
    paused = timer.inner_text()
    expect(phone.locator("#timer")).to_have_text(paused)
    expect(console.locator("#timer")).to_have_text(paused, timeout=LIVE)
    # Frozen: watch the projector's display for 1.5 s (a paused timer has nothing ticking).
    changes = projector.evaluate(
        """() => new Promise(done => {
            const el = document.getElementById("timer"), seen = [];
            const watch = new MutationObserver(() => seen.push(el.textContent));
            watch.observe(el, {childList: true, characterData: true, subtree: true});
            setTimeout(() => { watch.disconnect(); done(seen); }, 1500);
        })""")
    assert changes == []
    assert timer.inner_text() == paused

    console.locator("#timer-plus").click()
    more = timer_seconds(paused) + 60
    expected = f"{more // 60}:{more % 60:02d}"
    expect(timer).to_have_text(expected, timeout=LIVE)
    expect(timer).to_have_attribute("data-status", "paused")
    expect(phone.locator("#timer")).to_have_text(expected, timeout=LIVE)

    console.locator("#timer-seconds").select_option("")  # no new duration: resume
    console.locator("#timer-start").click()
    expect(timer).to_have_attribute("data-status", "running", timeout=LIVE)
    projector.wait_for_function(
        """more => {
            const [m, s] = document.getElementById("timer").textContent.split(":");
            return Number(m) * 60 + Number(s) < more;
        }""", arg=more, timeout=5_000)

    console.locator("#timer-reset").click()
    expect(timer).to_have_attribute("data-status", "idle", timeout=LIVE)
    expect(timer).to_have_text("1:00")


# --- Bad networks -----------------------------------------------------------------------------


def test_phone_without_websockets_follows_by_long_polling(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=3)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)

    # A browser without WebSocket at all ...
    no_ws = room.context(PHONE)
    no_ws.add_init_script("delete window.WebSocket")
    # ... and a network that refuses every websocket upgrade.
    refused: list[str] = []

    def refuse(ws: WebSocketRoute) -> None:
        refused.append(ws.url)
        ws.close(code=1008, reason="blocked by the network")

    blocked = room.context(PHONE)
    blocked.route_web_socket(re.compile(r"/socket\.io/"), refuse)

    phones = [
        room.joined_phone(workshop, cast.organisation, "Esperanza", ctx=no_ws),
        room.joined_phone(workshop, cast.organisation, "Fatou", ctx=blocked),
    ]
    assert phones[0].evaluate("typeof window.WebSocket") == "undefined"
    for phone in phones:
        expect(step_title(phone)).to_have_text("Step 1")
        mark(phone)

    go(console, workshop.steps[1].id)

    for phone in phones:
        expect(step_title(phone)).to_have_text("Step 2", timeout=LIVE)
        assert_not_reloaded(phone)
    assert refused, "the phone never tried to upgrade to a websocket"


def test_phone_back_online_lands_on_the_current_step(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=3)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    ctx = room.context(PHONE)
    phone = room.joined_phone(workshop, cast.organisation, "Gita", ctx=ctx)
    expect(step_title(phone)).to_have_text("Step 1")
    mark(phone)

    ctx.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline",
                                                           timeout=LIVE)
    go(console, workshop.steps[2].id)
    expect(step_title(phone)).to_have_text("Step 1")  # it cannot know yet
    ctx.set_offline(False)

    # Socket.IO retries with a growing delay (1 s, 2 s, ... at most 5 s): allow one full round.
    expect(phone.locator("#connection")).to_have_attribute("data-state", "online",
                                                           timeout=8_000)
    expect(step_title(phone)).to_have_text("Step 3", timeout=LIVE)
    assert_not_reloaded(phone)


# --- Small screens and hostile text -----------------------------------------------------------


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"{page.url} scrolls sideways ({width} px)"


def test_phone_pages_fit_360_px(room: Room, cast: Setup):
    long_org = create_organisation(
        region="west_africa", country="Senegal",
        name="Confédération nationale des travailleurs du Sénégal – Forces du changement",
    )
    workshop = new_workshop(cast, steps=2)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    phone = room.phone()

    phone.goto("/")
    no_horizontal_scroll(phone)
    phone.goto(f"/j/{workshop.join_code}")
    no_horizontal_scroll(phone)
    fill_join_form(phone, "Marie-Thérèse Ndiaye-Diouf Ouédraogo", long_org)
    expect(phone).to_have_url(re.compile(r"/d$"))
    online(phone)
    no_horizontal_scroll(phone)

    console.locator("#timer-seconds").select_option(str(600))
    console.locator("#timer-start").click()
    expect(phone.locator("#timer")).to_be_visible(timeout=LIVE)
    no_horizontal_scroll(phone)

    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SHOTS / "phone-d-360x740.png")
    projector = room.projector(workshop)
    expect(projector.locator("#timer")).to_be_visible()
    projector.screenshot(path=SHOTS / "projector-1366x800.png")


def test_delegate_name_with_markup_is_shown_as_text(room: Room, cast: Setup):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    workshop = new_workshop(cast, steps=2)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)  # the welcome step greets the delegate by name

    phone = room.joined_phone(workshop, cast.organisation, hostile)

    live_row = console.locator("#delegates li .name")  # added by the socket event
    expect(live_row).to_have_text(hostile, timeout=LIVE)
    expect(phone.locator(".who")).to_have_text(f"{hostile}, {cast.organisation.name}")
    expect(phone.locator("#step")).to_contain_text(f"Welcome, {hostile}.")
    console.reload()  # and rendered by the server
    expect(console.locator("#delegates li .name")).to_have_text(hostile)
    for page in (console, phone):
        assert page.locator("#delegates img, #step img, .who img, script:not([src])").count() == 0
    # room's teardown fails the test if any alert() dialog opened


# --- Regressions found by these tests ---------------------------------------------------------


def test_editing_the_current_step_reaches_the_screens(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=2)
    step = workshop.steps[0]
    console = room.console(workshop, cast.facilitator)
    go(console, step.id)
    phone = room.joined_phone(workshop, cast.organisation, "Hamid")
    organiser = room.staff(cast.organiser, f"/w/{workshop.id}/manage")

    organiser.locator(f"form[action$='/steps/{step.id}']").locator("xpath=..").locator(
        "summary").click()
    organiser.locator(f"#step{step.id}-title").fill("Decent work: first lines")
    organiser.locator(f"form[action$='/steps/{step.id}']").get_by_role(
        "button", name="Save").click()

    expect(step_title(phone)).to_have_text("Decent work: first lines", timeout=LIVE)


def test_start_after_pause_resumes(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=1)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    timer = console.locator("#timer")
    console.locator("#timer-seconds").select_option(str(60))
    console.locator("#timer-start").click()
    expect(timer).to_have_attribute("data-status", "running", timeout=LIVE)
    console.locator("#timer-pause").click()
    expect(timer).to_have_attribute("data-status", "paused", timeout=LIVE)
    console.locator("#timer-plus").click()
    expect(timer).to_have_text(re.compile(r"^(1:5\d|2:00)$"), timeout=LIVE)

    console.locator("#timer-start").click()  # what a facilitator does to resume

    expect(timer).to_have_attribute("data-status", "running", timeout=LIVE)
    assert timer_seconds(timer.inner_text()) > 60, "the +1 min and the time left were lost"


def test_timer_with_time_to_spare_is_not_shown_as_ending(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=1)
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    projector = room.projector(workshop)
    timer = projector.locator("#timer")
    console.locator("#timer-seconds").select_option(str(60))
    console.locator("#timer-start").click()
    expect(timer).to_have_class(re.compile(r"\bending\b"), timeout=LIVE)  # last minute: right
    console.locator("#timer-pause").click()
    console.locator("#timer-plus").click()
    expect(timer).to_have_text(re.compile(r"^(1:5\d|2:00)$"), timeout=LIVE)

    expect(timer).not_to_have_class(re.compile(r"\bending\b"), timeout=1_000)


def test_projector_fits_a_1366_by_800_screen(room: Room, cast: Setup):
    workshop = new_workshop(cast, steps=1, durations=(10,))
    console = room.console(workshop, cast.facilitator)
    go(console, workshop.steps[0].id)
    projector = room.projector(workshop)
    expect(projector.locator("#timer")).to_have_text("10:00")

    size = projector.evaluate("""() => ({
        width: document.documentElement.scrollWidth,
        height: document.documentElement.scrollHeight})""")
    assert size == {"width": 1366, "height": 800}
