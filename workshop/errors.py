"""Domain errors raised by services and turned into clear answers by views, API and events."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc


class WorkshopError(Exception):
    """Base of every error a user can cause; `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = fields
        #: Field -> the rule it broke, where a rule has a code (a ballot paper's, see tally).
        self.codes: dict[str, str] = {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape every client receives: ok false, a code, a message, per-field errors
        (and per-field rule codes, where there are some)."""
        answer = {
            "ok": False,
            "error": self.code,
            "message": str(self.message),
            "fields": {k: str(v) for k, v in self.fields.items()},
        }
        if self.codes:
            answer["codes"] = dict(self.codes)
        return answer


class ValidationFailed(WorkshopError):
    """The input had the wrong shape; `fields` names each wrong or missing field."""

    status = 422
    code = "validation"


class MalformedBody(WorkshopError):
    """The request's body could not be read at all: not JSON, or nested too deeply."""

    status = 400
    code = "malformed"


class NotLoggedIn(WorkshopError):
    """Nobody is logged in (any more): the login session is gone or never was."""

    status = 401
    code = "unauthorized"


class PermissionDenied(WorkshopError):
    """The actor may not do this."""

    status = 403
    code = "forbidden"


class NotFound(WorkshopError):
    """The object does not exist, or the actor may not know it exists."""

    status = 404
    code = "not_found"


class Conflict(WorkshopError):
    """The request is well formed but the current state forbids it."""

    status = 409
    code = "conflict"


class TooFast(WorkshopError):
    """Too many actions in a short time: refused before any work, try again in a moment."""

    status = 429
    code = "rate_limited"


class Unavailable(WorkshopError):
    """The database cannot be reached for a moment (stopped, restarting, or busy past the
    wait): nothing was kept half-way, and the same action sent again later goes through."""

    status = 503
    code = "unavailable"


#: The database errors that mean "not now" rather than "wrong": the server is gone or refuses
#: connections, a connection died mid-way, SQLite stayed locked past the wait.
DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError)


def database_unavailable(exc: BaseException) -> bool:
    """True for an error of `DATABASE_AWAY`, or any other that invalidated its connection."""
    return isinstance(exc, DATABASE_AWAY) or bool(getattr(exc, "connection_invalidated", False))


def unavailable() -> Unavailable:
    """The one answer to a database that cannot be reached, on every door (pages, API, socket
    acknowledgements); a phone's outbox keeps what it sent and sends it again."""
    return Unavailable(_l("The server cannot reach its database just now: try again in a few "
                          "seconds."))
