"""The OpenAPI document and its page, and bad bodies answered as problem details."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import bearer
from workshop.api import ballots, plans, proposals, workshops  # noqa: F401  (declare routes)
from workshop.api.core import OPERATIONS

BODY_OPERATIONS = sorted(op.endpoint for op in OPERATIONS.values() if op.json_body)


def test_the_document_describes_every_operation(client):
    response = client.get("/api/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "An API token from /account/tokens."}
    assert doc["security"] == [{"bearer": []}]
    documented = {entry["operationId"]: (method.upper(), path, entry)
                  for path, item in doc["paths"].items() for method, entry in item.items()}
    assert set(documented) == {op.operation_id for op in OPERATIONS.values()}
    for op in OPERATIONS.values():
        method, path, entry = documented[op.operation_id]
        assert (method, re.sub(r"<[^:>]+:([a-z_]+)>", r"{\1}", op.rule)) == (op.method, path)
        assert entry["x-permission"] == op.permission
        assert f"Permission `{op.permission}`" in entry["description"]
        assert str(op.status) in entry["responses"]
        for code, answer in entry["responses"].items():
            if int(code) >= 400:
                assert list(answer["content"]) == ["application/problem+json"]
                assert answer["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/api.Problem"}
    problem = doc["components"]["schemas"]["api.Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    # Bodies are the features' own schemas (the URL's ids left out of the documented body).
    _m, _p, open_ballot = documented["ballot.open"]
    ref = open_ballot["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "workshop_id" not in body["properties"]
    assert "method" in body["required"]


def test_the_page_lists_every_operation_from_local_files_only(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for op in OPERATIONS.values():
        assert f'id="{op.operation_id}"' in html
    assert 'id="problem-validation"' in html
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)


def test_an_unknown_api_path_is_a_problem_too(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    response = client.delete("/api/v1/workshops")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("endpoint", BODY_OPERATIONS)
def test_a_wrong_body_is_422_naming_the_field(app, client, world, endpoint):
    op = OPERATIONS[endpoint]
    url = re.sub(r"<[^:>]+:([a-z_]+)>", lambda m: str(world.ids()[m.group(1)]), op.rule)
    auth = bearer(world.organiser)
    cases = [({"unexpected": 1}, "unexpected"), ("text", "payload"), ([1, 2], "payload")]
    if op.operation_id == "delegate.import":  # a list of rows: errors are named by row
        cases = [([{"unexpected": 1}], "0.unexpected"), ("text", "payload"), ([1], "0.payload")]
    for payload, field in cases:
        response = client.open(url, method=op.method, json=payload, headers=auth)
        assert response.status_code == 422, (payload, response.get_json())
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["code"] == "validation"
        assert body["status"] == 422
        assert field in body["errors"], (payload, body["errors"])
    not_json = client.open(url, method=op.method, data="{oops", headers={
        **auth, "Content-Type": "application/json"})
    assert not_json.status_code == 422
    assert "payload" in not_json.get_json()["errors"]


def test_problems_speak_the_readers_language(client, world):
    response = client.get("/api/v1/workshops", headers={"Accept-Language": "fr"})
    detail = response.get_json()["detail"]
    assert detail == "Envoyez un jeton d'API : Authorization: Bearer <jeton>."
    response = client.post("/api/v1/organisations", json={"name": ""},
                           headers={**bearer(world.organiser), "Accept-Language": "es"})
    assert response.get_json()["errors"]["name"] == "Este campo es obligatorio."
