"""Ids past the database's range, and bodies nested too deeply: a clear 4xx at every door.

URLs: every route with an `<int:...>` is asked with huge ids (404, by the app's bounded
converter). Forms, JSON bodies and socket payloads: every id field refuses a huge number by
name (422, or a `validation` ack), never an overflow ("error": "server", 500). Nested JSON:
400/422 with a message that says so, never a RecursionError.
"""

from __future__ import annotations

import re
import typing

import pytest

from tests.agenda.test_events import connect
from tests.helpers import (
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    join,
    login,
    open_test_ballot,
)
from workshop.agenda import events as agenda_events
from workshop.extensions import socketio
from workshop.plans import events as plan_events
from workshop.proposals import events as proposal_events
from workshop.validation import MAX_ID, MAX_JSON_DEPTH
from workshop.voting import events as voting_events

HUGE = [MAX_ID + 1, 2**53 + 1, 2**63, 2**64, 10**30]
EVENTS = {**agenda_events.HANDLERS, **proposal_events.HANDLERS, **voting_events.HANDLERS,
          **plan_events.HANDLERS}


# --- URLs ---------------------------------------------------------------------------------------

def _urls(app, number: int):
    """Every rule with an int converter, its ints set to `number`, with each method."""
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", str(number), rule.rule)
        path = re.sub(r"<(?:\w+:)?\w+>", "title", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path


@pytest.mark.parametrize("number", HUGE)
def test_every_route_answers_404_to_a_huge_id(app, number):
    organiser = create_user("organiser")
    client = app.test_client()
    login(client, organiser)
    urls = list(_urls(app, number))
    assert len(urls) > 40
    wrong = {}
    for method, path in urls:
        status = client.open(path, method=method).status_code
        if status != 404:
            wrong[f"{method} {path}"] = status
    assert wrong == {}


def test_the_largest_id_is_still_an_id(app, client):
    organiser = create_user("organiser")
    login(client, organiser)
    # In range: looked up, and not found (404), never an overflow.
    assert client.get(f"/w/{MAX_ID}/manage").status_code == 404
    assert client.get(f"/w/{MAX_ID + 1}/manage").status_code == 404
    assert client.get("/w/0012/manage").status_code == 404


def test_the_api_answers_a_huge_id_with_problem_details(app, client):
    response = client.get(f"/api/v1/workshops/{2**64}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- Forms --------------------------------------------------------------------------------------

def _form(client, url: str, data: dict) -> tuple[int, str]:
    token = csrf_from(client.get(url.split("#")[0] if "/manage" in url else "/").get_data(
        as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("number", [2**63, 2**64])
def test_join_form_refuses_a_huge_organisation_id(app, client, number):
    workshop = create_workshop()
    page = client.get(f"/j/{workshop.join_code}").get_data(as_text=True)
    response = client.post(f"/j/{workshop.join_code}", data={
        "name": "Amina", "organisation_id": str(number), "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert 'id="organisation_id-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "data", "field"), [
    ("/w/{w}/facilitators", {"user_id": "{n}", "assigned": "true"}, None),  # hidden field
    ("/w/{w}/invitations", {"name": "Guest", "organisation_id": "{n}"}, "organisation_id"),
])
def test_manage_forms_refuse_huge_ids_by_name(app, client, path, data, field):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    login(client, organiser)
    page = client.get(f"/w/{workshop.id}/manage").get_data(as_text=True)
    for number in HUGE:
        form = {k: v.format(n=number) for k, v in data.items()}
        response = client.post(path.format(w=workshop.id),
                               data={**form, "csrf_token": csrf_from(page)})
        assert response.status_code == 422, number
        if field:
            assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_staff_forms_with_huge_ids_are_refused_not_crashed(app, client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=5)
    ids = [p.id for p in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, actor=organiser)
    login(client, organiser)
    token = csrf_from(client.get(f"/w/{workshop.id}/console").get_data(as_text=True))
    for number in HUGE:
        n = str(number)
        posts = [
            (f"/w/{workshop.id}/proposals/merge", {"proposal_ids": [str(ids[0]), n],
                                                    "title": "Merged"}),
            (f"/w/{workshop.id}/ballots", {"title": "Q", "method": "approval",
                                           "scope": "pick", "proposal_ids": [n]}),
            (f"/w/{workshop.id}/ballots", {"title": "Q", "method": "approval", "step_id": n}),
            (f"/w/{workshop.id}/ballots/{ballot.id}/paper", {"delegate_id": n,
                                                             "choice": str(ids[0])}),
            (f"/w/{workshop.id}/proxies", {"holder_id": n, "absent_id": n}),
            (f"/w/{workshop.id}/ballots/{ballot.id}/top", {"n": "1", "picks": n}),
        ]
        for url, data in posts:
            response = client.post(url, data={**data, "csrf_token": token})
            assert 400 <= response.status_code < 500 or response.status_code == 302, (
                url, number, response.status_code)


def test_a_vote_form_with_huge_ids_is_refused(app, client):
    workshop = create_workshop(steps=5)
    ids = [p.id for p in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop)
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    for number in HUGE:
        response = client.post(f"/d/ballots/{ballot.id}/vote", json={
            "choices": [ids[0], number]}, headers={"X-CSRFToken": token})
        assert response.status_code == 422, number
        assert response.get_json()["error"] == "validation"
        response = client.post(f"/d/ballots/{ballot.id}/vote", json={
            "choices": [ids[0]], "on_behalf_of": number}, headers={"X-CSRFToken": token})
        assert response.status_code == 422, number
        assert "on_behalf_of" in response.get_json()["fields"]


@pytest.mark.parametrize("method", ["approval", "points", "ranking"])
def test_numbers_no_parser_can_read_are_refused_in_a_vote_form(app, client, method):
    workshop = create_workshop(steps=5)
    ids = [p.id for p in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, method)
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    for odd in ("\u00b2", "\u0661\u0662", "9" * 5000, str(2**64), "-" + "9" * 30):
        field = {"approval": "choice", "points": f"points-{ids[0]}",
                 "ranking": f"rank-{ids[0]}"}[method]
        response = client.post(f"/d/ballots/{ballot.id}/vote",
                               data={field: odd, "csrf_token": token})
        assert response.status_code == 302, (odd[:10], response.status_code)
        assert "/d" in response.headers["Location"]


@pytest.mark.parametrize("odd", ["\u00b2", "9" * 5000, "\u0661"])
def test_a_socket_naming_its_workshop_in_odd_digits_is_refused(app, client, odd, caplog):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": odd, "csrf": token})
    assert not sock.is_connected()
    assert "failed" not in caplog.text


# --- Socket payloads ------------------------------------------------------------------------------

def _has_int(annotation) -> bool:
    if annotation is int:
        return True
    return any(_has_int(arg) for arg in typing.get_args(annotation) if arg is not bool)


def _id_fields(schema) -> list[tuple[str, bool]]:
    """(name, is a list) of every integer field of a schema."""
    out = []
    for name, info in schema.model_fields.items():
        annotation = info.annotation
        if _has_int(annotation):
            is_list = typing.get_origin(annotation) is list
            out.append((name, is_list))
    return out


@pytest.fixture
def sockets(app):
    """An organiser's console socket and a delegate's phone socket on one workshop."""
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=5)
    create_lines(workshop, 2)
    staff_client = app.test_client()
    login(staff_client, organiser)
    phone_client = app.test_client()
    join(phone_client, workshop, create_organisation())
    staff = connect(app, staff_client, workshop, f"/w/{workshop.id}/console")
    phone = connect(app, phone_client, workshop)
    return workshop, staff, phone


def test_every_event_names_each_huge_id_it_is_sent(sockets):
    workshop, staff, phone = sockets
    checked = 0
    for event, handler in EVENTS.items():
        schema = handler.schema
        for name, is_list in _id_fields(schema):
            if name in ("seconds", "minutes", "n", "base_version", "duration_minutes",
                        "max_approvals", "budget", "max_per_option", "closes_in_minutes"):
                continue
            for number in (2**63, 2**64):
                value = [number] if is_list else number
                payload = {"workshop_id": workshop.id, name: value}
                for sock in (staff, phone):
                    ack = sock.emit(event, payload, callback=True)
                    assert ack["ok"] is False, (event, name, ack)
                    assert ack["error"] == "validation", (event, name, ack)
                    named = [k for k in ack["fields"] if k == name or k.startswith(name + ".")]
                    assert named, (event, name, ack)
                    checked += 1
    assert checked > 60


@pytest.mark.parametrize("choices", [[2**64], {str(2**64): 1}, {"1": 2**64}, {"1": [1, 2**70]}])
def test_huge_numbers_in_choices_are_refused_by_name(sockets, choices):
    workshop, staff, phone = sockets
    ack = phone.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": 1,
                                     "choices": choices}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "validation"
    assert "choices" in ack["fields"]


@pytest.mark.parametrize("workshop_id", [2**63, 2**64, str(2**64), "9" * 40, -1, True])
def test_a_socket_naming_a_huge_workshop_is_refused(app, client, workshop_id, caplog):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop_id, "csrf": token})
    assert not sock.is_connected()
    assert "failed" not in caplog.text


