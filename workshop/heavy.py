"""Heavy work off gevent's event loop, with a time limit.

One server process serves every phone of a room from one event loop (gevent). Work that holds
the CPU for long — parsing an uploaded spreadsheet, drawing a PDF — would freeze that loop and
every phone would drop. `run` hands such work to gevent's thread pool (real OS threads: the
loop keeps its turns on the interpreter) and waits for it without blocking the loop; outside
gevent (tests, `flask` commands) it simply calls the function.

A thread cannot be killed, so the time limit works two ways: the caller stops waiting after
`timeout` seconds (the request answers), and work that loops over rows checks a `Deadline`
it was given, so it stops soon after too instead of running on in the background.

The function runs without the request's app context: it takes plain values and returns plain
values, and any message it raises is a lazy string (`lazy_gettext`), translated when the
request shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import gevent
from flask_babel import lazy_gettext as _l
from gevent import monkey

from workshop.errors import WorkshopError

T = TypeVar("T")

#: The longest a request waits for heavy work unless it says otherwise.
DEFAULT_TIMEOUT = 20.0


class TooSlow(WorkshopError):
    """The work took longer than its time limit: the request answers rather than hang."""

    status = 503
    code = "timeout"


def _too_slow() -> TooSlow:
    return TooSlow(_l("This took too long and was stopped. Try a smaller file, or try again in "
                      "a moment."))


class Deadline:
    """A moment after which long work should give up; `check()` it inside loops."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        """Give up if the time is over.

        :raise TooSlow: the deadline has passed.
        """
        if time.monotonic() > self.at:
            raise _too_slow()


def _outcome(fn: Callable[..., T], args: tuple, kwargs: dict) -> tuple[bool, Any]:
    """Run `fn` and hand back its result or its exception as a value: an exception raised
    in gevent's pool would also be printed as a crash (a refused file is no crash)."""
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:
        return False, exc


def under_gevent() -> bool:
    """True in a gevent server process (serve.py patches threading before anything else)."""
    return monkey.is_module_patched("threading")


def run(fn: Callable[..., T], *args: Any, timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)` off the event loop and wait at most `timeout` seconds.

    Under gevent the hub's thread pool runs it while the loop goes on serving everyone else;
    otherwise it runs here, plainly. Exceptions of `fn` reach the caller unchanged.

    :raise TooSlow: under gevent, the work took longer than `timeout`.
    """
    if not under_gevent():
        return fn(*args, **kwargs)
    pool = gevent.get_hub().threadpool
    try:
        done, value = pool.spawn(_outcome, fn, args, kwargs).get(timeout=timeout)
    except gevent.Timeout:
        raise _too_slow() from None
    if not done:
        raise value
    return value
