"""Fixtures of the browser tests: the people of a room, and a cast of staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.people import Room, Setup
from tests.conftest import LiveServer
from tests.helpers import create_organisation, create_user


@pytest.fixture
def room(browser: Browser, live: LiveServer) -> Iterator[Room]:
    """The people of a live room; at the end no dialog may have opened, no script failed."""
    people = Room(browser, live)
    yield people
    people.close()
    assert people.dialogs == [], "a JavaScript dialog opened (injected script?)"
    assert people.errors == [], "uncaught script errors or Content-Security-Policy violations"


@pytest.fixture
def cast(live: LiveServer) -> Setup:
    """An organiser, a facilitator and an organisation (in the live server's database)."""
    return Setup(
        organiser=create_user("organiser"),
        facilitator=create_user("facilitator"),
        organisation=create_organisation(region="central_africa", country="Burundi"),
    )


