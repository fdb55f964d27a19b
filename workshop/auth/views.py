"""Staff login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for

from workshop.auth.browser import log_in, log_out
from workshop.auth.schemas import LoginIn
from workshop.auth.services import authenticate
from workshop.errors import ValidationFailed
from workshop.limits import login_limit
from workshop.validation import parse

bp = Blueprint("auth", __name__)


def _safe_next(target: str) -> str:
    """Only same-site paths, so a crafted link cannot bounce a user to another site."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("manage.workshops")


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login():
    """Log an organiser or facilitator in.

    :raise 422: wrong e-mail or password, or a missing field.
    """
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        try:
            data = parse(LoginIn, request.form)
            user = authenticate(data.email, data.password)
        except ValidationFailed as exc:
            errors, message = exc.fields, exc.message
        else:
            log_in(user)
            return redirect(_safe_next(data.next))
    status = 422 if message else 200
    return (
        render_template("auth/login.html", errors=errors, message=message,
                        next=request.values.get("next", "")),
        status,
    )


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out whoever is logged in (staff or delegate): the login session ends everywhere."""
    log_out()
    return redirect(url_for("phone.landing"))
