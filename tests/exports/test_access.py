"""Who may export: organisers (everything), facilitators of the workshop (everything but the
audit log); never delegates, anonymous visitors or facilitators of other workshops, on the
pages as in the API."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.exports.conftest import read_xlsx, read_zip, staff_client
from tests.helpers import join
from workshop.exports.tables import TABLES

PAGES = ["/dashboard", "/exports.zip", "/exports.xlsx", "/exports.json",
         *[f"/exports/{name}.csv" for name in TABLES]]
API = ["/exports/all.zip", "/exports/all.xlsx", "/exports/all.json",
       *[f"/exports/{name}.csv" for name in TABLES]]


def test_anonymous_visitors_are_sent_to_log_in(app, room):
    client = app.test_client()
    for page in PAGES:
        response = client.get(f"/w/{room.workshop.id}{page}")
        assert response.status_code == 302, page
        assert "/login" in response.headers["Location"]
    for path in API:
        response = client.get(f"/api/v1/workshops/{room.workshop.id}{path}")
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"


def test_delegates_may_not_export(app, room):
    client = app.test_client()
    join(client, room.workshop, room.organisations[0], name="Curious Delegate")
    for page in PAGES:
        response = client.get(f"/w/{room.workshop.id}{page}")
        assert response.status_code == 403, page
        assert "Curious Delegate" not in response.get_data(as_text=True)


def test_a_facilitator_of_another_workshop_may_not(app, room):
    client = staff_client(app, room.outsider)
    for page in PAGES:
        response = client.get(f"/w/{room.workshop.id}{page}")
        assert response.status_code == 403, page
        assert room.delegates[0].name not in response.get_data(as_text=True)
    token = bearer(room.outsider)
    for path in API:
        response = client.get(f"/api/v1/workshops/{room.workshop.id}{path}", headers=token)
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"


def test_a_token_limited_to_another_workshop_may_not(app, room):
    token = bearer(room.organiser, room.other)
    client = app.test_client()
    for path in API:
        response = client.get(f"/api/v1/workshops/{room.workshop.id}{path}", headers=token)
        assert response.status_code == 403, path


def test_the_workshops_facilitator_exports_everything_but_the_audit_log(app, room):
    client = staff_client(app, room.facilitator)
    base = f"/w/{room.workshop.id}"
    assert client.get(f"{base}/exports/audit.csv").status_code == 403
    everything_else = [name for name in TABLES if name != "audit"]
    for name in everything_else:
        response = client.get(f"{base}/exports/{name}.csv")
        assert response.status_code == 200, name
        assert response.data.startswith(b"\xef\xbb\xbf"), name
    assert list(read_zip(client.get(f"{base}/exports.zip").data)) == everything_else
    assert len(read_xlsx(client.get(f"{base}/exports.xlsx").data)) == len(everything_else)
    assert list(client.get(f"{base}/exports.json").get_json()["tables"]) == everything_else
    page = client.get(f"{base}/dashboard").get_data(as_text=True)
    assert "audit.csv" not in page
    token = bearer(room.facilitator)
    api = f"/api/v1/workshops/{room.workshop.id}/exports"
    assert client.get(f"{api}/audit.csv", headers=token).status_code == 403
    assert list(client.get(f"{api}/all.json", headers=token).get_json()["tables"]) == (
        everything_else)


@pytest.mark.parametrize("path", ["/exports/nothing.csv", "/exports/TABLES.csv"])
def test_an_unknown_table_is_not_found(app, room, path):
    client = staff_client(app, room.organiser)
    assert client.get(f"/w/{room.workshop.id}{path}").status_code == 404
    assert client.get(f"/w/999999{PAGES[1]}").status_code == 404


def test_the_organiser_gets_the_audit_log_through_the_api(app, room):
    client = app.test_client()
    token = bearer(room.organiser)
    api = f"/api/v1/workshops/{room.workshop.id}/exports"
    response = client.get(f"{api}/audit.csv", headers=token)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "message.broadcast" in response.get_data(as_text=True)
    assert list(read_zip(client.get(f"{api}/all.zip", headers=token).data)) == list(TABLES)
    assert "audit" in client.get(f"{api}/all.json", headers=token).get_json()["tables"]
