"""The projector's spotlight on a line of work: who may set it, what it accepts, what it keeps,
and that a projector's real socket gets it (the real gevent server, python-socketio)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import (
    create_delegate,
    create_lines,
    create_proposal,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    login,
)
from tests.live.clients import Person, _csrf
from workshop.agenda.models import Workshop
from workshop.agenda.spotlight import spotlight_proposal, spotlit_line
from workshop.agenda.state import snapshot
from workshop.audit.models import AuditEntry
from workshop.auth.models import User
from workshop.errors import NotFound, PermissionDenied
from workshop.extensions import db
from workshop.permissions import ProjectorViewer
from workshop.proposals import services as proposals
from workshop.proposals.schemas import MergeIn


def spotlights() -> list[dict]:
    return list(db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.operation == "proposal.spotlight").order_by(AuditEntry.id)))


@pytest.fixture
def discussing(app):
    """A workshop on its discuss step with three lines of work, and its facilitator."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=3, facilitator=facilitator)
    lines = create_lines(workshop, 3)
    go_to_kind(workshop, "discuss")
    return workshop, facilitator, lines


def test_facilitator_spotlights_a_line_then_clears_it(discussing):
    workshop, facilitator, lines = discussing
    assert spotlight_proposal(facilitator, workshop, lines[1].id) == lines[1].id
    db.session.expire_all()
    assert spotlit_line(db.session.get(Workshop, workshop.id)) == lines[1].id
    assert snapshot(db.session, workshop)["spotlight"] == {"kind": "proposal", "id": lines[1].id}

    assert spotlight_proposal(facilitator, workshop, None) is None
    assert snapshot(db.session, workshop)["spotlight"] is None
    assert spotlights() == [{"proposal_id": lines[1].id}, {"proposal_id": None}]


def test_organiser_may_spotlight_and_a_merged_proposal_spotlights_its_line(discussing):
    workshop, _, lines = discussing
    organiser = db.session.get(User, workshop.created_by_id)
    merged = proposals.merge_proposals(organiser, workshop, MergeIn(
        proposal_ids=[lines[0].id, lines[2].id], title="Together"))
    assert spotlight_proposal(organiser, workshop, lines[0].id) == merged.id


@pytest.mark.parametrize("who", ["delegate", "other workshop's facilitator", "projector"])
def test_only_facilitators_of_the_workshop_may_spotlight(discussing, who):
    workshop, _, lines = discussing
    other = create_workshop(facilitator=create_user("facilitator"))
    actor = {
        "delegate": lambda: create_delegate(workshop),
        "other workshop's facilitator": lambda: other.facilitators[0],
        "projector": lambda: ProjectorViewer(workshop.id),
    }[who]()
    with pytest.raises(PermissionDenied):
        spotlight_proposal(actor, workshop, lines[0].id)
    db.session.rollback()
    assert workshop.spotlight is None
    assert spotlights() == []


def test_a_line_of_another_workshop_is_refused_with_the_field_named(discussing):
    workshop, facilitator, _ = discussing
    elsewhere = create_lines(create_workshop(), 1)[0]
    with pytest.raises(NotFound) as refused:
        spotlight_proposal(facilitator, workshop, elsewhere.id)
    assert "proposal_id" in refused.value.to_dict()["fields"]
    db.session.rollback()
    assert workshop.spotlight is None
    assert spotlights() == []


def test_a_hidden_line_is_refused(discussing):
    workshop, facilitator, lines = discussing
    proposals.hide_proposal(facilitator, workshop, lines[0].id, True, "Off topic")
    with pytest.raises(NotFound) as refused:
        spotlight_proposal(facilitator, workshop, lines[0].id)
    assert "proposal_id" in refused.value.fields


def test_clearing_leaves_an_action_plan_in_the_spotlight(discussing):
    workshop, facilitator, _ = discussing
    workshop.spotlight = {"kind": "plan", "id": 7}
    db.session.commit()
    spotlight_proposal(facilitator, workshop, None)
    assert workshop.spotlight == {"kind": "plan", "id": 7}


def test_the_projector_page_shows_the_line_and_its_discussion(app, client, discussing):
    workshop, facilitator, lines = discussing
    author = create_delegate(workshop, name="Aline")
    go_to_kind(workshop, "propose")
    line = create_proposal(workshop, author, title="Social protection for domestic workers")
    go_to_kind(workshop, "discuss")
    proposals.add_comment(author, workshop, line.id, "Start with the ILO convention C189")
    spotlight_proposal(facilitator, workshop, line.id)

    page = client.get(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    html = page.get_data(as_text=True)
    assert 'id="spotlight"' in html
    assert "Social protection for domestic workers" in html
    assert "Start with the ILO convention C189" in html
    assert lines[0].title not in html  # the wall gives way to the spotlight


def test_form_fallback_spotlights_and_goes_back_to_the_console(app, client, discussing):
    workshop, facilitator, lines = discussing
    login(client, facilitator)
    token = csrf_from(client.get(f"/w/{workshop.id}/console").get_data(as_text=True))
    response = client.post(f"/w/{workshop.id}/projector/spotlight",
                           data={"csrf_token": token, "proposal_id": str(lines[2].id)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/w/{workshop.id}/console")
    assert spotlit_line(workshop) == lines[2].id
    panel = client.get(f"/w/{workshop.id}/projector/spotlight").get_data(as_text=True)
    assert panel.count("Spotlight on projector") == 3
    assert 'aria-pressed="true"' in panel


@pytest.mark.live
def test_projector_socket_gets_the_spotlight_after_the_commit(live):
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=3, facilitator=facilitator)
    lines = create_lines(workshop, 2)
    go_to_kind(workshop, "discuss")
    staff = Person(live.url).login(facilitator.email, workshop.id)
    screen = Person(live.url)
    screen.csrf = _csrf(screen.http.get(
        f"{live.url}/w/{workshop.id}/projector?key={workshop.projector_key}").text)
    try:
        staff.connect(workshop.id)
        screen.connect(workshop.id)
        assert screen.next_event("state")["spotlight"] is None

        ack = staff.call("proposal.spotlight", {"workshop_id": workshop.id,
                                                "proposal_id": lines[1].id})
        assert ack == {"ok": True, "proposal_id": lines[1].id}
        state = screen.next_event("state")
        assert state["spotlight"] == {"kind": "proposal", "id": lines[1].id}

        refused = screen.call("proposal.spotlight", {"workshop_id": workshop.id,
                                                     "proposal_id": None})
        assert refused["error"] == "forbidden"
        wrong = staff.call("proposal.spotlight", {"workshop_id": workshop.id,
                                                  "proposal_id": "many"})
        assert wrong["error"] == "validation"
        assert "proposal_id" in wrong["fields"]

        assert staff.call("proposal.spotlight", {"workshop_id": workshop.id})["ok"] is True
        assert screen.next_event("state")["spotlight"] is None
    finally:
        staff.close()
        screen.close()
