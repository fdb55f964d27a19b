"""API tokens: the page that makes and revokes them, how they are kept, what they reach."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.helpers import csrf_from, join, login
from workshop.agenda.services import assign_facilitator
from workshop.api import tokens
from workshop.api.models import ApiToken
from workshop.api.schemas import TokenIn
from workshop.audit.models import AuditEntry
from workshop.errors import NotFound, NotLoggedIn, PermissionDenied, ValidationFailed
from workshop.extensions import db


def _new_token_on_page(client, **fields) -> tuple[int, str]:
    page = client.get("/account/tokens").get_data(as_text=True)
    response = client.post("/account/tokens", data={"csrf_token": csrf_from(page), **fields})
    html = response.get_data(as_text=True)
    match = re.search(r'id="token-value" value="([^"]+)"', html)
    return response.status_code, match.group(1) if match else ""


def test_staff_make_a_token_on_the_page_and_it_is_shown_once(client, world):
    login(client, world.facilitator)
    assert 'href="/account/tokens"' in client.get("/workshops").get_data(as_text=True)
    status, raw = _new_token_on_page(client, name="Results screen",
                                     workshop_id=str(world.workshop.id))
    assert status == 200
    assert raw.startswith("wsk_")
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Results screen"))
    # Kept as a hash only, limited to the workshop chosen.
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {row.token_hash, row.name}
    assert (row.user_id, row.workshop_id, row.last_used_at) == (
        world.facilitator.id, world.workshop.id, None)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.operation == "token.create"))
    assert raw not in client.get("/account/tokens").get_data(as_text=True)

    answer = client.get("/api/v1/workshops", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    db.session.refresh(row)
    assert row.last_used_at is not None


def test_revoking_on_the_page_ends_the_token(client, world):
    login(client, world.organiser)
    _status, raw = _new_token_on_page(client, name="CI")
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "CI"))
    page = client.get("/account/tokens").get_data(as_text=True)
    response = client.post(f"/account/tokens/{row.id}/revoke",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
    refused = client.get("/api/v1/workshops", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_the_page_needs_its_csrf_token(client, world):
    login(client, world.organiser)
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400


def test_the_page_names_a_wrong_field(client, world):
    login(client, world.facilitator)
    status, raw = _new_token_on_page(client, name="", workshop_id=str(world.other.id))
    assert status == 422
    assert raw == ""
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_delegates_have_no_tokens(client, world):
    join(client, world.workshop, world.organisation)
    assert client.get("/account/tokens").status_code == 403


def test_a_token_is_limited_to_workshops_its_owner_drives(world):
    with pytest.raises(ValidationFailed) as caught:
        tokens.create_token(world.facilitator, TokenIn(name="x", workshop_id=world.other.id))
    assert set(caught.value.fields) == {"workshop_id"}
    with pytest.raises(PermissionDenied):
        tokens.create_token(world.delegate, TokenIn(name="x"))


def test_only_the_owner_revokes_and_twice_is_once(world):
    token, _raw = tokens.create_token(world.organiser, TokenIn(name="x"))
    with pytest.raises(NotFound):
        tokens.revoke_token(world.facilitator, token.id)
    tokens.revoke_token(world.organiser, token.id)
    tokens.revoke_token(world.organiser, token.id)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.operation == "token.revoke")) == 1


@pytest.mark.parametrize("raw", ["", "wsk_unknown", "x" * 500])
def test_unknown_tokens_authenticate_nobody(world, raw):
    with pytest.raises(NotLoggedIn):
        tokens.authenticate(raw)


def test_a_token_follows_its_owners_rights_as_they_are_now(client, world):
    auth = bearer(world.facilitator)
    url = f"/api/v1/workshops/{world.workshop.id}/delegates"
    assert client.get(url, headers=auth).status_code == 200
    assign_facilitator(world.organiser, world.workshop, world.facilitator.id, False)
    assert client.get(url, headers=auth).status_code == 403
