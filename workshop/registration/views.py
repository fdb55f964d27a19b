"""Organisers' pages of registration: import delegates from a file (preview, then all or
nothing), see the links just issued, download them as CSV and as a sheet of badges, issue new
links and withdraw links.

Links are stored hashed: the page that shows them right after an import or a re-issue is the
only moment they can be exported or printed. Its download buttons send the links back, and
each is checked against the stored hash before anything is made from it.
"""

from __future__ import annotations

import base64
import binascii
import io
import json

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import ValidationError as PydanticError

from workshop.agenda import delegates as delegate_services
from workshop.agenda.models import Workshop
from workshop.agenda.services import get_workshop_for
from workshop.documents import slug
from workshop.errors import Conflict, ValidationFailed
from workshop.registration import documents, services
from workshop.registration.schemas import IssuedLinks, ReissueIn
from workshop.spreadsheets import RowError
from workshop.validation import errors_by_field, load_json, parse
from workshop.vocabulary import LANGUAGES, ORG_TYPES, REGIONS

bp = Blueprint("registration", __name__, url_prefix="/w/<int:workshop_id>/registration")


def _actor():
    return current_user._get_current_object()


def _link(token: str) -> str:
    """A personal invitation link as phones reach the server (PUBLIC_URL, as QR codes say)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("phone.invitation", token=token)


def _private(response):
    """Pages and files that carry working links: never kept by a cache."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(workshop: Workshop, checked: services.Preview | None = None, filename: str = "",
          encoded: str = "", status: int = 200):
    delegates = delegate_services.list_delegates(_actor(), workshop)
    html = render_template(
        "registration/index.html", workshop=workshop, checked=checked, filename=filename,
        encoded=encoded, delegates=delegates, regions=REGIONS, org_types=ORG_TYPES,
        languages=LANGUAGES, max_rows=services.MAX_ROWS)
    return html, status


def _issued_page(workshop: Workshop, issued: list[services.Issued], status: int = 200):
    links = [{"delegate_id": i.delegate.id, "token": i.token, "email": i.email}
             for i in issued]
    response = current_app.make_response((render_template(
        "registration/issued.html", workshop=workshop, issued=issued, link=_link,
        links_json=json.dumps(links)), status))
    return _private(response)


@bp.route("", methods=["GET", "POST"])
@login_required
def index(workshop_id: int):
    """Import delegates from a CSV or XLSX file: check it (preview, errors by row and
    column), then import it whole and show every personal link once.

    :raise 403: not an organiser.
    :raise 422: the file has errors (nothing imported).
    """
    workshop = get_workshop_for("registration.import", _actor(), workshop_id)
    if request.method == "GET":
        return _page(workshop)
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
        checked = services.Preview(errors=[RowError(0, "file", _("Choose a file to upload."))])
        return _page(workshop, checked, status=422)
    if request.form.get("action") == "import":
        try:
            issued = services.import_file(_actor(), workshop, filename, data)
        except (ValidationFailed, Conflict):
            checked = services.preview_file(workshop, filename, data)
            if checked.ok:  # a conflict found only while importing
                checked.errors.append(RowError(0, "file", _(
                    "An organisation of the same name was added meanwhile: check the file "
                    "again.")))
        else:
            flash(_("Delegates imported: %(n)s, each with a personal link.", n=len(issued)),
                  "success")
            return _issued_page(workshop, issued, 201)
    else:
        checked = services.preview_file(workshop, filename, data)
    encoded = base64.b64encode(data).decode() if checked.ok else ""
    return _page(workshop, checked, filename, encoded, 422 if checked.errors else 200)


@bp.route("/reissue", methods=["POST"])
@login_required
def reissue(workshop_id: int):
    """Issue new links to the ticked delegates (or to everyone) and show them once; the old
    links, and every login made with them, stop working.

    :raise 403: not an organiser. :raise 404: a delegate of another workshop.
    :raise 422: nobody ticked.
    """
    workshop = get_workshop_for("delegate.invite", _actor(), workshop_id)
    if request.form.get("all"):
        ids = [d.id for d in delegate_services.list_delegates(_actor(), workshop)]
    else:
        ids = request.form.getlist("delegate_ids")
    try:
        data = parse(ReissueIn, {"delegate_ids": ids})
    except ValidationFailed:
        flash(_("Tick the delegates who need a new link."), "error")
        return redirect(url_for(".index", workshop_id=workshop_id), code=303)
    renewed = delegate_services.renew_invitations(_actor(), workshop, data.delegate_ids)
    issued = [services.Issued(delegate, token) for delegate, token in renewed]
    flash(_("New links issued: %(n)s. The old ones no longer work.", n=len(issued)), "success")
    return _issued_page(workshop, issued)


@bp.route("/<int:delegate_id>/revoke", methods=["POST"])
@login_required
def revoke(workshop_id: int, delegate_id: int):
    """Withdraw a delegate's link: it (and any badge printed from it) stops working.

    :raise 403: not an organiser. :raise 404: no such delegate here.
    :raise 409: the delegate has no link.
    """
    workshop = get_workshop_for("delegate.revoke", _actor(), workshop_id)
    delegate = delegate_services.revoke_invitation(_actor(), workshop, delegate_id)
    flash(_("The link of %(name)s no longer works.", name=delegate.name), "success")
    return redirect(url_for(".index", workshop_id=workshop_id) + "#delegates")


def _links(workshop: Workshop) -> list[services.Issued]:
    """The links the issued page sent back, each checked against its stored hash.

    :raise 422: a malformed list, or a link replaced or withdrawn since.
    """
    try:
        raw = load_json(request.form.get("links", ""))  # too deep: a ValueError too
        links = IssuedLinks.model_validate(raw).root
    except ValueError:
        raise ValidationFailed(_("The list of links is damaged: issue new links from the "
                                 "list."), links=_("This value is not valid.")) from None
    except PydanticError as exc:
        raise ValidationFailed(_("The list of links is damaged: issue new links from the "
                                 "list."), **errors_by_field(exc)) from None
    return services.verify_links(_actor(), workshop, links)


def _send(data: bytes, name: str, mimetype: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=name, max_age=0)
    return _private(response)


@bp.route("/links.csv", methods=["POST"])
@login_required
def links_csv(workshop_id: int):
    """The links just issued as a CSV for a mail merge (cells neutralised against formulas).

    :raise 403: not an organiser. :raise 422: a link no longer works.
    """
    workshop = get_workshop_for("delegate.invite", _actor(), workshop_id)
    data = documents.links_csv(_links(workshop), _link)
    stem = slug(workshop.title, f"workshop-{workshop.id}")
    return _send(data, f"invitation-links-{stem}.csv", "text/csv")


@bp.route("/badges.pdf", methods=["POST"])
@login_required
def badges_pdf(workshop_id: int):
    """The links just issued as an A4 sheet of badges with personal QR codes (PDF).

    :raise 403: not an organiser. :raise 422: a link no longer works.
    :raise 503: drawing took too long.
    """
    workshop = get_workshop_for("delegate.invite", _actor(), workshop_id)
    html, urls = documents.badges_html(workshop, _links(workshop), _link)
    data = documents.badges_pdf(html, urls)
    stem = slug(workshop.title, f"workshop-{workshop.id}")
    return _send(data, f"badges-{stem}.pdf", "application/pdf")
