"""Voting pages: the facilitator's ballot controls (plain forms, also sent over the socket by
ballot.js), the phone's form fallback for casting, results, the published receipts, proxies
and paper ballots."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from workshop.agenda.delegates import list_delegates
from workshop.agenda.services import get_workshop, get_workshop_for
from workshop.errors import Conflict, NotFound, PermissionDenied, WorkshopError
from workshop.errors_http import wants_json
from workshop.extensions import db
from workshop.permissions import ProjectorViewer, can, facilitates, require
from workshop.sockets import holds_projector_key
from workshop.validation import json_payload, parse, whole_number
from workshop.vocabulary import ORG_TYPES, REGIONS, THEMES
from workshop.voting import casting, results, services
from workshop.voting import proxies as proxy_services
from workshop.voting.schemas import (
    BallotExtend,
    BallotOpen,
    CastIn,
    PaperIn,
    ProxyIn,
    ReceiptCheck,
    ResultsVisibility,
    SelectTopIn,
)
from workshop.voting.steps import ballot_context, criteria, results_shown

bp = Blueprint("voting", __name__)

METHOD_LABELS = {
    "approval": _l("Approval (tick the ones you support)"),
    "points": _l("Points (spread a budget)"),
    "ranking": _l("Ranking (order them)"),
    "matrix": _l("Matrix (rate on two criteria)"),
}
# How a method's consensus counts, where it needs saying beside the general sentence.
CONSENSUS_RULES = {
    "ranking": _l("In a ranking, a line of work earns support toward consensus only where "
                  "voters ranked it: first place counts fully, each lower place less, and a "
                  "line left unranked counts nothing."),
}
WEIGHTING_LABELS = {
    "delegate": _l("One delegate, one vote"),
    "organisation": _l("One organisation, one vote"),
    "region": _l("Regional balance (each region counts the same)"),
}


def _actor():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _staff_workshop(workshop_id: int, operation: str = "workshop.console"):
    return get_workshop_for(operation, _actor(), workshop_id)


def _back(workshop_id: int):
    target = request.form.get("next", "")
    if target.startswith("/w/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("voting.ballots", workshop_id=workshop_id))


def _form(**extra: Any) -> MultiDict:
    form = MultiDict(request.form)
    form.pop("next", None)
    for key, value in extra.items():
        form[key] = value
    return form


@bp.app_template_global()
def format_receipt(code: str) -> str:
    """Receipt codes as people read them (ABCD-EFGH-JKLM)."""
    return services.format_receipt(code)


SOURCE_LABELS = {"phone": _l("phone"), "proxy": _l("proxy"), "paper": _l("paper")}


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    """A share 0..1 as a whole percentage, in the reader's language."""
    return "–" if value is None else format_percent(value, format="#,##0%")


@bp.app_template_filter("score")
def score(value: float | None) -> str:
    """A score with at most two decimals, in the reader's language."""
    return "–" if value is None else format_decimal(value, format="#,##0.##")


# --- Facilitator ------------------------------------------------------------------------------


def _ballots_context(workshop) -> dict[str, Any]:
    ballots = services.list_ballots(workshop)
    return {
        "workshop": workshop,
        "ballots": ballots,
        "turnouts": {b.id: services.turnout(b) for b in ballots},
        "proposals": services.visible_proposals(workshop),
        "methods": METHOD_LABELS,
        "weightings": WEIGHTING_LABELS,
        "themes": THEMES,
        "regions": REGIONS,
        "steps": workshop.steps,
        "remaining": {b.id: services.remaining_ms(b) for b in ballots},
        "can_proxy": can("proxy.assign", _actor(), workshop),
    }


@bp.route("/w/<int:workshop_id>/ballots")
@login_required
def ballots(workshop_id: int):
    """The facilitator's ballots page: open one, drive the open ones, read the closed ones.

    :raise 403: the user does not facilitate this workshop.
    """
    workshop = _staff_workshop(workshop_id)
    return render_template("voting/ballots.html", errors={}, form=MultiDict(),
                           **_ballots_context(workshop))


@bp.route("/w/<int:workshop_id>/ballots/panel")
@login_required
def panel(workshop_id: int):
    """The console's voting section (fetched and refreshed by ballot.js).

    :raise 403: the user does not facilitate this workshop.
    """
    workshop = _staff_workshop(workshop_id)
    return render_template("voting/_panel.html", **_ballots_context(workshop))


