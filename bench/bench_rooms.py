"""Benchmark a room's phones dropping off at once: the client manager's share of it.

Run with `python bench/bench_rooms.py [--phones 3000] [--repeat 3]`. It fills a Socket.IO
client manager as the server fills it for a workshop (every phone in the workshop's room, its
language's room, its delegate's room and its login's room, besides the room each socket has of
its own), then disconnects every phone, and prints the time that took for python-socketio's own
manager (the baseline) and for ours (workshop/rooms.py, each socket's rooms indexed), best of
`--repeat`, and the ratio. Only the manager is measured: no network, no database (the room's
disconnects also write presence; bench_votes measures whole events).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workshop.rooms import Manager  # noqa: E402

LANGUAGES = ("en", "fr", "es", "nl")


def filled(kind: type, phones: int) -> tuple[socketio.Manager, list[str]]:
    """A manager holding `phones` connected sockets in a workshop's rooms."""
    ids = itertools.count(1)
    manager = kind()
    manager.set_server(SimpleNamespace(eio=SimpleNamespace(generate_id=lambda: f"sid-{next(ids)}"),
                                       packet_class=socketio.packet.Packet))
    manager.initialize()
    sids = []
    for phone in range(phones):
        sid = manager.connect(f"e{phone}", "/")
        for room in ("w1", f"w1:{LANGUAGES[phone % 4]}", f"d{phone}", f"s{phone}"):
            manager.enter_room(sid, "/", room)
        sids.append(sid)
    return manager, sids


def disconnect_all(kind: type, phones: int) -> float:
    """Seconds to disconnect every phone, one after the other, as the server does."""
    manager, sids = filled(kind, phones)
    start = time.perf_counter()
    for sid in sids:
        manager.disconnect(sid, "/")
    took = time.perf_counter() - start
    assert not manager.rooms, "every room emptied"
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name, kind in (("python-socketio Manager", socketio.Manager),
                       ("ours (rooms indexed)", Manager)):
        best = min(disconnect_all(kind, args.phones) for _ in range(args.repeat))
        rows.append((name, best))
        print(f"{name:26} {args.phones:,} phones dropped: {best * 1000:9.1f} ms "
              f"({best / args.phones * 1e6:7.1f} us a phone)")
    print(f"ratio: ours takes {rows[1][1] / rows[0][1]:.3f}x the baseline's time")


if __name__ == "__main__":
    main()
