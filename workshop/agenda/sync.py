"""`state.sync` answered in groups: the sockets that ask at once share one read.

A phone asks for the state when it doubts its own (back from sleep, the Wi-Fi back): a room's
thousand phones then ask within a second. Each used to read its login, its person and the
workshop on its own; the group read (group_commit.GroupRead) reads the logins, delegates and
workshops of every request queued in one query each (a staff member's account by its id),
then checks each one as a lone request was checked (the login still open and its owner's,
the right to watch the workshop, a projector's key still the current one). Every answer
still comes from a read begun after its request arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Delegate, Workshop
from workshop.agenda.state import snapshot
from workshop.auth.logins import Sender, holds_login
from workshop.auth.models import LoginSession, User
from workshop.errors import NotFound, NotLoggedIn
from workshop.extensions import db, one_per_app
from workshop.group_commit import GroupRead, held, held_by_id, hold_by_ids
from workshop.permissions import Actor, ProjectorViewer, require
from workshop.sockets import shows_projector_key


@dataclass(frozen=True)
class _Sync:
    """One socket's request: who opened it (its login, or the projector key it was shown,
    as a digest), and the workshop it watches."""

    sender: Sender | None
    projector_pass: str | None
    workshop_id: int

    def __call__(self) -> dict[str, Any]:
        person = self._person()  # an ended login first, as a lone event found it
        workshop = held_by_id("workshop", Workshop, self.workshop_id)
        if workshop is None:
            raise NotFound(_l("This workshop does not exist."))
        if person is None and shows_projector_key(self.projector_pass, workshop):
            person = ProjectorViewer(workshop.id)
        require("workshop.watch", person, workshop)
        states = held("state")  # one snapshot per workshop and batch
        if workshop.id not in states:
            states[workshop.id] = snapshot(db.session, workshop)
        return {"state": dict(states[workshop.id])}

    def _person(self) -> Actor:
        """Who sent it, if under a login: that login still open and theirs.

        :raise NotLoggedIn: the login ended (or its person was removed).
        """
        if self.sender is None:
            return None
        person = (held_by_id("delegate", Delegate, self.sender.id)
                  if self.sender.kind == "delegate" else db.session.get(User, self.sender.id))
        if person is None or not holds_login(person, self.sender.login_session_id):
            raise NotLoggedIn(_l("Log in first."))
        return person


def _prefetch(works: list[Any]) -> None:
    """The batch's logins, delegates and workshops, one query each."""
    batch = [work for work in works if isinstance(work, _Sync)]
    senders = [work.sender for work in batch if work.sender is not None]
    hold_by_ids("login", LoginSession, {sender.login_session_id for sender in senders})
    hold_by_ids("delegate", Delegate, {s.id for s in senders if s.kind == "delegate"})
    hold_by_ids("workshop", Workshop, {work.workshop_id for work in batch})


def syncs() -> GroupRead:
    """The process's group read of states."""
    return one_per_app("workshop.syncs", lambda: GroupRead(prepare=_prefetch))


def sync_state(sender: Sender | None, held_pass: str | None, workshop_id: int) -> dict:
    """The workshop's state for a socket, checked as its own read would be.

    :raise NotLoggedIn: the socket's login has ended.
    :raise PermissionDenied: no longer allowed to watch (a projector key rotated).
    :raise NotFound: the workshop was deleted.
    """
    if db.session().in_transaction():  # the caller's reads end before it waits
        db.session.commit()
    return syncs().submit(_Sync(sender, held_pass, workshop_id))
