"""The list of lines of work as phones draw it, rendered once per workshop, language and
content version and shared by every phone that asks.

On Go, every phone of a discussion step fetches the step's part of the page at once; drawing
the list for each of them (the lines' queries, then ten to three hundred cards) was most of a
server's work. The list holds nothing personal (what a delegate supports is sent beside it
and marked by the page's script), so one rendering serves everyone who reads that language.

Its key is the workshop's `content_version`, a number bumped by a flush hook in the same
transaction as any change to a proposal, translation, support or comment, however the change
was made (see workshop/kept.py). Renaming an organisation, which cards show, bumps every
workshop's. Each process keeps its own few renderings; processes agree through the database.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy.orm import Session

from workshop.agenda.models import Organisation, Workshop
from workshop.kept import bump_version, kept
from workshop.permissions import Actor, require
from workshop.proposals.lines import lines_of
from workshop.proposals.live import card_context
from workshop.proposals.models import Comment, Proposal, ProposalTranslation, Support

#: Rows whose change alters what the list shows, by how they name their workshop.
BY_PROPOSAL = (ProposalTranslation, Support, Comment)


@dataclass(frozen=True)
class Listing:
    """A rendered list and, for each proposal in it, the line it is drawn in (a merged
    proposal's support marks the line it was merged into)."""

    html: Markup
    line_of: dict[int, int]

    def lines_supported(self, supported: set[int]) -> list[int]:
        """The lines to draw as supported by someone who supports these proposals."""
        return sorted({self.line_of[p] for p in supported if p in self.line_of})


def listing(actor: Actor, workshop: Workshop) -> Listing:
    """The workshop's visible lines of work drawn in the reader's language, from the store
    when this version was drawn already.

    :raise PermissionDenied: the actor may not watch this workshop.
    """
    require("workshop.watch", actor, workshop)
    lang = str(get_locale())

    def draw() -> Listing:
        lines = lines_of(actor, workshop)
        # Autoescaped by Jinja when drawn: safe to include as it is.
        drawn = render_template("proposals/_list_body.html", lines=lines, lang=lang,
                                **card_context())
        html = Markup(drawn)  # noqa: S704
        return Listing(html, {m.id: line.proposal.id for line in lines for m in line.members})

    # The version is read first (see kept.py); the lines are read only when it is new.
    # 32 lists: a few workshops in four languages; 300 lines are about 330 KB each.
    return kept("listings", size=32).get((workshop.id, workshop.content_version, lang), draw)


@sa.event.listens_for(Session, "after_flush")
def _bump_content_version(session: Session, _context) -> None:
    """Bump the content version of every workshop whose lines of work this flush changed.

    After a flush the session still lists what it wrote as new, dirty or deleted.
    """
    changed = [*session.new, *session.dirty, *session.deleted]
    if not changed:
        return
    workshops: set[int] = set()
    proposals: set[int] = set()
    everywhere = False
    for row in changed:
        if isinstance(row, Proposal):
            workshops.add(row.workshop_id)
        elif isinstance(row, BY_PROPOSAL):
            proposals.add(row.proposal_id)
        elif isinstance(row, Organisation) and row not in session.new:
            everywhere = True  # a renamed organisation is shown on every card it is on
    if workshops or proposals or everywhere:
        bump_content_version(session, workshops, proposals, everywhere)


def bump_content_version(session: Session, workshops: Collection[int],
                         proposals: Collection[int] = (), everywhere: bool = False) -> None:
    """Bump the content version of these workshops, of those of these proposals, or of every
    workshop: for a change the flush hook does not see (rows written without the ORM)."""
    table = Workshop.__table__
    named = sa.true()
    if not everywhere:
        named = table.c.id.in_(workshops) if workshops else sa.false()
        if proposals:
            proposal = Proposal.__table__
            named = named | table.c.id.in_(
                sa.select(proposal.c.workshop_id).where(proposal.c.id.in_(proposals)))
    bump_version(session, Workshop, "content_version", named)
