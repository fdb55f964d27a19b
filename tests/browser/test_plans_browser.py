"""Action plans in real browsers: phones (360 px, touch) of a working group co-write a plan
live; the facilitator's laptop carries lines forward, assigns groups and spotlights a plan; the
projector shows progress.

Playwright drives Debian's Chromium against the real gevent server. Nothing sleeps on a fixed
time: every wait is an `expect` on the page, or a poll of the database for what the server
committed. A phone's network is cut with `context.set_offline` and by routing its websocket
through `Link` (Chromium's offline mode leaves an open websocket alone).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.people import RECONNECT, Room, Setup, online
from tests.helpers import (
    carry_forward,
    cast_vote,
    create_delegate,
    create_workshop,
    edit_plan,
    go_to_kind,
    invite,
    open_test_ballot,
)
from workshop.agenda.models import Workshop
from workshop.auth.models import User
from workshop.extensions import db
from workshop.plans import services as plans
from workshop.plans.models import Plan, PlanChange, PlanField
from workshop.plans.schemas import AssignIn
from workshop.proposals.models import Proposal
from workshop.voting import services as voting

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms for anything pushed over the socket
SAVE = 8_000  # ms for a field to save itself (debounce, round trip, maybe a merge and resend)


# --- The live link of a phone ------------------------------------------------------------------


class Link:
    """A page's Socket.IO websocket, routed through Playwright so a test can cut it.

    Each direction ("up": page to server, "down": server to page) passes, holds (frames are
    kept, then sent in order on `release`) or drops frames. `cut` drops everything, closes the
    open websockets and refuses new ones, as a phone that lost its network sees it.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.mode = {"up": "pass", "down": "pass"}
        self.held: list[tuple[WebSocketRoute, str | bytes]] = []
        self.sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self.refusing = False
        page.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if self.refusing:
            ws.close()
            return
        server = ws.connect_to_server()
        self.sockets.append((ws, server))
        ws.on_message(lambda message: self._forward("up", server, message))
        server.on_message(lambda message: self._forward("down", ws, message))

    def _forward(self, direction: str, to: WebSocketRoute, message: str | bytes) -> None:
        mode = self.mode[direction]
        if mode == "hold":
            self.held.append((to, message))
        elif mode == "pass":
            to.send(message)

    def websocket(self) -> None:
        """Wait until Socket.IO has upgraded from long-polling to the (routed) websocket."""
        self.page.wait_for_function(
            "() => { const s = window.Live && Live.current && Live.current.socket;"
            " return !!(s && s.connected && s.io.engine.transport.name === 'websocket'); }",
            timeout=LIVE)

    def hold(self, direction: str) -> None:
        self.mode[direction] = "hold"

    def release(self) -> None:
        held, self.held = self.held, []
        self.mode = {"up": "pass", "down": "pass"}
        for to, message in held:
            to.send(message)

    def drop(self, direction: str) -> None:
        self.mode[direction] = "drop"

    def cut(self) -> None:
        """The network goes: no HTTP, frames dropped, the open websockets closed."""
        self.page.context.set_offline(True)
        self.refusing = True
        self.mode = {"up": "drop", "down": "drop"}
        for ws, server in self.sockets:
            server.close()
            ws.close()
        self.sockets = []
        expect(self.page.locator("#connection")).to_have_attribute("data-state", "offline",
                                                                   timeout=LIVE)

    def restore(self) -> None:
        """The network is back: the page reconnects by itself."""
        self.refusing = False
        self.mode = {"up": "pass", "down": "pass"}
        self.page.context.set_offline(False)


# --- The room -----------------------------------------------------------------------------------


@dataclass
class Plans:
    """A workshop on its action-plan step, with plans made from its top lines of work."""

    workshop: Workshop
    plans: list[Plan]
    setup: Setup

    @property
    def organiser(self) -> User:
        return self.setup.organiser


@pytest.fixture
def plans_room(live, cast: Setup) -> Plans:
    workshop = create_workshop(cast.organiser, steps=6, facilitator=cast.facilitator)
    made, _, _ = carry_forward(workshop, n=3)
    go_to_kind(workshop, "action_plan")
    return Plans(workshop, made, cast)


def group(p: Plans, plan: Plan, *names: str) -> list[str]:
    """Invite delegates and put them in a plan's working group; their invitation tokens.

    Done before any phone opens: a group change reloads the step on every phone.
    """
    tokens = []
    for name in names:
        delegate, token = invite(p.workshop, p.organiser, p.setup.organisation, name)
        plans.assign_member(p.organiser, p.workshop, AssignIn(
            workshop_id=p.workshop.id, delegate_id=delegate.id, plan_id=plan.id))
        tokens.append(token)
    return tokens


