"""Hand-worked examples for the pure tally (workshop.voting.tally)."""

from __future__ import annotations

import hashlib
import json
import random
from fractions import Fraction

import pytest

from workshop.voting.tally import (
    Ballot,
    TallyResult,
    ballots_hash,
    canonical_ballot,
    group_scores,
    one_delegate_one_vote,
    one_organisation_one_vote,
    paper_components,
    regional_balance,
    tally_approval,
    tally_matrix,
    tally_points,
    tally_ranking,
    top_n,
    validate_approval,
    validate_matrix,
    validate_points,
    validate_ranking,
)


def ballot(choice, weight=1.0, region="West Africa", org_type="trade union", org="CSTB"):
    return Ballot(weight, region, org_type, org, choice)


def ranks(result: TallyResult) -> dict[int, int]:
    return {s.option: s.rank for s in result.standings}


# --- approval -------------------------------------------------------------------------------


def test_approval_scores_and_ranking():
    ballots = [ballot({1, 2}), ballot({2}), ballot([2, 3]), ballot({1})]
    result = tally_approval(ballots, [1, 2, 3])
    assert result.method == "approval"
    assert result.scores == {1: 2.0, 2: 3.0, 3: 1.0}
    assert result.ranking == ((2,), (1,), (3,))
    assert ranks(result) == {2: 1, 1: 2, 3: 3}
    assert [s.option for s in result.standings] == [2, 1, 3]
    assert result.turnout.count == 4
    assert result.turnout.weight == 4.0
    assert result.schulze is None
    assert result.condorcet_winner is None


def test_ties_share_a_rank_and_the_next_rank_skips():
    ballots = [ballot({1, 2, 3, 4}), ballot({1, 2, 3}), ballot({1})]
    result = tally_approval(ballots, [4, 3, 2, 1])
    assert result.scores == {1: 3.0, 2: 2.0, 3: 2.0, 4: 1.0}
    assert ranks(result) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert result.ranking == ((1,), (2, 3), (4,))


def test_no_ballots_everything_tied_at_zero():
    result = tally_approval([], [1, 2])
    assert result.ranking == ((1, 2),)
    assert ranks(result) == {1: 1, 2: 1}
    assert result.turnout.count == 0
    assert result.turnout.weight == 0.0
    assert all(s.consensus == 0.0 for s in result.standings)


def test_float_weights_that_add_up_to_one_tie_exactly_with_one_vote():
    # Ten delegates of one organisation carry 0.1 each; in floats 10 * 0.1 != 1.0, but a tie
    # between two organisations must show as a tie.
    keys = [f"big-{i}" for i in range(10)] + ["small"]
    orgs = {k: ("big" if k.startswith("big") else "small") for k in keys}
    weights = one_organisation_one_vote(orgs)
    ballots = [ballot({1} if orgs[k] == "big" else {2}, weights[k], org=orgs[k]) for k in keys]
    result = tally_approval(ballots, [1, 2])
    assert ranks(result) == {1: 1, 2: 1}
    assert result.scores == {1: 1.0, 2: 1.0}
    assert result.turnout.weight == 2.0


def test_approval_breakdown_by_region_and_org_type_and_turnout():
    ballots = [
        ballot({1}, region="Asia", org_type="cooperative"),
        ballot({1, 2}, region="Asia", org_type="NGO"),
        ballot({2}, weight=2.0, region="Belgium", org_type="NGO"),
    ]
    result = tally_approval(ballots, [1, 2])
    one = result.standing(1)
    two = result.standing(2)
    assert one.by_region == {"Asia": 2.0, "Belgium": 0.0}
    assert two.by_region == {"Asia": 1.0, "Belgium": 2.0}
    assert one.by_org_type == {"NGO": 1.0, "cooperative": 1.0}
    assert two.by_org_type == {"NGO": 3.0, "cooperative": 0.0}
    assert result.turnout_by_region["Asia"].count == 2
    assert result.turnout_by_region["Belgium"].weight == 2.0
    assert result.turnout_by_org_type["NGO"].count == 2
    assert result.turnout_by_org_type["NGO"].weight == 3.0
    with pytest.raises(KeyError):
        result.standing(99)


def test_approval_max_is_enforced_in_the_tally():
    with pytest.raises(
        ValueError, match=r"ballot 1: over the limit: 3 options approved, at most 2"
    ):
        tally_approval([ballot({1}), ballot({1, 2, 3})], [1, 2, 3], max_approvals=2)


# --- consensus ------------------------------------------------------------------------------


