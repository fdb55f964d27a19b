"""Throttles for socket events, so one phone (or one script) cannot flood the room.

Token buckets: each socket and each person has a bucket per kind of event (reads, writes,
typing in a plan); an event takes a token or is refused before any database work, so refusing
costs almost nothing and everybody else's latency is unaffected. A socket refused again and
again is disconnected. Buckets live in the server process: with several processes each holds
its own, which only makes the limit per process (sticky sessions keep a socket on one).
The same buckets keep the log small (LogBudget, BudgetFilter): a flood of failing events is
logged as a few lines and a count.
"""

from __future__ import annotations

import logging
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

    def drain(self, key: object) -> None:
        """Empty a key's bucket (its socket closed). Not dropped: events of that socket still
        queued when it closed would find a fresh, full bucket and get through a second burst;
        an empty bucket refuses them, and it is pruned like any other once it has refilled."""
        with self._lock:
            self._buckets[key] = _Bucket(0.0, self.clock())

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
        """A socket went away: its strikes are forgotten, its buckets emptied (see drain)."""
        self._strikes.pop(sid, None)
        for buckets in self._sockets.values():
            buckets.drain(sid)


@dataclass
class LogBudget:
    """At most `burst` log lines at once, refilled at `rate` per second; the rest are counted.

    A flood of failing events (or of malformed packets) then costs the log a few lines with
    a count, not a copy per event.
    """

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _held: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._bucket = TokenBuckets(self.rate, self.burst, self.clock)

    def take(self, key: object = None) -> tuple[bool, int]:
        """(True, lines held back since the last one) when a line may be written now, else
        (False, 0) and the line is counted. One budget for every key: a flood that varies its
        event names gets no more lines."""
        allowed = self._bucket.allow("log")
        with self._lock:
            if not allowed:
                self._held += 1
                return False, 0
            held, self._held = self._held, 0
            return True, held


class BudgetFilter(logging.Filter):
    """A logging filter that lets a logger write within a LogBudget, and keeps each line short:
    a traceback becomes its exception's name and innermost place (no message, which may quote
    what a client sent)."""

    def __init__(self, budget: LogBudget) -> None:
        super().__init__()
        self.budget = budget

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the record past the budget; shorten its traceback otherwise."""
        allowed, held = self.budget.take(record.name)
        if not allowed:
            return False
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(exc).__name__} at {where(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        if held:
            record.msg = f"{record.getMessage()} ({held} similar lines not logged)"
            record.args = None
        return True


def where(exc: BaseException) -> str:
    """Where an exception was raised: `file.py:line`, and the innermost line of our own code
    when that is elsewhere (`views.py:10 < sqlalchemy/base.py:200`)."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return "?"

    def short(frame: tuple[str, int]) -> str:
        parts = frame[0].replace("\\", "/").split("/")
        return f"{'/'.join(parts[-2:])}:{frame[1]}"

    ours = [f for f in frames if "/workshop/" in f[0].replace("\\", "/")]
    if ours and ours[-1] != frames[-1]:
        return f"{short(ours[-1])} < {short(frames[-1])}"
    return short(frames[-1])
