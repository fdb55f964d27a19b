"""HTTP rate limits (Flask-Limiter): logins, joins, and guessed join codes and invitation links.

Limits are per client address and come from the configuration (LOGIN_LIMIT, JOIN_LIMIT,
GUESS_LIMIT). A guess is counted only when it fails (unknown code or link, wrong password), so
a room of phones behind one router joins freely while a script trying codes is stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response


class _Limiter(Limiter):
    """Flask-Limiter, except that the end of a request resets its state for the request only
    when the request made some. A socket event runs in a request context with no
    `before_request` hook (no HTTP limit applies to it), and Flask-Limiter's teardown made
    a state for each event only to reset it (about 2 % of a vote's time in the server)."""

    def _Limiter__release_context(self, exc: BaseException | None = None) -> None:
        if hasattr(request_ctx._get_current_object(), "_limiter_request_context"):
            super()._Limiter__release_context(exc)  # type: ignore[misc]


limiter = _Limiter(key_func=get_remote_address)


def _config(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _failed(response: Response) -> bool:
    """A guess that missed: unknown code or link, or a refused login."""
    return response.status_code in (404, 422)


#: Decorators for the views that need them.
login_limit = limiter.limit(_config("LOGIN_LIMIT"), methods=["POST"], deduct_when=_failed)
join_limit = limiter.limit(_config("JOIN_LIMIT"), methods=["POST"])
guess_limit = limiter.limit(_config("GUESS_LIMIT"), deduct_when=_failed,
                            scope="guess")
