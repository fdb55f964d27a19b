"""Downloads of results reports, for the workshop's organisers and facilitators: one closed
ballot, or every closed ballot of the workshop, as PDF or DOCX.

The report is built here in the request (database reads, labels in the reader's language:
`?lang=` or the reader's choice), its charts are drawn in a worker thread, then
`documents.send` makes the figures printable and draws the file off the event loop.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from workshop import documents
from workshop.agenda.services import get_workshop_for
from workshop.reports import report
from workshop.voting.models import Ballot
from workshop.voting.services import get_ballot

bp = Blueprint("reports", __name__, url_prefix="/w/<int:workshop_id>")


def _lang() -> str:
    return str(get_locale() or "en")


def receipts_url(ballot: Ballot) -> str:
    """The published list of a ballot's papers, as an address to print."""
    return documents.public_url(url_for("voting.receipts", workshop_id=ballot.workshop_id,
                                        ballot_id=ballot.id))


def _send(doc: dict[str, Any], stem: str, fmt: str):
    documents.run_blocking(report.draw_figures, doc)
    return documents.send(doc, stem, fmt)


def _ballot_report(workshop_id: int, ballot_id: int, fmt: str):
    actor = current_user._get_current_object()
    workshop = get_workshop_for(report.OPERATION, actor, workshop_id)
    ballot = get_ballot(workshop, ballot_id)
    doc = report.ballot_document(actor, workshop, ballot, _lang(), receipts_url(ballot))
    return _send(doc, documents.slug(ballot.title, f"results-{ballot.id}"), fmt)


def _workshop_report(workshop_id: int, fmt: str):
    actor = current_user._get_current_object()
    workshop = get_workshop_for(report.OPERATION, actor, workshop_id)
    doc = report.workshop_document(actor, workshop, _lang(), receipts_url)
    return _send(doc, documents.slug(workshop.title, f"results-{workshop.id}"), fmt)


@bp.route("/ballots/<int:ballot_id>/report.pdf")
@login_required
def ballot_pdf(workshop_id: int, ballot_id: int):
    """A closed ballot's results report as a PDF (A4, page numbers, charts).

    :raise 403: not an organiser or facilitator of this workshop.
    :raise 404: no such ballot in this workshop.
    :raise 409: the ballot is still open.
    :raise 503: the document took too long to make.
    """
    return _ballot_report(workshop_id, ballot_id, "pdf")


@bp.route("/ballots/<int:ballot_id>/report.docx")
@login_required
def ballot_docx(workshop_id: int, ballot_id: int):
    """A closed ballot's results report as a Word document (charts as pictures).

    :raise 403: not an organiser or facilitator of this workshop.
    :raise 404: no such ballot in this workshop.
    :raise 409: the ballot is still open.
    :raise 503: the document took too long to make.
    """
    return _ballot_report(workshop_id, ballot_id, "docx")


@bp.route("/report.pdf")
@login_required
def workshop_pdf(workshop_id: int):
    """Every closed ballot of the workshop in one PDF: cover, contents, one part a ballot.

    :raise 403: not an organiser or facilitator of this workshop.
    :raise 503: the document took too long to make.
    """
    return _workshop_report(workshop_id, "pdf")


@bp.route("/report.docx")
@login_required
def workshop_docx(workshop_id: int):
    """Every closed ballot of the workshop in one Word document.

    :raise 403: not an organiser or facilitator of this workshop.
    :raise 503: the document took too long to make.
    """
    return _workshop_report(workshop_id, "docx")
