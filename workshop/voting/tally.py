"""Pure tally of Workshop ballots: plain data in, plain data out.

Why pure: the results decide which lines of work become five-year action plans, so anyone must be
able to recompute them (from an export, in a test, against an independent implementation) without a
server or a database. Nothing here imports Flask, touches a database or does I/O.

Conventions. Each is a choice someone could make differently, so each is written down here.

* Exact arithmetic. A ballot's weight becomes an exact fraction: a float is read as the simplest
  fraction with a denominator of at most 10**6 when one lies within 1e-12 (relative) of it, so three
  delegates each carrying 0.333... of their organisation's vote weigh exactly one vote. Every sum is
  then an integer over a common denominator: a tie is a real tie, never an artefact of float
  rounding, and the order of the ballots cannot change any result.
* Ties are shown, never broken. Options with equal scores share a rank (competition ranking:
  1, 2, 2, 4); inside a tie they are listed by option id, which carries no meaning.
* Borda with partial rankings. With n options, the option at 0-based position i gets n-1-i points;
  the u unranked options share the remaining points equally, (u-1)/2 each. Equivalently an option
  gets 1 point per option it is ranked above and 1/2 per option it is tied with (unranked options
  are tied with each other, below every ranked one). This is an increasing affine transform of
  pref_voting's symmetric Borda for truncated orders: ours = (symmetric + (n-1) * total weight) / 2.
* Schulze. Pairwise support counts a ranked option above every unranked one and no preference
  between two unranked ones. Path strength uses margins (support for a over b minus support for b
  over a), like pref_voting's beat_path. The Schulze ranking lists the winners (options no one
  beats), then the winners among the rest, and so on; options in one group are tied.
* Condorcet winner: the option with a positive margin over every other option, else None.
* Matrix. Each option is rated 1-5 on two criteria (say importance and feasibility). The combined
  score is the product of the two weighted means (1..25): it rewards options that do well on both,
  and it is the area spanned by the option's point on the scatter. Options nobody rated score 0
  and have no means. Not rating an option is allowed.
* Consensus, per option: in each region that cast ballots, the option's support as a fraction of the
  most it could have had there (every ballot of that region giving it the maximum: approval 1,
  points min(max per option, budget), ranking n-1, matrix: combined score rescaled from 1..25 to
  0..1); the consensus is the minimum of these over the regions. Support that holds in every
  region therefore beats strong support from one large region that the others do not share.
  Consensus counts only what voters expressed. For a ranking, an option ranked at 0-based
  position i earns n-1-i toward it and an unranked option earns nothing, although the Borda
  score gives unranked options their share of the remaining points: with partial rankings a
  line nobody ranked would otherwise show the same consensus in every region as a line that
  was really supported (with 4 options and one ranked, each unranked one had 1/3).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import accumulate, repeat
from operator import or_
from typing import Any, Literal, TypeAlias, TypeVar

__all__ = [
    "MATRIX_MAX",
    "MATRIX_MIN",
    "Ballot",
    "MatrixPoint",
    "OptionScore",
    "SchulzeResult",
    "TallyResult",
    "TopN",
    "Turnout",
    "ballots_hash",
    "canonical_ballot",
    "canonical_choice",
    "group_scores",
    "one_delegate_one_vote",
    "one_organisation_one_vote",
    "paper_components",
    "regional_balance",
    "tally_approval",
    "tally_matrix",
    "tally_points",
    "tally_ranking",
    "top_n",
    "validate_approval",
    "validate_matrix",
    "validate_points",
    "validate_ranking",
]

Method = Literal["approval", "points", "ranking", "matrix"]
ApprovalChoice: TypeAlias = Collection[int]
PointsChoice: TypeAlias = Mapping[int, int]
RankingChoice: TypeAlias = Sequence[int]
MatrixChoice: TypeAlias = Mapping[int, tuple[int, int]]
Choice: TypeAlias = ApprovalChoice | PointsChoice | RankingChoice | MatrixChoice

MATRIX_MIN = 1
MATRIX_MAX = 5

_SNAP_DENOMINATOR = 10**6
_SNAP_TOLERANCE = Fraction(1, 10**12)

K = TypeVar("K", bound=Hashable)


# --------------------------------------------------------------------------------------------
# Data in and out


@dataclass(frozen=True, slots=True)
class Ballot:
    """One ballot as the tally sees it.

    `region`, `org_type` and `organisation` are there for the breakdowns (and for the caller's
    weighting rule); `weight` (> 0) is set by the caller from that rule, see the weight helpers.
    `choice` depends on the method: approval, a collection of approved option ids; points, a
    mapping option id -> points; ranking, a sequence of option ids, best first (partial allowed);
    matrix, a mapping option id -> (first criterion, second criterion), each 1-5.
    """

    weight: float
    region: str
    org_type: str
    organisation: str
    choice: Choice


@dataclass(frozen=True, slots=True)
class Turnout:
    """How many ballots were counted and how much they weighed (the weights' sum)."""

    count: int
    weight: float


@dataclass(frozen=True, slots=True)
class OptionScore:
    """One option's line in the results.

    `rank` is a competition rank: tied options share it and the next rank skips (1, 2, 2, 4).
    `by_region` / `by_org_type` hold the same score computed on that group's ballots only.
    `region_shares` holds the option's share of the maximum possible support in each region;
    `consensus` is their minimum (see the module docstring).
    """

    option: int
    rank: int
    score: float
    consensus: float
    by_region: Mapping[str, float]
    by_org_type: Mapping[str, float]
    region_shares: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SchulzeResult:
    """Schulze (beat path, margins) outcome of a ranking ballot.

    `ranking` lists tie groups, best first; `ranks` gives each option its competition rank.
    `margins[i][j]` and `strongest_paths[i][j]` refer to `options[i]` against `options[j]`, in
    units of ballot weight, so a facilitator can show why an option won.
    """

    options: tuple[int, ...]
    ranking: tuple[tuple[int, ...], ...]
    ranks: Mapping[int, int]
    winners: tuple[int, ...]
    condorcet_winner: int | None
    margins: tuple[tuple[float, ...], ...]
    strongest_paths: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class MatrixPoint:
    """One option's point on the matrix scatter: weighted means of both criteria.

    Means are None when nobody rated the option; `combined` is first * second (0 if unrated).
    """

    option: int
    first: float | None
    second: float | None
    combined: float
    raters: int
    rater_weight: float


@dataclass(frozen=True, slots=True)
class TallyResult:
    """Everything a results screen or an export shows for one ballot.

    `standings` is ordered best first (ties by option id), and `ranking` gives the same order as
    tie groups. For a ranking ballot the scores are Borda scores and `schulze` holds the Condorcet
    analysis; for a matrix ballot the scores are combined scores and `matrix` holds the scatter.
    """

    method: Method
    options: tuple[int, ...]
    standings: tuple[OptionScore, ...]
    ranking: tuple[tuple[int, ...], ...]
    turnout: Turnout
    turnout_by_region: Mapping[str, Turnout]
    turnout_by_org_type: Mapping[str, Turnout]
    schulze: SchulzeResult | None = None
    matrix: tuple[MatrixPoint, ...] | None = None

    @property
    def scores(self) -> dict[int, float]:
        """Option id -> score, for callers that only want the numbers."""
        return {s.option: s.score for s in self.standings}

    @property
    def condorcet_winner(self) -> int | None:
        """The Condorcet winner of a ranking ballot (None otherwise or if there is none)."""
        return self.schulze.condorcet_winner if self.schulze is not None else None

    def standing(self, option: int) -> OptionScore:
        """The line of one option; KeyError if it is not on the ballot."""
        for s in self.standings:
            if s.option == option:
                return s
        raise KeyError(option)


@dataclass(frozen=True, slots=True)
class TopN:
    """The result of selecting the top N options.

    `selected` are the options ranked clearly inside the top N. If a tie straddles the cut-off,
    `tied_at_cutoff` lists the tied options and `seats_left` says how many of them fit: a person
    has to decide (a run-off, a discussion); this module never picks for them.
    """

    n: int
    selected: tuple[int, ...]
    tied_at_cutoff: tuple[int, ...]
    seats_left: int

    @property
    def has_tie(self) -> bool:
        """True when the cut-off falls inside a tie."""
        return bool(self.tied_at_cutoff)


# --------------------------------------------------------------------------------------------
# Weighting rules: the caller turns them into each ballot's weight


def one_delegate_one_vote(keys: Iterable[K]) -> dict[K, float]:
    """Weight 1.0 for every ballot: each delegate counts the same."""
    return dict.fromkeys(keys, 1.0)


def one_organisation_one_vote(organisation_of: Mapping[K, str]) -> dict[K, float]:
    """Ballot key -> weight so that each organisation's ballots add up to one vote (1/n each).

    An organisation that sends five delegates then weighs what one that sends one delegate does.
    """
    return _equal_shares(organisation_of)


def regional_balance(region_of: Mapping[K, str]) -> dict[K, float]:
    """Ballot key -> weight so that each region's ballots add up to one vote (1/n each).

    A region that sent many delegates (say, the one hosting the workshop) weighs no more than one
    that could send few.
    """
    return _equal_shares(region_of)


def _equal_shares(group_of: Mapping[K, str]) -> dict[K, float]:
    sizes = Counter(group_of.values())
    return {key: 1.0 / sizes[group] for key, group in group_of.items()}


# --------------------------------------------------------------------------------------------
# Validation: raise PaperError naming the rule broken, so a phone can say what to fix


class PaperError(ValueError):
    """A ballot paper its method does not accept. `code` names the rule (`not_a_list`,
    `not_a_mapping`, `unknown_option`, `repeated_option`, `too_many`, `not_whole`, `negative`,
    `over_max`, `over_budget`, `bad_rating`) and `params` its figures; the message is for
    developers, the edges turn the code into a sentence in the reader's language."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _known(options: Collection[int]) -> Collection[int]:
    return options if isinstance(options, frozenset | set) else frozenset(options)


def _check_option(option: object, known: Collection[int]) -> None:
    if not _is_int(option) or option not in known:
        raise PaperError("unknown_option", f"unknown option {option!r}", option=option)


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if not _is_int(value) or value < minimum:  # type: ignore[operator]
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")


def validate_approval(
    choice: ApprovalChoice, options: Collection[int], max_approvals: int | None = None
) -> None:
    """Check an approval ballot: known options, none twice, at most `max_approvals` of them."""
    if max_approvals is not None:
        _check_count("max_approvals", max_approvals, minimum=0)
    if isinstance(choice, str | bytes | Mapping):
        raise PaperError("not_a_list", "an approval ballot must be a collection of option ids")
    known = _known(options)
    seen: set[int] = set()
    for option in choice:
        _check_option(option, known)
        if option in seen:
            raise PaperError("repeated_option", f"repeated option {option}", option=option)
        seen.add(option)
    if max_approvals is not None and len(seen) > max_approvals:
        raise PaperError(
            "too_many",
            f"over the limit: {len(seen)} options approved, at most {max_approvals} allowed",
            limit=max_approvals)


def validate_points(
    choice: PointsChoice, options: Collection[int], budget: int, max_per_option: int
) -> None:
    """Check a points ballot: known options, whole non-negative points, at most `max_per_option`
    on one option and at most `budget` in all (the budget need not be spent entirely)."""
    _check_count("budget", budget, minimum=1)
    _check_count("max_per_option", max_per_option, minimum=1)
    if not isinstance(choice, Mapping):
        raise PaperError("not_a_mapping", "a points ballot must map option ids to points")
    known = _known(options)
    total = 0
    for option, points in choice.items():
        _check_option(option, known)
        if not _is_int(points):
            raise PaperError("not_whole",
                             f"option {option}: points must be a whole number, got {points!r}")
        if points < 0:
            raise PaperError("negative", f"option {option}: negative points ({points})")
        if points > max_per_option:
            raise PaperError(
                "over_max", f"option {option}: over the maximum per option: {points} points, "
                f"at most {max_per_option} allowed", limit=max_per_option)
        total += points
    if total > budget:
        raise PaperError("over_budget", f"over budget: {total} points given, budget is {budget}",
                         given=total, budget=budget)


def validate_ranking(choice: RankingChoice, options: Collection[int]) -> None:
    """Check a ranking ballot: an ordered sequence of known options, none twice (partial is ok)."""
    if not isinstance(choice, Sequence) or isinstance(choice, str | bytes):
        raise PaperError("not_a_list", "a ranking must be an ordered sequence of option ids")
    known = _known(options)
    seen: set[int] = set()
    for option in choice:
        _check_option(option, known)
        if option in seen:
            raise PaperError("repeated_option", f"repeated option {option}", option=option)
        seen.add(option)


def validate_matrix(choice: MatrixChoice, options: Collection[int]) -> None:
    """Check a matrix ballot: known options, each rated with two whole numbers from 1 to 5."""
    if not isinstance(choice, Mapping):
        raise PaperError("not_a_mapping", "a matrix ballot must map option ids to two ratings")
    known = _known(options)
    for option, ratings in choice.items():
        _check_option(option, known)
        if not isinstance(ratings, Sequence) or isinstance(ratings, str) or len(ratings) != 2:
            raise PaperError("bad_rating",
                             f"option {option}: expected two ratings, got {ratings!r}")
        for rating in ratings:
            if not _is_int(rating) or not MATRIX_MIN <= rating <= MATRIX_MAX:
                raise PaperError(
                    "bad_rating",
                    f"option {option}: rating {rating!r} outside {MATRIX_MIN}-{MATRIX_MAX}")


def _at_ballot(index: int, check: Callable[..., None], *args: Any) -> None:
    """Run a validator, prefixing its message with the ballot's position."""
    try:
        check(*args)
    except ValueError as exc:
        raise ValueError(f"ballot {index}: {exc}") from exc


def _checked_options(options: Iterable[int]) -> tuple[int, ...]:
    opts = tuple(options)
    if not opts:
        raise ValueError("a ballot needs at least one option")
    for option in opts:
        if not _is_int(option):
            raise ValueError(f"option ids must be integers, got {option!r}")
    if len(set(opts)) != len(opts):
        raise ValueError("option ids must be unique")
    return opts


# --------------------------------------------------------------------------------------------
# Exact weights


def _exact_weight(weight: object) -> Fraction:
    """The weight as an exact fraction (see "Exact arithmetic" in the module docstring)."""
    if isinstance(weight, bool) or not isinstance(weight, int | float | Fraction):
        raise ValueError(f"weight must be a number, got {weight!r}")
    if isinstance(weight, float) and not math.isfinite(weight):
        raise ValueError(f"weight must be finite, got {weight!r}")
    exact = Fraction(weight)
    if exact <= 0:
        raise ValueError(f"weight must be positive, got {weight!r}")
    if isinstance(weight, float):
        snapped = exact.limit_denominator(_SNAP_DENOMINATOR)
        if snapped > 0 and abs(snapped - exact) <= exact * _SNAP_TOLERANCE:
            return snapped
    return exact


def _weight_units(ballots: Sequence[Ballot]) -> tuple[dict[Any, int], int]:
    """Map each distinct weight to an integer number of units of 1/denominator.

    Working in integer units keeps every sum exact and fast; only few distinct weights exist, so
    the exact conversion runs once per distinct value, not once per ballot.
    """
    exact: dict[Any, Fraction] = {}
    for index, ballot in enumerate(ballots):
        weight = ballot.weight
        # Fast path for the usual float; anything else is checked every time (True == 1.0 as a
        # dict key, and an unhashable weight must give a clear error, not a TypeError).
        if type(weight) is float and weight in exact:
            continue
        try:
            exact[weight] = _exact_weight(weight)
        except ValueError as exc:
            raise ValueError(f"ballot {index}: {exc}") from exc
    denominator = math.lcm(*(f.denominator for f in exact.values()))
    units = {w: f.numerator * (denominator // f.denominator) for w, f in exact.items()}
    return units, denominator


# --------------------------------------------------------------------------------------------
# Groups of ballots sharing weight, region and organisation type


@dataclass(slots=True)
class _Group:
    """Integer totals ("components", one list per option each) of ballots sharing a weight,
    a region and an organisation type; every breakdown is a weighted sum of groups."""

    units: int
    region: str
    org_type: str
    count: int
    raw: list[list[int]]


# Score functions: (weighted component sums, total weight in units, denominator) -> exact values
_Scorer = Callable[[list[list[int]], int, int], list[Fraction]]


def _aggregate(groups: Iterable[_Group], n: int, k: int) -> tuple[list[list[int]], int, int]:
    comps = [[0] * n for _ in range(k)]
    weight = 0
    count = 0
    for group in groups:
        units = group.units
        weight += units * group.count
        count += group.count
        for total, raw in zip(comps, group.raw, strict=True):
            for i, value in enumerate(raw):
                if value:
                    total[i] += units * value
    return comps, weight, count


def _tie_groups(opts: Sequence[int], scores: Sequence[Fraction]) -> list[list[int]]:
    """Options grouped by equal (exact) score, best first; inside a group by option id."""
    order = sorted(range(len(opts)), key=lambda i: (-scores[i], opts[i]))
    groups: list[list[int]] = []
    previous: Fraction | None = None
    for i in order:
        if previous is None or scores[i] != previous:
            groups.append([])
            previous = scores[i]
        groups[-1].append(i)
    return groups


def _finish(
    method: Method,
    opts: tuple[int, ...],
    groups: list[_Group],
    denominator: int,
    k: int,
    score: _Scorer,
    share: _Scorer,
) -> tuple[TallyResult, list[list[int]]]:
    """Turn groups into the result: scores, ranks, breakdowns, turnout and consensus."""
    n = len(opts)
    comps, weight, count = _aggregate(groups, n, k)
    overall = score(comps, weight, denominator)

    regions = sorted({g.region for g in groups})
    org_types = sorted({g.org_type for g in groups})
    by_region: dict[str, list[Fraction]] = {}
    shares: dict[str, list[Fraction]] = {}
    turnout_region: dict[str, Turnout] = {}
    for region in regions:
        r_comps, r_weight, r_count = _aggregate((g for g in groups if g.region == region), n, k)
        by_region[region] = score(r_comps, r_weight, denominator)
        shares[region] = share(r_comps, r_weight, denominator)
        turnout_region[region] = Turnout(r_count, r_weight / denominator)
    by_type: dict[str, list[Fraction]] = {}
    turnout_type: dict[str, Turnout] = {}
    for org_type in org_types:
        t_comps, t_weight, t_count = _aggregate((g for g in groups if g.org_type == org_type), n, k)
        by_type[org_type] = score(t_comps, t_weight, denominator)
        turnout_type[org_type] = Turnout(t_count, t_weight / denominator)

    standings: list[OptionScore] = []
    ranking: list[tuple[int, ...]] = []
    place = 1
    for tie in _tie_groups(opts, overall):
        ranking.append(tuple(opts[i] for i in tie))
        for i in tie:
            region_shares = {r: float(shares[r][i]) for r in regions}
            standings.append(
                OptionScore(
                    option=opts[i],
                    rank=place,
                    score=float(overall[i]),
                    consensus=float(min((shares[r][i] for r in regions), default=Fraction(0))),
                    by_region={r: float(by_region[r][i]) for r in regions},
                    by_org_type={t: float(by_type[t][i]) for t in org_types},
                    region_shares=region_shares,
                )
            )
        place += len(tie)

    result = TallyResult(
        method=method,
        options=opts,
        standings=tuple(standings),
        ranking=tuple(ranking),
        turnout=Turnout(count, weight / denominator),
        turnout_by_region=turnout_region,
        turnout_by_org_type=turnout_type,
    )
    return result, comps


def _linear(scale: int, max_per_ballot: int) -> tuple[_Scorer, _Scorer]:
    """Scorers for methods whose score is a weighted sum of integer points.

    `scale` turns stored integers into points (2 for Borda, kept in half points);
    `max_per_ballot` is the most one ballot can give one option, for the consensus share.
    """

    def score(comps: list[list[int]], _weight: int, denominator: int) -> list[Fraction]:
        return [Fraction(v, denominator * scale) for v in comps[0]]

    def share(comps: list[list[int]], weight: int, _denominator: int) -> list[Fraction]:
        most = weight * max_per_ballot * scale
        return [Fraction(v, most) if most else Fraction(0) for v in comps[0]]

    return score, share


def _ranking_scorers(n: int) -> tuple[_Scorer, _Scorer]:
    """Borda scores from the first component (half points, unranked options sharing theirs);
    consensus shares from the second (half points of ranked options only), see the module
    docstring. Totals kept before the second component existed (one list) fall back to the
    first for the share."""
    score, legacy_share = _linear(2, max(n - 1, 0))

    def share(comps: list[list[int]], weight: int, denominator: int) -> list[Fraction]:
        if len(comps) < 2:
            return legacy_share(comps, weight, denominator)
        return legacy_share(comps[1:], weight, denominator)

    return score, share


def _group_by(
    ballots: Sequence[Ballot], n: int, k: int
) -> tuple[dict[tuple[Any, str, str], _Group], dict[Any, int], int]:
    units, denominator = _weight_units(ballots)
    groups: dict[tuple[Any, str, str], _Group] = {}
    for ballot in ballots:
        key = (ballot.weight, ballot.region, ballot.org_type)
        if key not in groups:
            raw = [[0] * n for _ in range(k)]
            groups[key] = _Group(units[ballot.weight], ballot.region, ballot.org_type, 0, raw)
    return groups, units, denominator


# --------------------------------------------------------------------------------------------
# Approval, points, matrix


def tally_approval(
    ballots: Sequence[Ballot], options: Iterable[int], *, max_approvals: int | None = None
) -> TallyResult:
    """Score = total weight of the ballots approving the option."""
    opts = _checked_options(options)
    known = frozenset(opts)
    index = {o: i for i, o in enumerate(opts)}
    groups, _, denominator = _group_by(ballots, len(opts), 1)
    for number, ballot in enumerate(ballots):
        _at_ballot(number, validate_approval, ballot.choice, known, max_approvals)
        group = groups[(ballot.weight, ballot.region, ballot.org_type)]
        group.count += 1
        raw = group.raw[0]
        for option in ballot.choice:
            raw[index[option]] += 1
    score, share = _linear(1, 1)
    result, _ = _finish("approval", opts, list(groups.values()), denominator, 1, score, share)
    return result


def tally_points(
    ballots: Sequence[Ballot], options: Iterable[int], *, budget: int, max_per_option: int
) -> TallyResult:
    """Score = weighted sum of the points given to the option."""
    opts = _checked_options(options)
    known = frozenset(opts)
    index = {o: i for i, o in enumerate(opts)}
    groups, _, denominator = _group_by(ballots, len(opts), 1)
    for number, ballot in enumerate(ballots):
        _at_ballot(number, validate_points, ballot.choice, known, budget, max_per_option)
        group = groups[(ballot.weight, ballot.region, ballot.org_type)]
        group.count += 1
        raw = group.raw[0]
        for option, points in ballot.choice.items():  # type: ignore[union-attr]
            raw[index[option]] += points
    score, share = _linear(1, min(budget, max_per_option))
    result, _ = _finish("points", opts, list(groups.values()), denominator, 1, score, share)
    return result


def _matrix_means(comps: list[list[int]]) -> list[tuple[Fraction, Fraction] | None]:
    first, second, rater_units = comps
    return [
        (Fraction(a, w), Fraction(b, w)) if w else None
        for a, b, w in zip(first, second, rater_units, strict=True)
    ]


def _matrix_score(comps: list[list[int]], _weight: int, _denominator: int) -> list[Fraction]:
    return [m[0] * m[1] if m else Fraction(0) for m in _matrix_means(comps)]


def _matrix_share(comps: list[list[int]], _weight: int, _denominator: int) -> list[Fraction]:
    low, high = MATRIX_MIN * MATRIX_MIN, MATRIX_MAX * MATRIX_MAX
    return [(m[0] * m[1] - low) / (high - low) if m else Fraction(0) for m in _matrix_means(comps)]


def tally_matrix(ballots: Sequence[Ballot], options: Iterable[int]) -> TallyResult:
    """Score = product of the two weighted criterion means; `matrix` holds the scatter points."""
    opts = _checked_options(options)
    known = frozenset(opts)
    index = {o: i for i, o in enumerate(opts)}
    # Components: sum of first ratings, sum of second ratings, number of raters.
    groups, _, denominator = _group_by(ballots, len(opts), 3)
    for number, ballot in enumerate(ballots):
        _at_ballot(number, validate_matrix, ballot.choice, known)
        group = groups[(ballot.weight, ballot.region, ballot.org_type)]
        group.count += 1
        first, second, raters = group.raw
        for option, (a, b) in ballot.choice.items():  # type: ignore[union-attr]
            i = index[option]
            first[i] += a
            second[i] += b
            raters[i] += 1
    group_list = list(groups.values())
    result, comps = _finish(
        "matrix", opts, group_list, denominator, 3, _matrix_score, _matrix_share
    )
    counts = [sum(g.raw[2][i] for g in group_list) for i in range(len(opts))]
    points = tuple(
        MatrixPoint(
            option=opts[i],
            first=float(m[0]) if m else None,
            second=float(m[1]) if m else None,
            combined=float(m[0] * m[1]) if m else 0.0,
            raters=counts[i],
            rater_weight=comps[2][i] / denominator,
        )
        for i, m in enumerate(_matrix_means(comps))
    )
    return replace(result, matrix=points)


# --------------------------------------------------------------------------------------------
# Ranking: Borda and Schulze from one pass over the ballots

# Packed pairwise counting. For each group and each option a we keep one big integer whose
# "lane" b (a fixed-width bit field) counts the ballots ranking a above b. Walking a ballot from
# its last choice up, `below` is the set of options already passed (plus the unranked ones) as
# one lane-per-option integer, so each position costs one integer addition instead of n
# comparisons. Identical ballots are counted once with their multiplicity. Lanes are unpacked
# with struct in one C call per row. This keeps the tally pure Python and fast.
_LANES = ((16, "H"), (32, "I"), (64, "Q"))


def _lane_format(total_ballots: int) -> tuple[int, str]:
    for bits, code in _LANES:
        if total_ballots < 1 << bits:
            return bits, code
    raise ValueError("too many ballots")


def tally_ranking(ballots: Sequence[Ballot], options: Iterable[int]) -> TallyResult:
    """Borda scores (with breakdowns and consensus) and the Schulze analysis of ranking ballots."""
    opts = _checked_options(options)
    n = len(opts)
    known = frozenset(opts)
    units, denominator = _weight_units(ballots)

    # Identical rankings within a (weight, region, org type) group are counted once.
    grouped: dict[tuple[Any, str, str], dict[tuple[int, ...], int]] = {}
    for number, ballot in enumerate(ballots):
        choice = ballot.choice
        ranking = tuple(choice)  # type: ignore[arg-type]
        distinct = set(ranking)
        if (
            type(choice) not in (list, tuple)
            or len(distinct) != len(ranking)
            or not (distinct <= known)
        ):
            _at_ballot(number, validate_ranking, choice, known)
        key = (ballot.weight, ballot.region, ballot.org_type)
        counter = grouped.get(key)
        if counter is None:
            counter = grouped[key] = {}
        counter[ranking] = counter.get(ranking, 0) + 1

    bits, code = _lane_format(len(ballots))
    unpack = struct.Struct(f"<{n}{code}").unpack
    width = n * bits // 8
    bit = {o: 1 << (i * bits) for i, o in enumerate(opts)}
    index = {o: i for i, o in enumerate(opts)}
    bit_of = bit.__getitem__
    everyone = sum(bit.values())

    groups: list[_Group] = []
    packed_by_units: dict[int, list[int]] = {}
    for (weight, region, org_type), counter in grouped.items():
        rows = dict.fromkeys(opts, 0)
        unranked_half = [0] * n  # half points of unranked options: (u - 1) each
        expressed = [0] * n  # half points earned by being ranked, toward consensus only
        count = 0
        for ranking, times in counter.items():
            count += times
            for position, option in enumerate(ranking):
                expressed[index[option]] += 2 * (n - 1 - position) * times
            base = 0
            if len(ranking) < n:
                ranked = set(ranking)
                unranked = [i for i, o in enumerate(opts) if o not in ranked]
                base = everyone
                for option in ranking:
                    base ^= bit[option]
                if len(unranked) > 1:
                    extra = (len(unranked) - 1) * times
                    for i in unranked:
                        unranked_half[i] += extra
            upward = ranking[::-1]
            belows = accumulate(map(bit_of, upward), or_, initial=base)
            if times == 1:
                for option, below in zip(upward, belows, strict=False):  # belows: one longer
                    rows[option] += below
            else:
                for option, below in zip(upward, belows, strict=False):
                    rows[option] += below * times
        group_units = units[weight]
        packed = packed_by_units.setdefault(group_units, [0] * n)
        half = []
        for i, option in enumerate(opts):
            row = rows[option]
            packed[i] += row
            half.append(2 * sum(unpack(row.to_bytes(width, "little"))) + unranked_half[i])
        groups.append(_Group(group_units, region, org_type, count, [half, expressed]))

    support = [[0] * n for _ in range(n)]
    for group_units, packed in packed_by_units.items():
        for i, row in enumerate(packed):
            target = support[i]
            for j, lane in enumerate(unpack(row.to_bytes(width, "little"))):
                if lane:
                    target[j] += group_units * lane

    score, share = _ranking_scorers(n)
    result, _ = _finish("ranking", opts, groups, denominator, 2, score, share)
    return replace(result, schulze=_schulze(opts, support, denominator))


def _schulze(opts: tuple[int, ...], support: list[list[int]], denominator: int) -> SchulzeResult:
    """Beat path with margins (Floyd-Warshall widest paths) on integer support counts."""
    n = len(opts)
    margins = [[support[i][j] - support[j][i] for j in range(n)] for i in range(n)]
    strength = [[m if m > 0 else 0 for m in row] for row in margins]
    for k in range(n):
        through = strength[k]
        for i in range(n):
            to_k = strength[i][k]
            if to_k:  # no path from i to k: nothing to gain through k
                strength[i] = list(map(max, strength[i], map(min, repeat(to_k), through)))
    for i in range(n):
        strength[i][i] = 0  # the row updates above may touch the diagonal; it means nothing

    beaten_by = [{j for j in range(n) if strength[j][i] > strength[i][j]} for i in range(n)]
    remaining = sorted(range(n), key=lambda i: opts[i])
    ranking: list[tuple[int, ...]] = []
    ranks: dict[int, int] = {}
    place = 1
    while remaining:
        left = set(remaining)
        layer = [i for i in remaining if not beaten_by[i] & left]
        if not layer:  # cannot happen (the Schulze relation is acyclic); never drop options
            layer = remaining
        ranking.append(tuple(opts[i] for i in layer))
        for i in layer:
            ranks[opts[i]] = place
        place += len(layer)
        taken = set(layer)
        remaining = [i for i in remaining if i not in taken]

    condorcet = [i for i in range(n) if all(margins[i][j] > 0 for j in range(n) if j != i)]
    return SchulzeResult(
        options=opts,
        ranking=tuple(ranking),
        ranks=ranks,
        winners=ranking[0] if ranking else (),
        condorcet_winner=opts[condorcet[0]] if condorcet else None,
        margins=tuple(tuple(m / denominator for m in row) for row in margins),
        strongest_paths=tuple(tuple(s / denominator for s in row) for row in strength),
    )


# --------------------------------------------------------------------------------------------
# Totals of a group kept outside the tally (a secret ballot's regions)
#
# A secret paper does not say where it came from, so a caller that wants a breakdown keeps, per
# group, the running sum of its papers' components; these two functions are the tally's own
# conventions applied to such sums, so the breakdown matches what `tally_*` would give for the
# same papers (each paper of the group weighing `weight`).


def paper_components(choice: Choice, method: Method, options: Sequence[int]) -> list[list[int]]:
    """One paper's integer contribution to a group's totals, one list per component.

    approval: [[1 if approved, per option]]; points: [[points]]; ranking: [[Borda half
    points], [half points toward consensus]] (ranked at 0-based position i: 2 * (n - 1 - i) in
    both; each of u unranked: u - 1 in the first, 0 in the second); matrix: [[first rating],
    [second rating], [1 if rated]]. Options are in `options` order.
    The choice is validated like the tally validates it.

    :raise ValueError: a choice the method does not accept (unknown option, wrong shape).
    """
    known = frozenset(options)
    index = {o: i for i, o in enumerate(options)}
    n = len(options)
    value: Any = choice
    if method == "approval":
        validate_approval(value, known)
        row = [0] * n
        for option in value:
            row[index[option]] = 1
        return [row]
    if method == "points":
        if not isinstance(value, Mapping):
            raise ValueError("a points ballot must map option ids to points")
        row = [0] * n
        for option, points in value.items():
            _check_option(option, known)
            if not _is_int(points) or points < 0:
                raise ValueError(f"option {option}: points must be a whole number >= 0")
            row[index[option]] = points
        return [row]
    if method == "ranking":
        validate_ranking(value, known)
        unranked = n - len(value)
        row = [max(unranked - 1, 0)] * n
        expressed = [0] * n
        for position, option in enumerate(value):
            row[index[option]] = expressed[index[option]] = 2 * (n - 1 - position)
        return [row, expressed]
    if method == "matrix":
        validate_matrix(value, known)
        first, second, rated = [0] * n, [0] * n, [0] * n
        for option, (a, b) in value.items():
            i = index[option]
            first[i], second[i], rated[i] = a, b, 1
        return [first, second, rated]
    raise ValueError(f"unknown method {method!r}")


def group_scores(
    method: Method,
    components: Sequence[Sequence[int]],
    voters: int,
    *,
    weight: float = 1.0,
    budget: int | None = None,
    max_per_option: int | None = None,
) -> tuple[list[float], list[float]]:
    """Scores and consensus shares (per option) of a group of `voters` papers of one weight.

    `components` is the sum of the group's `paper_components`. The score is what the tally's
    `by_region` would show for these papers, each weighing `weight`; the share is the same as
    the tally's `region_shares` (it does not depend on the weight).

    :raise ValueError: a points ballot without budget and maximum, a weight that is not positive.
    """
    _check_count("voters", voters, minimum=0)
    exact = _exact_weight(weight)
    comps = [list(c) for c in components]
    n = len(comps[0]) if comps else 0
    if method == "matrix":
        scores = _matrix_score(comps, voters, 1)
        shares = _matrix_share(comps, voters, 1)
        return [float(s) for s in scores], [float(s) for s in shares]
    if method == "approval":
        score, share = _linear(1, 1)
    elif method == "points":
        if budget is None or max_per_option is None:
            raise ValueError("a points group needs the budget and the maximum per option")
        score, share = _linear(1, min(budget, max_per_option))
    elif method == "ranking":
        score, share = _ranking_scorers(n)
    else:
        raise ValueError(f"unknown method {method!r}")
    return ([float(s * exact) for s in score(comps, voters, 1)],
            [float(s) for s in share(comps, voters, 1)])


# --------------------------------------------------------------------------------------------
# Selecting the top N


def top_n(result: TallyResult | SchulzeResult | Sequence[Sequence[int]], n: int) -> TopN:
    """Select the top `n` options of a ranking with ties, never breaking a tie at the cut-off.

    Options in tie groups that fit entirely within the first `n` places are selected. If the
    cut-off falls inside a tie group, that group is reported in `tied_at_cutoff` (with the number
    of seats left for it) and none of it is selected. Pass a SchulzeResult to select by Schulze.
    """
    _check_count("n", n, minimum=0)
    groups = result.ranking if isinstance(result, TallyResult | SchulzeResult) else result
    selected: list[int] = []
    for group in groups:
        if len(selected) >= n:
            break
        if len(selected) + len(group) <= n:
            selected.extend(group)
        else:
            return TopN(n, tuple(selected), tuple(group), n - len(selected))
    return TopN(n, tuple(selected), (), 0)


# --------------------------------------------------------------------------------------------
# Hash of the ballots, to check an export against the screen


def canonical_choice(choice: Choice, method: Method) -> Any:
    """A choice as plain JSON-ready data in a canonical form.

    Approvals are sorted, points and matrix ratings are listed by option id, a ranking keeps its
    order (the order is the vote).
    """
    value: Any = choice
    if method == "approval":
        return sorted(value)
    if method == "points":
        return [[option, points] for option, points in sorted(value.items())]
    if method == "ranking":
        return list(value)
    if method == "matrix":
        return [[option, a, b] for option, (a, b) in sorted(value.items())]
    raise ValueError(f"unknown method {method!r}")


def canonical_ballot(ballot: Ballot, method: Method) -> dict[str, Any]:
    """The ballot as plain JSON-ready data in a canonical form (see `canonical_choice`).

    The weight is a float. Exports should write this form so that anyone can recompute
    `ballots_hash` from the export alone.
    """
    return {
        "weight": float(ballot.weight),
        "region": ballot.region,
        "org_type": ballot.org_type,
        "organisation": ballot.organisation,
        "choice": canonical_choice(ballot.choice, method),
    }


def ballots_hash(canonical_ballots: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 (hex) of the ballots, independent of their order.

    Each canonical ballot is serialised as JSON with sorted keys, no spaces (separators "," and
    ":") and UTF-8 text; the serialisations are sorted (by code point) and joined into one JSON
    array, whose UTF-8 bytes are hashed. The array is itself valid JSON, so the hash can be
    recomputed from an export with any JSON tool that follows these rules.
    """
    items = sorted(
        json.dumps(b, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        for b in canonical_ballots
    )
    return hashlib.sha256(("[" + ",".join(items) + "]").encode("utf-8")).hexdigest()
