"""Delegates: joining by code, personal invitations, presence and language."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.schemas import AdmitIn, InviteIn, JoinIn, OrganisationIn
from workshop.agenda.state import announce, announce_delegate
from workshop.audit.services import record
from workshop.auth.logins import revoke_logins
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, ValidationFailed
from workshop.extensions import db
from workshop.live import delegate_room, queue
from workshop.permissions import Actor, require
from workshop.steps import UNREGISTERED


def hash_token(token: str) -> str:
    """The stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def list_organisations() -> list[Organisation]:
    """Every organisation, by region then name, as the join form offers them."""
    return list(db.session.scalars(
        sa.select(Organisation).order_by(Organisation.region, Organisation.name)
    ))


def _organisation(organisation_id: int) -> Organisation:
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise ValidationFailed(_l("Some fields need correcting."),
                               organisation_id=_l("Choose an organisation from the list."))
    return org


def create_organisation(actor: Actor, data: OrganisationIn) -> Organisation:
    """Add an organisation to the network's list.

    :raise PermissionDenied: the actor is not an organiser.
    :raise Conflict: an organisation already has this name.
    """
    require("organisation.create", actor)
    exists = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == data.name))
    if exists is not None:
        raise Conflict(_l("An organisation with this name exists already."),
                       name=_l("This name is taken."))
    org = Organisation(name=data.name, country=data.country, region=data.region, type=data.type)
    db.session.add(org)
    db.session.flush()
    record(actor, "organisation.create", None, organisation_id=org.id, name=org.name)
    db.session.commit()
    return org


def join_workshop(workshop: Workshop, data: JoinIn) -> Delegate:
    """A new delegate joins with a name and an organisation (no account, no password)."""
    org = _organisation(data.organisation_id)
    delegate = Delegate(
        workshop_id=workshop.id,
        name=data.name,
        organisation=org,
        locale=data.locale or workshop.default_locale,
        joined_at=utcnow(),
    )
    db.session.add(delegate)
    db.session.flush()
    record(delegate, "delegate.join", workshop.id, delegate_id=delegate.id)
    announce_delegate(db.session, delegate)
    announce(db.session, workshop)
    db.session.commit()
    return delegate


def invite_delegate(actor: Actor, workshop: Workshop, data: InviteIn) -> tuple[Delegate, str]:
    """Make a personal invitation: returns the delegate and the one-time-shown token.

    :raise PermissionDenied: the actor is not an organiser.
    """
    require("delegate.invite", actor, workshop)
    invited = _invitation(actor, workshop, data, _organisation(data.organisation_id))
    db.session.commit()
    return invited


def invite_delegates(actor: Actor, workshop: Workshop,
                     rows: list[InviteIn]) -> list[tuple[Delegate, str]]:
    """Make many personal invitations in one transaction: all of them, or none.

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: unknown organisations, each named by row (`3.organisation_id`).
    """
    require("delegate.invite", actor, workshop)
    wanted = {row.organisation_id for row in rows}
    orgs = {o.id: o for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(wanted)))}
    unknown = {f"{n}.organisation_id": _l("Choose an organisation from the list.")
               for n, row in enumerate(rows) if row.organisation_id not in orgs}
    if unknown:
        raise ValidationFailed(_l("Some rows need correcting: nobody was invited."), **unknown)
    invited = [_invitation(actor, workshop, row, orgs[row.organisation_id]) for row in rows]
    db.session.commit()
    return invited


def _invitation(actor: Actor, workshop: Workshop, data: InviteIn,
                org: Organisation) -> tuple[Delegate, str]:
    """Add one invited delegate to the transaction (audited), not committed."""
    token = secrets.token_urlsafe(24)
    delegate = Delegate(
        workshop_id=workshop.id,
        name=data.name,
        organisation=org,
        locale=data.locale or workshop.default_locale,
        invite_token_hash=hash_token(token),
        invited_at=utcnow(),
        # A personal invitation (or the badge made from it) is an admission to the register.
        admitted_at=utcnow(),
        admitted_by=actor.display_name,
    )
    db.session.add(delegate)
    db.session.flush()
    record(actor, "delegate.invite", workshop.id, delegate_id=delegate.id, name=delegate.name)
    return delegate, token


def _workshop_delegate(workshop: Workshop, delegate_id: int) -> Delegate:
    """A delegate of this workshop.

    :raise NotFound: no such delegate in this workshop.
    """
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise NotFound(_l("No such delegate in this workshop."))
    return delegate


def _renew(actor: Actor, workshop: Workshop, delegate: Delegate) -> str:
    """Give a delegate a new invitation token within the transaction (audited, not
    committed), ending the logins made with the old one; returns the new token."""
    token = secrets.token_urlsafe(24)
    delegate.invite_token_hash = hash_token(token)
    delegate.invited_at = utcnow()
    ended = revoke_logins(delegate)
    record(actor, "delegate.invite", workshop.id, delegate_id=delegate.id, renewed=True,
           logins_ended=ended)
    return token


def renew_invitation(actor: Actor, workshop: Workshop, delegate_id: int) -> tuple[Delegate, str]:
    """Replace a delegate's invitation link: the old one stops working, and so does every login
    made with it (or with the join code), so a leaked link cannot keep voting in their name.

    :raise PermissionDenied: the actor is not an organiser.
    :raise NotFound: no such delegate in this workshop.
    """
    require("delegate.invite", actor, workshop)
    delegate = _workshop_delegate(workshop, delegate_id)
    token = _renew(actor, workshop, delegate)
    db.session.commit()
    return delegate, token