@bp.route("/w/<int:workshop_id>/ballots", methods=["POST"])
@login_required
def open_ballot(workshop_id: int):
    """Form fallback of `ballot.open`.

    :raise 403: the user does not facilitate this workshop.
    :raise 422: a missing or wrong field (the form is shown again with the errors).
    """
    workshop = _staff_workshop(workshop_id)
    form = _form(workshop_id=str(workshop_id))
    form["secret"] = "true" if request.form.get("secret") else "false"
    try:
        data = parse(BallotOpen, form)
        services.open_ballot(_actor(), workshop, data)
    except WorkshopError as exc:
        db.session.rollback()
        if exc.status == 403:
            raise
        return render_template("voting/ballots.html", errors=exc.fields, message=exc.message,
                               form=request.form, **_ballots_context(workshop)), exc.status
    flash(_("The ballot is open."), "success")
    return _back(workshop_id)


def _ballot(workshop, ballot_id: int):
    return services.get_ballot(workshop, ballot_id)


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/close", methods=["POST"])
@login_required
def close(workshop_id: int, ballot_id: int):
    """Form fallback of `ballot.close`."""
    workshop = _staff_workshop(workshop_id)
    services.close_ballot(_actor(), workshop, _ballot(workshop, ballot_id))
    return _back(workshop_id)


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/extend", methods=["POST"])
@login_required
def extend(workshop_id: int, ballot_id: int):
    """Form fallback of `ballot.extend`."""
    workshop = _staff_workshop(workshop_id)
    data = parse(BallotExtend, _form(workshop_id=str(workshop_id), ballot_id=str(ballot_id)))
    services.extend_ballot(_actor(), workshop, _ballot(workshop, ballot_id), data.minutes)
    return _back(workshop_id)


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/visibility", methods=["POST"])
@login_required
def visibility(workshop_id: int, ballot_id: int):
    """Form fallback of `ballot.show_results`."""
    workshop = _staff_workshop(workshop_id)
    data = parse(ResultsVisibility,
                 _form(workshop_id=str(workshop_id), ballot_id=str(ballot_id)))
    services.show_results(_actor(), workshop, _ballot(workshop, ballot_id), data.visible)
    return _back(workshop_id)


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/top", methods=["POST"])
@login_required
def select_top(workshop_id: int, ballot_id: int):
    """Form fallback of `ballot.select_top`; with a tie at the cut-off, the results page asks
    which of the tied lines of work to carry forward."""
    workshop = _staff_workshop(workshop_id)
    ballot = _ballot(workshop, ballot_id)
    form = _form(workshop_id=str(workshop_id), ballot_id=str(ballot_id))
    try:
        data = parse(SelectTopIn, form)
        services.select_top(_actor(), workshop, ballot, data)
    except WorkshopError as exc:
        db.session.rollback()
        if exc.status == 403:
            raise
        return _results_page(workshop, ballot, errors=exc.fields, message=exc.message,
                             form=request.form, status=exc.status)
    flash(_("The selection is stored."), "success")
    return redirect(url_for("voting.results_page", workshop_id=workshop_id,
                            ballot_id=ballot_id))


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/paper", methods=["GET", "POST"])
@login_required
def paper(workshop_id: int, ballot_id: int):
    """Enter a paper ballot for a delegate without a phone (form of `ballot.paper`).

    :raise 403: the user does not facilitate this workshop.
    """
    workshop = get_workshop_for("ballot.paper", _actor(), workshop_id)
    ballot = _ballot(workshop, ballot_id)
    errors: dict[str, str] = {}
    message = None
    receipt = None
    status = 200
    if request.method == "POST":
        try:
            delegate_id = request.form.get("delegate_id", "")
            data = parse(PaperIn, {
                "workshop_id": workshop_id, "ballot_id": ballot_id,
                "delegate_id": delegate_id,
                "choices": choices_from_form(ballot, request.form, ""),
            })
            result = casting.enter_paper_ballot(_actor(), workshop, data)
        except WorkshopError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            errors, message, status = exc.fields, exc.message, exc.status
        else:
            receipt = services.format_receipt(result.receipt)
    titles = services.option_titles(ballot)
    return render_template(
        "voting/paper.html", workshop=workshop, ballot=ballot, errors=errors, message=message,
        receipt=receipt, delegates=list_delegates(_actor(), workshop),
        options=[{"id": o, "title": titles.get(o, "")} for o in ballot.option_ids],
        criteria=criteria(ballot),
    ), status


