"""The API's plumbing: the blueprint, bearer-token authentication, the table of operations,
and the helpers every endpoint goes through (workshop limit, permission, body, answer).

Every endpoint is declared with `@operation(...)`: its method and path, a unique
operationId, the permission rule it is checked against (a name in workshop.permissions.RULES,
the same one the pages and socket events use), whether it acts on one workshop, its body
schema and its answer. That one declaration registers the route, documents it in the OpenAPI
document (spectree, from the same pydantic schemas) and lists it in `OPERATIONS`, which the
tests walk to refuse every route without a valid token, the right role and the right workshop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from spectree import Response, SpecTree
from werkzeug.wrappers import Response as HttpResponse

from workshop.agenda.models import Workshop
from workshop.agenda.services import get_workshop_for
from workshop.api import tokens
from workshop.api.models import ApiToken
from workshop.api.schemas import Problem
from workshop.auth.models import User
from workshop.errors import (
    MalformedBody,
    NotFound,
    NotLoggedIn,
    PermissionDenied,
    ValidationFailed,
    WorkshopError,
)
from workshop.extensions import db
from workshop.permissions import RULES, require
from workshop.validation import MAX_ID, Schema, json_payload, parse

PREFIX = "/api/v1"
#: Path ids: the app's `int` converter (workshop.validation.IdConverter) answers 404 past
#: MAX_ID; `_known_ids` also refuses 0, and the range is written into the document.
ID = "int"
WORKSHOP = f"/workshops/<{ID}:workshop_id>"

Scope = Literal["workshop", "global", "global_read"]

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def component_name(model: Any) -> str:
    """OpenAPI component names by feature and class (`agenda.WorkshopIn`, `api.BallotOut`):
    readable, and unique although two features both have an `EditIn`."""
    parts = model.__module__.split(".")
    feature = parts[1] if len(parts) > 2 and parts[0] == "workshop" else parts[-1]
    return f"{feature}.{model.__name__}"


spec = SpecTree(
    "flask",
    mode="strict",
    annotations=False,
    title="Workshop API",
    version="1",
    description="Live workshops: agenda, delegates, proposals, ballots and action plans.",
    # The document and its page are served by workshop.api.docs, not by spectree.
    path="api/v1/spectree",
    page_templates={},
    naming_strategy=component_name,
    nested_naming_strategy=lambda parent, child: f"{parent.split('.')[0]}.{child}",
    validation_error_model=Problem,
)


@dataclass(frozen=True)
class Operation:
    """One endpoint as the tests and the document see it."""

    endpoint: str
    method: str
    rule: str
    operation_id: str
    permission: str
    scope: Scope
    status: int
    errors: tuple[int, ...]
    json_body: bool = False
    request_body: dict[str, Any] | None = None


#: Every token-authenticated endpoint, by Flask endpoint name ("api.ballot_open").
OPERATIONS: dict[str, Operation] = {}
#: Endpoints anyone may read (the document and its page).
PUBLIC: set[str] = set()

WORKSHOP_ERRORS = (401, 403, 404, 422)


def operation(method: str, rule: str, operation_id: str, permission: str, *, tag: str,
              scope: Scope = "workshop", body: type[BaseModel] | None = None,
              out: Any = None, status: int = 200, errors: Iterable[int] = WORKSHOP_ERRORS,
              request_body: dict[str, Any] | None = None) -> Callable:
    """Declare an endpoint: route, OpenAPI entry and its line in `OPERATIONS`.

    `permission` must be a rule of workshop.permissions; `scope` says whether the endpoint
    acts on one workshop (a token limited to another is refused), on none ("global", refused
    to limited tokens) or only reads the network's lists ("global_read").
    """
    if permission not in RULES:
        raise KeyError(f"{permission!r} is not a rule in workshop.permissions.RULES")
    codes: dict[str, Any] = {f"HTTP_{status}": out}
    errors = tuple(sorted({401, 403, *errors}))
    for code in errors:
        codes[f"HTTP_{code}"] = Problem

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(**kwargs: Any):
            try:
                return func(**kwargs)
            except WorkshopError:
                # The app's error handler answers; nothing half-done stays in the session.
                db.session.rollback()
                raise

        documented = spec.validate(json=body, resp=Response(**codes), tags=[tag],
                                   operation_id=operation_id, skip_validation=True)(run)
        endpoint = operation_id.replace(".", "_")
        bp.add_url_rule(rule, endpoint=endpoint, view_func=documented, methods=[method])
        OPERATIONS[f"{bp.name}.{endpoint}"] = Operation(
            endpoint=f"{bp.name}.{endpoint}", method=method, rule=PREFIX + rule,
            operation_id=operation_id, permission=permission, scope=scope, status=status,
            errors=errors, json_body=body is not None, request_body=request_body)
        return documented

    return wrap


def public(func: Callable) -> Callable:
    """Mark a view of this blueprint as readable without a token."""
    PUBLIC.add(f"{bp.name}.{func.__name__}")
    return func


# --- Authentication --------------------------------------------------------------------------


@bp.before_request
def _authenticate() -> None:
    """Every API request presents a bearer token; cookies (a browser's login) never count,
    so a page on another site cannot make a logged-in browser call the API (no CSRF)."""
    if request.endpoint in PUBLIC:
        return
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise NotLoggedIn(_l("Send an API token: Authorization: Bearer <token>."))
    g.api_token = tokens.authenticate(raw.strip())


@bp.before_request
def _known_ids() -> None:
    """An id past the database's range names nothing: 404, never an overflow."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFound(_l("This does not exist."))


def token() -> ApiToken:
    """The token of this request."""
    return g.api_token


def actor() -> User:
    """Who acts: the token's owner, with their rights as they are now."""
    return g.api_token.user


def _limited_elsewhere() -> PermissionDenied:
    return PermissionDenied(_l("This API token is limited to another workshop."))


def workshop_for(permission: str, workshop_id: int) -> Workshop:
    """The workshop of the URL, once the token may reach it and its owner may `permission`.

    :raise PermissionDenied: the token is limited to another workshop, or the owner may not.
    :raise NotFound: no such workshop.
    """
    limit = token().workshop_id
    if limit is not None and limit != workshop_id:
        raise _limited_elsewhere()
    return get_workshop_for(permission, actor(), workshop_id)


def outside_workshops(permission: str) -> User:
    """Check an operation that acts on no single workshop (a new workshop, an organisation).

    :raise PermissionDenied: the token is limited to one workshop, or the owner may not.
    """
    if token().workshop_id is not None:
        raise _limited_elsewhere()
    require(permission, actor())
    return actor()


def json_body() -> Any:
    """The request's JSON ({} when there is none).

    :raise ValidationFailed: a body that is not JSON, or nested too deeply (the API's
        documented 422, the `payload` field saying which).
    """
    try:
        data = json_payload()
    except MalformedBody as exc:
        raise ValidationFailed(exc.message, payload=exc.message) from None
    return {} if data is None else data


def body(schema: type[Schema], **from_path: Any) -> Any:
    """Validate the JSON body with a feature's schema, the URL's ids filled in.

    :raise ValidationFailed: per field, as pages and socket events say it; an id the URL
        gives is not expected in the body.
    """
    data = json_body()
    if isinstance(data, dict):
        given = sorted(set(data) & set(from_path))
        if given:
            raise ValidationFailed(_l("Some fields need correcting."),
                                   **{key: _l("This field is not expected.") for key in given})
        data = {**data, **from_path}
    return parse(schema, data)


def answer(data: BaseModel | list[BaseModel], status: int = 200) -> HttpResponse:
    """A response model (or a list of them) as JSON."""
    if isinstance(data, list):
        payload: Any = [item.model_dump(mode="json") for item in data]
    else:
        payload = data.model_dump(mode="json")
    response = jsonify(payload)
    response.status_code = status
    return response


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link as phones reach the server (PUBLIC_URL), as QR codes give it."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)