def phone(room: Room, token: str, link: bool = False) -> tuple[Page, Link | None]:
    """A phone opened with its invitation link, live on /d (its websocket routed if `link`)."""
    page = room.phone()
    routed = Link(page) if link else None
    page.goto(f"/i/{token}")
    expect(page).to_have_url(re.compile(r"/d$"))
    online(page)
    if routed:
        routed.websocket()
    return page, routed


def pfield(page: Page, key: str):
    return page.locator(f"[data-plan-editor] .pfield[data-field='{key}']")


def box(page: Page, key: str):
    """The input, textarea or rows of a field."""
    return pfield(page, key).locator("[data-value]")


def status(page: Page, key: str):
    return pfield(page, key).locator(".fstatus")


def stored(plan: Plan, key: str) -> tuple[int, Any]:
    """(version, value) of a field as the server committed it."""
    db.session.rollback()
    row = db.session.scalar(sa.select(PlanField).where(PlanField.plan_id == plan.id,
                                                       PlanField.key == key))
    return row.version, row.value


def changes(plan: Plan, key: str) -> list[PlanChange]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(PlanChange).where(
        PlanChange.plan_id == plan.id, PlanChange.field_key == key).order_by(PlanChange.id)))


def eventually(page: Page, check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait (letting the browser run) until the database shows what `check` looks for."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        page.wait_for_timeout(50)


def caret(page: Page, key: str, where: str) -> None:
    """Focus a text field and put the caret at its start or end."""
    box(page, key).focus()
    box(page, key).evaluate(
        "(el, where) => { const n = where === 'start' ? 0 : el.value.length;"
        " el.setSelectionRange(n, n); }", where)


# --- Stories ------------------------------------------------------------------------------------


def test_carrying_three_lines_forward_makes_three_prefilled_plans(room: Room, cast: Setup):
    workshop = create_workshop(cast.organiser, steps=6, facilitator=cast.facilitator)
    texts = [("Social protection floors", "Health mutuals cover informal workers."),
             ("Decent work in platforms", "Riders and drivers organise across borders."),
             ("Just transition", "Mining towns plan the jobs after coal."),
             ("Care work", "Domestic workers' rights.")]
    lines = [Proposal(workshop_id=workshop.id, title=t, description=d, theme="decent_work",
                      level="national", language="en") for t, d in texts]
    db.session.add_all(lines)
    db.session.commit()
    ballot = open_test_ballot(workshop, "approval")
    for voters in range(4):  # line i is approved by 4 - i delegates: no tie
        for _ in range(4 - voters):
            cast_vote(create_delegate(workshop), ballot, [lines[voters].id])
    voting.close_ballot(cast.organiser, workshop, ballot)
    go_to_kind(workshop, "action_plan")
    _, token = invite(workshop, cast.organiser, cast.organisation, "Aline")
    aline, _ = phone(room, token)
    expect(aline.locator("#step")).to_contain_text("once the facilitator carries the top lines")

    desk = room.staff(cast.facilitator, f"/w/{workshop.id}/ballots/{ballot.id}/results")
    desk.locator("#n").fill("3")
    desk.get_by_role("button", name="Preview").click()
    expect(desk.locator("#top-select ol li")).to_have_count(3)
    desk.get_by_role("button", name="Carry these forward").click()
    expect(desk.locator("#selected li")).to_have_text([t for t, _ in texts[:3]])

    # The phone on the action-plan step lists them at once, in the order of the vote.
    items = aline.locator("#step .plan-list .plan-item")
    expect(items).to_have_count(3, timeout=LIVE)
    expect(items.locator("b")).to_have_text([t for t, _ in texts[:3]])
    expect(aline.locator("#step")).to_contain_text("not in a working group yet")

    desk.get_by_role("link", name="Open the action plans").click()
    online(desk)
    rows = desk.locator(".plans-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child a")).to_have_text([t for t, _ in texts[:3]])
    expect(rows.first.locator("[data-progress-text]")).to_contain_text("fields filled")
    db.session.rollback()
    made = plans.list_plans(cast.organiser, workshop)
    assert [p.title for p in made] == [t for t, _ in texts[:3]]

    # The facilitator puts Aline in the second plan's group; her phone opens it, pre-filled.
    select = desk.get_by_label("Working group of Aline")
    select.select_option(str(made[1].id))
    select.locator("xpath=..").get_by_role("button", name="Assign").click()
    expect(select.locator("xpath=..").locator("button")).to_have_text("✓", timeout=LIVE)
    expect(aline.locator("#step .plan-title")).to_have_text(texts[1][0], timeout=LIVE)
    expect(box(aline, "title")).to_have_value(texts[1][0])
    expect(box(aline, "context")).to_have_value(re.compile(re.escape(texts[1][1])))
    expect(box(aline, "objective")).to_have_value("")
    expect(aline.locator("#step .plan-vote")).to_contain_text("rank 2 of 4")


