"""A flooding phone in a process of its own (so the test's own clients are not starved).

    python -m tests.live.flood URL COOKIE CSRF WORKSHOP_ID COUNT

Sends `proposal.create` about 1,000 times a second without waiting for answers, until the
server drops the socket or COUNT events went out; prints the answers as JSON.
"""

from __future__ import annotations

import json
import sys
import time

import socketio


def main() -> None:
    """Flood, then report what came back."""
    url, cookie, csrf, workshop_id, count = sys.argv[1:6]
    answers: list[dict] = []
    sio = socketio.Client(reconnection=False)
    sio.connect(url, headers=lambda: {"Cookie": cookie},
                auth={"workshop": int(workshop_id), "csrf": csrf},
                transports=["websocket"], wait_timeout=10)
    sent = 0
    started = time.monotonic()
    for i in range(int(count)):
        if not sio.connected:
            break
        try:
            sio.emit("proposal.create", {"workshop_id": int(workshop_id), "title": f"Spam {i}",
                                         "theme": "decent_work", "level": "national"},
                     callback=answers.append)
        except socketio.exceptions.BadNamespaceError:
            break
        sent += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    connected = sio.connected
    if connected:
        sio.disconnect()
    print(json.dumps({"sent": sent, "answers": answers, "connected": connected,
                      "elapsed": elapsed}))


if __name__ == "__main__":
    main()