def test_consensus_prefers_support_in_every_region_over_one_large_region():
    # Six delegates of one large region all back option 1; option 2 is backed by two of them
    # and by the single delegate of each of two small regions.
    large = [ballot({1, 2} if i < 2 else {1}, region="Large") for i in range(6)]
    small = [ballot({2}, region="Small A"), ballot({2}, region="Small B")]
    result = tally_approval(large + small, [1, 2])
    assert result.scores == {1: 6.0, 2: 4.0}
    one, two = result.standing(1), result.standing(2)
    assert one.consensus == 0.0
    assert two.consensus == pytest.approx(1 / 3)
    assert two.consensus > one.consensus
    assert two.region_shares == {"Large": pytest.approx(1 / 3), "Small A": 1.0, "Small B": 1.0}


def test_consensus_for_borda_is_the_least_supportive_regions_share():
    ballots = [
        ballot([1, 2, 3], region="A"),
        ballot([1, 2, 3], region="A"),
        ballot([1, 2, 3], region="A"),
        ballot([2, 3, 1], region="B"),
    ]
    result = tally_ranking(ballots, [1, 2, 3])
    assert result.scores == {1: 6.0, 2: 5.0, 3: 1.0}
    # Shares of the maximum (2 points per ballot): option 1 gets 1 in A and 0 in B; option 2
    # gets 1/2 in A and 1 in B.
    assert result.standing(1).consensus == 0.0
    assert result.standing(2).consensus == 0.5
    assert result.standing(3).consensus == 0.0
    assert result.standing(2).consensus > result.standing(1).consensus


def test_a_line_nobody_ranked_has_no_consensus_anywhere():
    # Four lines; every voter in three regions ranks only line 1. Borda still gives each of
    # the three unranked lines its share of the rest (1 point per ballot), but consensus counts
    # what voters expressed: the unranked lines have 0 in every region, not 1/3.
    ballots = [ballot([1], region=r) for r in ("Asia", "Belgium", "West Africa")]
    result = tally_ranking(ballots, [1, 2, 3, 4])
    assert result.scores == {1: 9.0, 2: 3.0, 3: 3.0, 4: 3.0}
    assert result.standing(1).consensus == 1.0
    for line in (2, 3, 4):
        assert result.standing(line).consensus == 0.0
        assert set(result.standing(line).region_shares.values()) == {0.0}


def test_ranking_consensus_separates_support_in_one_region_from_none():
    # Line 2 is ranked second in Asia only; line 3 is never ranked. Both had 1/3 in Belgium
    # under the old definition; now line 2 shows its Asian support and line 3 shows none.
    ballots = [ballot([1, 2], region="Asia"), ballot([1], region="Belgium")]
    result = tally_ranking(ballots, [1, 2, 3])
    two, three = result.standing(2), result.standing(3)
    assert two.region_shares == {"Asia": 0.5, "Belgium": 0.0}
    assert three.region_shares == {"Asia": 0.0, "Belgium": 0.0}
    assert two.consensus == three.consensus == 0.0
    # With Belgium ranking line 2 last, its consensus is Belgium's share.
    result = tally_ranking([ballot([1, 2], region="Asia"), ballot([1, 3, 2], region="Belgium")],
                           [1, 2, 3])
    assert result.standing(2).consensus == 0.0  # last of three earns nothing
    assert result.standing(3).region_shares == {"Asia": 0.0, "Belgium": 0.5}


def test_ranking_consensus_weighs_ballots_like_the_score():
    ballots = [ballot([1], weight=0.5, region="Asia"), ballot([2, 1], weight=1.0, region="Asia")]
    result = tally_ranking(ballots, [1, 2])
    # Asia's most: 1.5 (weight) x 1 point; line 1 earns 0.5 (first, half weight), line 2 earns 1.
    assert result.standing(1).consensus == pytest.approx(1 / 3)
    assert result.standing(2).consensus == pytest.approx(2 / 3)


def test_totals_kept_before_the_consensus_component_read_by_the_old_rule():
    # A secret ballot's regional totals begun before the second component existed.
    old = [[4, 1, 1]]  # one paper [1] over three lines: Borda half points
    scores, shares = group_scores("ranking", old, 1)
    assert scores == [2.0, 0.5, 0.5]
    assert shares == [1.0, 0.25, 0.25]
    scores, shares = group_scores("ranking", paper_components([1], "ranking", [1, 2, 3]), 1)
    assert scores == [2.0, 0.5, 0.5]
    assert shares == [1.0, 0.0, 0.0]


