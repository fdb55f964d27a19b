"""Live updates of proposals and comments, sent once the service has committed.

Cards and comments are rendered on the server once per language and sent to that language's
room, so every phone gets escaped HTML in its own language and needs no template of its own.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale

from workshop.agenda.models import Workshop
from workshop.extensions import socketio
from workshop.live import language_room, workshop_room
from workshop.permissions import Actor
from workshop.proposals import services
from workshop.proposals.models import Comment
from workshop.vocabulary import LANGUAGES, LEVELS, REGIONS, TAGS, THEMES


def card_context() -> dict:
    """What a proposal card template needs besides the line itself."""
    return {"themes": THEMES, "levels": LEVELS, "tags": TAGS, "regions": REGIONS,
            "languages": LANGUAGES}


def line_payload(line: services.Line) -> dict:
    """The numbers and facets a phone sorts and filters by."""
    p = line.proposal
    return {"id": p.id, "supporters": len(line.supporters), "comments": line.comment_count,
            "theme": p.theme, "level": p.level, "regions": line.regions,
            "members": [m.id for m in line.members]}


def announce_line(actor: Actor, workshop: Workshop, proposal_id: int) -> None:
    """Send a new or changed line of work to every screen, as a card in each language."""
    lines = services.lines_of(actor, workshop, only=proposal_id)
    if not lines:
        announce_removed(workshop, [proposal_id])
        return
    line = lines[0]
    for language in LANGUAGES:
        with force_locale(language):
            html = render_template("proposals/_card.html", line=line, lang=language,
                                   **card_context())
        socketio.emit("proposal.card", {**line_payload(line), "html": html},
                      to=language_room(workshop.id, language))


def announce_counts(actor: Actor, workshop: Workshop, proposal_id: int) -> None:
    """Send a line's supporter and comment counts to every screen."""
    lines = services.lines_of(actor, workshop, only=proposal_id)
    if lines:
        socketio.emit("proposal.counts", line_payload(lines[0]), to=workshop_room(workshop.id))


def announce_removed(workshop: Workshop, proposal_ids: list[int]) -> None:
    """Tell screens to drop lines that were hidden or merged away."""
    socketio.emit("proposal.removed", {"ids": proposal_ids}, to=workshop_room(workshop.id))


def announce_comment(workshop: Workshop, line_id: int, comment: Comment) -> None:
    """Send a new comment to the screens showing its line's discussion, in each language."""
    for language in LANGUAGES:
        with force_locale(language):
            html = render_template("proposals/_comment.html", comment=comment, replies={},
                                   languages=LANGUAGES, can_reply=True, can_moderate=False)
        socketio.emit("comment.created", {"line_id": line_id, "parent_id": comment.parent_id,
                                          "id": comment.id, "html": html},
                      to=language_room(workshop.id, language))
