"""API of ballots: list, read, open, close, results, and paper ballots typed in by staff.

Opening with a closing time has the clock close the ballot then (the service schedules it
after its commit, for every caller); a paper ballot goes through `ballot.paper`, audited and
counted like a phone's.
"""

from __future__ import annotations

from flask_babel import gettext as _

from workshop.api.core import ID, WORKSHOP, actor, answer, body, operation, workshop_for
from workshop.api.schemas import BallotOut, PaperOut, ResultsOut, TurnoutOut, body_of, utc
from workshop.errors import PermissionDenied
from workshop.permissions import facilitates
from workshop.voting import casting, services
from workshop.voting.models import Ballot
from workshop.voting.schemas import BallotOpen, PaperIn
from workshop.voting.steps import results_shown

BALLOT = f"{WORKSHOP}/ballots/<{ID}:ballot_id>"


def ballot_out(ballot: Ballot) -> BallotOut:
    """A ballot and its turnout as the API shows them."""
    turnout = services.turnout(ballot)
    return BallotOut(
        id=ballot.id, title=ballot.title, method=ballot.method, weighting=ballot.weighting,
        secret=ballot.secret, status=ballot.status, step_id=ballot.step_id,
        options=ballot.option_ids, max_approvals=ballot.max_approvals, budget=ballot.budget,
        max_per_option=ballot.max_per_option, criterion_1=ballot.criterion_1,
        criterion_2=ballot.criterion_2, opened_at=utc(ballot.opened_at),
        closes_at=utc(ballot.closes_at), closed_at=utc(ballot.closed_at),
        results_visible=ballot.results_visible, hash=ballot.ballots_hash,
        turnout=TurnoutOut(voted=turnout["voted"], eligible=turnout["eligible"],
                           by_region=turnout["by_region"]),
    )


@operation("GET", f"{WORKSHOP}/ballots", "ballot.list", "ballot.view", tag="ballots",
           out=list[BallotOut], errors=(404,))
def list_ballots(workshop_id: int):
    """The workshop's ballots, newest first, each with its turnout."""
    workshop = workshop_for("ballot.view", workshop_id)
    return answer([ballot_out(b) for b in services.list_ballots(workshop)])


@operation("GET", BALLOT, "ballot.get", "ballot.view", tag="ballots", out=BallotOut,
           errors=(404,))
def get_ballot(workshop_id: int, ballot_id: int):
    """One ballot and its turnout (who voted, never what they chose)."""
    workshop = workshop_for("ballot.view", workshop_id)
    return answer(ballot_out(services.get_ballot(workshop, ballot_id)))


@operation("POST", f"{WORKSHOP}/ballots", "ballot.open", "ballot.open", tag="ballots",
           body=body_of(BallotOpen, "workshop_id"), out=BallotOut, status=201)
def open_ballot(workshop_id: int):
    """Open a ballot on all, one theme's or hand-picked lines of work; phones switch to it.

    `scope` is `all`, `theme` (give `theme`) or `pick` (give `proposal_ids`); a points ballot
    needs a `budget`. With `closes_in_minutes` the ballot closes by itself.
    """
    workshop = workshop_for("ballot.open", workshop_id)
    ballot = services.open_ballot(actor(), workshop, body(BallotOpen, workshop_id=workshop_id))
    return answer(ballot_out(ballot), 201)


@operation("POST", f"{BALLOT}/close", "ballot.close", "ballot.close", tag="ballots",
           out=BallotOut, errors=(404, 409))
def close_ballot(workshop_id: int, ballot_id: int):
    """Close a ballot: no more votes; the results are computed, frozen and hashed."""
    workshop = workshop_for("ballot.close", workshop_id)
    ballot = services.close_ballot(actor(), workshop, services.get_ballot(workshop, ballot_id))
    return answer(ballot_out(ballot))


@operation("GET", f"{BALLOT}/results", "ballot.results", "ballot.view", tag="ballots",
           out=ResultsOut, errors=(404, 409))
def ballot_results(workshop_id: int, ballot_id: int):
    """A ballot's results: frozen at close, or a fresh count while it is still open (not a
    secret ballot's: 409 until it closes). A secret ballot's results hold only the breakdown
    cells of at least k voters (`results.secrecy`)."""
    workshop = workshop_for("ballot.view", workshop_id)
    ballot = services.get_ballot(workshop, ballot_id)
    if not facilitates(actor(), workshop) and not results_shown(ballot):
        raise PermissionDenied(_("The results are shown when the ballot closes."))
    return answer(ResultsOut(ballot_id=ballot.id, frozen=ballot.results is not None,
                             results=services.current_results(ballot)))


@operation("POST", f"{BALLOT}/papers", "ballot.paper", "ballot.paper", tag="votes",
           body=body_of(PaperIn, "workshop_id", "ballot_id"), out=PaperOut, status=201,
           errors=(404, 409, 422))
def enter_paper(workshop_id: int, ballot_id: int):
    """Enter a paper ballot for a delegate without a phone (audited); the answer holds the
    receipt code to hand to them.

    `choices` is what the ballot's method needs: a list of proposal ids (approval; ranking,
    best first), an object of id to points (points) or of id to two ratings 1–5 (matrix).
    """
    workshop = workshop_for("ballot.paper", workshop_id)
    data = body(PaperIn, workshop_id=workshop_id, ballot_id=ballot_id)
    result = casting.enter_paper_ballot(actor(), workshop, data)
    return answer(PaperOut(ballot_id=result.ballot_id,
                           receipt=services.format_receipt(result.receipt),
                           changed=result.changed), 201)
