"""The delegate's pages: join by code or invitation, then follow the workshop live."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workshop.agenda.delegates import accept_invitation, join_workshop, list_organisations
from workshop.agenda.schemas import JoinCodeIn, JoinIn
from workshop.agenda.services import find_by_join_code
from workshop.agenda.state import snapshot
from workshop.auth.browser import log_in
from workshop.errors import NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.limits import guess_limit, join_limit
from workshop.steps import kept_by_page, step_context, step_scripts
from workshop.validation import parse
from workshop.vocabulary import LANGUAGES, ORG_TYPES, REGIONS, STEP_KINDS

bp = Blueprint("phone", __name__)


def _is_delegate() -> bool:
    return current_user.is_authenticated and current_user.kind == "delegate"


def _current_delegate():
    """The logged-in delegate.

    :raise PermissionDenied: the visitor is logged in, but not as a delegate.
    """
    if not _is_delegate():
        raise PermissionDenied(_l("This page is for delegates. Join a workshop with its code."))
    return current_user._get_current_object()


@bp.route("/", methods=["GET", "POST"])
@guess_limit
def landing():
    """Type a join code; a delegate already in a workshop sees a link back to it."""
    errors: dict[str, str] = {}
    message = None
    code = request.values.get("code", "")
    if request.method == "POST":
        try:
            data = parse(JoinCodeIn, request.form)
            workshop = find_by_join_code(data.code)
        except (ValidationFailed, NotFound) as exc:
            errors, message = exc.fields, exc.message
        else:
            return redirect(url_for("phone.join", code=workshop.join_code))
    return (
        render_template("phone/landing.html", errors=errors, message=message, code=code),
        422 if message else 200,
    )


@bp.route("/j/<code>", methods=["GET", "POST"])
@guess_limit
@join_limit
def join(code: str):
    """Join a workshop by its code (typed or scanned from the QR code).

    :raise 404: no workshop has this code.
    :raise 422: a missing or wrong name or organisation.
    """
    workshop = find_by_join_code(code)
    if _is_delegate() and current_user.workshop_id == workshop.id:
        return redirect(url_for("phone.follow"))
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        try:
            data = parse(JoinIn, request.form)
            if data.locale is None:  # keep the language the page was read in
                data = data.model_copy(update={"locale": str(get_locale())})
            delegate = join_workshop(workshop, data)
        except ValidationFailed as exc:
            errors, message = exc.fields, exc.message
        else:
            log_in(delegate, language=delegate.locale)
            return redirect(url_for("phone.follow"))
    return (
        render_template(
            "phone/join.html",
            workshop=workshop,
            organisations=list_organisations(),
            regions=REGIONS,
            org_types=ORG_TYPES,
            languages=LANGUAGES,
            errors=errors,
            message=message,
            form=request.form,
        ),
        422 if message else 200,
    )


@bp.route("/i/<token>")
@guess_limit
def invitation(token: str):
    """Open a personal invitation link: it logs the delegate in and shows their live page at
    once, without a redirect (one round trip less: 0.4 s on a slow 3G link); the page puts its
    own address, /d, in the address bar (follow.js), so a reload does not log in again.

    :raise 404: the link is not (or no longer) valid.
    """
    delegate = accept_invitation(token)
    log_in(delegate, language=delegate.locale)
    refresh()  # drawn in the delegate's language, chosen just now
    response = make_response(follow())
    response.headers["Cache-Control"] = "private, no-store"  # a personal page, at a secret URL
    return response


def _step_page(template: str, **extra) -> str:
    """Render a delegate's page (or its step part) with the current step's context."""
    delegate = _current_delegate()
    workshop = delegate.workshop
    context = {"delegate": delegate, "workshop": workshop, "step": workshop.current_step,
               "step_kinds": STEP_KINDS, "languages": LANGUAGES, **extra}
    context.update(step_context(delegate, workshop, workshop.current_step))
    return render_template(template, **context)


@bp.route("/d")
@login_required
def follow():
    """The delegate's live page: it follows the facilitator from step to step."""
    delegate = _current_delegate()
    return _step_page("phone/follow.html",
                      state=snapshot(db.session, delegate.workshop),
                      keeps=kept_by_page(delegate, delegate.workshop),
                      step_scripts={kind: [url_for("static", filename=path) for path in paths]
                                    for kind, paths in step_scripts().items()})


@bp.route("/d/step")
@login_required
def step_fragment():
    """The current step's part of the page, fetched by the phone when the step changes."""
    return _step_page("phone/_step.html")
