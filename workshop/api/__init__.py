"""The JSON API under /api/v1, authenticated by bearer tokens, and the page that makes them.

See workshop.api.core for how an endpoint is declared, workshop.api.docs for the OpenAPI
document, and README.md (JSON API) for a walk-through with curl.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API (exempt from CSRF: it accepts no cookie) and the tokens page.

    Imported here, not at the top: workshop.models imports workshop.api.models, which must not
    pull the routes (and every feature's services) in while the models are being defined.
    """
    from workshop.api import (  # noqa: F401
        account,
        ballots,
        docs,
        exports,
        plans,
        proposals,
        registration,
        workshops,
    )
    from workshop.api.core import bp
    from workshop.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(account.bp)
