"""Downloads of action plans: each plan and the workshop's global document, as DOCX and PDF."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("plan_exports", __name__, url_prefix="/w/<int:workshop_id>/plans")
