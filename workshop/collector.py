"""Python's garbage collector in a server process that holds thousands of sockets."""

from __future__ import annotations

import gc

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
