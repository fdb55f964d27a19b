"""Logging a browser in and out: the login session, the session cookie and the remember cookie.

Shared by the staff login page and the delegates' join and invitation pages, so every kind of
login starts and ends the same way.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user, login_user, logout_user

from workshop.agenda.models import Delegate
from workshop.auth.logins import end_login, start_login
from workshop.auth.models import User


def _current_login_id() -> str | None:
    return getattr(current_user, "login_id", None) if current_user.is_authenticated else None


def log_in(principal: User | Delegate, language: str | None = None) -> None:
    """Log `principal` in on this browser with a new login session (and remember-me cookie).

    Whoever was logged in on this browser before is logged out: one browser, one login. With a
    `language` (delegates) the session is permanent and keeps that language.
    """
    replaced = _current_login_id()
    start_login(principal)
    end_login(replaced)
    session.clear()
    if language is not None:
        session.permanent = True
        session["lang"] = language
    login_user(principal, remember=True)


def log_out() -> None:
    """End this browser's login session everywhere and forget the session and remember cookie.

    The session is cleared before `logout_user()`, which then marks the remember-me cookie to be
    deleted from the response (clearing after it would drop that mark and keep the cookie).
    """
    end_login(_current_login_id())
    session.clear()
    logout_user()
