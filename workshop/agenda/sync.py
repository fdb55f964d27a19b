"""Re-reads answered in groups: the sockets that ask at once share one read.

A phone asks for the state (`state.sync`), and on a vote step for the ballot's
(`ballot.sync`), when it doubts its own (back from sleep, the Wi-Fi back): a room's thousand
phones then ask within a second. Each used to read its login, its person and the workshop,
and count the turnout, on its own; the group read (group_commit.GroupRead) reads the logins,
delegates and workshops of every request queued in one query each (a staff member's account
by its id), checks each request as a lone one was checked (the login still open and its
owner's, the right to watch, a projector's key still the current one), and draws each answer
once per batch. Every answer still comes from a read begun after its request arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from workshop.agenda.models import Delegate, Workshop
from workshop.agenda.services import get_workshop
from workshop.agenda.state import snapshot
from workshop.auth.logins import Sender, hold_logins, person_in_batch
from workshop.extensions import db, one_per_app
from workshop.group_commit import GroupRead, end_callers_reads, held, hold_by_ids
from workshop.permissions import Actor, ProjectorViewer, require
from workshop.sockets import shows_projector_key
from workshop.validation import SharedAnswer


@dataclass(frozen=True)
class Sync:
    """One socket's request for the workshop's state: who opened it (its login, or the
    projector key it was shown, as a digest), and the workshop it watches. A kind of re-read
    says what it answers (`answer`), the same for every asker (`key`), under which operation
    name it is allowed."""

    sender: Sender | None
    projector_pass: str | None
    workshop_id: int

    #: The permission (permissions.py) the asker needs.
    operation: ClassVar[str] = "workshop.watch"

    def key(self) -> tuple:
        """What the answer depends on: one answer per key and batch."""
        return ("state", self.workshop_id)

    def answer(self, workshop: Workshop) -> dict[str, Any]:
        """The answer, drawn in the batch's session."""
        return {"state": snapshot(db.session, workshop)}

    def __call__(self) -> dict[str, Any]:
        person = self._person()  # an ended login first, as a lone event found it
        workshop = get_workshop(self.workshop_id)  # held by the batch's prefetch
        if person is None and shows_projector_key(self.projector_pass, workshop):
            person = ProjectorViewer(workshop.id)
        require(self.operation, person, workshop)
        answers = held("answers")
        if self.key() not in answers:
            answers[self.key()] = SharedAnswer(self.answer(workshop))
        return answers[self.key()]  # the same for every asker of the batch: read-only

    def _person(self) -> Actor:
        """Who sent it, if under a login: that login still open and theirs.

        :raise NotLoggedIn: the login ended (or its person was removed).
        """
        if self.sender is None:
            return None
        return person_in_batch(self.sender.kind, self.sender.id, self.sender.login_session_id)


def _prefetch(works: list[Any]) -> None:
    """The batch's logins, delegates and workshops, one query each."""
    batch = [work for work in works if isinstance(work, Sync)]
    senders = [work.sender for work in batch if work.sender is not None]
    hold_logins({sender.login_session_id for sender in senders}, lock=False)
    hold_by_ids("delegate", Delegate, {s.id for s in senders if s.kind == "delegate"})
    hold_by_ids("workshop", Workshop, {work.workshop_id for work in batch})


def syncs() -> GroupRead:
    """The process's group read of states."""
    return one_per_app("workshop.syncs", lambda: GroupRead(prepare=_prefetch))


def sync(request: Sync) -> dict:
    """The answer to a socket's re-read, checked as its own read would be.

    :raise NotLoggedIn: the socket's login has ended.
    :raise PermissionDenied: no longer allowed (a projector key rotated).
    :raise NotFound: the workshop (or what the request names in it) was deleted.
    """
    end_callers_reads()
    return syncs().submit(request)


def sync_state(sender: Sender | None, held_pass: str | None, workshop_id: int) -> dict:
    """The workshop's state for a socket (`sync`)."""
    return sync(Sync(sender, held_pass, workshop_id))
