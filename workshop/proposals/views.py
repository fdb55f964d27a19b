"""Pages of proposals: the discussion page, form fallbacks, moderation and import."""

from __future__ import annotations

import base64
import binascii
import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop.agenda.services import get_workshop, get_workshop_for
from workshop.errors import Conflict, NotFound, ValidationFailed
from workshop.permissions import can, facilitates, is_delegate_of, require
from workshop.proposals import importing, services
from workshop.proposals.lines import Line, lines_of
from workshop.proposals.live import card_context
from workshop.proposals.schemas import (
    CommentIn,
    EditIn,
    HideIn,
    LockIn,
    MergeIn,
    ProposalIn,
    SupportIn,
    TranslationIn,
)
from workshop.validation import parse

bp = Blueprint("proposals", __name__, url_prefix="/w/<int:workshop_id>/proposals")


@bp.app_template_global()
def new_request_id() -> str:
    """A fresh idempotency key for a form (proposal, comment): sent twice, stored once."""
    return secrets.token_urlsafe(16)


def _actor():
    return current_user._get_current_object()


def _workshop(workshop_id: int):
    """The workshop, if the user is its delegate or staff.

    :raise 404 / 403:
    """
    return get_workshop_for("workshop.watch", _actor(), workshop_id)


def _line_or_404(workshop, proposal_id: int) -> Line:
    staff = facilitates(_actor(), workshop)
    lines = lines_of(_actor(), workshop, include_hidden=staff, only=proposal_id)
    if not lines:
        merged = services.get_proposal(workshop, proposal_id)  # raises NotFound if unknown
        if merged.merged_into_id is not None:
            return _line_or_404(workshop, merged.merged_into_id)
        raise NotFound(_("This proposal does not exist."))
    return lines[0]


def discussion_context(workshop, line: Line, errors: dict | None = None) -> dict:
    """Everything the discussion page of a line needs."""
    actor = _actor()
    comments = services.comments_of(actor, workshop, line)
    replies: dict[int | None, list] = {}
    for c in comments:
        replies.setdefault(c.parent_id, []).append(c)
    supported = services.supported_by(actor) if is_delegate_of(actor, workshop) else set()
    return {
        "workshop": workshop,
        "line": line,
        "replies": replies,
        "lang": str(get_locale()),
        "supported": bool(supported & {m.id for m in line.members}),
        "can_moderate": facilitates(actor, workshop),
        "can_reply": can("proposal.comment", actor, workshop),
        # The author and staff translate directly and decide on suggestions; other delegates
        # suggest; the projector does neither.
        "can_translate": can("proposal.translate", actor, workshop, line.proposal),
        "can_suggest": can("translation.suggest", actor, workshop, line.proposal),
        "can_decide": can("translation.accept", actor, workshop, line.proposal),
        "suggestions": services.suggestions_for(actor, workshop, line),
        "translation_history": services.translation_history(actor, workshop, line.proposal),
        "revisions": services.revisions_of(line.proposal) if facilitates(actor, workshop) else [],
        "errors": errors or {},
        "form": request.form,
        **card_context(),
    }


@bp.route("/<int:proposal_id>")
@login_required
def discussion(workshop_id: int, proposal_id: int):
    """A line of work with its discussion (comments and threaded replies).

    :raise 404: no such proposal (or hidden, for delegates).
    """
    workshop = _workshop(workshop_id)
    line = _line_or_404(workshop, proposal_id)
    if line.proposal.id != proposal_id:
        return redirect(url_for(".discussion", workshop_id=workshop_id,
                                proposal_id=line.proposal.id))
    return render_template("proposals/discussion.html", **discussion_context(workshop, line))


def _back_to(workshop_id: int, proposal_id: int | None = None):
    if proposal_id is not None:
        return redirect(url_for(".discussion", workshop_id=workshop_id, proposal_id=proposal_id))
    if facilitates(_actor(), get_workshop(workshop_id)):
        return redirect(url_for(".moderate", workshop_id=workshop_id))
    return redirect(url_for("phone.follow"))


@bp.route("", methods=["POST"])
@login_required
def create(workshop_id: int):
    """Form fallback of `proposal.create`.

    :raise 422: a missing or wrong field. :raise 409: not a propose step, or locked.
    """
    workshop = _workshop(workshop_id)
    services.submit_proposal(_actor(), workshop, parse(ProposalIn, request.form))
    flash(_("Your proposal was received."), "success")
    return _back_to(workshop_id)


