"""One test generated over every API route (from the app's URL map): each refuses a missing,
unknown or revoked token, a browser's login cookie, the wrong role, a facilitator of another
workshop and a token limited to another workshop. A route added without declaring its
permission rule (workshop.api.core.operation) fails here."""

from __future__ import annotations

import pytest
from flask import url_for

from config import TestConfig
from tests.api.conftest import bearer
from tests.helpers import login
from workshop import create_app
from workshop.api import tokens
from workshop.api.core import OPERATIONS, PREFIX, PUBLIC
from workshop.permissions import can


def _api_routes() -> list[tuple[str, str, str]]:
    app = create_app(TestConfig)
    return sorted((rule.rule, method, rule.endpoint)
                  for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX)
                  for method in rule.methods - {"HEAD", "OPTIONS"})


ROUTES = _api_routes()


def test_the_route_list_is_the_declared_list():
    declared = {(op.rule, op.method) for op in OPERATIONS.values()}
    found = {(rule, method) for rule, method, endpoint in ROUTES if endpoint not in PUBLIC}
    assert found == declared
    assert len(declared) >= 20


def _problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body


@pytest.mark.parametrize(("rule", "method", "endpoint"), ROUTES,
                         ids=[f"{m} {r}" for r, m, _e in ROUTES])
def test_every_route_refuses_who_may_not_use_it(app, client, world, rule, method, endpoint):
    if endpoint in PUBLIC:
        assert method == "GET"
        assert client.get(rule).status_code == 200
        return
    op = OPERATIONS.get(endpoint)
    assert op is not None, f"{method} {rule}: declare it with workshop.api.core.operation"
    with app.test_request_context():
        url = url_for(endpoint, **{name: world.ids()[name] for name in op_arguments(app, rule)})

    def call(headers: dict | None = None):
        return client.open(url, method=method, headers=headers or {}, json={})

    # No token, a made-up one, a malformed header.
    assert _problem(call(), 401)["code"] == "unauthorized"
    assert "Bearer" in call().headers["WWW-Authenticate"]
    _problem(call({"Authorization": "Bearer wsk_not-a-token"}), 401)
    _problem(call({"Authorization": "Basic b3JnOnB3"}), 401)

    # A browser's login cookie is no way in (so the API needs no CSRF token).
    login(client, world.organiser)
    _problem(call(), 401)

    # A revoked token.
    revoked = bearer(world.organiser)
    row = tokens.authenticate(revoked["Authorization"].split()[1])
    tokens.revoke_token(world.organiser, row.id)
    _problem(call(revoked), 401)

    # The owner's role: a facilitator (of this workshop) where organisers only may act.
    workshop = world.workshop if op.scope == "workshop" else None
    if not can(op.permission, world.facilitator, workshop):
        assert _problem(call(bearer(world.facilitator)), 403)["code"] == "forbidden"

    # A facilitator of other workshops only.
    if op.scope == "workshop":
        assert call(bearer(world.outsider)).status_code in (403, 404)

    # A token limited to another workshop.
    limited = bearer(world.organiser, world.other)
    if op.scope == "global_read":
        assert call(limited).status_code == 200
    else:
        _problem(call(limited), 403)

    # And the owner who may, with the same cookie still there: past every gate.
    assert call(bearer(world.organiser)).status_code not in (401, 403)


def op_arguments(app, rule: str) -> set[str]:
    """The variable names of a URL rule."""
    return next(r.arguments for r in app.url_map.iter_rules() if r.rule == rule)
