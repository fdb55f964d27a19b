"""Proxies: a present delegate carries an absent delegate's vote, given and taken back by an
organiser (audited). Casting under a proxy is in casting.py; who may is checked there.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Delegate, Workshop
from workshop.audit.services import record
from workshop.errors import Conflict, NotFound, ValidationFailed
from workshop.extensions import db
from workshop.live import delegate_room, queue
from workshop.permissions import Actor, require
from workshop.steps import CARRIES
from workshop.voting.models import Ballot, Participation, ProxyAssignment
from workshop.voting.schemas import ProxyIn


def _delegate_of(workshop: Workshop, delegate_id: int, field: str) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise ValidationFailed(_l("Some fields need correcting."),
                               **{field: _l("No such delegate in this workshop.")})
    return delegate


def assign_proxy(actor: Actor, workshop: Workshop, data: ProxyIn) -> ProxyAssignment | None:
    """Let a present delegate carry an absent delegate's vote, or take that right back.

    Taking it back hands the delegate's paper back: the holder can no longer reach it (their
    casts for the delegate are refused; as themself they only reach their own paper), the
    paper still counts until the delegate (or a new holder) casts a new one, which replaces
    it. The audit entry names the open ballots where that happens (`handed_back`).

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: unknown delegates, the same person twice, a chain of proxies.
    :raise Conflict: the absent delegate's vote is carried by someone else already.
    """
    require("proxy.assign", actor, workshop)
    holder = _delegate_of(workshop, data.holder_id, "holder_id")
    absent = _delegate_of(workshop, data.absent_id, "absent_id")
    existing = db.session.scalar(sa.select(ProxyAssignment).where(
        ProxyAssignment.absent_delegate_id == absent.id))
    if not data.assigned:
        if existing is None or existing.holder_delegate_id != holder.id:
            raise NotFound(_l("There is no such proxy."))
        db.session.delete(existing)
        handed_back = list(db.session.scalars(
            sa.select(Participation.ballot_id)
            .join(Ballot, Ballot.id == Participation.ballot_id)
            .where(Participation.delegate_id == absent.id, Participation.source == "proxy",
                   Participation.cast_by_id == holder.id, Ballot.status == "open")
            .order_by(Participation.ballot_id)))
        record(actor, "proxy.assign", workshop.id, holder_id=holder.id, holder=holder.name,
               absent_id=absent.id, absent=absent.name, assigned=False,
               handed_back=handed_back)
        _tell_holder(holder)
        db.session.commit()
        return None
    if holder.id == absent.id:
        raise ValidationFailed(_l("Some fields need correcting."),
                               absent_id=_l("A delegate cannot carry their own vote."))
    chained = db.session.scalar(sa.select(ProxyAssignment.id).where(sa.or_(
        ProxyAssignment.absent_delegate_id == holder.id,
        ProxyAssignment.holder_delegate_id == absent.id,
    )))
    if chained is not None:
        raise ValidationFailed(
            _l("Some fields need correcting."),
            holder_id=_l("An absent delegate cannot carry votes, and a holder cannot be absent."))
    if existing is not None:
        raise Conflict(_l("Someone carries this delegate's vote already."),
                       absent_id=_l("Someone carries this delegate's vote already."))
    proxy = ProxyAssignment(workshop_id=workshop.id, holder_delegate_id=holder.id,
                            absent_delegate_id=absent.id, created_by_id=actor.id)
    db.session.add(proxy)
    record(actor, "proxy.assign", workshop.id, holder_id=holder.id, holder=holder.name,
           absent_id=absent.id, absent=absent.name, assigned=True)
    _tell_holder(holder)
    db.session.commit()
    return proxy


def proxies_of(workshop: Workshop) -> list[ProxyAssignment]:
    """The workshop's proxies."""
    return list(db.session.scalars(sa.select(ProxyAssignment).where(
        ProxyAssignment.workshop_id == workshop.id).order_by(ProxyAssignment.id)))


def carries(delegate: Delegate) -> bool:
    """Whether the delegate carries anyone's vote: then their ballot papers are their own
    (see voting/steps.py, `voting_marks`)."""
    return db.session.scalar(sa.select(ProxyAssignment.id).where(
        ProxyAssignment.holder_delegate_id == delegate.id).limit(1)) is not None


def _tell_holder(holder: Delegate) -> None:
    """The holder's phone: a ballot paper drawn for everyone fits them no longer (or again)."""
    db.session.flush()
    queue(db.session, "marks", {CARRIES: carries(holder)}, delegate_room(holder.id))


def carried_by(delegate: Delegate) -> list[Delegate]:
    """The absent delegates whose vote this delegate carries."""
    return list(db.session.scalars(
        sa.select(Delegate)
        .join(ProxyAssignment, ProxyAssignment.absent_delegate_id == Delegate.id)
        .where(ProxyAssignment.holder_delegate_id == delegate.id)
        .order_by(Delegate.name)
    ))
