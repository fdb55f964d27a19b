"""A vote step's ballot drawn once for every phone of a language, sent with the state on Go
and with the `ballot` event when a ballot opens on the step shown: a blank paper in the lines'
id order, which each page makes its delegate's (their id, their order). A delegate it does not
fit (proxies carried, this ballot voted, not on the register) is told by the part's
`fetch_if` and fetches their own; the server tells a phone when its marks change."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC

import pytest

from tests.agenda.test_events import connect, states
from tests.agenda.test_pushed import drawing, go, inflate, page_keeps, phone_delegate, room
from tests.helpers import (
    cast_vote,
    create_lines,
    csrf_from,
    go_to_kind,
    open_test_ballot,
    received,
)
from workshop.agenda.delegates import admit_delegate
from workshop.agenda.schemas import AdmitIn
from workshop.auth.models import User
from workshop.extensions import db
from workshop.kept import kept
from workshop.validation import parse
from workshop.voting import proxies
from workshop.voting import services as voting
from workshop.voting.schemas import ProxyIn

#: order_key's figures, fixed: the phone's orderKey must give the same (checked in Node too).
ORDER_KEYS = [((1, 2, 0, 3), 2536785937), ((123, 456, 789, 10_000), 1632943046),
              ((2**31 - 1, 2**31 - 1, 0, 2**31 - 1), 2916543406)]


def on_vote_step(app, method: str = "ranking", languages=("en",), **fields):
    """A room whose ballot is open on a vote step; the phones are on a propose step."""
    workshop, staff, phones = room(app, languages=languages)
    create_lines(workshop, 6)
    go_to_kind(workshop, "vote")
    vote_step = workshop.current_step_id
    ballot = open_test_ballot(workshop, method, step_id=vote_step, **fields)
    go(staff, workshop, workshop.steps[1].id)
    return workshop, staff, phones, ballot, vote_step


def organiser_of(workshop) -> User:
    return db.session.get(User, workshop.created_by_id)


def options_in(html: str) -> list[int]:
    return [int(o) for o in re.findall(r'class="option[^"]*" data-option="(\d+)"', html)]


@pytest.mark.parametrize("method", ["approval", "points", "ranking", "matrix"])
def test_go_to_a_vote_step_sends_one_blank_paper_in_id_order(app, method):
    workshop, staff, [(client, phone)], ballot, vote_step = on_vote_step(app, method)
    go(staff, workshop, vote_step, phone)
    [state] = states(phone)
    part = state["phone"]
    assert part["key"] == state["step"]["key"]
    assert part["fetch_if"] == ["carries", f"voted:{ballot.id}"]
    html = inflate(part)
    assert 'data-order="page"' in html
    assert 'data-delegate-id=""' in html
    assert options_in(html) == sorted(ballot.option_ids)
    assert 'name="csrf_token" value=""' in html
    # Drawn after the facilitator's Go, in their request: nothing of theirs either.
    facilitator = workshop.facilitators[0]
    assert facilitator.name not in html
    assert facilitator.email not in html
    # The page fetched for this delegate: the same options, in their own order.
    fetched = client.get("/d/step").get_data(as_text=True)
    delegate = phone_delegate()
    assert options_in(fetched) == voting.shuffled_options(ballot, delegate.id)
    assert f'data-delegate-id="{delegate.id}"' in fetched
    assert 'data-order="page"' not in fetched


@pytest.fixture
def far_from_utc(monkeypatch):
    """The server's clock in Bogotá's time zone (UTC-5), as a room laptop's may be."""
    monkeypatch.setenv("TZ", "America/Bogota")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_register_and_the_closing_time(app, far_from_utc):
    workshop, staff, [(_client, phone)], ballot, vote_step = on_vote_step(
        app, closes_in_minutes=10)
    workshop.voting_register = True
    db.session.commit()
    go(staff, workshop, vote_step, phone)
    [state] = states(phone)
    part = state["phone"]
    assert "unregistered" in part["fetch_if"]
    html = inflate(part)
    assert "not-registered" not in html  # the blank paper is shown; an unregistered page fetches
    closes_at = int(re.search(r'data-closes-at="(\d+)"', html).group(1))
    assert closes_at == int(ballot.closes_at.replace(tzinfo=UTC).timestamp() * 1000)
    assert 9 * 60 * 1000 < closes_at - part["clock"] <= 10 * 60 * 1000
    assert "data-remaining-ms" not in html  # a kept drawing holds no countdown


def test_results_that_show_or_a_closed_ballot_are_each_phones_own(app):
    workshop, staff, [(_client, phone)], ballot, vote_step = on_vote_step(app)
    voting.show_results(workshop.facilitators[0], workshop, ballot, True)
    db.session.commit()
    go(staff, workshop, vote_step, phone)
    assert "phone" not in states(phone)[0]
    voting.show_results(workshop.facilitators[0], workshop, ballot, False)
    voting.close_ballot(workshop.facilitators[0], workshop, ballot)
    db.session.commit()
    ballot_event = received(phone, "ballot")[-1]
    assert ballot_event["status"] == "closed"
    assert "phone" not in ballot_event


