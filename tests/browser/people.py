"""The people of a live room in real browsers, and the small steps of their stories.

Shared by the browser tests; the `room` and `cast` fixtures live in this folder's conftest.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.conftest import DESKTOP, PHONE, LiveServer
from tests.helpers import PASSWORD
from workshop.agenda.models import Organisation, Workshop
from workshop.auth.models import User

LIVE = 3_000  # ms: "within a second or two" for anything pushed over the socket
#: ms: a page whose network came back reconnects at its client's next attempt, and Socket.IO's
#: client waits 1, 2, 4, then 5 s between attempts, each ±50 %: up to 7.5 s, then connects.
RECONNECT = 10_000
SHOTS = Path(os.environ.get("SHOTS_DIR", Path(tempfile.gettempdir()) / "shots"))


# --- The cast ---------------------------------------------------------------------------------


@dataclass
class Room:
    """Opens the people of a live room, each in their own browser context (own cookies).

    Every page is watched: a JavaScript dialog (e.g. an injected `alert`), an uncaught
    script error or anything the Content-Security-Policy blocked fails the test at teardown.
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
        page.on("console", lambda msg: self._on_console(page, msg))
        return page

    def _on_console(self, page: Page, msg) -> None:
        # What the Content-Security-Policy blocked (an inline script or style, a connection
        # elsewhere) is reported on the console only: it counts as a script error.
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.errors.append(f"{page.url}: {msg.text}")

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


@dataclass
class Setup:
    organiser: User
    facilitator: User
    organisation: Organisation


# --- Small steps of the story -----------------------------------------------------------------


def online(page: Page, timeout: int = LIVE) -> None:
    """Wait until the page's socket is connected."""
    expect(page.locator("#connection")).to_have_attribute("data-state", "online",
                                                          timeout=timeout)


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


def step_requests(page: Page) -> list[str]:
    """The page's requests for its step part, recorded from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url)
            if request.url.endswith("/d/step") else None)
    return seen


def send_proposal(page: Page, title: str, theme: str = "decent_work", level: str = "national",
                  description: str | None = None) -> Locator:
    """Fill in the phone's form to put a line of work forward and send it; the form."""
    form = page.locator("#propose-form")
    form.locator("#p-title").fill(title)
    if description is not None:
        form.locator("#p-description").fill(description)
    form.locator("#p-theme").select_option(theme)
    form.locator("#p-level").select_option(level)
    form.get_by_role("button", name="Send").click()
    return form


def mark(page: Page) -> None:
    """Put a marker in the page's JavaScript world: a reload would wipe it."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"


def timer_seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"{page.url} scrolls sideways ({width} px)"
