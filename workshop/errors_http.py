"""Turning errors into clear pages (HTML) or bodies (JSON), never a 5xx for bad input."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from workshop.errors import WorkshopError


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """One error, as JSON or as the error page."""
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
        return error_response(exc.status, data["error"], data["message"], data["fields"])

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
        }
        message = messages.get(exc.code or 500, _("The request could not be handled."))
        return error_response(exc.code or 500, "http", message)