@bp.route("/w/<int:workshop_id>/proxies", methods=["GET", "POST"])
@login_required
def proxies(workshop_id: int):
    """Who carries whose vote (organisers): list, give and take back proxies.

    :raise 403: the user is not an organiser.
    """
    workshop = get_workshop_for("proxy.assign", _actor(), workshop_id)
    errors: dict[str, str] = {}
    message = None
    status = 200
    if request.method == "POST":
        try:
            data = parse(ProxyIn, _form(workshop_id=str(workshop_id)))
            proxy_services.assign_proxy(_actor(), workshop, data)
        except WorkshopError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            errors, message, status = exc.fields, exc.message, exc.status
        else:
            return redirect(url_for("voting.proxies", workshop_id=workshop_id))
    delegates = list_delegates(_actor(), workshop)
    names = {d.id: d for d in delegates}
    return render_template(
        "voting/proxies.html", workshop=workshop, delegates=delegates, names=names,
        proxies=proxy_services.proxies_of(workshop), errors=errors, message=message,
    ), status


# --- Results and receipts ---------------------------------------------------------------------


def _watcher_workshop(workshop_id: int):
    """The workshop, for a delegate, staff member or projector with its key in the session.

    :raise 404: no such workshop.
    :raise 403: not someone who watches this workshop.
    """
    workshop = get_workshop(workshop_id)
    actor = _actor()
    if actor is None and holds_projector_key(workshop):
        actor = ProjectorViewer(workshop.id)
    require("ballot.view", actor, workshop)
    return workshop, actor


def _results_page(workshop, ballot, errors=None, message=None, form=None, status=200):
    actor = _actor()
    staff = facilitates(actor, workshop)
    if not staff and not results_shown(ballot):
        raise PermissionDenied(_l("The results are shown when the ballot closes."))
    context = ballot_context(actor, workshop, ballot)
    n = request.values.get("n", type=int)
    by = request.values.get("by", "score")
    preview = None
    if staff and not ballot.is_open and n and 1 <= n <= 100:
        preview = services.top_preview(ballot, n, "schulze" if by == "schulze" else "score")
    return render_template(
        "voting/results.html", workshop=workshop, staff=staff, preview=preview, n=n, by=by,
        errors=errors or {}, message=message, form=form or {},
        consensus_rule=CONSENSUS_RULES.get(ballot.method), **context,
    ), status


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/results")
def results_page(workshop_id: int, ballot_id: int):
    """A ballot's results: ranking and scores, Borda beside Schulze, breakdowns, consensus,
    turnout and the hash; staff also select the top N here.

    :raise 403: not a watcher of the workshop, or results not shown yet (staff always may).
    """
    workshop, _actor_ = _watcher_workshop(workshop_id)
    ballot = _ballot(workshop, ballot_id)
    return _results_page(workshop, ballot)


@bp.route("/w/<int:workshop_id>/ballots/<int:ballot_id>/receipts")
def receipts(workshop_id: int, ballot_id: int):
    """The published list of ballot papers after close, and a receipt check.

    :raise 403: not a watcher of the workshop.
    :raise 409: the ballot is still open (the list is published at close).
    """
    workshop, _actor_ = _watcher_workshop(workshop_id)
    ballot = _ballot(workshop, ballot_id)
    checked = None
    found = None
    errors: dict[str, str] = {}
    if ballot.is_open:
        raise Conflict(_l("The list of ballot papers is published when the ballot closes."))
    published = results.published_ballots(ballot)
    # A secret ballot's list is receipts apart from papers; a named ballot's papers hold both.
    receipts = [e["receipt"] for e in published if "receipt" in e]
    papers = [e for e in published if "choice" in e]
    if "code" in request.args:
        try:
            code = services.normalise_receipt(parse(ReceiptCheck, request.args).code)
        except WorkshopError as exc:
            errors = exc.fields
        else:
            checked = services.format_receipt(code)
            found = code if code in receipts else None
    titles = services.option_titles(ballot)
    return render_template(
        "voting/receipts.html", workshop=workshop, ballot=ballot, papers=papers,
        receipts=receipts, secrecy=(ballot.results or {}).get("secrecy"), titles=titles,
        checked=checked, found=found, errors=errors, regions=REGIONS, org_types=ORG_TYPES,
        criteria=criteria(ballot), sources=SOURCE_LABELS,
    )


