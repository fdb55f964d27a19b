"""Socket.IO events of voting; each calls the same service as the console's forms.

See docs/events.md for names, payloads, senders and broadcasts.
"""

from __future__ import annotations

from workshop.auth.logins import Sender
from workshop.extensions import socketio
from workshop.sockets import operation, shown_projector_key
from workshop.voting import casting, clock, proxies, services
from workshop.voting.broadcast import publisher
from workshop.voting.resync import sync_ballot
from workshop.voting.schemas import (
    BallotExtend,
    BallotOpen,
    BallotRef,
    CastIn,
    PaperIn,
    ProxyIn,
    ResultsVisibility,
    SelectTopIn,
)
from workshop.voting.secrecy import settings


@operation(BallotOpen)
def ballot_open(actor, workshop, data: BallotOpen) -> dict:
    """Open a ballot; phones on a vote step switch to it."""
    ballot = services.open_ballot(actor, workshop, data)
    return {"ballot_id": ballot.id}


@operation(BallotRef)
def ballot_close(actor, workshop, data: BallotRef) -> dict:
    """Close a ballot and freeze its results."""
    ballot = services.close_ballot(actor, workshop, services.get_ballot(workshop, data.ballot_id))
    return {"ballot_id": ballot.id, "hash": ballot.ballots_hash}


@operation(BallotExtend)
def ballot_extend(actor, workshop, data: BallotExtend) -> dict:
    """Move a ballot's closing time."""
    ballot = services.extend_ballot(actor, workshop,
                                    services.get_ballot(workshop, data.ballot_id), data.minutes)
    return {"ballot_id": ballot.id, "remaining_ms": services.remaining_ms(ballot)}


@operation(ResultsVisibility)
def ballot_show_results(actor, workshop, data: ResultsVisibility) -> None:
    """Show or hide results before close."""
    services.show_results(actor, workshop, services.get_ballot(workshop, data.ballot_id),
                          data.visible)


@operation(SelectTopIn)
def ballot_select_top(actor, workshop, data: SelectTopIn) -> dict:
    """Carry the top N lines of work forward (a tie at the cut-off needs `picks`)."""
    selected = services.select_top(actor, workshop,
                                   services.get_ballot(workshop, data.ballot_id), data)
    return {"selected": selected}


@operation(PaperIn)
def ballot_paper(actor, workshop, data: PaperIn) -> dict:
    """Enter a paper ballot for a delegate; answers with the receipt to hand over."""
    result = casting.enter_paper_ballot(actor, workshop, data)
    return {"ballot_id": result.ballot_id, "receipt": services.format_receipt(result.receipt),
            "changed": result.changed}


@operation(ProxyIn)
def proxy_assign(actor, workshop, data: ProxyIn) -> None:
    """Give or take back a proxy."""
    proxies.assign_proxy(actor, workshop, data)


@operation(CastIn, checked_in_batch=True)
def ballot_cast(sender, workshop_id: int, data: CastIn) -> dict:
    """Cast (or change) a ballot paper; the answer comes after the commit, with the receipt.
    Who sends is checked in the vote's own transaction (see casting.cast_sent_vote)."""
    result = casting.cast_sent_vote(sender, workshop_id, data)
    return {"ballot_id": result.ballot_id, "receipt": services.format_receipt(result.receipt),
            "changed": result.changed}


@operation(BallotRef, checked_in_batch=True)
def ballot_turnout(sender: Sender | None, workshop_id: int, data: BallotRef) -> dict:
    """Answer with a ballot's state and turnout (a screen that doubts its own); the sockets
    that ask at once share one read (agenda/sync.py)."""
    return sync_ballot(sender, shown_projector_key(workshop_id), workshop_id, data.ballot_id)


HANDLERS = {
    "ballot.open": ballot_open,
    "ballot.close": ballot_close,
    "ballot.extend": ballot_extend,
    "ballot.show_results": ballot_show_results,
    "ballot.select_top": ballot_select_top,
    "ballot.paper": ballot_paper,
    "proxy.assign": proxy_assign,
    "ballot.cast": ballot_cast,
    "ballot.sync": ballot_turnout,
}


def register(app) -> None:
    """Install the handlers under their operation names; configure live turnout and the
    secrecy settings (small-cell k, the key of secret papers' keyed hashes)."""
    interval = app.config.get("VOTING_TURNOUT_INTERVAL", 0.0 if app.testing else 0.5)
    publisher.configure(app, float(interval))
    settings.configure(app)
    clock.configure(services.close_if_due)
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
