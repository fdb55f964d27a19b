"""Security headers on every response: pages, JSON, static files and error pages alike.

The Content-Security-Policy lets the pages run only the scripts and styles of this server
(no inline script, no inline style, nothing from a CDN), connect only to this server (HTTP
long-polling and its WebSocket, `ws:`/`wss:` of the same host for browsers that do not count
them as 'self'), and be framed by nobody. HSTS is sent when the request came over HTTPS or
the deployment says its cookies are HTTPS-only (SESSION_COOKIE_SECURE).
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

#: A Host header worth repeating in connect-src (anything else is left out, not echoed).
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

#: One year, as HSTS preload lists ask; HSTS_MAX_AGE overrides it.
HSTS_MAX_AGE = 31_536_000


def content_security_policy() -> str:
    """The policy for this request (its host named for the WebSocket)."""
    connect = ["'self'"]
    host = request.host
    if _HOST.match(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": " ".join(connect),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def wants_hsts() -> bool:
    """HTTPS now, or a deployment whose cookies only travel over HTTPS."""
    return request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def add_security_headers(response: Response) -> Response:
    """Set the headers on one response (those a view set itself are kept)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # The projector's address carries its key: never send a path to another site.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if wants_hsts():
        max_age = int(current_app.config.get("HSTS_MAX_AGE", HSTS_MAX_AGE))
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def register(app: Flask) -> None:
    """Add the headers to every response of the app."""
    app.after_request(add_security_headers)
