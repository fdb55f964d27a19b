"""`ballot.sync`: a ballot's state and turnout for a screen that doubts its own, through the
group read of re-reads (agenda/sync.py): the same answer for everyone who may see the ballot,
so drawn once for the requests of a batch (its turnout counts every participation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from workshop.agenda.models import Workshop
from workshop.agenda.sync import Sync, sync
from workshop.auth.logins import Sender
from workshop.voting import services


@dataclass(frozen=True)
class BallotSync(Sync):
    """One socket's re-read of a ballot of the workshop it watches."""

    ballot_id: int
    operation: ClassVar[str] = "ballot.view"

    def key(self) -> tuple:
        return ("ballot", self.workshop_id, self.ballot_id)

    def answer(self, workshop: Workshop) -> dict[str, Any]:
        ballot = services.get_ballot(workshop, self.ballot_id)
        return {"ballot": services.ballot_payload(ballot), "turnout": services.turnout(ballot)}


def sync_ballot(sender: Sender | None, held_pass: str | None, workshop_id: int,
                ballot_id: int) -> dict:
    """The ballot's state and turnout for a socket (`agenda.sync.sync`).

    :raise NotLoggedIn, PermissionDenied: as `sync`.
    :raise NotFound: no such ballot in this workshop (or no workshop).
    """
    return sync(BallotSync(sender, held_pass, workshop_id, ballot_id))