@bp.route("/<int:proposal_id>/support", methods=["POST"])
@login_required
def support(workshop_id: int, proposal_id: int):
    """Form fallback of `proposal.support`."""
    workshop = _workshop(workshop_id)
    data = parse(SupportIn, {"workshop_id": workshop_id, "proposal_id": proposal_id, **_fields()})
    services.set_support(_actor(), workshop, proposal_id, data.on)
    return _back_to(workshop_id, proposal_id)


@bp.route("/<int:proposal_id>/comments", methods=["POST"])
@login_required
def comment(workshop_id: int, proposal_id: int):
    """Form fallback of `proposal.comment`."""
    workshop = _workshop(workshop_id)
    line = _line_or_404(workshop, proposal_id)
    data = {"workshop_id": workshop_id, "proposal_id": proposal_id, **_fields()}
    try:
        parsed = parse(CommentIn, data)
    except ValidationFailed as exc:
        return render_template("proposals/discussion.html",
                               **discussion_context(workshop, line, exc.fields)), 422
    services.add_comment(_actor(), workshop, proposal_id, parsed.body, parsed.parent_id,
                         parsed.request_id)
    return _back_to(workshop_id, proposal_id)


def _fields() -> dict:
    return {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}


@bp.route("/<int:proposal_id>/translations", methods=["POST"])
@login_required
def translate(workshop_id: int, proposal_id: int):
    """Form fallback of `proposal.translate`: the author or staff add or replace a
    translation.

    :raise 403: neither the author nor staff. :raise 409 / 422: redrawn with the errors.
    """
    workshop = _workshop(workshop_id)
    line = _line_or_404(workshop, proposal_id)
    try:
        services.translate_proposal(_actor(), workshop, proposal_id,
                                    parse(TranslationIn, request.form))
    except (ValidationFailed, Conflict) as exc:
        return _redraw(workshop, line, exc)
    flash(_("The translation was saved."), "success")
    return _back_to(workshop_id, proposal_id)


def _redraw(workshop, line: Line, exc: ValidationFailed | Conflict):
    """The discussion page again, with the form's errors (and the message when no field is
    named)."""
    if not exc.fields:
        flash(str(exc.message), "error")
    return render_template("proposals/discussion.html",
                           **discussion_context(workshop, line, exc.fields)), exc.status


@bp.route("/<int:proposal_id>/suggestions", methods=["POST"])
@login_required
def suggest(workshop_id: int, proposal_id: int):
    """Form fallback of `translation.suggest`: another delegate's translation, kept until the
    author or a facilitator decides.

    :raise 403: not a delegate taking part, or the author. :raise 409 / 422: redrawn.
    """
    workshop = _workshop(workshop_id)
    line = _line_or_404(workshop, proposal_id)
    try:
        services.suggest_translation(_actor(), workshop, proposal_id,
                                     parse(TranslationIn, request.form))
    except (ValidationFailed, Conflict) as exc:
        return _redraw(workshop, line, exc)
    flash(_("Your translation was sent: the author or a facilitator will accept or reject "
            "it."), "success")
    return _back_to(workshop_id, proposal_id)


@bp.route("/<int:proposal_id>/translations")
@login_required
def translations(workshop_id: int, proposal_id: int):
    """A line's waiting suggested translations as the reader may see them, and its
    translation history: the fragment the discussion page reloads when a suggestion comes,
    is decided, or the line changes.

    :raise 404: no such proposal (or hidden, for delegates).
    """
    workshop = _workshop(workshop_id)
    line = _line_or_404(workshop, proposal_id)
    return render_template("proposals/_translations.html",
                           **discussion_context(workshop, line))


def _decided(workshop_id: int, suggestion, message: str):
    flash(message, "success")
    return _back_to(workshop_id, services.line_id(suggestion.proposal))


@bp.route("/suggestions/<int:suggestion_id>/accept", methods=["POST"])
@login_required
def accept_suggestion(workshop_id: int, suggestion_id: int):
    """Form fallback of `translation.accept`.

    :raise 403: neither the author nor staff. :raise 404: no such suggestion.
    :raise 409: already decided, or the author outside the propose and discuss steps.
    """
    workshop = _workshop(workshop_id)
    suggestion = services.accept_suggestion(_actor(), workshop, suggestion_id)
    return _decided(workshop_id, suggestion, _("The translation was accepted."))


@bp.route("/suggestions/<int:suggestion_id>/reject", methods=["POST"])
@login_required
def reject_suggestion(workshop_id: int, suggestion_id: int):
    """Form fallback of `translation.reject`.

    :raise 403: neither the author nor staff. :raise 404: no such suggestion.
    :raise 409: already decided.
    """
    workshop = _workshop(workshop_id)
    suggestion = services.reject_suggestion(_actor(), workshop, suggestion_id)
    return _decided(workshop_id, suggestion, _("The suggested translation was rejected."))


