"""Real clients of a real server: an HTTP session that logs in or joins, and its socket."""

from __future__ import annotations

import queue
import re
import threading
from typing import Any

import requests
import socketio

from tests.helpers import PASSWORD


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Person:
    """Somebody with a browser-like cookie jar and, once connected, a Socket.IO client."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.sio: socketio.Client | None = None
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.csrf = ""

    def _submit(self, form_path: str, fields: dict, then: str) -> Person:
        """Post a real form with its CSRF token, then open `then` to keep that page's token."""
        page = self.http.get(f"{self.base}{form_path}")
        response = self.http.post(f"{self.base}{form_path}",
                                  data={**fields, "csrf_token": _csrf(page.text)},
                                  allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        self.csrf = _csrf(self.http.get(f"{self.base}{then}").text)
        return self

    def join(self, join_code: str, organisation_id: int, name: str) -> Person:
        """Join through the real form, like a phone."""
        return self._submit(f"/j/{join_code}", {"name": name, "organisation_id": organisation_id},
                            "/d")

    def login(self, email: str, workshop_id: int) -> Person:
        """Log a staff account in and open its console."""
        return self._submit("/login", {"email": email, "password": PASSWORD},
                            f"/w/{workshop_id}/console")

    def connect(self, workshop_id: int, transports: list[str] | None = None,
                reconnection: bool = False) -> socketio.Client:
        """Open the socket with the session cookie and the page's CSRF token."""
        sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                              reconnection_delay_max=0.5)
        for name in ("state", "notice", "delegate"):
            sio.on(name, lambda data, name=name: self.events.put((name, data)))
        sio.on("connect", lambda: self.events.put(("connect", None)))
        sio.on("connect_error", lambda data: self.events.put(("connect_error", data)))
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        # A callable: the Engine.IO client deletes the Cookie header from the dict it is given
        # when it upgrades to a websocket, and a reconnection would then go without it.
        sio.connect(self.base, headers=lambda: {"Cookie": cookie},
                    auth={"workshop": workshop_id, "csrf": self.csrf},
                    transports=transports or ["polling", "websocket"], wait_timeout=10)
        self.sio = sio
        return sio

    def next_event(self, name: str, timeout: float = 5) -> Any:
        """The next event of this name (others are skipped); fails after `timeout` s."""
        while True:
            got, data = self.events.get(timeout=timeout)
            if got == name:
                return data

    def drain(self) -> None:
        """Forget the events received so far."""
        while not self.events.empty():
            self.events.get_nowait()

    def call(self, event: str, payload: Any) -> dict:
        """Emit an operation and wait for its acknowledgement."""
        assert self.sio is not None
        return self.sio.call(event, payload, timeout=10)

    def close(self) -> None:
        """Disconnect the socket, if any."""
        if self.sio is not None and self.sio.connected:
            self.sio.disconnect()


def at_once(people: list[Person], event: str, payloads: list[dict],
            timeout: float = 15) -> list[dict]:
    """Each person sends its payload at the same moment (a thread each, as phones in a room
    would); their acknowledgements, in the people's order."""
    answers: list[dict] = [{} for _ in people]

    def send(i: int) -> None:
        answers[i] = people[i].call(event, payloads[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return answers
