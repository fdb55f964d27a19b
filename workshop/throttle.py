"""Throttles for socket events, so one phone (or one script) cannot flood the room.

Token buckets: each socket and each person has a bucket per kind of event (reads, writes,
typing in a plan); an event takes a token or is refused before any database work, so refusing
costs almost nothing and everybody else's latency is unaffected. A socket refused again and
again is disconnected. Buckets live in the server process: with several processes each holds
its own, which only makes the limit per process (sticky sessions keep a socket on one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Which events are cheap reads and which are edits typed live; everything else is a write.
READS = frozenset({"state.sync", "ballot.sync", "plan.open"})
TYPING = frozenset({"plan.edit"})


def kind_of(event: str) -> str:
    """The bucket kind of an event name: "read", "typing" or "write"."""
    if event in READS:
        return "read"
    if event in TYPING:
        return "typing"
    return "write"


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    """Buckets of `burst` tokens refilled at `rate` per second, one per key."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[object, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: object, cost: float = 1.0) -> bool:
        """Take `cost` tokens from the key's bucket if it has them."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) > 50_000:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < cost:
                return False
            bucket.tokens -= cost
            return True

    def forget(self, key: object) -> None:
        """Drop a key's bucket (its socket closed)."""
        with self._lock:
            self._buckets.pop(key, None)

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate else 0
        for key in [k for k, b in self._buckets.items() if now - b.updated > full_after]:
            del self._buckets[key]


@dataclass
class Throttle:
    """Per-socket and per-person buckets for each kind of event, and a strike count per socket.

    `limits` maps a kind to (rate per second, burst); a person's buckets are twice a socket's,
    since one person may have a phone and a laptop open.
    """

    limits: dict[str, tuple[float, float]]
    strikes_to_disconnect: int = 40
    clock: Callable[[], float] = time.monotonic
    _sockets: dict[str, TokenBuckets] = field(default_factory=dict)
    _people: dict[str, TokenBuckets] = field(default_factory=dict)
    _strikes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, (rate, burst) in self.limits.items():
            self._sockets[kind] = TokenBuckets(rate, burst, self.clock)
            self._people[kind] = TokenBuckets(rate * 2, burst * 2, self.clock)

    def check(self, event: str, sid: str, person: Callable[[], str | None]) -> str:
        """"ok", "refused" (answer with an error) or "disconnect" (a flood: drop the socket).

        The socket's bucket is checked first and costs nothing; `person` (which may need the
        database to know who is logged in) is asked only when the socket is within its limit.
        """
        kind = kind_of(event)
        allowed = self._sockets[kind].allow(sid)
        if allowed:
            who = person()
            allowed = who is None or self._people[kind].allow(who)
        if allowed:
            self._strikes.pop(sid, None)
            return "ok"
        strikes = self._strikes[sid] = self._strikes.get(sid, 0) + 1
        return "disconnect" if strikes >= self.strikes_to_disconnect else "refused"

    def closed(self, sid: str) -> None:
        """Forget a socket that went away."""
        self._strikes.pop(sid, None)
        for buckets in self._sockets.values():
            buckets.forget(sid)
