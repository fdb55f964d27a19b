"""Login sessions: one row per login, so that logging out (or an organiser) really ends it.

Flask-Login's id, kept in the session cookie and in the remember-me cookie, is "s:<token>" with
a random token per login; the database keeps only the token's SHA-256. The loader looks the
hash up on every request and every socket event (a vote's and a state's events instead have
their batch check the login session by id: `Sender`), so once the row is deleted every copy
of those cookies, in any browser and any server process, logs nobody in. Ids of the old form
("u:1", "d:5") are not tokens and log nobody in either.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from workshop.agenda.models import Delegate, Step, Workshop
from workshop.auth.models import LoginSession, User
from workshop.errors import NotLoggedIn
from workshop.extensions import db
from workshop.group_commit import among, held, held_by_id, hold_rows
from workshop.live import queue_logins_ended

LOGIN_ID_PREFIX = "s:"
_MAX_TOKEN_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_hash(login_id: str | None) -> str | None:
    """The stored hash of the token a Flask-Login id carries; None for any other id."""
    if not isinstance(login_id, str) or not login_id.startswith(LOGIN_ID_PREFIX):
        return None
    token = login_id[len(LOGIN_ID_PREFIX):]
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return _hash(token)


def _find(login_id: str | None) -> LoginSession | None:
    """The live login session a Flask-Login id names, if any."""
    token_hash = _token_hash(login_id)
    if token_hash is None:
        return None
    return db.session.scalar(sa.select(LoginSession).where(LoginSession.token_hash == token_hash))


def start_login(principal: User | Delegate) -> str:
    """Open a new login session for a staff account or a delegate and commit it.

    The new Flask-Login id is attached to `principal`, so `login_user(principal)` stores it in
    the session and remember-me cookies; it is also returned.
    """
    token = secrets.token_urlsafe(32)
    row = LoginSession(token_hash=_hash(token))
    if principal.kind == "user":
        row.user_id = principal.id
    else:
        row.delegate_id = principal.id
    db.session.add(row)
    db.session.flush()
    row_id = row.id
    db.session.commit()
    login_id = LOGIN_ID_PREFIX + token
    principal.attach_login(login_id, row_id)
    return login_id


@functools.cache
def _principal_query() -> sa.Select:
    """The loader's query, built once: it runs on every request and socket event, and building
    its joins cost as much as running it."""
    return (sa.select(LoginSession.id, User, Delegate, Workshop, Step)
            .outerjoin(User, LoginSession.user_id == User.id)
            .outerjoin(Delegate, LoginSession.delegate_id == Delegate.id)
            .outerjoin(Workshop, Delegate.workshop_id == Workshop.id)
            .outerjoin(Step, Workshop.current_step_id == Step.id)
            .where(LoginSession.token_hash == sa.bindparam("token_hash")))


def load_principal(login_id: str) -> User | Delegate | None:
    """Flask-Login's loader: who a live login session belongs to.

    None when the session was ended, never existed, or the id has the old "u:1" form. One
    query on every request and socket event: the session, its person, a delegate's workshop
    and its current step (which every delegate's page and event reads next) come together.
    """
    token_hash = _token_hash(login_id)
    if token_hash is None:
        return None
    found = db.session.execute(_principal_query(), {"token_hash": token_hash}).first()
    if found is None:
        return None
    row_id, user, delegate, workshop, step = found
    principal: User | Delegate | None = user if user is not None else delegate
    if principal is None:
        return None
    if delegate is not None and workshop is not None:
        set_committed_value(delegate, "workshop", workshop)  # held, so not loaded again
        if "current_step" not in sa.inspect(workshop).dict:  # unless this session has it
            set_committed_value(workshop, "current_step", step)
    principal.attach_login(login_id, row_id)
    return principal


@dataclass(frozen=True)
class Sender:
    """Who sent a socket event, as its connection recorded them when it opened: for a batch
    that checks the login where it runs (`holds_login`: a vote's group commit, a state's group
    read), so the event itself reads nothing (see sockets.operation's `sender`)."""

    kind: str  # "user" or "delegate"
    id: int
    login_session_id: int


def _until_commit(query: sa.Select) -> sa.Select:
    """Share-lock the login sessions read (PostgreSQL): ending one (a DELETE) waits until the
    batch that checked it has committed, so no write is made under a login already ended."""
    return query.with_for_update(read=True, key_share=True)


def hold_logins(login_session_ids: set[int], lock: bool = True) -> None:
    """Read the login sessions of a batch in one query, held for `holds_login`: whose each one
    is (as rows: objects cost a batch of 200 logins 200 objects for two columns), locked
    until the commit for a batch of writes (`lock`), not for a group read."""
    if login_session_ids:
        query = (sa.select(LoginSession.id, LoginSession.user_id, LoginSession.delegate_id)
                 .where(among(LoginSession.id, login_session_ids)).order_by(LoginSession.id))
        hold_rows("login", login_session_ids,
                  db.session.execute(_until_commit(query) if lock else query),
                  lambda row: row.id)


def holds_login(principal: User | Delegate, login_session_id: int) -> bool:
    """True while the login session is open and is this person's: a write that checks it in
    its own transaction cannot be made after the login ended (logout, an organiser); a read
    that checks it answers no one whose login ended before the read (its rows, read without a
    lock by a group read, are held the same way)."""
    logins = held("login")
    if login_session_id not in logins:
        hold_logins({login_session_id})
    row = logins[login_session_id]
    if row is None:
        return False
    owner = row.user_id if principal.kind == "user" else row.delegate_id
    return owner == principal.id


def person_in_batch(kind: str, person_id: int, login_session_id: int | None) -> User | Delegate:
    """The person a batch acts for, read in the batch (a delegate as its prefetch held them)
    and, for an event sent under a login, that login still open and theirs.

    :raise NotLoggedIn: the person was removed, or the login ended.
    """
    person = (held_by_id("delegate", Delegate, person_id) if kind == "delegate"
              else db.session.get(User, person_id))
    if person is None or (login_session_id is not None
                          and not holds_login(person, login_session_id)):
        raise NotLoggedIn(_l("Log in first."))
    return person


def _revoke(login_session_ids: list[int]) -> None:
    """Delete these login sessions and queue the closing of their sockets (after commit)."""
    if not login_session_ids:
        return
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id.in_(login_session_ids)))
    queue_logins_ended(db.session, login_session_ids)


def end_login(login_id: str | None) -> bool:
    """End one login session (logout) and commit: its cookies stop working everywhere.

    After the commit its open sockets receive `session.ended` and those served by this process
    are disconnected. Returns False when there was no such session (nothing to end).
    """
    row = _find(login_id)
    if row is None:
        return False
    _revoke([row.id])
    db.session.commit()
    return True


def revoke_logins(principal: User | Delegate) -> int:
    """End every login session of a person within the caller's transaction (not committed).

    For services that end a person's logins as part of a larger change (an invitation link
    replaced, later a password changed or a delegate removed): nothing is ended if that change
    rolls back. Returns how many sessions end.
    """
    column = LoginSession.user_id if principal.kind == "user" else LoginSession.delegate_id
    ids = list(db.session.scalars(sa.select(LoginSession.id).where(column == principal.id)))
    _revoke(ids)
    return len(ids)


def end_all_logins(principal: User | Delegate) -> int:
    """End every login session of a person, in every browser, and commit.

    Returns how many sessions ended.
    """
    ended = revoke_logins(principal)
    db.session.commit()
    return ended
