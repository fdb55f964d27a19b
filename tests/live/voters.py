"""Phones voting at once, in a process of their own, that keep trying until they hold a receipt.

    python -m tests.live.voters URL[,URL...] WORKSHOP_ID PEOPLE_JSON

PEOPLE_JSON names a file with one entry per phone: {"cookie", "csrf", "payload"} (the signed
session cookie, the page's CSRF token and the `ballot.cast` payload, secret included). Each
phone connects (their first sends spread over SPREAD seconds), casts, and on any failure (the
server gone, no answer within a few seconds) connects again and sends the same paper again, as
the phone's outbox does, until it is acknowledged. With several URLs (server processes), phone
i starts on URL i mod n and moves to the next one after a failure, as a reverse proxy sends a
phone elsewhere when its process is gone. Prints one line `ack N` per receipt as it arrives (so
a test can act in the middle of the burst), then one JSON line: {"receipts": {index: receipt},
"attempts": {...}, "errors": [...], "told": {error code: the message that came with it}}.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

import socketio

DEADLINE = 120.0
ANSWER_TIMEOUT = 5.0
#: Seconds over which the phones first send, evenly: a room does not tap "Send" in the same
#: millisecond, and a fault made when a third hold a receipt must find the rest still to come
#: (a hundred phones all at once are answered before a test can act on the first third).
SPREAD = 2.0


#: Answers after which a phone sends its paper again (any other refusal is an error): the
#: server failed, refused a flood, or could not reach its database for a moment.
TRY_AGAIN = ("server", "rate_limited", "unavailable")


async def vote(urls: list[str], workshop_id: int, index: int, person: dict, report: dict,
               gate: asyncio.Semaphore, deadline: float, start: float) -> None:
    """One phone: after `start` seconds, connect, cast, and try again until the receipt
    comes."""
    await asyncio.sleep(start)
    attempts = 0
    while time.monotonic() < deadline:
        url = urls[(index + attempts) % len(urls)]
        attempts += 1
        sio = socketio.AsyncClient(reconnection=False)
        try:
            async with gate:
                await sio.connect(url, headers={"Cookie": f"session={person['cookie']}"},
                                  auth={"workshop": workshop_id, "csrf": person["csrf"]},
                                  transports=["websocket"], wait_timeout=10)
            ack = await sio.call("ballot.cast", person["payload"], timeout=ANSWER_TIMEOUT)
        except Exception:  # noqa: BLE001  (the server is down or slow: try again)
            ack = None
        finally:
            with contextlib.suppress(Exception):  # already gone
                await sio.disconnect()
        if ack and ack.get("ok"):
            report["receipts"][index] = ack["receipt"]
            report["attempts"][index] = attempts
            print(f"ack {len(report['receipts'])}", flush=True)
            return
        if ack and not ack.get("ok"):
            report["told"].setdefault(ack.get("error"), ack.get("message"))
        if ack and ack.get("error") not in TRY_AGAIN:
            report["errors"].append({"index": index, "ack": ack})
            return
        await asyncio.sleep(0.3)
    report["errors"].append({"index": index, "ack": "no receipt before the deadline"})


async def main(urls: list[str], workshop_id: int, people: list[dict]) -> dict:
    report: dict = {"receipts": {}, "attempts": {}, "errors": [], "told": {}}
    gate = asyncio.Semaphore(50)  # connections opened at once, as phones would trickle in
    deadline = time.monotonic() + DEADLINE
    await asyncio.gather(*(vote(urls, workshop_id, i, p, report, gate, deadline,
                                SPREAD * i / len(people))
                           for i, p in enumerate(people)))
    return report


if __name__ == "__main__":
    url, workshop_id, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, encoding="utf-8") as file:
        people = json.load(file)
    print(json.dumps(asyncio.run(main(url.split(","), workshop_id, people))), flush=True)
