"""Proposal socket events and forms: validation, permissions and live cards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect
from tests.helpers import (
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    join,
    login,
    received,
    refused_once_logins_ended_elsewhere,
)
from workshop.agenda.models import Delegate
from workshop.extensions import db, socketio
from workshop.proposals import live, services
from workshop.proposals.models import Comment, Proposal, Support
from workshop.proposals.schemas import MergeIn


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def phones(app):
    """A workshop on a propose step and two joined phones with sockets."""
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    clients, socks = [], []
    for name, lang in (("Awa", "fr"), ("Ana", "es")):
        client = app.test_client()
        client.get(f"/?lang={lang}")
        join(client, workshop, create_organisation(), name=name)
        clients.append(client)
        socks.append(connect(app, client, workshop))
    return workshop, clients, socks


def test_a_line_sent_after_the_login_ended_elsewhere_is_refused_and_stores_nothing(phones):
    """Ended where this process could not close the socket (another server process): the
    batch that would write the line finds no login, refuses it and the socket is closed."""
    workshop, _, (a, _b) = phones
    refused_once_logins_ended_elsewhere(a, "proposal.create", {
        "workshop_id": workshop.id, "title": "Salud para todos", "theme": "health_protection",
        "level": "national"})
    assert count(Proposal) == 0


def test_submitted_proposal_reaches_every_phone_in_its_language(phones):
    workshop, _, (a, b) = phones
    a.get_received()
    b.get_received()
    ack = a.emit("proposal.create", {"workshop_id": workshop.id, "title": "Salud para todos",
                                     "description": "<b>bold</b>", "theme": "health_protection",
                                     "level": "national", "tags": ["gender", "youth"]},
                 callback=True)
    assert ack["ok"] is True
    proposal = db.session.get(Proposal, ack["proposal_id"])
    assert proposal.tags == ["gender", "youth"]
    [card_b] = received(b, "proposal.card")
    assert "Salud para todos" in card_b["html"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in card_b["html"]
    assert "<b>bold</b>" not in card_b["html"]
    assert "Santé" not in card_b["html"]  # b reads Spanish: the theme label is Spanish
    assert "Salud" in card_b["html"]
    [card_a] = received(a, "proposal.card")
    assert "Santé" in card_a["html"]


def test_bad_proposal_payloads_name_the_field_and_store_nothing(phones):
    workshop, _, (a, _) = phones
    base = {"workshop_id": workshop.id, "title": "x", "theme": "decent_work",
            "level": "national"}
    for change, field in (({"title": ""}, "title"), ({"title": "x" * 201}, "title"),
                          ({"theme": "astrology"}, "theme"), ({"level": None}, "level"),
                          ({"tags": ["gender", "cats"]}, "tags.1"),
                          ({"description": "y" * 5001}, "description"),
                          ({"workshop_id": "one"}, "workshop_id"), ({"hack": 1}, "hack")):
        ack = a.emit("proposal.create", {**base, **change}, callback=True)
        assert ack["ok"] is False, change
        assert field in ack["fields"], (change, ack)
    assert a.emit("proposal.create", ["x"], callback=True)["ok"] is False
    assert count(Proposal) == 0


def test_support_twice_counts_once_and_counts_are_broadcast(phones):
    workshop, _, (a, b) = phones
    proposal = create_proposal(workshop)
    for _ in range(2):
        ack = a.emit("proposal.support", {"workshop_id": workshop.id,
                                          "proposal_id": proposal.id}, callback=True)
        assert ack == {"ok": True, "proposal_id": proposal.id, "on": True}
    assert count(Support) == 1
    counts = received(b, "proposal.counts")
    assert counts[-1]["supporters"] == 1
    ack = a.emit("proposal.support", {"workshop_id": workshop.id, "proposal_id": proposal.id,
                                      "on": False}, callback=True)
    assert ack["on"] is False
    assert count(Support) == 0


def test_the_services_broadcast_whoever_calls_them_and_only_after_the_commit(phones):
    """A service called directly (as the JSON API or a command would) still tells every
    screen; what a rolled-back transaction queued is never sent."""
    workshop, _, (a, b) = phones
    first, second = create_proposal(workshop, title="Alpha"), create_proposal(workshop)
    assert [c["id"] for c in received(b, "proposal.card")] == [first.id, second.id]
    facilitator = create_user("organiser")
    merged = services.merge_proposals(facilitator, workshop, MergeIn(
        proposal_ids=[first.id, second.id], title="Alpha and beta"))
    events = [(m["name"], m["args"][0]) for m in b.get_received()
              if m["name"].startswith("proposal.")]
    assert [name for name, _ in events] == ["proposal.removed", "proposal.card"]
    assert events[0][1]["ids"] == [first.id, second.id]
    assert events[1][1]["id"] == merged.id
    assert "Alpha and beta" in events[1][1]["html"]
    # A +1 on a proposal merged away is counted, and broadcast, for the line it is in.
    supporter = db.session.scalar(sa.select(Delegate).where(Delegate.name == "Awa"))
    services.set_support(supporter, workshop, first.id, True)
    [counts] = received(b, "proposal.counts")
    assert (counts["id"], counts["supporters"]) == (merged.id, 1)
    # Queued in a transaction that then rolls back: nothing reaches any screen.
    a.get_received()
    live.queue_line(facilitator, workshop, merged.id)
    db.session.rollback()
    assert received(a, "proposal.card") == []
    assert received(b, "proposal.card") == []


def test_comment_validation_and_reply(phones):
    workshop, _, (a, b) = phones
    proposal = create_proposal(workshop)
    opened = a.emit("discussion.open", {"workshop_id": workshop.id, "proposal_id": proposal.id},
                    callback=True)
    assert opened == {"ok": True, "proposal_id": proposal.id}
    ack = a.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": proposal.id,
                                      "body": ""}, callback=True)
    assert "body" in ack["fields"]
    ack = a.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": proposal.id,
                                      "body": "Good idea"}, callback=True)
    assert ack["ok"] is True
    reply = b.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": proposal.id,
                                        "body": "Agreed", "parent_id": ack["comment_id"]},
                   callback=True)
    assert reply["ok"] is True
    assert db.session.get(Comment, reply["comment_id"]).parent_id == ack["comment_id"]
    created = received(a, "comment.created")
    assert created[-1]["parent_id"] == ack["comment_id"]
    assert received(b, "comment.created") == []  # b's page does not show that discussion
    bad = b.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": 9999,
                                      "body": "Lost"}, callback=True)
    assert bad["error"] == "not_found"
    assert count(Comment) == 2


def test_comments_reach_the_screens_following_their_line_in_their_language(app, phones):
    workshop, _, (a, b) = phones
    first, second = create_proposal(workshop), create_proposal(workshop)
    staff = app.test_client()
    login(staff, create_user("organiser"))
    screen = connect(app, staff, workshop, f"/w/{workshop.id}/console")
    for sock, line in ((a, first), (b, first), (screen, second)):
        ack = sock.emit("discussion.open", {"workshop_id": workshop.id, "proposal_id": line.id},
                        callback=True)
        assert ack == {"ok": True, "proposal_id": line.id}
    for sock in (a, b, screen):
        sock.get_received()
    ack = screen.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": first.id,
                                           "body": "Bon point"}, callback=True)
    assert ack["ok"] is True
    [for_a], [for_b] = received(a, "comment.created"), received(b, "comment.created")
    assert for_a["id"] == for_b["id"] == ack["comment_id"]
    assert "Répondre" in for_a["html"]
    assert "Responder" in for_b["html"]
    assert received(screen, "comment.created") == []  # it follows the other line
    # Opening another discussion leaves the first: b now follows the second line only.
    assert b.emit("discussion.open", {"workshop_id": workshop.id, "proposal_id": second.id},
                  callback=True)["ok"] is True
    b.get_received()
    screen.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": first.id,
                                     "body": "Encore"}, callback=True)
    assert [c["line_id"] for c in received(a, "comment.created")] == [first.id]
    assert received(b, "comment.created") == []


def test_a_line_hidden_while_screens_follow_it_sends_them_no_more_comments(app, phones):
    workshop, _, (a, _) = phones
    line = create_proposal(workshop)
    organiser = create_user("organiser")
    assert a.emit("discussion.open", {"workshop_id": workshop.id, "proposal_id": line.id},
                  callback=True)["ok"] is True
    services.hide_proposal(organiser, workshop, line.id, True, "Off topic")
    staff = app.test_client()
    login(staff, organiser)
    sock = connect(app, staff, workshop, f"/w/{workshop.id}/console")
    a.get_received()
    ack = sock.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": line.id,
                                         "body": "Hidden: see the guidelines"}, callback=True)
    assert ack["ok"] is True  # staff may still write there
    assert received(a, "comment.created") == []


def test_a_discussion_opens_on_its_line_and_only_in_its_workshop(app, phones):
    workshop, _, (a, _) = phones
    organiser = create_user("organiser")
    merged_away, also, hidden = (create_proposal(workshop) for _ in range(3))
    line = services.merge_proposals(organiser, workshop, MergeIn(
        proposal_ids=[merged_away.id, also.id], title="Health cover for all"))
    services.hide_proposal(organiser, workshop, hidden.id, True, "Off topic")
    other = create_proposal(create_workshop())

    def opened(sock, proposal_id) -> dict:
        return sock.emit("discussion.open", {"workshop_id": workshop.id,
                                             "proposal_id": proposal_id}, callback=True)

    assert opened(a, merged_away.id) == {"ok": True, "proposal_id": line.id}  # its line
    for proposal_id in (hidden.id, other.id, 10**6):
        refused = opened(a, proposal_id)
        assert refused["error"] == "not_found"
        assert "proposal_id" in refused["fields"]
    client = app.test_client()
    login(client, organiser)
    staff = connect(app, client, workshop, f"/w/{workshop.id}/console")
    assert opened(staff, hidden.id) == {"ok": True, "proposal_id": hidden.id}  # to moderate


def test_a_discussion_page_socket_follows_its_line_from_the_connection(app, phones):
    workshop, (client, _), _ = phones
    line, hidden = create_proposal(workshop), create_proposal(workshop)
    services.hide_proposal(create_user("organiser"), workshop, hidden.id, True, "Off topic")
    token = csrf_from(client.get(f"/w/{workshop.id}/proposals/{line.id}").get_data(as_text=True))

    def socket(line_id):
        return socketio.test_client(app, flask_test_client=client, auth={
            "workshop": workshop.id, "csrf": token, "line": line_id})

    following, not_allowed, nonsense = socket(line.id), socket(hidden.id), socket("x" * 40)
    assert not_allowed.is_connected()  # a line it may not read is ignored, not refused
    assert nonsense.is_connected()
    for sock in (following, not_allowed, nonsense):
        sock.get_received()
    writer = connect(app, client, workshop)
    assert writer.emit("proposal.comment", {"workshop_id": workshop.id, "proposal_id": line.id,
                                            "body": "Straight in"}, callback=True)["ok"]
    assert [c["line_id"] for c in received(following, "comment.created")] == [line.id]
    assert received(not_allowed, "comment.created") == received(nonsense, "comment.created") == []


def test_proposals_outside_a_propose_step_are_refused(phones):
    workshop, _, (a, _) = phones
    go_to_kind(workshop, "vote")
    ack = a.emit("proposal.create", {"workshop_id": workshop.id, "title": "Late",
                                     "theme": "decent_work", "level": "national"},
                 callback=True)
    assert ack["error"] == "conflict"
    assert count(Proposal) == 0


def test_staff_cannot_support_as_a_delegate(app, client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    proposal = create_proposal(workshop)
    login(client, facilitator)
    sock = connect(app, client, workshop, f"/w/{workshop.id}/console")
    ack = sock.emit("proposal.support", {"workshop_id": workshop.id,
                                         "proposal_id": proposal.id}, callback=True)
    assert ack["error"] == "forbidden"
    assert count(Support) == 0


def test_form_fallbacks(phones):
    workshop, (a, _), _ = phones
    page = a.get("/d").get_data(as_text=True)
    token = csrf_from(page)
    response = a.post(f"/w/{workshop.id}/proposals", data={
        "csrf_token": token, "title": "By form", "theme": "decent_work", "level": "national",
        "tags": ["climate"]})
    assert response.status_code == 302
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.tags == ["climate"]
    response = a.post(f"/w/{workshop.id}/proposals", data={
        "csrf_token": token, "title": "", "theme": "decent_work", "level": "national"})
    assert response.status_code == 422
    assert a.post(f"/w/{workshop.id}/proposals/{proposal.id}/support",
                  data={"csrf_token": token, "on": "maybe"}).status_code == 422
    assert count(Support) == 0
    assert a.post(f"/w/{workshop.id}/proposals/{proposal.id}/support",
                  data={"csrf_token": token}).status_code == 302
    assert count(Support) == 1
    response = a.post(f"/w/{workshop.id}/proposals/{proposal.id}/comments",
                      data={"csrf_token": token, "body": ""})
    assert response.status_code == 422
    assert 'id="body-error"' in response.get_data(as_text=True)
    page = a.get(f"/w/{workshop.id}/proposals/{proposal.id}")
    assert page.status_code == 200
    assert "By form" in page.get_data(as_text=True)


def test_delegates_cannot_moderate_or_import(phones):
    workshop, (a, _), _ = phones
    proposal = create_proposal(workshop)
    token = csrf_from(a.get("/d").get_data(as_text=True))
    for url, data in ((f"/proposals/{proposal.id}/hide", {"hidden": "true", "reason": "x"}),
                      (f"/proposals/{proposal.id}/edit", {"title": "Mine", "theme":
                                                          "decent_work", "level": "national"}),
                      ("/proposals/lock", {"locked": "true"}),
                      ("/proposals/merge", {"proposal_ids": [str(proposal.id)] * 2,
                                            "title": "x"})):
        response = a.post(f"/w/{workshop.id}{url}", data={"csrf_token": token, **data})
        assert response.status_code == 403, url
    assert a.get(f"/w/{workshop.id}/proposals/moderate").status_code == 403
    assert a.get(f"/w/{workshop.id}/proposals/import").status_code == 403
    db.session.refresh(proposal)
    assert (proposal.hidden, proposal.title) == (False, proposal.title)


def test_delegate_of_another_workshop_sees_nothing(app, phones):
    workshop, _, _ = phones
    proposal = create_proposal(workshop)
    other = create_workshop()
    outsider = app.test_client()
    join(outsider, other, create_organisation())
    assert outsider.get(f"/w/{workshop.id}/proposals/{proposal.id}").status_code == 403
    assert count(Delegate) == 4  # two phones, the proposal's author, the outsider


def test_moderation_page_shows_duplicates(client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    create_proposal(workshop, title="Universal health coverage for informal workers")
    create_proposal(workshop, title="Universal health coverage for the informal workers")
    login(client, facilitator)
    html = client.get(f"/w/{workshop.id}/proposals/moderate").get_data(as_text=True)
    assert 'id="duplicates"' in html
    assert "data-preselect" in html