# --- points ---------------------------------------------------------------------------------


def test_points_scores_weights_and_consensus():
    ballots = [
        ballot({1: 5, 2: 5}, region="A"),
        ballot({2: 4, 3: 5}, weight=0.5, region="B"),
        ballot({}, region="A"),
    ]
    result = tally_points(ballots, [1, 2, 3], budget=10, max_per_option=5)
    assert result.method == "points"
    assert result.scores == {1: 5.0, 2: 7.0, 3: 2.5}
    assert result.ranking == ((2,), (1,), (3,))
    # Maximum per ballot and option is 5: region A (weight 2) can give 10, region B 2.5.
    assert result.standing(2).region_shares == {"A": 0.5, "B": 0.8}
    assert result.standing(1).consensus == 0.0
    assert result.standing(2).consensus == 0.5
    assert result.standing(3).consensus == 0.0
    assert result.turnout.weight == 2.5


# --- ranking: Borda -------------------------------------------------------------------------


def test_borda_full_partial_and_weighted():
    ballots = [
        ballot([1, 2, 3, 4]),  # 3, 2, 1, 0
        ballot([2]),  # 2 gets 3; the three unranked share 2 + 1 + 0: 1 each
        ballot((3, 1), weight=2.0),  # 3 gets 3, 1 gets 2; 2 and 4 share 1 + 0: 0.5 each, x2
    ]
    result = tally_ranking(ballots, [1, 2, 3, 4])
    assert result.method == "ranking"
    assert result.scores == {1: 8.0, 2: 6.0, 3: 8.0, 4: 2.0}
    assert ranks(result) == {1: 1, 3: 1, 2: 3, 4: 4}
    assert result.ranking == ((1, 3), (2,), (4,))
    assert sum(result.scores.values()) == 4 * 6  # total weight * n(n-1)/2


def test_borda_empty_ranking_gives_everyone_the_average():
    result = tally_ranking([ballot([])], [1, 2, 3])
    assert result.scores == {1: 1.0, 2: 1.0, 3: 1.0}
    assert result.turnout.count == 1


def test_borda_breakdown_by_region_and_org_type():
    ballots = [
        ballot([1, 2], region="Asia", org_type="NGO"),
        ballot([2, 1], region="Belgium", org_type="NGO"),
        ballot([2, 1], region="Belgium", org_type="cooperative"),
    ]
    result = tally_ranking(ballots, [1, 2])
    assert result.standing(2).by_region == {"Asia": 0.0, "Belgium": 2.0}
    assert result.standing(1).by_org_type == {"NGO": 1.0, "cooperative": 0.0}


# --- ranking: Schulze -----------------------------------------------------------------------

A, B, C, D, E = 1, 2, 3, 4, 5
# The classic 45-voter example of Schulze's method (no Condorcet winner; result E A C B D).
SCHULZE_EXAMPLE = [
    (5, [A, C, B, E, D]),
    (5, [A, D, E, C, B]),
    (8, [B, E, D, A, C]),
    (3, [C, A, B, E, D]),
    (7, [C, A, E, B, D]),
    (2, [C, B, A, D, E]),
    (7, [D, C, E, B, A]),
    (8, [E, B, A, D, C]),
]


def test_schulze_classic_example():
    ballots = [ballot(r) for times, r in SCHULZE_EXAMPLE for _ in range(times)]
    result = tally_ranking(ballots, [A, B, C, D, E])
    schulze = result.schulze
    assert schulze is not None
    assert schulze.ranking == ((E,), (A,), (C,), (B,), (D,))
    assert schulze.winners == (E,)
    assert schulze.ranks == {E: 1, A: 2, C: 3, B: 4, D: 5}
    assert schulze.condorcet_winner is None
    assert result.condorcet_winner is None
    # d[A][B] = 20 and d[B][A] = 25
    assert schulze.margins[0][1] == -5.0
    assert schulze.margins[1][0] == 5.0


def test_schulze_same_ballots_as_weights():
    weighted = [ballot(r, weight=float(times)) for times, r in SCHULZE_EXAMPLE]
    assert tally_ranking(weighted, [A, B, C, D, E]).schulze.ranking == (
        (E,),
        (A,),
        (C,),
        (B,),
        (D,),
    )


def test_condorcet_winner_is_reported():
    ballots = [ballot([2, 1, 3]), ballot([2, 3, 1]), ballot([1, 2, 3])]
    result = tally_ranking(ballots, [1, 2, 3])
    assert result.condorcet_winner == 2
    assert result.schulze.winners == (2,)


