"""Downloads of action plans: each plan and the workshop's global document, as DOCX and PDF.

The document's content (database reads, every label in the reader's language, the Jinja
template) is made here in the request; the slow drawing (WeasyPrint, python-docx) runs in a
worker thread through `workshop.documents.send`, so the gevent loop keeps serving the phones.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import get_locale
from flask_login import current_user, login_required

from workshop.agenda.services import get_workshop_for
from workshop.documents import send
from workshop.plans import documents, services
from workshop.reports.views import receipts_url

bp = Blueprint("plan_exports", __name__, url_prefix="/w/<int:workshop_id>/plans")

def _lang() -> str:
    return str(get_locale() or "en")


def _plan_doc(workshop_id: int, plan_id: int) -> tuple[dict[str, Any], str]:
    actor = current_user._get_current_object()
    workshop = get_workshop_for("plan.export", actor, workshop_id)
    plan = services.get_plan(actor, workshop, plan_id, "plan.export")
    doc = documents.plan_document(actor, workshop, plan, _lang())
    title = next((f.value for f in plan.fields if f.key == "title"
                  and isinstance(f.value, str) and f.value.strip()), plan.title)
    return doc, documents.slug(title, f"action-plan-{plan.id}")


def _workshop_doc(workshop_id: int) -> tuple[dict[str, Any], str]:
    actor = current_user._get_current_object()
    workshop = get_workshop_for("plan.export", actor, workshop_id)
    doc = documents.workshop_document(actor, workshop, _lang(), receipts_url)
    return doc, documents.slug(workshop.title, f"action-plans-{workshop.id}")


@bp.route("/<int:plan_id>/export.docx")
@login_required
def plan_docx(workshop_id: int, plan_id: int):
    """One action plan as a Word document, headings and labels in the reader's language.

    :raise 403: not a delegate or staff of this workshop.
    :raise 404: no such plan in this workshop.
    :raise 503: the document took too long to make.
    """
    return send(*_plan_doc(workshop_id, plan_id), "docx")


@bp.route("/<int:plan_id>/export.pdf")
@login_required
def plan_pdf(workshop_id: int, plan_id: int):
    """One action plan as a PDF (A4, page numbers).

    :raise 403: not a delegate or staff of this workshop.
    :raise 404: no such plan in this workshop.
    :raise 503: the document took too long to make.
    """
    return send(*_plan_doc(workshop_id, plan_id), "pdf")


@bp.route("/export.docx")
@login_required
def workshop_docx(workshop_id: int):
    """Every active plan in one Word document: cover, contents, plans, vote results annexed.

    :raise 403: not a delegate or staff of this workshop.
    :raise 503: the document took too long to make.
    """
    return send(*_workshop_doc(workshop_id), "docx")


@bp.route("/export.pdf")
@login_required
def workshop_pdf(workshop_id: int):
    """Every active plan in one PDF: cover, contents with page numbers, vote results annexed.

    :raise 403: not a delegate or staff of this workshop.
    :raise 503: the document took too long to make.
    """
    return send(*_workshop_doc(workshop_id), "pdf")
