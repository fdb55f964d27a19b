"""A live room in real browsers: phones, a projector and the facilitator's console.

Playwright drives Debian's Chromium against the real gevent server (`live_server`). Every test
makes its own workshop. Nothing here sleeps: assertions use Playwright's auto-waiting `expect`
or `wait_for_function` (the only deliberate wait is a short in-page watch that proves a paused
timer does not move).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import WebSocketRoute, expect

from tests.browser.people import (
    LIVE,
    RECONNECT,
    SHOTS,
    Room,
    Setup,
    assert_not_reloaded,
    fill_join_form,
    go,
    mark,
    no_horizontal_scroll,
    online,
    step_requests,
    step_title,
    timer_seconds,
)
from tests.conftest import PHONE
from tests.helpers import (
    create_organisation,
    create_workshop,
    invite,
)
from workshop.agenda.models import Delegate, Workshop
from workshop.extensions import db

pytestmark = pytest.mark.browser


def new_workshop(cast: Setup, steps: int = 3, durations: tuple[int | None, ...] = ()) -> Workshop:
    return create_workshop(cast.organiser, steps=steps, facilitator=cast.facilitator,
                           durations=durations)


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
    fetched = []
    for phone in phones:
        expect(step_title(phone)).to_have_text("Step 1")
        mark(phone)
        fetched.append(step_requests(phone))

    go(console, workshop.steps[1].id)

    for phone, requests in zip(phones, fetched, strict=True):
        expect(step_title(phone)).to_have_text("Step 2", timeout=LIVE)
        assert_not_reloaded(phone)
        # A propose step's part came with the state, over long-polling too: nothing fetched.
        expect(phone.locator("#propose-form")).to_be_visible()
        assert requests == []
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

    online(phone, timeout=RECONNECT)  # at Socket.IO's next attempt
    expect(step_title(phone)).to_have_text("Step 3", timeout=LIVE)
    assert_not_reloaded(phone)


# --- Small screens and hostile text -----------------------------------------------------------


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
