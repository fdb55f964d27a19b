"""Borda and Schulze checked against an independent implementation, pref_voting.

pref_voting is a test-only oracle (pip install pref-voting); without it this module is skipped.

Conventions matched:
* Full rankings: Profile.borda_scores() equals our Borda score; rcounts play the integer weights.
* Partial rankings: pref_voting's symmetric Borda for truncated orders counts +1 per option ranked
  below and -1 per option ranked above; ours gives n-1-i to position i and (u-1)/2 to each of the
  u unranked. Per ballot of weight w, ours = (symmetric + (n-1) * w) / 2, which is what we check
  (and the winners of borda_for_profile_with_ties must be our top tie group).
* Consensus of a ranking (points of ranked positions only, unranked lines earn nothing): per
  region, pref_voting's domination Borda score (options ranked strictly below, an unranked option
  below none) over the region's weight times n-1; the consensus is the minimum over regions.
* Schulze: beat_path (margins) on a ProfileWithTies using extended strict preference, i.e. a
  ranked option is above every unranked one and unranked ones are tied with each other.
"""

from __future__ import annotations

import random

import pytest

pytest.importorskip("pref_voting")

from pref_voting.margin_based_methods import beat_path  # noqa: E402
from pref_voting.profiles import Profile  # noqa: E402
from pref_voting.profiles_with_ties import ProfileWithTies  # noqa: E402
from pref_voting.scoring_methods import (  # noqa: E402
    borda_for_profile_with_ties,
    domination_borda_scores,
    symmetric_borda_scores,
)

from workshop.voting.tally import Ballot, TallyResult, tally_ranking  # noqa: E402

SEEDS = range(30)
REGIONS = ("Asia", "Belgium", "West Africa")


def random_election(
    seed: int, *, partial: bool
) -> tuple[list[int], list[list[int]], list[int], list[Ballot]]:
    """A small random election: options, rankings, integer weights and our ballots."""
    rng = random.Random(seed)
    n = rng.randint(2, 7)
    # pref_voting's Profile needs candidates 0..n-1; ProfileWithTies takes any ids.
    options = sorted(rng.sample(range(100), n)) if partial else list(range(n))
    rankings = []
    weights = []
    for _ in range(rng.randint(1, 12)):
        length = rng.randint(0, n) if partial else n
        rankings.append(rng.sample(options, length))
        weights.append(rng.randint(1, 3))
    ballots = [
        Ballot(float(w), rng.choice(REGIONS), "NGO", f"org-{i}", r)
        for i, (r, w) in enumerate(zip(rankings, weights, strict=True))
    ]
    return options, rankings, weights, ballots


def check_schulze(result: TallyResult, profile: Profile | ProfileWithTies, options: list[int]):
    schulze = result.schulze
    assert schulze is not None
    assert sorted(schulze.winners) == sorted(beat_path(profile))
    assert schulze.condorcet_winner == profile.condorcet_winner()
    for i, a in enumerate(options):
        for j, b in enumerate(options):
            assert schulze.margins[i][j] == profile.margin(a, b)


@pytest.mark.parametrize("seed", SEEDS)
def test_full_rankings_match_pref_voting(seed):
    options, rankings, weights, ballots = random_election(seed, partial=False)
    profile = Profile(rankings, rcounts=weights)
    result = tally_ranking(ballots, options)
    theirs = profile.borda_scores()
    assert result.scores == {o: float(theirs[o]) for o in options}
    check_schulze(result, profile, options)


@pytest.mark.parametrize("seed", SEEDS)
def test_partial_rankings_match_pref_voting(seed):
    options, rankings, weights, ballots = random_election(seed, partial=True)
    profile = ProfileWithTies(
        [{o: place for place, o in enumerate(r, start=1)} for r in rankings],
        rcounts=weights,
        candidates=options,
    )
    profile.use_extended_strict_preference()
    result = tally_ranking(ballots, options)

    n = len(options)
    symmetric = symmetric_borda_scores(profile)
    total_weight = sum(weights)
    assert result.scores == {o: (symmetric[o] + (n - 1) * total_weight) / 2 for o in options}
    assert sorted(result.ranking[0]) == sorted(borda_for_profile_with_ties(profile))
    check_schulze(result, profile, options)


def test_a_larger_election_matches_pref_voting():
    rng = random.Random(2031)
    options = list(range(12))
    rankings = [rng.sample(options, rng.randint(1, 12)) for _ in range(200)]
    ballots = [Ballot(1.0, rng.choice(REGIONS), "NGO", "x", r) for r in rankings]
    profile = ProfileWithTies(
        [{o: place for place, o in enumerate(r, start=1)} for r in rankings], candidates=options
    )
    profile.use_extended_strict_preference()
    result = tally_ranking(ballots, options)
    symmetric = symmetric_borda_scores(profile)
    assert result.scores == {o: (symmetric[o] + 11 * 200) / 2 for o in options}
    check_schulze(result, profile, options)


@pytest.mark.parametrize("seed", SEEDS)
def test_ranking_consensus_matches_domination_borda_per_region(seed):
    options, rankings, weights, ballots = random_election(seed, partial=True)
    result = tally_ranking(ballots, options)
    n = len(options)
    regions = sorted({b.region for b in ballots})
    expected: dict[str, dict[int, float]] = {}
    for region in regions:
        mine = [(r, w) for r, w, b in zip(rankings, weights, ballots, strict=True)
                if b.region == region]
        profile = ProfileWithTies(
            [{o: place for place, o in enumerate(r, start=1)} for r, _ in mine],
            rcounts=[w for _, w in mine], candidates=options)
        profile.use_extended_strict_preference()
        earned = domination_borda_scores(profile)
        most = sum(w for _, w in mine) * (n - 1)
        expected[region] = {o: earned[o] / most for o in options}
    for option in options:
        standing = result.standing(option)
        assert standing.region_shares == pytest.approx({r: expected[r][option] for r in regions})
        assert standing.consensus == pytest.approx(min(expected[r][option] for r in regions))
