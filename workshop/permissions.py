"""Who may do what: one rule per operation name, used by views, API and socket events alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from workshop.errors import PermissionDenied

if TYPE_CHECKING:
    from workshop.agenda.models import Workshop


@dataclass(frozen=True)
class ProjectorViewer:
    """A big screen opened with the workshop's projector key: may watch, never act."""

    workshop_id: int
    kind: str = "projector"
    id: int | None = None
    display_name: str = "projector"


Actor = Any  # User | Delegate | ProjectorViewer | None (anonymous)


def is_staff(actor: Actor) -> bool:
    """An organiser or facilitator account."""
    return getattr(actor, "kind", None) == "user"


def is_organiser(actor: Actor) -> bool:
    """Organisers prepare every workshop and read every result."""
    return is_staff(actor) and actor.role == "organiser"


def facilitates(actor: Actor, workshop: Workshop | None) -> bool:
    """Organisers, and facilitators assigned to this workshop, may drive it."""
    if not is_staff(actor) or workshop is None:
        return False
    return actor.role == "organiser" or any(u.id == actor.id for u in workshop.facilitators)


def is_delegate_of(actor: Actor, workshop: Workshop | None) -> bool:
    """A delegate who joined this workshop."""
    return (
        getattr(actor, "kind", None) == "delegate"
        and workshop is not None
        and actor.workshop_id == workshop.id
    )


def watches(actor: Actor, workshop: Workshop | None) -> bool:
    """Anyone who may see the workshop's live state: its delegates, projector and staff."""
    if workshop is None:
        return False
    if getattr(actor, "kind", None) == "projector":
        return actor.workshop_id == workshop.id
    return is_delegate_of(actor, workshop) or facilitates(actor, workshop)


def could_vote(kind: str | None) -> bool:
    """Whether someone of this kind ("user", "delegate", "projector") may ever vote, known
    before anything is read: only delegates do (see `votes_in`)."""
    return kind == "delegate"


def could_take_part(kind: str | None) -> bool:
    """Whether someone of this kind may ever put a line forward or give a +1, known before
    anything is read: only delegates do (see `takes_part`)."""
    return kind == "delegate"


def votes_in(actor: Actor, workshop: Workshop | None) -> bool:
    """A delegate of this workshop who may vote: on its voting register when it keeps one."""
    if not could_vote(getattr(actor, "kind", None)) or not is_delegate_of(actor, workshop):
        return False
    return not workshop.voting_register or actor.admitted


def takes_part(actor: Actor, workshop: Workshop | None) -> bool:
    """A delegate who may propose, support and comment: everyone when the workshop keeps no
    register or opens participation to all; otherwise only its admitted delegates."""
    if not is_delegate_of(actor, workshop):
        return False
    return (not workshop.voting_register or workshop.open_participation
            or actor.admitted)


def writes_for(actor: Actor, workshop: Workshop | None, proposal: Any = None) -> bool:
    """Staff of the workshop, or the delegate who put the proposal forward (and may take
    part): they translate it directly and decide on others' suggested translations. Without
    a proposal: whether the actor may do so for some proposal (their own)."""
    if facilitates(actor, workshop):
        return True
    if not takes_part(actor, workshop):
        return False
    return proposal is None or proposal.delegate_id == actor.id


def suggests_for(actor: Actor, workshop: Workshop | None, proposal: Any = None) -> bool:
    """A delegate who may take part, on someone else's proposal: their translation is a
    suggestion until its author or a facilitator accepts it."""
    if not takes_part(actor, workshop):
        return False
    return proposal is None or proposal.delegate_id != actor.id


def _delegate_or_staff(actor: Actor, workshop: Workshop | None) -> bool:
    return is_delegate_of(actor, workshop) or facilitates(actor, workshop)


def _participant_or_staff(actor: Actor, workshop: Workshop | None) -> bool:
    return takes_part(actor, workshop) or facilitates(actor, workshop)


def _organiser(actor: Actor, workshop: Workshop | None) -> bool:
    return is_organiser(actor)


def _staff(actor: Actor, workshop: Workshop | None) -> bool:
    return is_staff(actor)


Rule = Callable[..., bool]

#: The one table of permissions. Every operation name used by a service is here. A rule is
#: called with (actor, workshop); a rule about one object (`writes_for`, `suggests_for`: a
#: proposal) also takes it as a third argument, and without it answers whether the actor may
#: do this to some object of the workshop (to refuse early and to draw the page).
RULES: dict[str, Rule] = {
    "workshop.create": _organiser,
    "workshop.update": _organiser,
    "projector.rotate_key": _organiser,
    "workshop.list": _staff,
    "workshop.console": facilitates,
    "workshop.watch": watches,
    "agenda.edit": _organiser,
    "agenda.goto": facilitates,
    "timer.start": facilitates,
    "timer.pause": facilitates,
    "timer.extend": facilitates,
    "timer.reset": facilitates,
    "message.broadcast": facilitates,
    "facilitator.assign": _organiser,
    "delegate.invite": _organiser,
    "delegate.revoke": _organiser,
    "registration.import": _organiser,
    "delegate.list": facilitates,
    "delegate.admit": facilitates,
    "organisation.create": _organiser,
    "organisation.list": _staff,
    "audit.view": _organiser,
    "workshop.export": facilitates,
    "user.create": _organiser,
    "proposal.create": takes_part,
    "proposal.support": takes_part,
    "proposal.comment": _participant_or_staff,
    "discussion.open": watches,
    "proposal.translate": writes_for,
    "translation.suggest": suggests_for,
    "translation.accept": writes_for,
    "translation.reject": writes_for,
    "translation.list": facilitates,
    "proposal.edit": facilitates,
    "proposal.hide": facilitates,
    "comment.hide": facilitates,
    "proposal.lock": facilitates,
    "proposal.merge": facilitates,
    "proposal.duplicates": facilitates,
    "proposal.spotlight": facilitates,
    "proposal.import": _organiser,
    "ballot.open": facilitates,
    "ballot.close": facilitates,
    "ballot.extend": facilitates,
    "ballot.show_results": facilitates,
    "ballot.select_top": facilitates,
    "ballot.paper": facilitates,
    "ballot.cast": votes_in,
    "ballot.view": watches,
    "proxy.assign": _organiser,
    "plan.view": watches,
    "plan.open": watches,
    "plan.history": _delegate_or_staff,
    "plan.edit": _delegate_or_staff,
    "plan.restore": _delegate_or_staff,
    "plan.assign": facilitates,
    "plan.join": is_delegate_of,
    "plan.lock": facilitates,
    "plan.spotlight": facilitates,
    "plan.template": _organiser,
    "plan.export": _delegate_or_staff,
    "report.read": facilitates,
    "token.list": _staff,
    "token.create": _staff,
    "token.revoke": _staff,
}


def can(operation: str, actor: Actor, workshop: Workshop | None = None,
        target: Any = None) -> bool:
    """True when the actor may perform the operation (on this workshop, on `target`)."""
    rule = RULES[operation]
    if actor is None:
        return False
    if target is None:
        return bool(rule(actor, workshop))
    return bool(rule(actor, workshop, target))


def require(operation: str, actor: Actor, workshop: Workshop | None = None,
            target: Any = None) -> None:
    """Raise PermissionDenied unless `can(operation, actor, workshop, target)`.

    :raise PermissionDenied: the actor may not perform the operation.
    """
    if not can(operation, actor, workshop, target):
        raise PermissionDenied(_l("You are not allowed to do this."))
