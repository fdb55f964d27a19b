"""Benchmark the ranking tally: 10,000 full rankings of 40 options from 5 regions.

Run with `python bench/bench_tally.py`. It times our Borda + Schulze + regional breakdown
(`workshop.voting.tally.tally_ranking`) and, when pref_voting is installed, the same Borda and
Schulze (beat path) with pref_voting, best of 3 each, checks that both agree, and prints the ratio.
The goal is under 0.2 s for ours, and faster than pref_voting.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workshop.voting.tally import (  # noqa: E402 (the repo root must be on the path first)
    Ballot,
    TallyResult,
    regional_balance,
    tally_ranking,
)

BALLOTS = 10_000
OPTIONS = 40
REGIONS = (
    "Latin America and the Caribbean",
    "West Africa",
    "Central Africa",
    "Asia",
    "Belgium",
)
ORG_TYPES = (
    "trade union",
    "health mutual",
    "cooperative",
    "women's organisation",
    "youth organisation",
    "elderly organisation",
    "farmers' organisation",
    "NGO",
    "microcredit organisation",
)
GOAL_SECONDS = 0.2


def make_ballots(seed: int = 2027) -> list[Ballot]:
    """Random full rankings, each from a random region, organisation type and organisation."""
    rng = random.Random(seed)
    options = list(range(OPTIONS))
    ballots = []
    for _ in range(BALLOTS):
        region = rng.choice(REGIONS)
        org_type = rng.choice(ORG_TYPES)
        organisation = f"{region}/{org_type}/{rng.randrange(5)}"
        ballots.append(Ballot(1.0, region, org_type, organisation, rng.sample(options, OPTIONS)))
    return ballots


def best_of(run: Callable[[], Any], times: int = 3) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(times):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_pref_voting(ballots: list[Ballot]) -> tuple[float, Any] | None:
    try:
        from pref_voting.margin_based_methods import beat_path
        from pref_voting.profiles import Profile
    except ImportError:
        return None
    rankings = [list(b.choice) for b in ballots]  # type: ignore[arg-type]

    def run() -> tuple[dict[int, float], list[int]]:
        profile = Profile(rankings)
        return profile.borda_scores(), beat_path(profile)

    run()  # warm-up: numba compiles its kernels on first use
    return best_of(run)


def bench_pref_voting_counting_only(ballots: list[Ballot]) -> float:
    """pref_voting's Borda + beat_path on a Profile built beforehand (building it is most of
    pref_voting's time, since that is where it computes ranks and pairwise support)."""
    from pref_voting.margin_based_methods import beat_path
    from pref_voting.profiles import Profile

    profile = Profile([list(b.choice) for b in ballots])  # type: ignore[arg-type]
    seconds, _ = best_of(lambda: (profile.borda_scores(), beat_path(profile)))
    return seconds


def main() -> int:
    ballots = make_ballots()
    options = range(OPTIONS)
    ours, result = best_of(lambda: tally_ranking(ballots, options))
    if not isinstance(result, TallyResult) or result.schulze is None:
        raise SystemExit("tally_ranking returned no Schulze result")
    print(f"{BALLOTS} full rankings of {OPTIONS} options, {len(REGIONS)} regions")
    print(f"ours (Borda + Schulze + breakdowns), best of 3: {ours:.3f} s")

    weights = regional_balance({i: b.region for i, b in enumerate(ballots)})
    weighted = [
        Ballot(weights[i], b.region, b.org_type, b.organisation, b.choice)
        for i, b in enumerate(ballots)
    ]
    ours_weighted, _ = best_of(lambda: tally_ranking(weighted, options))
    print(f"ours with regional-balance weights, best of 3: {ours_weighted:.3f} s")

    theirs = bench_pref_voting(ballots)
    if theirs is None:
        print("pref_voting is not installed: no comparison (pip install pref-voting)")
    else:
        seconds, (borda, winners) = theirs
        print(f"pref_voting (Profile + Borda + beat_path), best of 3: {seconds:.3f} s")
        print(f"ratio pref_voting / ours: {seconds / ours:.1f}x")
        counting = bench_pref_voting_counting_only(ballots)
        print(f"(pref_voting counting alone on a prebuilt Profile: {counting:.3f} s)")
        same_borda = all(borda[o] == result.scores[o] for o in options)
        same_winners = sorted(winners) == sorted(result.schulze.winners)
        print(f"same Borda scores: {same_borda}; same Schulze winners: {same_winners}")
        if not (same_borda and same_winners):
            return 1
    print(f"goal under {GOAL_SECONDS} s: {'met' if ours < GOAL_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
