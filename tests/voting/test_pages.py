"""Voting pages: console forms, the phone ballot and its HTTP fallback, results, receipts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    join,
    login,
    open_test_ballot,
)
from workshop.agenda import services as agenda
from workshop.agenda.models import Delegate
from workshop.audit.models import AuditEntry
from workshop.auth.models import User
from workshop.errors import Conflict
from workshop.extensions import db
from workshop.kept import kept
from workshop.proposals.models import Proposal
from workshop.voting import services
from workshop.voting.models import Ballot, ProxyAssignment, Vote


@pytest.fixture
def setup(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)  # step 4 is a vote step
    lines = create_lines(workshop, 3)
    staff = app.test_client()
    login(staff, facilitator)
    return workshop, facilitator, [p.id for p in lines], staff


def token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def go_vote(workshop, facilitator):
    vote_step = next(s for s in workshop.steps if s.kind == "vote")
    agenda.goto_step(facilitator, workshop, vote_step.id)
    return vote_step


def test_open_a_ballot_with_the_form_then_drive_it(setup):
    workshop, _, ids, staff = setup
    page = f"/w/{workshop.id}/ballots"
    response = staff.post(page, data={
        "csrf_token": token(staff, page), "title": "Pick two", "method": "approval",
        "weighting": "region", "scope": "pick", "proposal_ids": [str(ids[0]), str(ids[2])],
        "max_approvals": "1", "secret": "true", "closes_in_minutes": "10"})
    assert response.status_code == 302
    ballot = db.session.scalar(sa.select(Ballot))
    assert (ballot.title, ballot.weighting, ballot.secret, ballot.max_approvals) == (
        "Pick two", "region", True, 1)
    assert ballot.option_ids == [ids[0], ids[2]]
    html = staff.get(page).get_data(as_text=True)
    assert "Pick two" in html
    panel = staff.get(f"/w/{workshop.id}/ballots/panel").get_data(as_text=True)
    assert 'data-op="ballot.close"' in panel
    base = f"/w/{workshop.id}/ballots/{ballot.id}"
    assert staff.post(f"{base}/extend", data={"csrf_token": token(staff, page),
                                               "minutes": "5"}).status_code == 302
    # A secret ballot is counted only once it closes: no button, and the form is refused.
    assert 'data-op="ballot.show_results"' not in panel
    assert staff.post(f"{base}/visibility", data={"csrf_token": token(staff, page),
                                                   "visible": "true"}).status_code == 409
    assert staff.post(f"{base}/close", data={"csrf_token": token(staff, page)}).status_code == 302
    db.session.expire_all()
    assert ballot.status == "closed"
    assert ballot.results_visible is False


def test_the_open_form_shows_errors_by_field(setup):
    workshop, _, _, staff = setup
    page = f"/w/{workshop.id}/ballots"
    response = staff.post(page, data={"csrf_token": token(staff, page), "title": "",
                                      "method": "points"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="title-error"' in html


def test_a_delegate_cannot_open_the_ballots_page(app, setup):
    workshop, *_ = setup
    phone = app.test_client()
    join(phone, workshop, create_organisation())
    assert phone.get(f"/w/{workshop.id}/ballots").status_code == 403
    assert phone.post(f"/w/{workshop.id}/ballots", data={
        "csrf_token": token(phone, "/d"), "title": "X", "method": "approval"}).status_code == 403


def test_the_phone_shows_the_ballot_in_its_own_order_and_votes_without_javascript(app, setup):
    workshop, facilitator, ids, _ = setup
    go_vote(workshop, facilitator)
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator)
    phone = app.test_client()
    join(phone, workshop, create_organisation(), name="Amina")
    amina = db.session.scalar(sa.select(Delegate).where(Delegate.name == "Amina"))
    html = phone.get("/d/step").get_data(as_text=True)
    order = [int(x) for x in re.findall(r'class="option rank-item" data-option="(\d+)"', html)]
    assert order == services.shuffled_options(ballot, amina.id)
    response = phone.post(f"/d/ballots/{ballot.id}/vote", data={
        "csrf_token": token(phone, "/d"), f"rank-{ids[2]}": "1", f"rank-{ids[0]}": "2"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Vote.choices)) == [ids[2], ids[0]]
    page = phone.get("/d").get_data(as_text=True)
    assert "Vote received" in page
    # The named paper comes back filled in, with its receipt.
    html = phone.get("/d/step").get_data(as_text=True)
    assert 'data-voted="true"' in html
    assert services.format_receipt(db.session.scalar(sa.select(Vote.receipt))) in html


def test_the_json_fallback_answers_like_the_socket(app, setup):
    workshop, facilitator, ids, _ = setup
    ballot = open_test_ballot(workshop, "points", actor=facilitator, budget=5)
    phone = app.test_client()
    join(phone, workshop, create_organisation())
    headers = {"X-CSRFToken": token(phone, "/d"), "Accept": "application/json"}
    bad = phone.post(f"/d/ballots/{ballot.id}/vote", json={"choices": {str(ids[0]): 6}},
                     headers=headers)
    assert bad.status_code == 422
    assert "choices" in bad.get_json()["fields"]
    good = phone.post(f"/d/ballots/{ballot.id}/vote", json={"choices": {str(ids[0]): 5}},
                      headers=headers)
    assert good.get_json()["ok"] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_staff_cannot_vote_over_http(setup):
    workshop, facilitator, ids, staff = setup
    ballot = open_test_ballot(workshop, actor=facilitator)
    response = staff.post(f"/d/ballots/{ballot.id}/vote", json={"choices": [ids[0]]},
                          headers={"X-CSRFToken": token(staff, f"/w/{workshop.id}/ballots"),
                                   "Accept": "application/json"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_projector_shows_turnout_then_results(app, setup):
    workshop, facilitator, ids, _ = setup
    go_vote(workshop, facilitator)
    ballot = open_test_ballot(workshop, "approval", actor=facilitator)
    amina = create_delegate(workshop, create_organisation(region="asia"))
    create_delegate(workshop, create_organisation(region="asia"))
    cast_vote(amina, ballot, [ids[1]])
    screen = app.test_client()
    screen.get(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    html = screen.get(f"/w/{workshop.id}/projector/step").get_data(as_text=True)
    assert re.search(r'class="voted">1</b> / <span class="eligible">2', html)
    assert "standings" not in html
    services.close_ballot(facilitator, workshop, ballot)
    html = screen.get(f"/w/{workshop.id}/projector/step").get_data(as_text=True)
    assert 'class="standings"' in html
    assert ballot.ballots_hash in html


def test_results_and_receipts_pages(app, setup):
    workshop, facilitator, ids, staff = setup
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator, secret=True)
    phone = app.test_client()
    join(phone, workshop, create_organisation(), name="Amina")
    amina = db.session.scalar(sa.select(Delegate).where(Delegate.name == "Amina"))
    result = cast_vote(amina, ballot, [ids[1], ids[0]], secret="e" * 40)
    results_url = f"/w/{workshop.id}/ballots/{ballot.id}/results"
    assert phone.get(results_url).status_code == 403  # hidden until close
    assert staff.get(results_url).status_code == 200  # staff may look
    services.close_ballot(facilitator, workshop, ballot)
    html = phone.get(results_url).get_data(as_text=True)
    assert "Condorcet winner" in html
    assert 'id="schulze"' in html
    assert ballot.ballots_hash in html
    assert 'id="consensus-rule"' in html  # how a ranking's consensus counts, in one sentence
    assert "a line left unranked counts nothing" in html
    receipts = f"/w/{workshop.id}/ballots/{ballot.id}/receipts"
    code = services.format_receipt(result.receipt).lower()
    html = phone.get(f"{receipts}?code={code}").get_data(as_text=True)
    assert "is in the published list" in html
    html = phone.get(f"{receipts}?code=AAAA-BBBB-CCCC").get_data(as_text=True)
    assert "is not in the published list" in html
    assert "Amina" not in html  # secret: no names


def test_select_top_with_a_tie_on_the_results_page(setup):
    workshop, facilitator, ids, staff = setup
    ballot = open_test_ballot(workshop, "approval", actor=facilitator)
    for choice in ([ids[0], ids[1]], [ids[0], ids[2]]):
        cast_vote(create_delegate(workshop), ballot, choice)
    services.close_ballot(facilitator, workshop, ballot)
    url = f"/w/{workshop.id}/ballots/{ballot.id}/results"
    html = staff.get(f"{url}?n=2").get_data(as_text=True)
    assert "tied at the cut-off" in html
    response = staff.post(f"/w/{workshop.id}/ballots/{ballot.id}/top", data={
        "csrf_token": token(staff, url), "n": "2"})
    assert response.status_code == 422
    response = staff.post(f"/w/{workshop.id}/ballots/{ballot.id}/top", data={
        "csrf_token": token(staff, url), "n": "2", "picks": str(ids[2])})
    assert response.status_code == 302
    db.session.expire_all()
    assert ballot.selected_proposal_ids == [ids[0], ids[2]]


def test_paper_ballot_and_proxy_pages(app, setup):
    workshop, facilitator, ids, staff = setup
    ballot = open_test_ballot(workshop, "matrix", actor=facilitator)
    bongani = create_delegate(workshop, name="Bongani")
    url = f"/w/{workshop.id}/ballots/{ballot.id}/paper"
    response = staff.post(url, data={"csrf_token": token(staff, url), "delegate_id": bongani.id,
                                     f"a-{ids[0]}": "4", f"b-{ids[0]}": "2"})
    assert response.status_code == 200
    assert "Receipt code for the delegate" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Vote.choices)) == [[ids[0], 4, 2]]
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.operation == "ballot.paper")) is not None
    # Proxies are the organiser's: the facilitator is refused, the organiser gives one.
    proxies = f"/w/{workshop.id}/proxies"
    assert staff.get(proxies).status_code == 403
    organiser = app.test_client()
    login(organiser, db.session.get(User, workshop.created_by_id))
    carla = create_delegate(workshop, name="Carla")
    response = organiser.post(proxies, data={"csrf_token": token(organiser, proxies),
                                             "holder_id": bongani.id, "absent_id": carla.id})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAssignment)) == 1
    assert "Carla" in organiser.get(proxies).get_data(as_text=True)


def test_reading_a_ballot_past_its_time_writes_nothing_and_the_next_vote_closes_it(app, setup):
    workshop, facilitator, ids, staff = setup
    go_vote(workshop, facilitator)
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, closes_in_minutes=5)
    phone = app.test_client()
    join(phone, workshop, create_organisation())
    ballot.closes_at = ballot.opened_at  # its time is up; the clock (off in tests) is late
    db.session.commit()
    audited = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    for client, path in ((staff, f"/w/{workshop.id}/ballots"),
                         (staff, f"/w/{workshop.id}/ballots/{ballot.id}/results"),
                         (staff, f"/w/{workshop.id}/ballots/{ballot.id}/receipts"),
                         (phone, "/d"), (phone, "/d/step")):
        assert client.get(path).status_code < 500, path
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status == "open"  # a read never closes it
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == audited
    delegate = db.session.scalar(sa.select(Delegate).where(Delegate.workshop_id == workshop.id))
    with pytest.raises(Conflict):  # but no vote is accepted, and the refused one closes it
        cast_vote(delegate, ballot, [ids[0]])
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status == "closed"


def test_a_vote_step_reads_its_option_titles_once_per_content_version(setup):
    """Every phone of a vote step draws the same options: their titles are read once, and
    again only after a line of work changed."""
    workshop, facilitator, line_ids, _staff = setup
    ballot = open_test_ballot(workshop, "approval", actor=facilitator)
    store = kept("option-texts")
    made = store.made
    titles, _languages = services.option_texts(ballot, workshop)
    assert services.option_texts(ballot, workshop)[0] == titles
    assert store.made == made + 1
    line = db.session.get(Proposal, line_ids[0])
    line.title = "Line zero, renamed"
    db.session.commit()  # the flush hook bumps the workshop's content version
    assert services.option_texts(ballot, workshop)[0][line.id] == "Line zero, renamed"
    assert store.made == made + 2
