"""The OpenAPI 3.1 document of the API and its page, both readable without a token.

spectree builds the document from the routes and the pydantic schemas declared with
`workshop.api.core.operation`; this module adds what spectree cannot know: bearer
authentication, the permission rule of each operation, problem details as the error media
type, and bodies that are not JSON (file uploads). The page is drawn on the server from the
same document: no script, no CDN, readable on a phone.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import jsonify, render_template

from workshop.api.core import MAX_ID, OPERATIONS, PREFIX, bp, public, spec
from workshop.permissions import RULES

#: Who passes each kind of rule, said for token owners (organisers and facilitators).
WHO = {
    "facilitates": "organisers, and facilitators assigned to the workshop",
    "watches": "organisers, and facilitators assigned to the workshop",
    "_delegate_or_staff": "organisers, and facilitators assigned to the workshop",
    "_organiser": "organisers",
    "_staff": "organisers and facilitators",
}

#: The `code` of each problem, what it means, and its status.
PROBLEMS = [
    ("unauthorized", 401, "No token, an unknown token or a revoked one."),
    ("forbidden", 403, "The token's owner may not do this, or the token is limited to "
                       "another workshop."),
    ("not_found", 404, "No such object in this workshop (or no such route)."),
    ("conflict", 409, "The request is well formed but the current state forbids it (a closed "
                      "ballot, a locked plan, an edit that overlaps another: see `current`)."),
    ("validation", 422, "Some fields are wrong or missing: `errors` names each, with a message "
                        "in the reader's language."),
    ("http", 400, "Any other refusal (a method not allowed, a body too large): see `status`."),
]

_INTRO = (
    "Send a token with every request: `Authorization: Bearer <token>`. Organisers and "
    "facilitators create and revoke their tokens at `/account/tokens`; a token acts with its "
    "owner's rights as they are at each request, and may be limited to one workshop. "
    "Cookies are not accepted here, so no CSRF token is needed.\n\n"
    "Errors are RFC 9457 problem details (`application/problem+json`) with `type`, `title`, "
    "`status`, `detail`, the problem's `code` and `errors`, one message per wrong field. "
    "Texts follow `Accept-Language` (en, fr, es, nl)."
)

_document: dict[str, Any] | None = None


def who_may(permission: str) -> str:
    """The people a permission rule lets through, in words."""
    return WHO.get(RULES[permission].__name__, "see workshop/permissions.py")


def _problem_content(content: dict[str, Any]) -> dict[str, Any]:
    schema = next(iter(content.values()))["schema"] if content else {}
    return {"application/problem+json": {"schema": schema}}


def build_document() -> dict[str, Any]:
    """The OpenAPI document: spectree's, completed (see the module's docstring)."""
    doc = copy.deepcopy(spec.spec)
    doc["info"]["description"] = _INTRO
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "An API token from /account/tokens."}}
    doc["security"] = [{"bearer": []}]
    by_id = {op.operation_id: op for op in OPERATIONS.values()}
    for item in doc["paths"].values():
        for entry in item.values():
            op = by_id[entry["operationId"]]
            entry["x-permission"] = op.permission
            who = f"Permission `{op.permission}`: {who_may(op.permission)}."
            entry["description"] = "\n\n".join(p for p in (entry.get("description"), who) if p)
            if op.request_body is not None:
                entry["requestBody"] = op.request_body
            for parameter in entry.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    parameter["schema"].update(minimum=1, maximum=MAX_ID)
            for code, response in entry["responses"].items():
                if int(code) >= 400:
                    response["content"] = _problem_content(response.get("content", {}))
                if code == "401":
                    response["headers"] = {"WWW-Authenticate": {
                        "description": "Bearer, as RFC 6750 says.",
                        "schema": {"type": "string"}}}
    return doc


def document() -> dict[str, Any]:
    """The document, built once per process (routes do not change while it runs)."""
    global _document
    if _document is None:
        _document = build_document()
    return _document


@bp.route("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3.1 document of every operation."""
    return jsonify(document())


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


@bp.route("/docs")
@public
def docs_page():
    """Every operation on one page: path, who may call it, body and answers."""
    doc = document()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in doc["paths"].items():
        for method, entry in item.items():
            request = entry.get("requestBody", {}).get("content", {})
            body_type, body_schema = next(iter(request.items()), (None, {}))
            groups.setdefault((entry.get("tags") or ["other"])[0], []).append({
                "method": method.upper(), "path": path, "id": entry["operationId"],
                "summary": entry.get("summary", ""), "description": entry.get("description", ""),
                "permission": entry["x-permission"], "parameters": entry.get("parameters", []),
                "body_type": body_type,
                "body": _ref_name(body_schema.get("schema", {})) if body_schema else None,
                "inline_body": (json.dumps(body_schema["schema"], indent=2)
                                if body_schema and not _ref_name(body_schema["schema"])
                                else None),
                "responses": [(code, r.get("description", ""),
                               _ref_name(next(iter(r.get("content", {}).values()),
                                              {}).get("schema", {})))
                              for code, r in entry["responses"].items()],
            })
    schemas = {name: json.dumps(schema, indent=2, ensure_ascii=False)
               for name, schema in sorted(doc["components"]["schemas"].items())}
    return render_template("api/docs.html", doc=doc, groups=groups, schemas=schemas,
                           problems=PROBLEMS, prefix=PREFIX)
