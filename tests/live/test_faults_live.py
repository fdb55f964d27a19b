"""Faults while hundreds of phones vote: one of two server processes killed, the Redis message
queue restarted, PostgreSQL stopped for a while. In each case every receipt a phone holds
stands for a paper stored exactly once, the phones finish voting by themselves, the running
totals equal the stored papers, and no phone is ever told anything but a clear answer.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, serving
from tests.helpers import create_organisation
from tests.live.clients import Person
from tests.live.mid_ballot import (
    PHONES,
    assert_every_receipt_stored_once,
    open_secret_ranking,
    phones_of,
    retried,
    voting,
)
from tests.servers import PostgresCluster, RedisServer
from workshop.extensions import db

pytestmark = pytest.mark.live

#: How long PostgreSQL stays stopped (the issue's 10 s unless the environment says otherwise).
OUTAGE = float(os.environ.get("FAULT_OUTAGE_SECONDS", "10"))
#: Answers a phone may get while something is down: "try again" ones, each with a message.
CLEAR = {"unavailable", "rate_limited"}


def test_one_of_two_processes_killed_mid_ballot_loses_and_doubles_no_vote(
        live: LiveServer, two_processes, tmp_path: Path):
    (url_a, proc_a), (url_b, _proc_b) = two_processes
    setup = open_secret_ranking()
    people = phones_of(live.app, live.env["SECRET_KEY"], setup, PHONES)
    with voting([url_a, url_b], setup, people, tmp_path) as voters:
        voters.wait_for_receipts(PHONES // 3)
        proc_a.kill()  # SIGKILL: its phones go to B, as the proxy would send them
        proc_a.wait(timeout=10)
    report = voters.report
    print(f"{PHONES} phones on two processes; {retried(report)} sent again after one died")
    assert retried(report) > 0
    assert set(report["told"]) <= CLEAR
    assert_every_receipt_stored_once(setup, people, report)


def test_redis_restarted_mid_ballot_loses_no_vote_and_broadcasts_come_back(
        live: LiveServer, redis: RedisServer, two_processes, tmp_path: Path):
    (url_a, _a), (url_b, _b) = two_processes
    setup = open_secret_ranking()
    people = phones_of(live.app, live.env["SECRET_KEY"], setup, PHONES)
    with voting([url_a, url_b], setup, people, tmp_path) as voters:
        voters.wait_for_receipts(PHONES // 3)
        redis.stop()
        # Votes go on without the queue: a receipt needs the database, not Redis.
        voters.wait_for_receipts(2 * PHONES // 3)
        redis.start()
    report = voters.report
    assert set(report["told"]) <= CLEAR
    assert_every_receipt_stored_once(setup, people, report)

    # Broadcasts pass between the processes again once Redis is back: the console on A moves
    # the agenda and a phone on B is told. The queue's listener reconnects with a back-off, so
    # the facilitator may have to press more than once, as they would.
    workshop = setup.workshop
    staff = Person(url_a).login(setup.facilitator.email, workshop.id)
    phone = Person(url_b).join(workshop.join_code, create_organisation().id, "Anjali")
    try:
        staff.connect(workshop.id)
        phone.connect(workshop.id)
        phone.next_event("state")
        assert heard_across(staff, phone, workshop.id, [s.id for s in workshop.steps[1:3]])
    finally:
        staff.close()
        phone.close()


def heard_across(staff: Person, phone: Person, workshop_id: int, steps: list[int]) -> bool:
    """Move the agenda from `staff` (pressing again every 2 s, for up to 30 s) until `phone`
    is told of the very step moved to."""
    deadline = time.monotonic() + 30
    press = 0
    while time.monotonic() < deadline:
        target = steps[press % len(steps)]
        press += 1
        phone.drain()
        assert staff.call("agenda.goto", {"workshop_id": workshop_id, "step_id": target})["ok"]
        try:
            if phone.next_event("state", timeout=2)["step"]["id"] == target:
                return True
        except queue.Empty:  # not yet: the listener is still reconnecting
            continue
    return False


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL of the test's own: the test stops and starts it."""
    server = PostgresCluster.available()
    if server is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs it)")
    server.init()
    try:
        yield server
    finally:
        server.remove()


def test_postgresql_stopped_mid_ballot_gives_a_clear_error_and_loses_nothing(
        postgres: PostgresCluster, tmp_path: Path):
    with serving(postgres.url(), tmp_path) as server, server.app.app_context():
        setup = open_secret_ranking()
        workshop = setup.workshop
        people = phones_of(server.app, server.env["SECRET_KEY"], setup, PHONES)
        watcher = Person(server.url).join(workshop.join_code, create_organisation().id, "Ama")
        watcher.connect(workshop.id)
        db.session.remove()
        with voting([server.url], setup, people, tmp_path) as voters:
            voters.wait_for_receipts(PHONES // 3)
            postgres.stop()
            began = time.monotonic()
            # What a phone is told meanwhile: a clear answer, on the socket and on a page.
            ack = watcher.call("state.sync", {"workshop_id": workshop.id})
            assert ack["ok"] is False
            assert ack["error"] == "unavailable", ack
            assert "database" in ack["message"]
            page = watcher.http.get(f"{server.url}/d", timeout=10)
            assert page.status_code == 503
            assert page.headers["Retry-After"] == "5"
            assert "database just now" in page.text
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - began)))  # the outage itself
            postgres.start()
        report = voters.report
        print(f"{PHONES} phones; {retried(report)} sent again; told {report['told']}")
        assert set(report["told"]) <= CLEAR
        assert_every_receipt_stored_once(setup, people, report)
        # And the phone that watched is served again.
        assert watcher.call("state.sync", {"workshop_id": workshop.id})["ok"] is True
        watcher.close()
