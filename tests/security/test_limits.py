"""Limits: one phone or one script cannot flood the room, guess codes, or log in by force."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_limiter._extension import LimiterContext

from config import TestConfig
from tests.conftest import app_for
from tests.helpers import (
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    join,
    login,
)
from workshop.errors import Conflict
from workshop.extensions import db, socketio
from workshop.proposals import services as proposal_services
from workshop.proposals.models import Proposal
from workshop.throttle import Throttle, TokenBuckets, kind_of


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_and_holds_its_burst():
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("b")  # another key has its own bucket
    clock.now = 0.5
    assert buckets.allow("a")
    assert not buckets.allow("a")
    clock.now = 100
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]


def test_a_socket_refused_again_and_again_is_disconnected():
    clock = Clock()
    throttle = Throttle({"write": (1, 2), "typing": (5, 10), "read": (5, 10)},
                        strikes_to_disconnect=3, clock=clock)
    verdicts = [throttle.check("proposal.create", "sid", lambda: "delegate:1") for _ in range(6)]
    assert verdicts == ["ok", "ok", "refused", "refused", "disconnect", "disconnect"]
    # Reads and typing have buckets of their own: a flood of writes does not block them.
    assert throttle.check("state.sync", "sid", lambda: "delegate:1") == "ok"
    assert kind_of("plan.edit") == "typing"
    clock.now = 10
    assert throttle.check("proposal.create", "sid", lambda: "delegate:1") == "ok"


def test_events_of_a_socket_still_queued_when_it_closed_are_refused():
    # A flood is dropped while many of its events are still waiting for a greenlet: those
    # must not find a fresh bucket (on PostgreSQL a second burst of ten got through).
    clock = Clock()
    throttle = Throttle({"write": (2, 10), "typing": (5, 10), "read": (5, 10)}, clock=clock)
    assert [throttle.check("proposal.create", "sid", lambda: None) for _ in range(11)].count(
        "ok") == 10
    throttle.closed("sid")
    assert {throttle.check("proposal.create", "sid", lambda: None) for _ in range(20)} == {
        "refused"}
    clock.now = 5  # refilled (and prunable) like any bucket
    assert throttle.check("proposal.create", "sid", lambda: None) == "ok"


def test_a_persons_sockets_share_a_budget():
    throttle = Throttle({"write": (0.001, 2), "typing": (1, 1), "read": (1, 1)})
    got = [throttle.check("proposal.support", f"sid{i}", lambda: "delegate:7") for i in range(6)]
    assert got.count("ok") == 4  # two sockets' worth (a person has twice a socket's burst)


class Limited(TestConfig):
    """Limits on, small enough to reach in a test."""

    RATELIMIT_ENABLED = True
    GUESS_LIMIT = "3 per minute"
    LOGIN_LIMIT = "3 per minute"
    SOCKET_LIMIT_WRITE = "0.01/3"
    SOCKET_STRIKES = 5


@pytest.fixture
def limited(monkeypatch):
    """An app with the limits on."""
    with app_for(Limited, monkeypatch) as limited:
        yield limited


def test_guessed_codes_are_limited_not_joins(limited):
    client = limited.test_client()
    token = csrf_from(client.get("/").text)
    answers = [client.post("/", data={"code": f"ZZZZZ{i}", "csrf_token": token}).status_code
               for i in range(4)]
    assert answers == [422, 422, 422, 429]
    assert "Too many attempts" in client.post("/", data={"code": "ZZZZZ9",
                                                          "csrf_token": token}).text
    assert limited.test_client().get("/j/NOSUCH").status_code == 404  # same address: counted
    workshop = create_workshop()
    org = create_organisation()
    for n in range(5):  # people who join are not guessing
        assert join(limited.test_client(), workshop, org, name=f"P{n}").status_code == 302


def test_password_guessing_is_limited(limited):
    user = create_user("organiser")
    client = limited.test_client()
    for _ in range(3):
        token = csrf_from(client.get("/login").text)
        assert client.post("/login", data={"email": user.email, "password": "wrong-password",
                                           "csrf_token": token}).status_code == 422
    assert login(client, user).status_code == 429


def test_a_socket_event_leaves_the_http_limits_state_alone(limited, monkeypatch):
    """Flask-Limiter's state is reset after each page request that made it, never made for a
    socket event only to be reset (none of its limits applies to one)."""
    resets = []
    reset = LimiterContext.reset

    def counted(context: LimiterContext) -> None:
        resets.append(context)
        reset(context)

    monkeypatch.setattr(LimiterContext, "reset", counted)
    workshop = create_workshop()
    client = limited.test_client()
    join(client, workshop, create_organisation())
    sock = socketio.test_client(limited, flask_test_client=client,
                                auth={"workshop": workshop.id,
                                      "csrf": csrf_from(client.get("/d").text)})
    resets.clear()
    for _ in range(3):
        assert sock.emit("state.sync", {"workshop_id": workshop.id}, callback=True)["ok"]
    assert resets == []
    assert client.get("/d").status_code == 200
    assert len(resets) == 1


def test_a_flooding_socket_is_refused_then_dropped_and_stores_at_most_the_limit(limited):
    workshop = create_workshop(steps=2)
    go_to_kind(workshop, "propose")
    client = limited.test_client()
    join(client, workshop, create_organisation())
    sock = socketio.test_client(limited, flask_test_client=client,
                                auth={"workshop": workshop.id,
                                      "csrf": csrf_from(client.get("/d").text)})
    acks = []
    for i in range(20):
        if not sock.is_connected():
            break
        acks.append(sock.emit("proposal.create", {
            "workshop_id": workshop.id, "title": f"Flood {i}", "theme": "decent_work",
            "level": "national"}, callback=True))
    assert [a["ok"] for a in acks[:3]] == [True, True, True]
    assert {a["error"] for a in acks[3:]} == {"rate_limited"}
    assert not sock.is_connected()
    assert len(acks) < 20
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 3


def test_one_delegate_has_a_cap_of_lines_of_work(app, monkeypatch):
    monkeypatch.setattr(proposal_services, "PROPOSALS_PER_DELEGATE", 2)
    workshop = create_workshop(steps=2)
    from tests.helpers import create_delegate

    delegate = create_delegate(workshop)
    create_proposal(workshop, delegate)
    create_proposal(workshop, delegate)
    with pytest.raises(Conflict, match="at most 2"):
        create_proposal(workshop, delegate)
    assert create_proposal(workshop).id  # others still can


class BehindProxy(Limited):
    """The same limits behind one reverse proxy (TRUSTED_PROXIES=1)."""

    TRUSTED_PROXIES = 1


def guesses(app, forwarded_for: str) -> list[int]:
    """Statuses of two wrong join codes sent from a client the proxy names `forwarded_for`."""
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for}
    token = csrf_from(client.get("/", headers=headers).text)
    return [client.post("/", data={"code": f"ZZZZZ{i}", "csrf_token": token},
                        headers=headers).status_code for i in range(2)]


@pytest.mark.parametrize(("config", "own_budgets"), [(BehindProxy, True), (Limited, False)])
def test_behind_a_proxy_each_phone_has_its_own_budget(monkeypatch, config, own_budgets):
    """Behind the proxy the address is the hop the proxy added (what a client puts before it
    is its own invention and ignored); with no trusted proxy the header is not read at all."""
    with app_for(config, monkeypatch) as app:
        assert guesses(app, "198.51.100.1") == [422, 422]
        # The same phone, pretending to be elsewhere: the proxy appends its real address.
        assert guesses(app, "203.0.113.9, 198.51.100.1") == [422, 429]
        # Another phone in the room.
        assert guesses(app, "198.51.100.2") == ([422, 422] if own_budgets else [429, 429])