def renew_invitations(actor: Actor, workshop: Workshop,
                      delegate_ids: list[int]) -> list[tuple[Delegate, str]]:
    """Replace the invitation links of several delegates in one transaction (all or none),
    as `renew_invitation` does for one: e.g. to print a fresh set of badges.

    :raise PermissionDenied: the actor is not an organiser.
    :raise NotFound: one of them is no delegate of this workshop (nothing is changed).
    """
    require("delegate.invite", actor, workshop)
    try:
        renewed = []
        for delegate_id in dict.fromkeys(delegate_ids):
            delegate = _workshop_delegate(workshop, delegate_id)
            renewed.append((delegate, _renew(actor, workshop, delegate)))
    except NotFound:
        db.session.rollback()
        raise
    db.session.commit()
    return renewed


def revoke_invitation(actor: Actor, workshop: Workshop, delegate_id: int) -> Delegate:
    """Withdraw a delegate's invitation link: it stops working (as does a badge printed from
    it), and so does every login made with it. The delegate stays in the workshop, on the
    register if they were; a new link can be issued later (`renew_invitation`).

    :raise PermissionDenied: the actor is not an organiser.
    :raise NotFound: no such delegate in this workshop.
    :raise Conflict: the delegate has no invitation link to withdraw.
    """
    require("delegate.revoke", actor, workshop)
    delegate = _workshop_delegate(workshop, delegate_id)
    if delegate.invite_token_hash is None:
        raise Conflict(_l("This delegate has no invitation link."))
    delegate.invite_token_hash = None
    ended = revoke_logins(delegate)
    record(actor, "delegate.revoke", workshop.id, delegate_id=delegate.id, name=delegate.name,
           logins_ended=ended)
    db.session.commit()
    return delegate


def accept_invitation(token: str) -> Delegate:
    """The delegate an invitation token belongs to; the first use counts as joining.

    :raise NotFound: the token matches no invitation.
    """
    if not token or len(token) > 200:
        raise NotFound(_l("This invitation link is not valid. Ask the organisers for a new one."))
    delegate = db.session.scalar(
        sa.select(Delegate).where(Delegate.invite_token_hash == hash_token(token))
    )
    if delegate is None:
        raise NotFound(_l("This invitation link is not valid. Ask the organisers for a new one."))
    if delegate.joined_at is None:
        delegate.joined_at = utcnow()
        record(delegate, "delegate.join", delegate.workshop_id, delegate_id=delegate.id,
               invitation=True)
        announce_delegate(db.session, delegate)
        announce(db.session, delegate.workshop)
        db.session.commit()
    return delegate


def list_delegates(actor: Actor, workshop: Workshop) -> list[Delegate]:
    """The workshop's delegates, joined first, by name.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    """
    require("delegate.list", actor, workshop)
    stmt = (
        sa.select(Delegate)
        .where(Delegate.workshop_id == workshop.id)
        .order_by(Delegate.joined_at.is_(None), Delegate.name)
    )
    return list(db.session.scalars(stmt))


def set_locale(delegate: Delegate, locale: str) -> None:
    """Remember the delegate's language for every later page."""
    delegate.locale = locale
    db.session.commit()


def admit_delegate(actor: Actor, workshop: Workshop, data: AdmitIn) -> Delegate:
    """Check a delegate in on the voting register, or reject their join (audited).

    A rejected delegate keeps following the workshop; they never vote, and propose or
    discuss only if the workshop opens participation to all.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise ValidationFailed: no such delegate in this workshop (field `delegate_id`).
    """
    require("delegate.admit", actor, workshop)
    delegate = db.session.get(Delegate, data.delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise ValidationFailed(_l("Some fields need correcting."),
                               delegate_id=_l("No such delegate in this workshop."))
    if data.admitted:
        delegate.admitted_at = utcnow()
        delegate.admitted_by = actor.display_name
        delegate.rejected_at = None
    else:
        delegate.rejected_at = utcnow()
    record(actor, "delegate.admit", workshop.id, delegate_id=delegate.id, name=delegate.name,
           admitted=data.admitted)
    announce_delegate(db.session, delegate)
    # Their phone: a ballot paper drawn for everyone fits them now (or no longer).
    queue(db.session, "marks", {UNREGISTERED: not delegate.admitted}, delegate_room(delegate.id))
    db.session.commit()
    return delegate


def waiting_for_admission(actor: Actor, workshop: Workshop) -> list[tuple[Delegate, bool]]:
    """Delegates who joined by code and wait for a facilitator to check them in, newest
    first, each with whether someone of the same name and organisation joined already
    (the same person on a second phone, most likely).

    :raise PermissionDenied: the actor does not facilitate this workshop.
    """
    require("delegate.admit", actor, workshop)
    everyone = list(db.session.scalars(
        sa.select(Delegate).where(Delegate.workshop_id == workshop.id,
                                  Delegate.joined_at.is_not(None))
        .order_by(Delegate.joined_at.desc(), Delegate.id.desc())))
    seen: dict[tuple[str, int], int] = {}
    for d in everyone:
        key = (d.name.casefold().strip(), d.organisation_id)
        seen[key] = seen.get(key, 0) + 1
    return [(d, seen[(d.name.casefold().strip(), d.organisation_id)] > 1) for d in everyone
            if d.admitted_at is None and d.rejected_at is None]