# --- Moderation (facilitators) ---------------------------------------------------------------


@bp.route("/moderate")
@login_required
def moderate(workshop_id: int):
    """All lines of work (hidden ones too), duplicates suggestions, merging, locking.

    :raise 403: not a facilitator of this workshop.
    """
    workshop = get_workshop_for("proposal.merge", _actor(), workshop_id)
    lines = lines_of(_actor(), workshop, include_hidden=True)
    pairs = services.suggest_duplicates(_actor(), workshop)
    by_id = {line.proposal.id: line for line in lines}
    waiting: dict[int, int] = {}
    for suggestion in services.pending_suggestions(_actor(), workshop):
        waiting[suggestion.proposal_id] = waiting.get(suggestion.proposal_id, 0) + 1
    return render_template(
        "proposals/moderate.html", workshop=workshop, lines=lines, pairs=pairs, by_id=by_id,
        waiting=waiting,
        lang=str(get_locale()), can_import=can("proposal.import", _actor(), workshop),
        errors={}, **card_context())


@bp.route("/<int:proposal_id>/edit", methods=["POST"])
@login_required
def edit(workshop_id: int, proposal_id: int):
    """Edit a proposal's text (the previous text is kept)."""
    workshop = get_workshop(workshop_id)
    services.edit_proposal(_actor(), workshop, proposal_id, parse(EditIn, request.form))
    return _back_to(workshop_id, proposal_id)


@bp.route("/<int:proposal_id>/hide", methods=["POST"])
@login_required
def hide(workshop_id: int, proposal_id: int):
    """Hide a proposal (with a reason) or show it again."""
    workshop = get_workshop(workshop_id)
    data = parse(HideIn, request.form)
    services.hide_proposal(_actor(), workshop, proposal_id, data.hidden, data.reason)
    return _back_to(workshop_id)


@bp.route("/comments/<int:comment_id>/hide", methods=["POST"])
@login_required
def hide_comment(workshop_id: int, comment_id: int):
    """Hide a comment (with a reason) or show it again."""
    workshop = get_workshop(workshop_id)
    data = parse(HideIn, request.form)
    hidden = services.hide_comment(_actor(), workshop, comment_id, data.hidden, data.reason)
    return _back_to(workshop_id, hidden.proposal_id)


@bp.route("/lock", methods=["POST"])
@login_required
def lock(workshop_id: int):
    """Lock or unlock new submissions."""
    workshop = get_workshop(workshop_id)
    services.lock_submissions(_actor(), workshop, parse(LockIn, request.form).locked)
    return _back_to(workshop_id)


@bp.route("/merge", methods=["POST"])
@login_required
def merge(workshop_id: int):
    """Merge the chosen proposals into one line of work."""
    workshop = get_workshop(workshop_id)
    data = parse(MergeIn, {
        "proposal_ids": request.form.getlist("proposal_ids"),
        "title": request.form.get("title", ""),
        "description": request.form.get("description", ""),
    })
    services.merge_proposals(_actor(), workshop, data)
    flash(_("Merged into one line of work."), "success")
    return _back_to(workshop_id)


@bp.route("/<int:proposal_id>/unmerge", methods=["POST"])
@login_required
def unmerge(workshop_id: int, proposal_id: int):
    """Undo a merge."""
    workshop = get_workshop(workshop_id)
    services.undo_merge(_actor(), workshop, proposal_id)
    return _back_to(workshop_id)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file(workshop_id: int):
    """Upload a CSV or XLSX of input priorities: check it, then import it whole.

    :raise 403: not an organiser.
    """
    workshop = get_workshop(workshop_id)
    require("proposal.import", _actor(), workshop)
    checked, filename, encoded = None, "", ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            filename, data = upload.filename, upload.read()
        else:
            filename = request.form.get("filename", "")
            try:
                data = base64.b64decode(request.form.get("content", ""), validate=True)
            except (binascii.Error, ValueError):
                data = b""
        if not filename:
            checked = importing.ImportPreview(errors=[importing.RowError(
                0, "file", _("Choose a file to upload."))])
        elif request.form.get("action") == "import":
            try:
                count = importing.import_proposals(_actor(), workshop, filename, data)
            except ValidationFailed:
                checked = importing.preview(filename, data)
            else:
                flash(_("%(n)s proposals imported.", n=count), "success")
                return redirect(url_for(".moderate", workshop_id=workshop_id))
        else:
            checked = importing.preview(filename, data)
        encoded = base64.b64encode(data).decode() if checked and checked.ok else ""
    status = 422 if checked is not None and checked.errors else 200
    return render_template("proposals/import.html", workshop=workshop, checked=checked,
                           filename=filename, encoded=encoded,
                           **card_context()), status