# --- Phone: casting without the socket ------------------------------------------------------


def choices_from_form(ballot, form, prefix: str) -> Any:
    """A ballot paper from plain form fields (the page without JavaScript, paper ballots).

    approval: `choice` ticked ids; ranking: `rank-<id>` place numbers; points: `points-<id>`;
    matrix: `a-<id>` and `b-<id>` ratings. Empty fields are left out.
    """
    def number(name: str) -> int | str | None:
        value = form.get(f"{prefix}{name}", "").strip()
        if value == "":
            return None
        whole = whole_number(value)
        return value if whole is None else whole

    ids = ballot.option_ids
    if ballot.method == "approval":
        return [v if (n := whole_number(v)) is None else n
                for v in form.getlist(f"{prefix}choice")]
    if ballot.method == "ranking":
        places = {o: number(f"rank-{o}") for o in ids}
        given = {o: p for o, p in places.items() if p is not None}
        if any(not isinstance(p, int) for p in given.values()):
            return "invalid"
        return [o for o, _p in sorted(given.items(), key=lambda item: item[1])]
    if ballot.method == "points":
        return {o: p for o in ids if (p := number(f"points-{o}")) is not None}
    return {o: [number(f"a-{o}"), number(f"b-{o}")] for o in ids
            if number(f"a-{o}") is not None or number(f"b-{o}") is not None}


@bp.route("/d/ballots/<int:ballot_id>/vote", methods=["POST"])
@login_required
def cast(ballot_id: int):
    """Cast a ballot paper over HTTP (no JavaScript, or no socket): same service as `ballot.cast`.

    JSON in (`{"choices", "secret", "on_behalf_of"}`) gives JSON out; a form gives the page.

    :raise 403: not a delegate, or no proxy for `on_behalf_of`.
    :raise 409: the ballot is closed.
    :raise 422: the choices break the ballot's rules.
    """
    actor = _actor()
    if getattr(actor, "kind", None) != "delegate":
        raise PermissionDenied(_l("Only delegates vote."))
    workshop = actor.workshop
    ballot = services.get_ballot(workshop, ballot_id)
    if request.is_json:
        body = json_payload()
        if not isinstance(body, dict):
            body = {}
        payload = {**body, "workshop_id": workshop.id, "ballot_id": ballot_id}
    else:
        on_behalf_of = request.form.get("on_behalf_of", "")
        payload = {"workshop_id": workshop.id, "ballot_id": ballot_id,
                   "choices": choices_from_form(ballot, request.form, "")}
        if on_behalf_of:
            payload["on_behalf_of"] = on_behalf_of
        if request.form.get("replace_lost"):
            payload["replace_lost"] = True
        if request.form.get("secret"):
            payload["secret"] = request.form["secret"]
        elif ballot.secret:
            # Without JavaScript the phone keeps no secret: one is made here, and the paper
            # cannot be changed later (the receipt still proves it was counted).
            payload["secret"] = secrets.token_hex(16)
    try:
        result = casting.cast_vote(actor, workshop, parse(CastIn, payload))
    except WorkshopError as exc:
        db.session.rollback()
        if wants_json() or request.is_json:
            return jsonify(exc.to_dict()), exc.status
        flash(f"{exc.message} {' '.join(str(v) for v in exc.fields.values())}", "error")
        return redirect(url_for("phone.follow"))
    receipt = services.format_receipt(result.receipt)
    if wants_json() or request.is_json:
        return jsonify({"ok": True, "ballot_id": result.ballot_id, "receipt": receipt,
                        "changed": result.changed})
    flash(_("Vote received. Your receipt code: %(code)s", code=receipt), "success")
    return redirect(url_for("phone.follow"))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound):
    if wants_json() or request.is_json:
        return jsonify(exc.to_dict()), 404
    return render_template("error.html", message=exc.message, fields=exc.fields), 404
