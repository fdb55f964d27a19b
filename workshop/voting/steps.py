"""The voting part of vote and results steps, on phones and the projector."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.pushed import digest
from workshop.db import epoch_ms, utcnow
from workshop.extensions import db
from workshop.permissions import Actor, is_delegate_of
from workshop.steps import CARRIES, UNREGISTERED, SharedPart, provides, voted_mark
from workshop.vocabulary import ORG_TYPES, REGIONS
from workshop.voting import proxies, services
from workshop.voting.models import Ballot, Participation

DEFAULT_CRITERIA = (_l("Importance"), _l("Feasibility"))


def criteria(ballot: Ballot) -> tuple[Any, Any]:
    """The two matrix criteria, with the default labels (translated) where none was typed."""
    return (ballot.criterion_1 or DEFAULT_CRITERIA[0], ballot.criterion_2 or DEFAULT_CRITERIA[1])


def results_shown(ballot: Ballot) -> bool:
    """Whether screens may show this ballot's results now (a secret ballot's: after close)."""
    return not ballot.is_open or (ballot.results_visible and not ballot.secret)


def prefill(method: str, stored: list | None) -> dict[int, Any]:
    """A stored choice as option id -> what to show (ticked, points, place, two ratings)."""
    if not stored:
        return {}
    if method == "approval":
        return dict.fromkeys(stored, True)
    if method == "ranking":
        return {option: place for place, option in enumerate(stored, start=1)}
    if method == "points":
        return {option: points for option, points in stored}
    return {option: (a, b) for option, a, b in stored}


def _options(ids: list[int], titles: dict[int, str],
             languages: dict[int, str]) -> list[dict[str, Any]]:
    """A paper's options in the given order, each with its title and the title's language."""
    return [{"id": o, "title": titles.get(o, ""), "lang": languages.get(o, "")} for o in ids]


def paper_for(ballot: Ballot, delegate: Any, titles: dict[int, str], salt: int = 0,
              languages: dict[int, str] | None = None) -> dict[str, Any]:
    """One ballot paper for one voter: their own option order, and what they voted if named."""
    vote = services.named_vote(ballot, delegate.id)
    languages = languages or {}
    return {
        "delegate": delegate,
        "options": _options(services.shuffled_options(ballot, delegate.id, salt), titles,
                            languages),
        "voted": services.has_voted(ballot, delegate.id),
        "choices": vote.choices if vote is not None else None,
        "prefill": prefill(ballot.method, vote.choices if vote is not None else None),
        "receipt": services.format_receipt(vote.receipt) if vote is not None else None,
    }


def ballot_context(actor: Actor, workshop: Any, ballot: Ballot | None) -> dict[str, Any]:
    """Everything the voting templates draw: the ballot, its papers, turnout and results."""
    if ballot is None:
        return {"ballot": None}
    titles, languages = services.option_texts(ballot, workshop)
    context: dict[str, Any] = {
        "ballot": ballot,
        "criteria": criteria(ballot),
        "remaining_ms": services.remaining_ms(ballot),
        "titles": titles,
        "regions": REGIONS,
        "org_types": ORG_TYPES,
        "show_results": results_shown(ballot),
        "results": services.current_results(ballot) if results_shown(ballot) else None,
        "now": utcnow(),
    }
    if is_delegate_of(actor, workshop):
        context["papers"] = [paper_for(ballot, actor, titles, languages=languages)] + [
            paper_for(ballot, absent, titles, salt=actor.id, languages=languages)
            for absent in proxies.carried_by(actor)
        ]
    else:
        context["turnout"] = services.turnout(ballot)
    return context


#: A paper drawn for every phone stands for no one: the page puts its delegate in.
EVERYONE = {"id": "", "name": ""}


def shared_voting_part(workshop: Any, step: Any) -> SharedPart | None:
    """A vote step's ballot as every phone of a language is shown it, while its results do
    not show (they move with every vote): one blank paper, the options in id order (the page
    puts them in its delegate's order, see services.order_key) and the closing time as a
    time, not a countdown (the drawing is kept). A delegate who carries proxies, has voted on
    this ballot or is not on the voting register fetches their own papers (`fetch_if`)."""
    ballot = services.ballot_for_step(workshop, step)
    if ballot is None:
        return SharedPart({"voting": {"ballot": None}}, key="no ballot")
    if not ballot.is_open or results_shown(ballot):
        return None
    titles, languages = services.option_texts(ballot, workshop)
    closes_at = epoch_ms(ballot.closes_at) if ballot.closes_at else None
    paper = {"delegate": EVERYONE, "voted": False, "choices": None, "prefill": {},
             "receipt": None, "options": _options(ballot.option_ids, titles, languages)}
    context = {"ballot": ballot, "criteria": criteria(ballot), "remaining_ms": None,
               "closes_at_ms": closes_at, "titles": titles, "show_results": False,
               "results": None, "papers": [paper]}
    fetch_if = (CARRIES, voted_mark(ballot.id)) + (
        (UNREGISTERED,) if workshop.voting_register else ())
    return SharedPart({"voting": context}, fetch_if=fetch_if, key=":".join((
        str(ballot.id), ballot.status, str(closes_at), digest(
            ballot.title, ballot.method, ballot.criterion_1 or "", ballot.criterion_2 or "",
            str(ballot.budget), str(ballot.max_per_option), str(ballot.max_approvals)))))


def voting_marks(actor: Actor, workshop: Any) -> dict[str, bool]:
    """A delegate's marks for ballot papers drawn for everyone: whether they carry proxies,
    whether they are off the voting register, and each open ballot they have a paper in."""
    if not is_delegate_of(actor, workshop):
        return {}
    voted = db.session.scalars(
        sa.select(Participation.ballot_id).join(Ballot, Ballot.id == Participation.ballot_id)
        .where(Participation.delegate_id == actor.id, Ballot.status == "open"))
    return {CARRIES: proxies.carries(actor), UNREGISTERED: not actor.admitted,
            **{voted_mark(ballot_id): True for ballot_id in voted}}


@provides(*services.BALLOT_STEPS, scripts=("js/ballot.js",), shared=shared_voting_part,
          marks=voting_marks)
def voting_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """The ballot a vote or results step shows, as the `voting` template variable."""
    return {"voting": ballot_context(actor, workshop, services.ballot_for_step(workshop, step))}