def test_schulze_ties_are_kept():
    result = tally_ranking([ballot([1, 2, 3]), ballot([2, 1, 3])], [1, 2, 3])
    assert result.schulze.ranking == ((1, 2), (3,))
    assert result.schulze.ranks == {1: 1, 2: 1, 3: 3}
    assert result.schulze.condorcet_winner is None


def test_schulze_partial_rankings_unranked_tied_below_ranked():
    # Ballot [1]: 1 above 2 and 3, no preference between 2 and 3. Ballot [2, 3]: 2 > 3 > 1.
    result = tally_ranking([ballot([1]), ballot([2, 3])], [1, 2, 3])
    schulze = result.schulze
    assert schulze.margins == ((0.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0))
    assert schulze.ranking == ((1, 2), (3,))
    assert result.scores == {1: 2.0, 2: 2.5, 3: 1.5}


def test_schulze_with_partial_weighted_ballots_worked_by_hand():
    ballots = [ballot([1, 2, 3, 4]), ballot([2]), ballot([3, 1], weight=2.0)]
    schulze = tally_ranking(ballots, [1, 2, 3, 4]).schulze
    # Margins: 1>2 by 2, 3>1 by 1, 1>4 by 3, 2>4 by 2, 3>4 by 3, 2 and 3 level.
    assert schulze.margins[0] == (0.0, 2.0, -1.0, 3.0)
    assert schulze.margins[1][2] == 0.0
    assert schulze.condorcet_winner is None  # 3 does not beat 2
    assert schulze.ranking == ((3,), (1,), (2,), (4,))
    assert schulze.strongest_paths[2][1] == 1.0  # 3 -> 1 -> 2, weakest link 1
    assert schulze.strongest_paths[1][2] == 0.0


# --- matrix ---------------------------------------------------------------------------------


def test_matrix_means_combined_score_and_consensus():
    ballots = [
        ballot({1: (5, 4), 2: (2, 2)}, region="A"),
        ballot({1: (2, 1)}, weight=2.0, region="B"),
    ]
    result = tally_matrix(ballots, [1, 2, 3])
    assert result.method == "matrix"
    points = {p.option: p for p in result.matrix}
    assert points[1].first == 3.0  # (5 * 1 + 2 * 2) / 3
    assert points[1].second == 2.0  # (4 * 1 + 1 * 2) / 3
    assert points[1].combined == 6.0
    assert points[1].raters == 2
    assert points[1].rater_weight == 3.0
    assert (points[2].first, points[2].second, points[2].combined) == (2.0, 2.0, 4.0)
    assert (points[3].first, points[3].second, points[3].combined) == (None, None, 0.0)
    assert points[3].raters == 0
    assert result.scores == {1: 6.0, 2: 4.0, 3: 0.0}
    assert result.standing(1).by_region == {"A": 20.0, "B": 2.0}
    assert result.standing(1).consensus == pytest.approx(1 / 24)
    assert result.standing(2).consensus == 0.0


# --- weight helpers -------------------------------------------------------------------------


def test_weight_helpers():
    assert one_delegate_one_vote(["a", "b"]) == {"a": 1.0, "b": 1.0}
    orgs = {"a": "CSTB", "b": "CSTB", "c": "Solidaris", "d": "CSTB"}
    assert one_organisation_one_vote(orgs) == {
        "a": 1 / 3,
        "b": 1 / 3,
        "c": 1.0,
        "d": 1 / 3,
    }
    regions = {1: "Asia", 2: "Asia", 3: "Belgium"}
    assert regional_balance(regions) == {1: 0.5, 2: 0.5, 3: 1.0}


def test_regional_balance_gives_each_region_one_vote():
    region_of = {i: ("Asia" if i < 7 else "Belgium") for i in range(10)}
    weights = regional_balance(region_of)
    ballots = [ballot({1} if i < 7 else {2}, weights[i], region=region_of[i]) for i in region_of]
    result = tally_approval(ballots, [1, 2])
    assert result.scores == {1: 1.0, 2: 1.0}
    assert result.ranking == ((1, 2),)
    assert result.turnout_by_region["Asia"].weight == 1.0


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "max_approvals", "message"),
    [
        ([1, 9], None, "unknown option 9"),
        ([1, 1], None, "repeated option 1"),
        ([True], None, "unknown option True"),
        ({1, 2, 3}, 2, "over the limit: 3 options approved, at most 2 allowed"),
        ({1: 1}, None, "collection of option ids"),
        ([1], -1, "max_approvals must be an integer of at least 0"),
    ],
)
def test_validate_approval(choice, max_approvals, message):
    with pytest.raises(ValueError, match=message):
        validate_approval(choice, [1, 2, 3], max_approvals)


