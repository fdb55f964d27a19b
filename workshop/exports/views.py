"""Organisers' and facilitators' pages: the workshop's dashboard and its export downloads.

Every route loads the workshop with the `workshop.export` rule, then asks `tables` which
tables this reader may have (the audit log: organisers only), then answers with a download
from `downloads` (CSV, ZIP and JSON streamed; XLSX written off the event loop).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from workshop.agenda.services import get_workshop_for
from workshop.exports import downloads, tables
from workshop.exports.dashboard import dashboard as dashboard_figures
from workshop.permissions import can
from workshop.vocabulary import LEVELS
from workshop.voting.views import METHOD_LABELS, WEIGHTING_LABELS

bp = Blueprint("exports", __name__, url_prefix="/w/<int:workshop_id>")


def _actor():
    return current_user._get_current_object()


def _workshop(workshop_id: int):
    return get_workshop_for("workshop.export", _actor(), workshop_id)


@bp.route("/dashboard")
@login_required
def dashboard(workshop_id: int):
    """Participation by region, organisation type and country; lines of work by theme and
    level; ballots with turnout and their results; every export.

    :raise 403: not an organiser, or a facilitator of another workshop.
    :raise 404: no such workshop.
    """
    workshop = _workshop(workshop_id)
    return render_template("manage/dashboard.html", workshop=workshop,
                           data=dashboard_figures(_actor(), workshop), levels=LEVELS,
                           methods=METHOD_LABELS, weightings=WEIGHTING_LABELS,
                           can_prepare=can("workshop.update", _actor(), workshop))


@bp.route("/exports/<name>.csv")
@login_required
def table_csv(workshop_id: int, name: str):
    """One table as CSV (UTF-8), headings in the reader's language; streamed.

    :raise 403: may not export this workshop, or this table (the audit log: organisers).
    :raise 404: no such workshop or table.
    """
    workshop = _workshop(workshop_id)
    return downloads.csv_download(tables.table_for(_actor(), workshop, name), workshop)


@bp.route("/exports.zip")
@login_required
def all_zip(workshop_id: int):
    """Every table the reader may export, one CSV file each, in a ZIP; streamed.

    :raise 403: may not export this workshop.
    :raise 404: no such workshop.
    """
    workshop = _workshop(workshop_id)
    return downloads.zip_download(tables.tables_for(_actor(), workshop), workshop)


@bp.route("/exports.xlsx")
@login_required
def all_xlsx(workshop_id: int):
    """Every table the reader may export, one sheet each, in a workbook.

    :raise 403: may not export this workshop.
    :raise 404: no such workshop.
    :raise 503: the workbook took too long to write.
    """
    workshop = _workshop(workshop_id)
    return downloads.xlsx_download(tables.tables_for(_actor(), workshop), workshop)


@bp.route("/exports.json")
@login_required
def all_json(workshop_id: int):
    """Every table the reader may export in one JSON document; streamed.

    :raise 403: may not export this workshop.
    :raise 404: no such workshop.
    """
    workshop = _workshop(workshop_id)
    return downloads.json_download(tables.tables_for(_actor(), workshop), workshop)
