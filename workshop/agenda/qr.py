"""Join links and their QR codes, drawn on the server (no JavaScript, no CDN)."""

from __future__ import annotations

import segno
from flask import current_app, url_for
from markupsafe import Markup

from workshop.agenda.models import Workshop


def join_url(workshop: Workshop) -> str:
    """The address a phone opens to join: PUBLIC_URL, so a QR code works from the room's Wi-Fi."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("phone.join", code=workshop.join_code)


def join_qr_svg(workshop: Workshop, scale: int = 8) -> Markup:
    """An inline SVG QR code of the join link (segno escapes nothing user-written: a URL only)."""
    qr = segno.make(join_url(workshop), error="m")
    return Markup(qr.svg_inline(scale=scale, border=2, dark="#111", light="#fff", omitsize=True))  # noqa: S704