def test_a_ballot_opening_on_the_step_shown_comes_with_its_paper(app):
    workshop, staff, [(_client, phone)] = room(app, languages=("fr",))
    create_lines(workshop, 3)
    go_to_kind(workshop, "vote")
    go(staff, workshop, workshop.steps[1].id)
    go(staff, workshop, _vote_step(workshop), phone)
    [state] = states(phone)
    assert "no-ballot" in inflate(state["phone"])  # drawn for everyone too
    store = kept("pushed-steps")
    before = store.made
    ballot = open_test_ballot(workshop, "approval", title="Priorités")
    db.session.commit()
    [event] = received(phone, "ballot")
    assert event["ballot_id"] == ballot.id
    assert event["status"] == "open"
    assert event["phone"]["key"] == state["step"]["key"]  # the same step, drawn anew
    html = inflate(event["phone"])
    assert "Priorités" in html
    assert options_in(html) == sorted(ballot.option_ids)
    assert store.made - before == 4  # once per language, not per phone


def _vote_step(workshop) -> int:
    return next(step.id for step in workshop.steps if step.kind == "vote")


def test_a_ballot_event_on_another_kind_of_step_carries_no_part(app):
    workshop, staff, [(_client, phone)] = room(app)
    create_lines(workshop, 3)
    go(staff, workshop, workshop.steps[1].id, phone)  # a propose step
    open_test_ballot(workshop, "approval")
    db.session.commit()
    [event] = received(phone, "ballot")
    assert "phone" not in event


def test_the_drawing_is_kept_until_the_ballot_changes(app):
    workshop, staff, [(_client, phone)], ballot, vote_step = on_vote_step(app)
    go(staff, workshop, vote_step, phone)
    first = states(phone)[0]["phone"]
    go(staff, workshop, workshop.steps[1].id)
    go(staff, workshop, vote_step, phone)
    assert drawing(states(phone)[0]["phone"]) == drawing(first)
    voting.extend_ballot(workshop.facilitators[0], workshop, ballot, 5)
    db.session.commit()
    [event] = received(phone, "ballot")
    assert "phone" not in event  # a later closing time: the phones count again, nothing redrawn
    assert event["remaining_ms"] > 4 * 60 * 1000
    go(staff, workshop, workshop.steps[1].id)
    go(staff, workshop, vote_step, phone)
    part = states(phone)[0]["phone"]
    assert 'data-closes-at="' in inflate(part)
    assert drawing(part) != drawing(first)


def test_the_page_keeps_its_delegate_and_marks(app):
    workshop, staff, [(client, _phone), (other_client, _other)], ballot, _step = on_vote_step(
        app, languages=("en", "en"))
    delegate, other = phone_delegate(0), phone_delegate(1)
    keeps = page_keeps(client)
    assert keeps["delegate_id"] == delegate.id
    assert keeps["marks"] == {"carries": False, "unregistered": True}  # joined by the code
    cast_vote(delegate, ballot, [ballot.option_ids[0]])
    db.session.commit()
    assert page_keeps(client)["marks"][f"voted:{ballot.id}"] is True
    proxies.assign_proxy(organiser_of(workshop), workshop, parse(ProxyIn, {
        "workshop_id": workshop.id, "holder_id": other.id, "absent_id": delegate.id}))
    assert page_keeps(other_client)["marks"]["carries"] is True
    voting.close_ballot(workshop.facilitators[0], workshop, ballot)
    db.session.commit()
    assert f"voted:{ballot.id}" not in page_keeps(client)["marks"]  # open ballots only


def test_a_phone_is_told_when_its_marks_change(app):
    workshop, staff, [(_c0, phone), (_c1, other)] = room(app, languages=("en", "en"))
    holder, absent = phone_delegate(0), phone_delegate(1)
    organiser = organiser_of(workshop)
    phone.get_received()
    other.get_received()
    data = {"workshop_id": workshop.id, "holder_id": holder.id, "absent_id": absent.id}
    proxies.assign_proxy(organiser, workshop, parse(ProxyIn, data))
    assert received(phone, "marks") == [{"carries": True}]
    assert received(other, "marks") == []  # only the holder's phones
    proxies.assign_proxy(organiser, workshop, parse(ProxyIn, {**data, "assigned": False}))
    assert received(phone, "marks") == [{"carries": False}]
    admit_delegate(organiser, workshop, parse(AdmitIn, {
        "workshop_id": workshop.id, "delegate_id": absent.id}))
    assert received(other, "marks") == [{"unregistered": False}]
    admit_delegate(organiser, workshop, parse(AdmitIn, {
        "workshop_id": workshop.id, "delegate_id": absent.id, "admitted": False}))
    assert received(other, "marks") == [{"unregistered": True}]


