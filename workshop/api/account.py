"""The page where organisers and facilitators make and revoke their API tokens.

A browser page (session cookie and CSRF token like every other form): the API itself takes
tokens only, so a token is always made by a person who logged in.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop.agenda.services import list_workshops
from workshop.api import tokens
from workshop.api.schemas import TokenIn
from workshop.errors import ValidationFailed
from workshop.permissions import require
from workshop.validation import parse

bp = Blueprint("api_account", __name__, url_prefix="/account")


def _actor():
    return current_user._get_current_object()


def _page(errors: dict | None = None, created: tuple | None = None, status: int = 200):
    actor = _actor()
    return render_template(
        "api/tokens.html", tokens=tokens.list_tokens(actor),
        workshop_options={str(w.id): w.title for w in list_workshops(actor)},
        errors=errors or {}, form=request.form, created=created,
    ), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens_page():
    """List the user's tokens; a posted form makes a new one, shown this once.

    :raise 403: not staff.
    :raise 422: a missing name, or a workshop the user does not drive.
    """
    require("token.list", _actor())
    if request.method == "POST":
        try:
            token, raw = tokens.create_token(_actor(), parse(TokenIn, request.form))
        except ValidationFailed as exc:
            return _page(errors=exc.fields, status=422)
        return _page(created=(token, raw))
    return _page()


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the user's tokens: requests made with it are refused from now on.

    :raise 403: not staff. :raise 404: not one of the user's tokens.
    """
    tokens.revoke_token(_actor(), token_id)
    flash(_("The token is revoked: requests made with it are refused."), "success")
    return redirect(url_for(".tokens_page"))
