"""Live updates of proposals and comments, queued by the services and sent after the commit.

Cards and comments are rendered on the server once per language, inside the service's
transaction (so they show what it wrote), and queued for that language's room: every phone
gets escaped HTML in its own language and needs no template of its own. Nothing is sent if the
transaction rolls back (workshop.live).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from flask import render_template

from workshop.agenda.models import Workshop
from workshop.coalesce import Coalescer
from workshop.extensions import db
from workshop.live import (
    discussion_room,
    drawing,
    for_room,
    language_room,
    queue,
    render_for_room,
    workshop_room,
)
from workshop.permissions import Actor
from workshop.proposals.lines import Line, lines_of, read_lines
from workshop.proposals.models import Comment, Proposal
from workshop.vocabulary import LANGUAGES, LEVELS, REGIONS, TAGS, THEMES


def card_context() -> dict:
    """What a proposal card template needs besides the line itself."""
    return {"themes": THEMES, "levels": LEVELS, "tags": TAGS, "regions": REGIONS,
            "languages": LANGUAGES}


def line_payload(line: Line) -> dict:
    """The numbers and facets a phone sorts and filters by."""
    p = line.proposal
    return {"id": p.id, "supporters": len(line.supporters), "comments": line.comment_count,
            "theme": p.theme, "level": p.level, "regions": line.regions,
            "members": [m.id for m in line.members]}


def queue_line(actor: Actor, workshop: Workshop, proposal_id: int) -> None:
    """A new or changed line of work, as a card in each language, for every screen (or its
    removal, when the line is hidden now). Coalesced per workshop (`cards`): a rush of new
    lines reaches a phone as one message each half second, not one message per line."""
    if not lines_of(actor, workshop, only=proposal_id):
        queue_removed(workshop, [proposal_id])
        return
    cards.announce(db.session, workshop.id, proposal_id)


def _committed_lines(workshop_id: Hashable, line_ids: frozenset) -> list[Line]:
    """These lines of the workshop as they stand; a line gone meanwhile (hidden or merged
    away: its removal was sent) is left out."""
    workshop = db.session.get(Workshop, workshop_id)
    return read_lines(workshop, only=line_ids) if workshop is not None and line_ids else []


def _one_or_many(one: str, many: str, field: str, items: list[dict],
                 room: str) -> tuple[str, Any, str]:
    """One item as the event `one`, several as one event `many` listing them under `field`."""
    return (one, items[0], room) if len(items) == 1 else (many, {field: items}, room)


def _cards(workshop_id: Hashable, line_ids: frozenset) -> list[tuple[str, Any, str]]:
    """The cards of these lines as they stand, drawn in each language for its room: one line
    as `proposal.card`, several as one `proposal.cards`."""
    lines = _committed_lines(workshop_id, line_ids)
    if not lines:
        return []
    payloads = [line_payload(line) for line in lines]
    context = card_context()
    messages = []
    with drawing():  # one context for every card, one locale switch a language
        for language in LANGUAGES:
            with for_room(language):
                cards = [{**payload, "html": render_template(
                    "proposals/_card.html", line=line, lang=language, **context)}
                    for line, payload in zip(lines, payloads, strict=True)]
            messages.append(_one_or_many("proposal.card", "proposal.cards", "cards", cards,
                                         language_room(int(workshop_id), language)))
    return messages


#: New and changed lines: the first after a quiet spell at once, the next half second's
#: together (`PROPOSAL_COUNTS_INTERVAL`, as the counts).
cards = Coalescer(_cards)


def _counts(workshop_id: Hashable, line_ids: frozenset) -> list[tuple[str, Any, str]]:
    """These lines' supporter and comment counts as committed, for every screen: one line as
    `proposal.counts`, several as one `proposal.counts.many`."""
    lines = [line_payload(line) for line in _committed_lines(workshop_id, line_ids)]
    if not lines:
        return []
    return [_one_or_many("proposal.counts", "proposal.counts.many", "lines", lines,
                         workshop_room(int(workshop_id)))]


#: A rush of +1s and comments: at most one message of counts per workshop per interval
#: (workshop/coalesce.py; `PROPOSAL_COUNTS_INTERVAL`, 0.5 s), naming every line changed
#: meanwhile. The +1s' and comments' batches announce the lines they changed:
#: `counts.announce(session, workshop id, line id, ...)`.
counts = Coalescer(_counts)


def queue_removed(workshop: Workshop, proposal_ids: list[int]) -> None:
    """Screens drop lines that were hidden or merged away."""
    queue(db.session, "proposal.removed", {"ids": proposal_ids}, workshop_room(workshop.id))


def queue_comment(workshop: Workshop, line_id: int, comment: Comment) -> None:
    """A new comment, for the screens following its line's discussion (`discussion.open`), in
    their language. None for a hidden line: screens that followed it before it was hidden may
    be delegates' (staff read its discussion on its page)."""
    line = db.session.get(Proposal, line_id)
    if line is None or line.hidden:
        return
    with drawing():  # one context for the four languages' drawings
        for language in LANGUAGES:
            html = render_for_room("proposals/_comment.html", language, comment=comment,
                                   replies={}, languages=LANGUAGES, can_reply=True,
                                   can_moderate=False)
            queue(db.session, "comment.created",
                  {"line_id": line_id, "parent_id": comment.parent_id, "id": comment.id,
                   "html": html}, discussion_room(line_id, language))