# --- Nested bodies --------------------------------------------------------------------------------

def _nested(depth: int) -> str:
    return '{"choices": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 5, 100_000])
def test_a_deeply_nested_vote_body_is_a_400(app, client, depth):
    workshop = create_workshop(steps=5)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    response = client.post(f"/d/ballots/{ballot.id}/vote", data=_nested(depth),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "malformed"
    assert "nested too deeply" in body["message"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 5, 100_000])
def test_a_deeply_nested_api_body_is_a_422_that_says_so(app, client, depth):
    from workshop.api import tokens
    from workshop.api.schemas import TokenIn

    organiser = create_user("organiser")
    _token, raw = tokens.create_token(organiser, TokenIn(name="test"))
    response = client.post("/api/v1/workshops", data=_nested(depth),
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 422
    problem = response.get_json()
    assert "nested too deeply" in problem["errors"]["payload"]


def test_a_body_that_is_not_json_is_refused_clearly(app, client):
    workshop = create_workshop(steps=5)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    response = client.post(f"/d/ballots/{ballot.id}/vote", data="{not json",
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.get_json()["message"] == "The body must be JSON."


def test_a_deeply_nested_socket_payload_is_refused_by_name(sockets):
    workshop, staff, phone = sockets
    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    ack = phone.emit("ballot.cast", {"workshop_id": workshop.id, "ballot_id": 1,
                                     "choices": deep}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "validation"
    assert "nested too deeply" in ack["fields"]["payload"]


def test_a_packet_too_deep_for_the_parser_gets_an_ack(sockets):
    workshop, staff, phone = sockets
    depth = 200_000
    packet = '21["ballot.cast",{"choices":' + "[" * depth + "]" * depth + "}]"
    socketio.server._handle_eio_message(phone.eio_sid, packet)
    ack = phone.acks["args"][0]
    phone.acks = None
    assert ack["ok"] is False
    assert "payload" in ack["fields"]
    assert phone.is_connected()
    # The socket still works.
    assert phone.emit("state.sync", {"workshop_id": workshop.id}, callback=True)["ok"]
