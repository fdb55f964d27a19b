"""Operations on API tokens: create (shown once), list, revoke, and authenticate a request.

A token is a random string; the database keeps its SHA-256 only. The owner's rights are not
copied into the token: every request is checked against them as they are now, so a
facilitator taken off a workshop loses it through their tokens too.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Workshop
from workshop.api.models import ApiToken
from workshop.api.schemas import TokenIn
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import NotFound, NotLoggedIn, ValidationFailed
from workshop.extensions import db
from workshop.permissions import Actor, facilitates, require

#: Recognisable by secret scanners and by people pasting it in the wrong place.
TOKEN_PREFIX = "wsk_"  # noqa: S105  (a prefix, not a secret)
_MAX_TOKEN_LENGTH = 200
#: `last_used_at` is written at most this often per token: a busy script must not turn every
#: read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_token(raw: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(actor: Actor, data: TokenIn) -> tuple[ApiToken, str]:
    """Make a token for the actor's own account: returns the row and the token, shown once.

    :raise PermissionDenied: the actor is not staff.
    :raise ValidationFailed: the workshop it is limited to is not one the actor drives.
    """
    require("token.create", actor)
    if data.workshop_id is not None:
        workshop = db.session.get(Workshop, data.workshop_id)
        if workshop is None or not facilitates(actor, workshop):
            raise ValidationFailed(_l("Some fields need correcting."),
                                   workshop_id=_l("Choose one of your workshops."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, workshop_id=data.workshop_id, name=data.name,
                     token_hash=hash_token(raw), created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    record(actor, "token.create", data.workshop_id, token_id=token.id, name=token.name)
    db.session.commit()
    return token, raw


def list_tokens(actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (revoked ones too, marked).

    :raise PermissionDenied: the actor is not staff.
    """
    require("token.list", actor)
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == actor.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    """Stop a token from working, at once and for good (revoking twice changes nothing).

    :raise PermissionDenied: the actor is not staff.
    :raise NotFound: no such token of the actor's (another person's token is not theirs to end).
    """
    require("token.revoke", actor)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound(_l("No such token."), token_id=_l("Unknown token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(actor, "token.revoke", token.workshop_id, token_id=token.id, name=token.name)
        db.session.commit()
    return token


def authenticate(raw: str | None) -> ApiToken:
    """The live token a request presents, its use noted (at most once a minute).

    :raise NotLoggedIn: no token, an unknown one, or a revoked one.
    """
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        raise NotLoggedIn(_l("Send an API token: Authorization: Bearer <token>."))
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        raise NotLoggedIn(_l("This API token is not valid, or was revoked."))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token
