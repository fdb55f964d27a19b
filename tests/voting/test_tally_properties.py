"""Property tests of the tally: invariances every fair count must have.

Not asserted on purpose: participation (Schulze can fail it, and so may any Condorcet method).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workshop.voting.tally import (
    Ballot,
    MatrixPoint,
    TallyResult,
    tally_approval,
    tally_matrix,
    tally_points,
    tally_ranking,
)

SETTINGS = settings(max_examples=100, deadline=None)
WEIGHTS = (1.0, 0.5, 2.0, 1 / 3, 0.1)
REGIONS = ("Asia", "Belgium", "West Africa")
ORG_TYPES = ("trade union", "cooperative")


@st.composite
def elections(draw: st.DrawFn, choice_for) -> tuple[list[int], list[Ballot]]:
    """Options (shuffled ids, so nothing depends on id order) and ballots."""
    options = draw(st.lists(st.integers(0, 50), min_size=1, max_size=5, unique=True))
    ballots = draw(
        st.lists(
            st.builds(
                Ballot,
                weight=st.sampled_from(WEIGHTS),
                region=st.sampled_from(REGIONS),
                org_type=st.sampled_from(ORG_TYPES),
                organisation=st.sampled_from(("a", "b", "c")),
                choice=choice_for(options),
            ),
            max_size=10,
        )
    )
    return options, ballots


def rankings(options: list[int]) -> st.SearchStrategy[list[int]]:
    """Full or partial rankings."""
    return st.permutations(options).flatmap(
        lambda order: st.integers(0, len(order)).map(lambda k: list(order[:k]))
    )


def approvals(options: list[int]) -> st.SearchStrategy[frozenset[int]]:
    return st.frozensets(st.sampled_from(options))


def points(options: list[int]) -> st.SearchStrategy[dict[int, int]]:
    # budget 10, at most 5 per option: at most two options may get points above 0 here
    return st.dictionaries(st.sampled_from(options), st.integers(0, 5), max_size=2)


def ratings(options: list[int]) -> st.SearchStrategy[dict[int, tuple[int, int]]]:
    rating = st.integers(1, 5)
    return st.dictionaries(st.sampled_from(options), st.tuples(rating, rating))


METHODS = {
    "approval": (approvals, lambda b, o: tally_approval(b, o)),
    "points": (points, lambda b, o: tally_points(b, o, budget=10, max_per_option=5)),
    "ranking": (rankings, tally_ranking),
    "matrix": (ratings, tally_matrix),
}


def without_counts(points: tuple[MatrixPoint, ...] | None) -> list[MatrixPoint] | None:
    return None if points is None else [replace(p, raters=0) for p in points]


def same_outcome(a: TallyResult, b: TallyResult) -> bool:
    """Equal in everything but the number of ballots counted."""
    return (
        a.standings == b.standings
        and a.ranking == b.ranking
        and a.schulze == b.schulze
        and without_counts(a.matrix) == without_counts(b.matrix)
        and a.turnout.weight == b.turnout.weight
        and {r: t.weight for r, t in a.turnout_by_region.items()}
        == {r: t.weight for r, t in b.turnout_by_region.items()}
    )


@st.composite
def any_method(draw: st.DrawFn):
    name = draw(st.sampled_from(sorted(METHODS)))
    choice_for, tally = METHODS[name]
    options, ballots = draw(elections(choice_for))
    return tally, options, ballots


@SETTINGS
@given(case=any_method(), data=st.data())
def test_permuting_ballots_changes_nothing(case, data):
    tally, options, ballots = case
    shuffled = data.draw(st.permutations(ballots))
    assert tally(shuffled, options) == tally(ballots, options)


@SETTINGS
@given(case=any_method(), data=st.data())
def test_a_weight_of_two_equals_the_ballot_cast_twice(case, data):
    tally, options, ballots = case
    if not ballots:
        return
    i = data.draw(st.integers(0, len(ballots) - 1))
    doubled = ballots[:i] + [replace(ballots[i], weight=ballots[i].weight * 2)] + ballots[i + 1 :]
    twice = [*ballots, ballots[i]]
    heavy, repeated = tally(doubled, options), tally(twice, options)
    assert same_outcome(heavy, repeated)
    assert repeated.turnout.count == heavy.turnout.count + 1


def raise_option(ranking: list[int], option: int) -> list[int]:
    """Move `option` one place up; an unranked option is appended (above the unranked)."""
    if option not in ranking:
        return [*ranking, option]
    place = ranking.index(option)
    if place == 0:
        return ranking
    raised = ranking[:]
    raised[place - 1], raised[place] = raised[place], raised[place - 1]
    return raised


@st.composite
def raising(draw: st.DrawFn):
    options, ballots = draw(elections(rankings))
    if not ballots:
        ballots = [Ballot(1.0, "Asia", "NGO", "a", [])]
    option = draw(st.sampled_from(options))
    i = draw(st.integers(0, len(ballots) - 1))
    raised = ballots[:]
    raised[i] = replace(ballots[i], choice=raise_option(list(ballots[i].choice), option))
    return options, ballots, raised, option


@SETTINGS
@given(case=raising())
def test_raising_an_option_never_lowers_its_borda_score(case):
    options, ballots, raised, option = case
    before = tally_ranking(ballots, options).scores[option]
    after = tally_ranking(raised, options).scores[option]
    assert after >= before


@SETTINGS
@given(case=raising())
def test_raising_a_schulze_winner_keeps_it_a_winner(case):
    options, ballots, raised, option = case
    before = tally_ranking(ballots, options).schulze
    after = tally_ranking(raised, options).schulze
    if option in before.winners:
        assert option in after.winners


@SETTINGS
@given(case=elections(rankings))
def test_borda_total_and_condorcet_consistency(case):
    options, ballots = case
    result = tally_ranking(ballots, options)
    n = len(options)
    total = sum(result.scores.values())
    assert abs(total - result.turnout.weight * n * (n - 1) / 2) < 1e-9 * max(1.0, total)
    schulze = result.schulze
    if schulze.condorcet_winner is not None:
        assert schulze.winners == (schulze.condorcet_winner,)
    ranked = [o for group in schulze.ranking for o in group]
    assert sorted(ranked) == sorted(options)
    assert all(0.0 <= s.consensus <= 1.0 for s in result.standings)


@SETTINGS
@given(election=elections(rankings))
def test_ranking_consensus_counts_only_what_voters_ranked(election):
    """Each region's share is the points of ranked positions over the most possible there;
    a line no voter of a region ranked has share 0 there; with full rankings the share is the
    Borda score's (the two definitions agree when nothing is left unranked)."""
    options, ballots = election
    result = tally_ranking(ballots, options)
    n = len(options)
    for standing in result.standings:
        for region, share in standing.region_shares.items():
            mine = [b for b in ballots if b.region == region]
            most = sum(Fraction(b.weight) for b in mine) * (n - 1)
            earned = sum(Fraction(b.weight) * (n - 1 - list(b.choice).index(standing.option))
                         for b in mine if standing.option in b.choice)
            assert share == pytest.approx(float(earned / most) if most else 0.0)
            if not any(standing.option in b.choice for b in mine):
                assert share == 0.0
            if all(len(b.choice) == n for b in mine) and most:
                borda = standing.by_region[region] / float(sum(Fraction(b.weight) for b in mine))
                assert share == pytest.approx(borda / (n - 1))
        assert standing.consensus == min(standing.region_shares.values(), default=0.0)
