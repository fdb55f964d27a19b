"""Schemathesis against the real server on loopback: every operation of /api/v1/openapi.json,
with a bounded budget (API_FUZZ_EXAMPLES, 20 per operation by default), derandomised so CI
runs the same cases each time. No answer may be a 5xx or contradict the document (status
code, media type, headers, body schema).

Path ids are mostly replaced by the ids of a real workshop, so the generated bodies reach the
services instead of stopping at 404.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import (
    carry_forward,
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from workshop.api import ballots, plans, proposals, registration, tokens, workshops  # noqa: F401
from workshop.api.core import OPERATIONS
from workshop.api.schemas import TokenIn
from workshop.extensions import db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@dataclass
class Target:
    """The live server, a token for it, and ids of real objects in it."""

    url: str
    headers: dict[str, str]
    ids: dict[str, int]


@pytest.fixture(scope="module")
def target(live_server) -> Target:
    """An organiser's token and a workshop with everything in it, made through the services
    of the in-process app on the live server's database."""
    with live_server.app.app_context():
        organiser = create_user("organiser")
        workshop = create_workshop(organiser, steps=6, facilitator=create_user("facilitator"))
        plans, _lines, _closed = carry_forward(workshop, n=2)
        ballot = open_test_ballot(workshop, "approval")
        delegate = create_delegate(workshop, create_organisation())
        _row, raw = tokens.create_token(organiser, TokenIn(name="schemathesis"))
        ids = {"workshop_id": workshop.id, "step_id": workshop.steps[1].id,
               "ballot_id": ballot.id, "plan_id": plans[0].id,
               "proposal_id": plans[0].proposal_id, "delegate_id": delegate.id}
        db.session.remove()
    return Target(url=live_server.url, headers={"Authorization": f"Bearer {raw}"}, ids=ids)


@pytest.fixture(scope="module")
def api_schema(target):
    """The document as the live server serves it."""
    return schemathesis.openapi.from_url(f"{target.url}/api/v1/openapi.json")


# One test per operation, listed from the app's declarations (the server is not up yet at
# collection time; schemathesis's lazy pytest loader does not run on pytest 9.2).
OPERATIONS_UNDER_TEST = sorted(
    (op.method, re.sub(r"<[^:>]+:([a-z_]+)>", r"{\1}", op.rule), op.operation_id)
    for op in OPERATIONS.values())


MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


@pytest.mark.live
@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
@pytest.mark.parametrize(("method", "path", "operation_id"), OPERATIONS_UNDER_TEST,
                         ids=[op_id for _m, _p, op_id in OPERATIONS_UNDER_TEST])
def test_the_api_keeps_to_its_document(api_schema, target, method, path, operation_id, mode):
    """Valid requests (most aimed at real objects) and invalid ones: never a 5xx, never an
    answer the document does not describe."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        if mode is schemathesis.GenerationMode.POSITIVE:
            chooser = random.Random(repr(case.path_parameters))  # noqa: S311  (not security)
            for name in list(case.path_parameters or {}):
                if name in target.ids and chooser.random() < 0.9:
                    case.path_parameters[name] = target.ids[name]
        case.call_and_validate(base_url=target.url, headers=target.headers, checks=CHECKS,
                               timeout=30)

    run()
