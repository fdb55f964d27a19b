"""What is made from links just issued: a CSV for the organisers' mail merge, and an A4 sheet
of badges with each delegate's name, organisation, country and personal QR code.

The content is prepared in the request (labels in each delegate's language, the Jinja
template); the PDF is drawn by WeasyPrint through `workshop.heavy.run`, off the event loop.
The QR code holds the delegate's invitation link: scanning it logs the phone in.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import segno
import weasyprint
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from weasyprint.urls import URLFetcher, URLFetcherResponse

from workshop import heavy, spreadsheets
from workshop.agenda.models import Workshop
from workshop.registration.services import Issued
from workshop.vocabulary import LANGUAGES

#: Columns of the links file: stable names for a mail merge's fields.
LINK_COLUMNS = ("name", "email", "organisation", "country", "language", "link")
#: Badges on one A4 sheet (two columns of four).
PER_SHEET = 8
#: The longest drawing the badges may take (a workshop's worth: 2,000 delegates).
DRAW_TIMEOUT = 300.0


def links_csv(issued: list[Issued], link: Callable[[str], str]) -> bytes:
    """One row per delegate with their personal link, for a mail merge; every cell that a
    spreadsheet would read as a formula is neutralised (`spreadsheets.neutralise`)."""
    rows: list[list[object]] = [list(LINK_COLUMNS)]
    for item in issued:
        d = item.delegate
        rows.append([d.name, item.email, d.organisation.name, d.organisation.country,
                     d.locale or "", link(item.token)])
    return spreadsheets.csv_bytes(rows)


def qr_png(url: str) -> bytes:
    """A QR code of a link as a PNG, one pixel a module (printed sharp, see the template)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=1, border=2)
    return out.getvalue()


class QrImages(URLFetcher):
    """The only addresses a sheet of badges may load: its own QR codes, `qr:<n>`, drawn from
    the links on demand. Nothing is fetched from the network or the disk."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(allowed_protocols={"qr"}, allow_redirects=False)
        self.urls = urls

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """The PNG of badge n's code; any other address is refused."""
        scheme, _sep, number = url.partition(":")
        if scheme != "qr" or not number.isdigit() or int(number) >= len(self.urls):
            raise ValueError(f"badges fetch nothing from {url!r}")
        return URLFetcherResponse(url, qr_png(self.urls[int(number)]),
                                  {"Content-Type": "image/png"})


def _hints(issued: list[Issued], fallback: str) -> dict[str, str]:
    """The line printed under each QR code, in each badge's language."""
    hints = {}
    for lang in {item.delegate.locale or fallback for item in issued}:
        with force_locale(lang if lang in LANGUAGES else "en"):
            hints[lang] = _("Scan with your phone's camera to take part. Keep this badge: "
                            "the code is personal.")
    return hints


def badges_html(workshop: Workshop, issued: list[Issued],
                link: Callable[[str], str]) -> tuple[str, list[str]]:
    """The badges as print HTML (needs the app: it renders a Jinja template), and the links
    their QR codes hold, in the order of the `qr:<n>` images."""
    hints = _hints(issued, workshop.default_locale)
    urls = [link(item.token) for item in issued]
    badges = [{
        "name": item.delegate.name,
        "organisation": item.delegate.organisation.name,
        "country": item.delegate.organisation.country,
        "lang": item.delegate.locale or workshop.default_locale,
        "hint": hints[item.delegate.locale or workshop.default_locale],
        "qr": f"qr:{n}",
    } for n, item in enumerate(issued)]
    sheets = [badges[i:i + PER_SHEET] for i in range(0, len(badges), PER_SHEET)]
    return render_template("registration/badges.html", workshop=workshop, sheets=sheets), urls


def _draw(html: str, urls: list[str]) -> bytes:
    return weasyprint.HTML(string=html, url_fetcher=QrImages(urls)).write_pdf()


def badges_pdf(html: str, urls: list[str]) -> bytes:
    """Draw the badges as a PDF (the QR codes too), off the event loop. About a second per
    sheet of eight on a loaded laptop: a few hundred delegates take under a minute.

    :raise heavy.TooSlow: drawing took longer than DRAW_TIMEOUT.
    """
    return heavy.run(_draw, html, urls, timeout=DRAW_TIMEOUT)
