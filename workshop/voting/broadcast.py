"""Live turnout for the screens that watch a vote, coalesced so a rush of votes stays cheap.

A thousand phones voting within a second would mean a thousand turnout updates; the
facilitator's console and the projector need a couple per second. Coalesced
(workshop/coalesce.py): the first commit of votes after a quiet spell is announced as soon
as it is committed; commits within the next `interval` seconds together once it has passed;
counted each time after the commit, outside the batch that stores the votes. Turnout goes to
the staff room and the projector screens, never to the phones, and never carries results. A
secret ballot's turnout by region goes through the small-cell rule
(workshop/voting/turnout.py): a region where fewer than k delegates voted is sent as
`"voted": null`, so the projector does not show whether the one delegate of a small region
has voted.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from workshop.coalesce import Coalescer
from workshop.extensions import db
from workshop.live import screen_room, staff_room
from workshop.voting.models import Ballot
from workshop.voting.turnout import turnout

EVENT = "ballot.turnout"


def _messages(ballot_id: Hashable, _items: frozenset) -> list[tuple[str, Any, str]]:
    """The ballot's turnout for the staff room and the projector screens."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        return []
    payload = turnout(ballot)
    return [(EVENT, payload, room)
            for room in (staff_room(ballot.workshop_id), screen_room(ballot.workshop_id))]


#: Announce a ballot's turnout: `publisher.announce(session, ballot_id)`.
publisher = Coalescer(_messages)
