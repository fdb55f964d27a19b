"""Python's garbage collector in a server process that holds thousands of sockets."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: The collector's thresholds for the server (generations 0, 1, 2); Python's are (700, 10, 10).
THRESHOLDS = (20_000, 5, 100)


def tune_garbage_collector(wanted: str | None = None) -> tuple[int, ...]:
    """Collect less often than Python's default, and freeze what starting made.

    A full collection walks every object of every connection and stopped the process for
    tenths of a second in the middle of a ballot (py-spy: a fifth of the samples of a burst
    of 1,000 casts was the collector; 1,000 casts at once went from 670-770 to 910-1,350 per
    second with these thresholds; freezing alone changed nothing). The objects made while
    starting are frozen: never walked again. The middle generation is collected every 5 young
    collections, not 20: it then walked up to a million objects at once, a half-second stall
    that fell in whatever came next (`ballot.sync` on PostgreSQL ran at 0.23x the bare
    server's rate; with 20000,5,100 at 0.67x, casts unchanged). `wanted` ("20000,5,100",
    from GC_THRESHOLDS) overrides the thresholds.

    :raise ValueError: `wanted` is not one to three whole numbers, the first above 0.
    """
    thresholds = THRESHOLDS
    if wanted:
        try:
            thresholds = tuple(int(n) for n in wanted.split(","))
        except ValueError:
            thresholds = ()
        # A first threshold of 0 would turn the collector off: cycles would pile up for hours.
        if not 1 <= len(thresholds) <= 3 or min(thresholds) < 0 or thresholds[0] == 0:
            raise ValueError("GC_THRESHOLDS must be one to three whole numbers, the first above "
                             f"0, not {wanted!r}")
    gc.set_threshold(*thresholds)
    gc.collect()
    gc.freeze()
    return thresholds


#: How often the server looks for a quiet moment to collect its young objects (seconds).
QUIET_LOOK = 0.25


def collect_if_quiet(busy: Callable[[], bool]) -> bool:
    """Collect the two young generations now, if objects have piled up in them (a young
    collection has run since the last of the middle one) and the process is not `busy`:
    True if it did.

    The middle generation's collection walks every object that survived the young ones
    since: after a thousand phones connected, about 40 ms, which fell in the first burst
    of votes that followed (a tenth of the burst, bench_votes.py with the collector's
    callbacks timed). Run in a quiet moment it is the same collection, only earlier: the
    automatic ones are left as they are (never turned off), so memory is no different.
    A full collection that this brings due runs in the same quiet moment.
    """
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[1] == 0 or busy():
        return False
    # Each middle collection counts towards a full one, which only an allocation would start
    # (in a burst, like as not): when this one brings it due, the full one runs now instead.
    gc.collect(2 if counts[2] + 1 >= thresholds[2] else 1)
    return True


def collect_when_quiet(busy: Callable[[], bool], look: float = QUIET_LOOK) -> None:
    """Forever, every `look` seconds: `collect_if_quiet` (the server's background task)."""
    while True:
        time.sleep(look)
        collect_if_quiet(busy)
