"""What a phone downloads, read from Chromium's own network log (DevTools protocol).

Budgets in bytes over the wire, not times: a delegate's first visit stays under 60 KB, and a
repeat visit fetches no static file again (immutable, content-hashed URLs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import Room, Setup, online
from tests.helpers import create_proposal, create_workshop, invite

pytestmark = pytest.mark.browser

FIRST_VISIT_BUDGET = 60 * 1024


@dataclass
class NetworkLog:
    """Every request of a page as Chromium saw it: bytes received and where it came from."""

    urls: dict[str, str] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    from_cache: set[str] = field(default_factory=set)
    from_network: set[str] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent",
               lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache",
               lambda e: self.from_cache.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished",
               lambda e: self.received.__setitem__(e["requestId"], int(e["encodedDataLength"])))

    def _response(self, event: dict) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromMemoryCache") \
                or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])
        else:
            self.from_network.add(event["requestId"])

    def total(self) -> int:
        return sum(self.received.values())

    def fetched_static(self) -> list[str]:
        return sorted(self.urls[r] for r in self.from_network - self.from_cache
                      if "/static/" in self.urls.get(r, ""))


def test_first_visit_is_light_and_a_repeat_visit_fetches_no_static_file(room: Room,
                                                                          cast: Setup):
    workshop = create_workshop(cast.organiser, facilitator=cast.facilitator)
    for i in range(5):
        create_proposal(workshop, title=f"Social protection for informal workers {i}")
    _, token = invite(workshop, cast.organiser, cast.organisation, name="Awa Diallo")

    phone = room.phone()
    first = NetworkLog()
    first.watch(phone)
    phone.goto(f"/i/{token}")
    expect(phone).to_have_url(re.compile(r"/d$"))
    online(phone)
    expect(phone.locator("article.card").first).to_be_visible()

    static = [u for u in first.urls.values() if "/static/" in u]
    assert static
    assert all(re.search(r"[?&]v=[0-9a-f]{12}\b", u) for u in static), static
    assert first.total() <= FIRST_VISIT_BUDGET, (
        f"first visit {first.total()} bytes over the wire, budget {FIRST_VISIT_BUDGET}: "
        f"{sorted((first.received.get(r, 0), u) for r, u in first.urls.items())[-5:]}")

    again = room.page(phone.context)
    repeat = NetworkLog()
    repeat.watch(again)
    again.goto("/d")
    online(again)
    assert repeat.fetched_static() == [], "a repeat visit fetched static files again"
    assert any("/static/" in u for u in repeat.urls.values()), "the page asked for no asset?"
