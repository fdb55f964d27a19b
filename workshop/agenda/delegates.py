"""Delegates: joining by code, personal invitations, presence and language."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.schemas import InviteIn, JoinIn, OrganisationIn
from workshop.agenda.state import announce, announce_delegate
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, ValidationFailed
from workshop.extensions import db
from workshop.permissions import Actor, require


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
    org = _organisation(data.organisation_id)
    token = secrets.token_urlsafe(24)
    delegate = Delegate(
        workshop_id=workshop.id,
        name=data.name,
        organisation=org,
        locale=data.locale or workshop.default_locale,
        invite_token_hash=hash_token(token),
        invited_at=utcnow(),
    )
    db.session.add(delegate)
    db.session.flush()
    record(actor, "delegate.invite", workshop.id, delegate_id=delegate.id, name=delegate.name)
    db.session.commit()
    return delegate, token


def renew_invitation(actor: Actor, workshop: Workshop, delegate_id: int) -> tuple[Delegate, str]:
    """Replace a delegate's invitation link (the old one stops working).

    :raise PermissionDenied: the actor is not an organiser.
    :raise NotFound: no such delegate in this workshop.
    """
    require("delegate.invite", actor, workshop)
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise NotFound(_l("No such delegate in this workshop."))
    token = secrets.token_urlsafe(24)
    delegate.invite_token_hash = hash_token(token)
    delegate.invited_at = utcnow()
    record(actor, "delegate.invite", workshop.id, delegate_id=delegate.id, renewed=True)
    db.session.commit()
    return delegate, token


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


def mark_connected(delegate: Delegate, delta: int) -> None:
    """Count a delegate's open sockets, so the console can show who is online."""
    count = Delegate.connections + delta
    db.session.execute(
        sa.update(Delegate)
        .where(Delegate.id == delegate.id)
        .values(connections=sa.case((count < 0, 0), else_=count), last_seen_at=utcnow())
    )
    db.session.flush()
    db.session.refresh(delegate)
    announce_delegate(db.session, delegate)
    db.session.commit()