def test_validate_accepts_good_ballots():
    validate_approval({1, 2}, [1, 2, 3], 2)
    validate_approval([], [1, 2, 3])
    validate_points({1: 5, 2: 5}, [1, 2, 3], 10, 5)
    validate_ranking([3, 1], [1, 2, 3])
    validate_ranking((), [1, 2, 3])
    validate_matrix({1: (1, 5), 3: [5, 1]}, [1, 2, 3])


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({9: 1}, "unknown option 9"),
        ({1: 6}, "option 1: over the maximum per option: 6 points, at most 5 allowed"),
        ({1: -1}, "option 1: negative points"),
        ({1: 1.5}, "option 1: points must be a whole number"),
        ({1: 5, 2: 5, 3: 1}, "over budget: 11 points given, budget is 10"),
        ([1, 2], "must map option ids to points"),
    ],
)
def test_validate_points(choice, message):
    with pytest.raises(ValueError, match=message):
        validate_points(choice, [1, 2, 3], 10, 5)


def test_validate_points_parameters():
    with pytest.raises(ValueError, match="budget must be an integer of at least 1"):
        validate_points({}, [1], 0, 5)
    with pytest.raises(ValueError, match="max_per_option"):
        validate_points({}, [1], 10, 0)


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ([1, 4], "unknown option 4"),
        ([2, 1, 2], "repeated option 2"),
        ({1, 2}, "ordered sequence"),
        ("12", "ordered sequence"),
    ],
)
def test_validate_ranking(choice, message):
    with pytest.raises(ValueError, match=message):
        validate_ranking(choice, [1, 2, 3])


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({4: (1, 1)}, "unknown option 4"),
        ({1: (0, 3)}, "option 1: rating 0 outside 1-5"),
        ({1: (3, 6)}, "option 1: rating 6 outside 1-5"),
        ({1: (3,)}, "option 1: expected two ratings"),
        ({1: 3}, "option 1: expected two ratings"),
        ([1], "must map option ids to two ratings"),
    ],
)
def test_validate_matrix(choice, message):
    with pytest.raises(ValueError, match=message):
        validate_matrix(choice, [1, 2, 3])


def test_tallies_reject_invalid_ballots_naming_the_ballot():
    with pytest.raises(ValueError, match="ballot 1: repeated option 1"):
        tally_ranking([ballot([1]), ballot([1, 1])], [1, 2])
    with pytest.raises(ValueError, match="ballot 0: unknown option 7"):
        tally_ranking([ballot([7])], [1, 2])
    with pytest.raises(ValueError, match="ballot 0: a ranking must be an ordered sequence"):
        tally_ranking([ballot({1, 2})], [1, 2])
    with pytest.raises(ValueError, match="ballot 0: over budget"):
        tally_points([ballot({1: 3, 2: 3})], [1, 2], budget=5, max_per_option=5)
    with pytest.raises(ValueError, match="ballot 0: option 1: rating 9"):
        tally_matrix([ballot({1: (9, 1)})], [1, 2])


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (0.0, "weight must be positive"),
        (-1.0, "weight must be positive"),
        (float("nan"), "weight must be finite"),
        (float("inf"), "weight must be finite"),
        (True, "weight must be a number"),
        ("1", "weight must be a number"),
        ([1.0], "weight must be a number"),
    ],
)
def test_weights_must_be_positive_numbers(weight, message):
    with pytest.raises(ValueError, match=f"ballot 1: {message}"):
        tally_approval([ballot({1}), ballot({1}, weight=weight)], [1])


def test_int_fraction_and_tiny_weights():
    ballots = [ballot({1}, weight=1), ballot({2}, weight=Fraction(1, 2)), ballot({2}, weight=0.5)]
    assert tally_approval(ballots, [1, 2]).ranking == ((1, 2),)
    tiny = tally_approval([ballot({1}, weight=1e-7), ballot({2}, weight=3e-7)], [1, 2])
    assert tiny.scores == {1: 1e-7, 2: 3e-7}


@pytest.mark.parametrize(
    ("options", "message"),
    [([], "at least one option"), ([1, 1], "unique"), ([1, "2"], "integers")],
)
def test_options_are_checked(options, message):
    with pytest.raises(ValueError, match=message):
        tally_approval([], options)