def test_order_keys_are_fixed_and_spread():
    # The same figures as ballot.js's orderKey (tests/browser/test_shared_paper_browser.py).
    for args, key in ORDER_KEYS:
        assert voting.order_key(*args) == key
    # Each of 8 options comes first for about one delegate in 8.
    firsts = Counter(min(range(8), key=lambda o: voting.order_key(7, d, 0, o))
                     for d in range(1, 4001))
    assert set(firsts) == set(range(8))
    assert all(380 < n < 620 for n in firsts.values()), firsts
    # Neighbouring delegates do not share an order.
    orders = {tuple(sorted(range(8), key=lambda o: voting.order_key(7, d, 0, o)))
              for d in range(1, 201)}
    assert len(orders) > 190


def test_a_vote_marks_the_voters_other_pages_only(app):
    workshop, staff, [(client, phone), (_c1, other)], ballot, _step = on_vote_step(
        app, method="approval", languages=("en", "en"))
    second = connect(app, client, workshop, "/d")  # the same delegate in a second browser
    for sock in (phone, second, other):
        sock.get_received()
    choices = {"workshop_id": workshop.id, "ballot_id": ballot.id,
               "choices": [ballot.option_ids[0]]}
    assert phone.emit("ballot.cast", choices, callback=True)["ok"]
    voted = {f"voted:{ballot.id}": True}
    assert received(second, "marks") == [voted]
    assert received(other, "marks") == []  # another delegate
    second.disconnect()
    phone.get_received()
    # From the voter's only page: that page marks itself; nothing is sent.
    assert phone.emit("ballot.cast", choices, callback=True)["ok"]
    assert received(phone, "marks") == []
    # A proxy's cast for a delegate whose phone is open: their phone is told.
    holder = phone_delegate(0)
    proxies.assign_proxy(organiser_of(workshop), workshop, parse(ProxyIn, {
        "workshop_id": workshop.id, "holder_id": holder.id, "absent_id": phone_delegate(1).id}))
    other.get_received()
    assert phone.emit("ballot.cast", {**choices, "on_behalf_of": phone_delegate(1).id},
                      callback=True)["ok"]
    assert received(other, "marks") == [voted]


def test_a_phone_connecting_is_given_its_marks_as_they_are_now(app):
    workshop, _staff, [(client, _phone)], ballot, _step = on_vote_step(app, method="approval")
    cast_vote(phone_delegate(), ballot, [ballot.option_ids[0]])
    db.session.commit()
    again = connect(app, client, workshop, "/d")  # a phone back from sleep
    received = again.get_received()
    assert [m["name"] for m in received[:2]] == ["marks", "state"]
    assert received[0]["args"][0] == {"carries": False, "unregistered": True,
                                      f"voted:{ballot.id}": True}


def test_a_vote_sent_over_http_marks_the_voters_other_page(app):
    workshop, _staff, [(client, phone)], ballot, _step = on_vote_step(app, method="approval")
    phone.get_received()
    # The page that sends has lost its socket (it falls back to HTTP); the other one is online.
    headers = {"X-CSRFToken": csrf_from(client.get("/d").get_data(as_text=True)),
               "Accept": "application/json"}
    sent = client.post(f"/d/ballots/{ballot.id}/vote", headers=headers,
                       json={"choices": [ballot.option_ids[0]]})
    assert sent.get_json()["ok"] is True
    assert received(phone, "marks") == [{f"voted:{ballot.id}": True}]


def test_a_secret_ballots_blank_paper_holds_nothing_of_anyone(app):
    workshop, staff, [(_client, phone)], ballot, vote_step = on_vote_step(
        app, method="approval", secret=True)
    cast_vote(phone_delegate(), ballot, [ballot.option_ids[0]], secret="ab" * 16)
    db.session.commit()
    go(staff, workshop, vote_step, phone)
    part = states(phone)[0]["phone"]
    html = inflate(part)
    assert 'data-secret="true"' in html
    assert 'data-voted="false"' in html
    assert "replace_lost" not in html  # only on a voter's own paper, fetched
    assert 'class="receipt-code"></b>' in html  # no receipt
    assert f"voted:{ballot.id}" in part["fetch_if"]  # this phone's delegate fetches theirs


def test_a_results_step_is_drawn_for_everyone_only_before_any_ballot(app):
    workshop, staff, [(_client, phone)] = room(app)
    create_lines(workshop, 3)
    go_to_kind(workshop, "results")
    results_step = workshop.current_step_id
    go(staff, workshop, workshop.steps[1].id)
    go(staff, workshop, results_step, phone)
    assert "no-ballot" in inflate(states(phone)[0]["phone"])
    ballot = open_test_ballot(workshop, "approval")
    voting.close_ballot(organiser_of(workshop), workshop, ballot)
    db.session.commit()
    go(staff, workshop, workshop.steps[1].id)
    go(staff, workshop, results_step, phone)
    assert "phone" not in states(phone)[0]  # results and receipts: each phone's own