def test_two_phones_edit_different_fields_and_see_each_other(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola, _ = phone(room, b_token)
    box(amina, "objective").fill("By 2031, two million informal workers are covered.")
    box(bola, "results_national").fill("Ten national health mutual laws adopted.")
    expect(box(bola, "objective")).to_have_value(
        "By 2031, two million informal workers are covered.", timeout=SAVE)
    expect(box(amina, "results_national")).to_have_value(
        "Ten national health mutual laws adopted.", timeout=SAVE)
    expect(status(amina, "objective")).to_have_text("Saved")
    expect(status(bola, "results_national")).to_have_text("Saved")
    expect(pfield(bola, "objective").locator(".by")).to_contain_text("Amina")
    assert stored(plan, "objective") == (1, "By 2031, two million informal workers are covered.")
    assert stored(plan, "results_national") == (1, "Ten national health mutual laws adopted.")


def test_typing_at_once_in_one_paragraph_keeps_everybodys_words(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    start = "Social protection for informal workers through mutual health insurance."
    edit_plan(plans_room.organiser, plan, "objective", start, base_version=0)
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola, _ = phone(room, b_token)
    # Amina writes at the end, Bola at the start, in turns long enough for each phone to
    # save while the other is typing: their edits cross on the wire and are merged.
    amina_words = [" Reach two", " million members", " by the end", " of 2031."]
    bola_words = ["In West Africa", " first, then", " in Central", " Africa: "]
    caret(amina, "objective", "end")
    caret(bola, "objective", "start")
    for mine, theirs in zip(amina_words, bola_words, strict=True):
        amina.keyboard.type(mine, delay=35)
        bola.keyboard.type(theirs, delay=35)
    expected = "".join(bola_words) + start + "".join(amina_words)
    expect(box(amina, "objective")).to_have_value(expected, timeout=SAVE)
    expect(box(bola, "objective")).to_have_value(expected, timeout=SAVE)
    eventually(amina, lambda: stored(plan, "objective")[1] == expected,
               "both people's words stored")
    assert {c.author_name for c in changes(plan, "objective")} >= {"Amina", "Bola"}
    assert not amina.locator(".conflict:visible").count()
    assert not bola.locator(".conflict:visible").count()


def test_the_same_words_changed_at_once_show_both_versions(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    edit_plan(plans_room.organiser, plan, "objective", "We meet in May in Dakar.",
              base_version=0)
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola, link = phone(room, b_token, link=True)
    # Bola's edit leaves her phone but is held on the way (a slow link) ...
    link.hold("up")
    box(bola, "objective").fill("We meet in July in Dakar.")
    expect(status(bola, "objective")).to_have_text("Saving…", timeout=LIVE)
    # ... while Amina changes the same words and saves first.
    box(amina, "objective").fill("We meet in June in Dakar.")
    expect(status(amina, "objective")).to_have_text("Saved", timeout=SAVE)
    link.release()
    conflict = pfield(bola, "objective").locator(".conflict")
    expect(conflict).to_be_visible(timeout=LIVE)
    expect(conflict.locator(".theirs")).to_have_text("We meet in June in Dakar.")
    expect(conflict).to_contain_text("Someone changed the same words")
    # Nothing is lost: Bola's text is still in her box, Amina's is what is stored.
    expect(box(bola, "objective")).to_have_value("We meet in July in Dakar.")
    assert stored(plan, "objective") == (2, "We meet in June in Dakar.")
    assert [c.value for c in changes(plan, "objective")] == [
        "We meet in May in Dakar.", "We meet in June in Dakar."]
    # Bola combines both and keeps hers: Amina's phone shows it.
    box(bola, "objective").fill("We meet in June or July in Dakar.")
    conflict.get_by_role("button", name="Keep my version").click()
    expect(conflict).to_be_hidden()
    expect(box(amina, "objective")).to_have_value("We meet in June or July in Dakar.",
                                                  timeout=SAVE)
    expect(status(bola, "objective")).to_contain_text("Saved")
    assert stored(plan, "objective") == (3, "We meet in June or July in Dakar.")


def test_a_change_of_the_same_words_arriving_while_typing_is_not_merged_over(
        room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    edit_plan(plans_room.organiser, plan, "objective", "The budget is 100 euros a year.",
              base_version=0)
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola = room.phone()
    bola.clock.install()  # Bola's timers wait for the test: her edit is typed, not yet sent
    bola.goto(f"/i/{b_token}")
    online(bola)
    expect(box(bola, "objective")).to_have_value("The budget is 100 euros a year.")
    bola.clock.pause_at(bola.evaluate("Date.now()") / 1000 + 1)
    box(bola, "objective").fill("The budget is 250 euros a year.")
    # Amina changes the same number meanwhile; it reaches Bola's phone mid-typing.
    box(amina, "objective").fill("The budget is 300 euros a year.")
    expect(status(amina, "objective")).to_have_text("Saved", timeout=SAVE)
    conflict = pfield(bola, "objective").locator(".conflict")
    expect(conflict).to_be_visible(timeout=LIVE)
    expect(conflict.locator(".theirs")).to_have_text("The budget is 300 euros a year.")
    expect(box(bola, "objective")).to_have_value("The budget is 250 euros a year.")
    # Her pending save comes due: nothing is sent over Amina's words while she chooses.
    bola.clock.run_for(2_000)
    expect(status(bola, "objective")).to_have_text("")
    bola.clock.resume()
    assert stored(plan, "objective") == (2, "The budget is 300 euros a year.")
    conflict.get_by_role("button", name="Take their version").click()
    expect(conflict).to_be_hidden()
    expect(box(bola, "objective")).to_have_value("The budget is 300 euros a year.")
    assert [c.value for c in changes(plan, "objective")] == [
        "The budget is 100 euros a year.", "The budget is 300 euros a year."]


def test_an_edit_made_offline_lands_once_when_the_phone_is_back(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, link = phone(room, a_token, link=True)
    bola, _ = phone(room, b_token)

    # 1. The network goes before the edit: it waits on the phone.
    link.cut()
    box(amina, "objective").fill("Written on the bus, offline.")
    expect(status(amina, "objective")).to_contain_text("Offline", timeout=LIVE)
    assert stored(plan, "objective") == (0, "")
    link.restore()
    online(amina, timeout=RECONNECT)
    expect(status(amina, "objective")).to_have_text("Saved", timeout=SAVE)
    expect(box(bola, "objective")).to_have_value("Written on the bus, offline.", timeout=LIVE)
    assert [c.value for c in changes(plan, "objective")] == ["Written on the bus, offline."]

    # 2. The edit arrives but its acknowledgement is lost, then the network goes: the phone
    # sends it again when it is back (same idempotency key), and it is stored once.
    link.websocket()
    link.drop("down")
    box(amina, "results_national").fill("Saved, but the phone never heard.")
    expect(box(bola, "results_national")).to_have_value("Saved, but the phone never heard.",
                                                        timeout=SAVE)  # the server has it
    link.cut()
    link.restore()
    online(amina, timeout=RECONNECT)
    expect(status(amina, "results_national")).to_have_text("Saved", timeout=SAVE)
    stored_changes = changes(plan, "results_national")
    assert [c.value for c in stored_changes] == ["Saved, but the phone never heard."]
    assert stored_changes[0].edit_id
    assert stored(plan, "results_national") == (1, "Saved, but the phone never heard.")
    # Nothing is left waiting on the phone.
    assert amina.evaluate("Object.keys(localStorage).filter(k => k.startsWith('plan:'))") == []


def test_restoring_an_earlier_version_from_the_history(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola, _ = phone(room, b_token)
    box(amina, "objective").fill("First draft: cover informal workers.")
    expect(status(amina, "objective")).to_have_text("Saved", timeout=SAVE)
    box(amina, "objective").fill("Second draft, worse.")
    expect(box(bola, "objective")).to_have_value("Second draft, worse.", timeout=SAVE)
    first = changes(plan, "objective")[0]

    amina.goto(f"/w/{plans_room.workshop.id}/plans/{plan.id}/history?field=objective")
    entry = amina.locator(f"#change-{first.id}")
    expect(entry.locator("pre.value")).to_have_text("First draft: cover informal workers.")
    entry.get_by_role("button", name="Restore this version of the field").click()
    expect(amina.locator("body")).to_contain_text("The earlier version is back")
    newest = amina.locator("ol.history > li").first
    expect(newest).to_contain_text("restored by Amina")
    expect(newest.locator("pre.value")).to_have_text("First draft: cover informal workers.")
    # (The page is back to every field's history: the three changes of this one are there.)
    expect(amina.locator("ol.history > li").filter(has_text="Objective for 2027")).to_have_count(3)
    # Bola's phone shows the old text again, live.
    expect(box(bola, "objective")).to_have_value("First draft: cover informal workers.",
                                                 timeout=LIVE)
    last = changes(plan, "objective")[-1]
    assert (last.kind, last.version, last.restored_from_id) == ("restore", 3, first.id)
    assert stored(plan, "objective") == (3, "First draft: cover informal workers.")


def test_the_projector_shows_progress_then_one_plan(room: Room, plans_room: Plans):
    plan, other = plans_room.plans[0], plans_room.plans[1]
    (token,) = group(plans_room, plan, "Amina")
    progress = plans.progress(plan)
    screen = room.projector(plans_room.workshop)
    card = screen.locator(f"[data-plan-progress='{plan.id}']")
    expect(card.locator("[data-progress-text]")).to_have_text(
        f"{progress['filled']} of {progress['total']} fields filled")
    expect(screen.locator(".plan-card")).to_have_count(3)

    amina, _ = phone(room, token)
    box(amina, "objective").fill("Two million members by 2031.")
    expect(card.locator("[data-progress-text]")).to_have_text(
        f"{progress['filled'] + 1} of {progress['total']} fields filled", timeout=SAVE)
    expect(card.locator("[data-progress-writers]")).to_have_text("Writing now: Amina")

    desk = room.staff(plans_room.setup.facilitator, f"/w/{plans_room.workshop.id}/plans")
    desk.locator(f"tr[data-plan-progress='{other.id}']").get_by_role(
        "button", name="Show on the projector").click()
    expect(desk.locator(f"tr[data-plan-progress='{other.id}']").get_by_role(
        "button", name="Stop showing on the projector")).to_be_visible()
    spot = screen.locator("[data-plan-editor]")
    expect(spot).to_have_count(1, timeout=LIVE)
    expect(spot.locator(".plan-title")).to_have_text(other.title)
    expect(screen.locator(".plan-card")).to_have_count(0)
    # The plan in the spotlight follows the group's writing live, without a reload.
    plans.assign_member(plans_room.setup.organiser, plans_room.workshop, AssignIn(
        workshop_id=plans_room.workshop.id, delegate_id=plans.members_of(plan)[0].id,
        plan_id=other.id))
    amina.goto("/d")
    box(amina, "objective").fill("Social protection floors in every country.")
    expect(spot.locator("[data-field='objective'] .pvalue")).to_have_text(
        "Social protection floors in every country.", timeout=SAVE)


def test_a_row_added_on_one_phone_appears_on_the_other(room: Room, plans_room: Plans):
    plan = plans_room.plans[0]
    a_token, b_token = group(plans_room, plan, "Amina", "Bola")
    amina, _ = phone(room, a_token)
    bola, _ = phone(room, b_token)
    a_rows = box(amina, "activities").locator("tbody tr")
    b_rows = box(bola, "activities").locator("tbody tr")
    expect(a_rows).to_have_count(0)
    box(amina, "activities").locator(".add-row").click()
    expect(a_rows).to_have_count(1)
    amina.keyboard.type("Train 40 organisers")  # the new row's first cell has the focus
    expect(b_rows).to_have_count(1, timeout=SAVE)
    expect(b_rows.first.locator("[data-col='activity']")).to_have_value(
        "Train 40 organisers", timeout=SAVE)
    # And the other way round, with a year ticked.
    box(bola, "activities").locator(".add-row").click()
    b_rows.nth(1).locator("[data-col='activity']").fill("Write a guide")
    b_rows.nth(1).locator("[data-col='2028']").check()
    expect(a_rows).to_have_count(2, timeout=SAVE)
    expect(a_rows.nth(1).locator("[data-col='activity']")).to_have_value("Write a guide",
                                                                         timeout=SAVE)
    expect(a_rows.nth(1).locator("[data-col='2028']")).to_be_checked(timeout=SAVE)
    eventually(amina, lambda: [(r["activity"], r["2028"]) for r in stored(plan, "activities")[1]]
               == [("Train 40 organisers", False), ("Write a guide", True)],
               "both rows stored")