# --- hash -----------------------------------------------------------------------------------


def sample_ballots():
    return [
        ballot([3, 1, 2], region="Asia", org="SEWA"),
        ballot([1], weight=0.5, region="Belgium", org="ACV-CSC"),
        ballot([2, 3], weight=0.5, region="Belgium", org="ACV-CSC", org_type="health mutual"),
        ballot([1, 2, 3], region="West Africa", org="CNTS"),
    ]


def test_hash_is_stable_under_permutation_of_ballots():
    canonical = [canonical_ballot(b, "ranking") for b in sample_ballots()]
    expected = ballots_hash(canonical)
    rng = random.Random(5)
    for _ in range(10):
        shuffled = canonical[:]
        rng.shuffle(shuffled)
        assert ballots_hash(shuffled) == expected


def test_hash_follows_the_documented_construction():
    canonical = [canonical_ballot(b, "ranking") for b in sample_ballots()]
    texts = sorted(
        json.dumps(b, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for b in canonical
    )
    expected = hashlib.sha256(("[" + ",".join(texts) + "]").encode()).hexdigest()
    assert ballots_hash(canonical) == expected
    # The hashed text is a JSON array that an export can reproduce.
    assert json.loads("[" + ",".join(texts) + "]")[0]["choice"] == [1, 2, 3]
    # Pinned, so that a change of the format is noticed (exports depend on it).
    assert expected == "23c2b107a4b55c0d70c8b258cb08d713d4cd2c3251a4cb470c3eb3864f1d0cb3"


def test_hash_changes_when_a_vote_changes_but_not_with_order_inside_a_set():
    ranking = [canonical_ballot(b, "ranking") for b in sample_ballots()]
    changed = ranking[:]
    changed[0] = canonical_ballot(ballot([1, 3, 2], region="Asia", org="SEWA"), "ranking")
    assert ballots_hash(changed) != ballots_hash(ranking)

    first = canonical_ballot(ballot([2, 1]), "approval")
    second = canonical_ballot(ballot({1, 2}), "approval")
    assert first == second
    assert ballots_hash([first]) == ballots_hash([second])
    assert ballots_hash([first]) != ballots_hash([first, first])


def test_canonical_forms_of_each_method():
    assert canonical_ballot(ballot({2: 3, 1: 4}), "points")["choice"] == [[1, 4], [2, 3]]
    assert canonical_ballot(ballot({2: (1, 5), 1: (4, 4)}), "matrix")["choice"] == [
        [1, 4, 4],
        [2, 1, 5],
    ]
    as_dict = canonical_ballot(ballot((2, 1), weight=1), "ranking")
    assert as_dict == {
        "weight": 1.0,
        "region": "West Africa",
        "org_type": "trade union",
        "organisation": "CSTB",
        "choice": [2, 1],
    }
    with pytest.raises(ValueError, match="unknown method"):
        canonical_ballot(ballot([]), "plurality")  # type: ignore[arg-type]


# --- top N ----------------------------------------------------------------------------------


def test_top_n_flags_a_tie_at_the_cut_off_and_never_breaks_it():
    ranking = ((1,), (2, 3), (4,))
    cut = top_n(ranking, 2)
    assert cut.selected == (1,)
    assert cut.tied_at_cutoff == (2, 3)
    assert cut.seats_left == 1
    assert cut.has_tie

    for n, selected in [(0, ()), (1, (1,)), (3, (1, 2, 3)), (4, (1, 2, 3, 4)), (9, (1, 2, 3, 4))]:
        cut = top_n(ranking, n)
        assert cut.selected == selected
        assert not cut.has_tie
        assert cut.seats_left == 0

    with pytest.raises(ValueError, match="n must be"):
        top_n(ranking, -1)


def test_top_n_on_results():
    approval = tally_approval([ballot({1, 2, 3, 4}), ballot({1, 2, 3}), ballot({1})], [1, 2, 3, 4])
    cut = top_n(approval, 2)
    assert (cut.selected, cut.tied_at_cutoff, cut.seats_left) == ((1,), (2, 3), 1)

    ranked = tally_ranking([ballot([1, 2, 3]), ballot([2, 1, 3])], [1, 2, 3])
    cut = top_n(ranked.schulze, 1)
    assert (cut.selected, cut.tied_at_cutoff, cut.seats_left) == ((), (1, 2), 1)
    assert top_n(ranked.schulze, 2).selected == (1, 2)
