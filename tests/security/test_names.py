"""Hostile names: invisible, reversed (bidi overrides), control characters and NUL are refused
by the shared text type, at every door (form, JSON API, socket event), with the field named;
what is kept is NFC-normalised."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect
from tests.helpers import create_organisation, create_user, create_workshop, csrf_from, go_to_kind
from workshop.agenda.models import Delegate
from workshop.api import tokens
from workshop.api.schemas import TokenIn
from workshop.errors import ValidationFailed
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import ProposalIn
from workshop.validation import is_visible, parse, text_problem

HOSTILE = {
    "right-to-left override": "Amina\u202e gnirts",
    "isolate": "\u2066Amina\u2069",
    "zero-width only": "\u200b\u200b\u200b",
    "zero-width inside": "Am\u200bina",
    "byte-order mark": "\ufeffAmina",
    "Hangul filler": "\u3164",
    "blank braille": "\u2800\u2800",
    "combining mark only": "\u0301\u034f",
    "NUL": "Ami\x00na",
    "escape": "Amina\x1b[31m",
    "bell": "Amina\x07",
    "tab in one line": "Amina\tDiallo",
    "line break": "Amina\nSecond line",
    "line separator": "Amina\u2028Second",
    "lone surrogate": "Amina\ud800",
    "tag characters": "Amina\U000e0041",
}
FINE = ["Amina Diallo", "José", "Nguyễn Thị", "क्षत्रिय", "क्\u200dष", "নেপাল", "ខ្មែរ",
        "👩\u200d🌾 Awa", "O'Brien-Ouédraogo", "李"]


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_text_is_refused_by_the_shared_type(app, text):
    with pytest.raises(ValidationFailed) as caught:
        parse(ProposalIn, {"title": text, "theme": "decent_work", "level": "national"})
    assert list(caught.value.fields) == ["title"]


@pytest.mark.parametrize("text", FINE)
def test_real_names_in_every_script_are_kept(app, text):
    data = parse(ProposalIn, {"title": text, "theme": "decent_work", "level": "national"})
    assert data.title == text


def test_text_is_normalised_to_nfc():
    decomposed = "Jose\u0301 Ouedraogo"  # e + combining acute
    assert len(decomposed) == 15
    data = ProposalIn(title=decomposed, theme="decent_work", level="national")
    assert data.title == "José Ouedraogo"
    assert len(data.title) == 14


def test_multi_line_fields_keep_line_breaks_and_tabs_but_not_the_rest():
    data = ProposalIn(title="T", description="One\r\nTwo\n\tThree", theme="decent_work",
                      level="national")
    assert data.description == "One\r\nTwo\n\tThree"
    with pytest.raises(ValidationFailed) as caught:
        parse(ProposalIn, {"title": "T", "description": "One\u202eowT", "theme": "decent_work",
                           "level": "national"})
    assert list(caught.value.fields) == ["description"]
    # An optional field may be empty, but not only invisible.
    with pytest.raises(ValidationFailed):
        parse(ProposalIn, {"title": "T", "description": "\u3164", "theme": "decent_work",
                           "level": "national"})


def test_the_rules_in_isolation():
    assert text_problem("a\nb") == "text_line_break"
    assert text_problem("a\nb", multiline=True) is None
    assert text_problem("a\u202eb", multiline=True) == "text_control"
    assert text_problem("क्\u200dष") is None
    assert not is_visible(" \u3164\u2800\u200b")
    assert is_visible("·")


@pytest.mark.parametrize("multiline", [False, True])
def test_ascii_text_is_judged_as_any_text(multiline):
    """ASCII text takes a shortcut (one search): every ASCII character gets the same verdict
    as the character-by-character rule gives it (here beside a non-ASCII letter, which
    takes the long way)."""
    for code in range(128):
        ch = chr(code)
        assert text_problem(f"a{ch}b", multiline) == text_problem(f"\u00e9{ch}b", multiline), \
            repr(ch)
    assert text_problem("a\tb") == "text_control"
    assert text_problem("a\tb\r\n", multiline=True) is None
    assert text_problem("a\x7fb", multiline=True) == "text_control"
    assert text_problem("a\rb\x01") == "text_line_break"  # the first problem found


def _messages(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["\u202eanimA", "\u200b", "Am\x00ina", "\u3164"])
def test_the_join_form_refuses_a_hostile_name_by_field(app, client, name):
    workshop = create_workshop()
    organisation = create_organisation()
    page = client.get(f"/j/{workshop.join_code}").get_data(as_text=True)
    response = client.post(f"/j/{workshop.join_code}", data={
        "name": name, "organisation_id": str(organisation.id), "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert 'id="name-error"' in _messages(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delegate)) == 0


def test_the_join_form_stores_the_nfc_name(app, client):
    workshop = create_workshop()
    organisation = create_organisation()
    page = client.get(f"/j/{workshop.join_code}").get_data(as_text=True)
    client.post(f"/j/{workshop.join_code}", data={
        "name": "  Rene\u0301e  ", "organisation_id": str(organisation.id),
        "csrf_token": csrf_from(page)})
    delegate = db.session.scalar(sa.select(Delegate))
    assert delegate.name == "Renée"


def test_the_api_refuses_a_hostile_name_by_field(app, client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    organisation = create_organisation()
    _token, raw = tokens.create_token(organiser, TokenIn(name="test"))
    auth = {"Authorization": f"Bearer {raw}"}
    response = client.post(f"/api/v1/workshops/{workshop.id}/delegates", headers=auth,
                           json={"name": "Awa\u202e", "organisation_id": organisation.id})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name"}
    response = client.post("/api/v1/workshops", headers=auth,
                           json={"title": "\u200b\u200b", "kind": "face_to_face"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"title"}
    response = client.post("/api/v1/workshops", headers=auth,
                           json={"title": "Atelier re\u0301gional", "kind": "face_to_face"})
    assert response.status_code == 201
    assert response.get_json()["title"] == "Atelier régional"


def test_a_socket_event_refuses_a_hostile_title_by_field(app, client):
    from tests.helpers import join

    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    join(client, workshop, create_organisation())
    sock = connect(app, client, workshop)
    base = {"workshop_id": workshop.id, "theme": "decent_work", "level": "national"}
    for title in HOSTILE.values():
        ack = sock.emit("proposal.create", {**base, "title": title}, callback=True)
        assert ack["ok"] is False, title
        assert list(ack["fields"]) == ["title"], (title, ack)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    ack = sock.emit("proposal.create", {**base, "title": "Sante\u0301 pour tous"},
                    callback=True)
    assert ack["ok"] is True
    assert db.session.get(Proposal, ack["proposal_id"]).title == "Santé pour tous"
