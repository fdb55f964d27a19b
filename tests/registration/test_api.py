"""The registration operations of the JSON API call the same services as the pages."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import bearer
from tests.helpers import create_user, create_workshop
from tests.registration.files import HEADER, csv_file, zip_bomb_xlsx
from workshop.agenda import delegates as delegate_services
from workshop.errors import NotFound


@pytest.fixture
def setting(app):
    organiser = create_user("organiser")
    return organiser, create_workshop(organiser)


def upload(client, workshop, headers, data: bytes, name: str):
    return client.post(f"/api/v1/workshops/{workshop.id}/registrations", headers=headers,
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_import_answers_every_link_once(client, setting):
    organiser, workshop = setting
    data = csv_file([HEADER, ["Sita", "sita@example.org", "Nepal Mutual", "Nepal", "", "ngo",
                              "en"]])
    response = upload(client, workshop, bearer(organiser), data, "d.csv")
    assert response.status_code == 201, response.get_json()
    [item] = response.get_json()
    assert item["email"] == "sita@example.org"
    assert item["delegate"]["organisation"] == "Nepal Mutual"
    assert item["invite_url"].endswith(f"/i/{item['token']}")
    assert delegate_services.accept_invitation(item["token"]).name == "Sita"


def test_errors_name_row_and_column_and_a_bomb_is_refused(client, setting):
    organiser, workshop = setting
    bad = csv_file([HEADER, ["Sita", "nope", "Nepal Mutual", "Nepal", "", "ngo", "en"]])
    problem = upload(client, workshop, bearer(organiser), bad, "d.csv").get_json()
    assert problem["status"] == 422
    assert set(problem["errors"]) == {"2.email"}
    problem = upload(client, workshop, bearer(organiser), zip_bomb_xlsx(80), "d.xlsx")
    assert problem.status_code == 422
    assert "unpacks" in problem.get_json()["errors"]["0.file"]


def test_facilitators_may_not_import(client, setting):
    _organiser, workshop = setting
    facilitator = create_user("facilitator")
    response = upload(client, workshop, bearer(facilitator), csv_file([HEADER]), "d.csv")
    assert response.status_code == 403


def test_revoke(client, setting):
    organiser, workshop = setting
    data = csv_file([HEADER, ["Sita", "", "Nepal Mutual", "Nepal", "", "ngo", ""]])
    [item] = upload(client, workshop, bearer(organiser), data, "d.csv").get_json()
    url = f"/api/v1/workshops/{workshop.id}/delegates/{item['delegate']['id']}/revoke"
    response = client.post(url, headers=bearer(organiser))
    assert response.status_code == 200
    assert response.get_json()["name"] == "Sita"
    with pytest.raises(NotFound):
        delegate_services.accept_invitation(item["token"])
    assert client.post(url, headers=bearer(organiser)).status_code == 409
