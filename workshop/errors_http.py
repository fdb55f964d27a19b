"""Turning errors into clear pages (HTML) or bodies (JSON), never a 5xx for bad input."""

from __future__ import annotations

import contextlib
from http import HTTPStatus

from flask import (
    Flask,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from workshop.errors import DATABASE_AWAY, WorkshopError, unavailable
from workshop.extensions import db

#: Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_UNAVAILABLE = 5


def wants_json() -> bool:
    """API paths, clients that ask for JSON and clients that send JSON get JSON errors."""
    return request.path.startswith("/api/") or request.is_json or (
        request.accept_mimetypes.best == "application/json"
    )


API_PREFIX = "/api/"


def is_api() -> bool:
    """A request to the JSON API: its errors are RFC 9457 problem details."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, code: str, message: str, fields: dict | None = None,
            **extra) -> Response:
    """One error as RFC 9457 problem details (`application/problem+json`).

    `type` points at the API documentation's description of the problem kind; `errors` holds
    the per-field messages every other door shows too; `extra` adds members such as an edit
    conflict's `current` value.
    """
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": f"/api/v1/docs#problem-{code}", "title": title, "status": status,
            "detail": message, "instance": request.path, "code": code,
            "errors": {str(k): str(v) for k, v in (fields or {}).items()}, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="workshop"'
    return response


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """One error, as problem details (API), JSON or the error page."""
    if is_api():
        return problem(status, code, message, fields)
    if wants_json():
        body = {"ok": False, "error": code, "message": message, "fields": fields or {}}
        return jsonify(body), status
    return render_template("error.html", message=message, fields=fields or {}), status


def unauthorized() -> Response:
    """Not logged in: delegates go to the join page, staff to the login page."""
    if wants_json():
        return error_response(401, "unauthorized", _("Log in first."))
    if request.path.startswith("/d"):
        flash(_("Join a workshop with its code first."), "error")
        return redirect(url_for("phone.landing"))
    return redirect(url_for("auth.login", next=request.path))


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(WorkshopError)
    def _domain_error(exc: WorkshopError):
        data = exc.to_dict()
        if is_api():
            extra = {k: v for k, v in data.items() if k not in ("ok", "error", "message",
                                                                 "fields")}
            return problem(exc.status, data["error"], data["message"], data["fields"],
                           **extra)
        return error_response(exc.status, data["error"], data["message"], data["fields"])

    def _database_away(exc: sa_exc.DBAPIError):
        with contextlib.suppress(sa_exc.SQLAlchemyError):
            db.session.rollback()
        if "_login_user" not in g:  # the login could not be looked up: the page shows nobody
            g._login_user = app.login_manager.anonymous_user()
        app.logger.warning("database unavailable: %s", type(exc.orig).__name__)
        response = make_response(_domain_error(unavailable()))
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
        return response

    for kind in DATABASE_AWAY:
        app.register_error_handler(kind, _database_away)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return error_response(
            400, "csrf", _("This form has expired. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            413: _("What you sent is too large."),
            429: _("Too many attempts from this address: wait a minute and try again."),
        }
        message = messages.get(exc.code or 500, _("The request could not be handled."))
        if is_api():
            response = problem(exc.code or 500, "http", message)
            # Keep what the error says besides its body (Allow on a 405, Retry-After on a 429).
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        return error_response(exc.code or 500, "http", message)
