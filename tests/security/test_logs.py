"""Log hygiene: a failed socket event is logged by name and error kind, never with its payload
(a ballot's choices and secret), and a flood of failures costs a few lines and a count."""

from __future__ import annotations

import logging

import pytest

from tests.agenda.test_events import connect
from tests.helpers import create_lines, create_organisation, create_workshop, join, open_test_ballot
from workshop.sockets import BUDGETED_LOGGERS
from workshop.throttle import BudgetFilter, LogBudget
from workshop.voting import casting as voting_casting

SECRET = "5ec7e75ec7e75ec7e75ec7e75ec7e75e"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Fresh log budgets (1 line a second, 20 at once) on a clock the test moves."""
    clock = Clock()
    budget = LogBudget(rate=1.0, burst=20.0, clock=clock)
    for name in BUDGETED_LOGGERS:
        for found in logging.getLogger(name).filters:
            if isinstance(found, BudgetFilter):
                monkeypatch.setattr(found, "budget", budget)
    return clock


@pytest.fixture
def failing_cast(app, client, monkeypatch):
    """A phone's socket on an open ballot whose casting fails with an error that quotes what
    it was given (as a database error would)."""
    workshop = create_workshop(steps=5)
    ids = [p.id for p in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, secret=True)
    join(client, workshop, create_organisation())
    sock = connect(app, client, workshop)

    def broken(sender, workshop_id, data):
        raise RuntimeError(f"could not store choices={data.choices} secret={data.secret}")

    monkeypatch.setattr(voting_casting, "cast_sent_vote", broken)
    payload = {"workshop_id": workshop.id, "ballot_id": ballot.id,
               "choices": [ids[2], ids[0]], "secret": SECRET}
    return sock, payload, ids


def test_a_failed_cast_logs_its_name_and_error_not_its_choices_or_secret(failing_cast, clock,
                                                                        caplog):
    sock, payload, ids = failing_cast
    with caplog.at_level(logging.INFO):
        ack = sock.emit("ballot.cast", payload, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "server"
    [line] = [r.getMessage() for r in caplog.records if r.name == "workshop.sockets"]
    assert "ballot.cast" in line
    assert "RuntimeError" in line
    assert SECRET not in caplog.text
    assert SECRET[:8] not in caplog.text
    assert "choices=" not in caplog.text
    assert str(payload["choices"]) not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


def test_a_flood_of_failures_is_a_few_lines_and_a_count(failing_cast, clock, caplog):
    sock, payload, ids = failing_cast
    with caplog.at_level(logging.INFO):
        for _ in range(1000):
            sock.emit("ballot.cast", payload, callback=True)
        lines = [r.getMessage() for r in caplog.records if r.name == "workshop.sockets"]
        assert len(lines) == 20
        assert len(caplog.text) < 20 * 300
        clock.now = 1.0
        sock.emit("ballot.cast", payload, callback=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "workshop.sockets"]
    assert len(lines) == 21
    assert "(980 similar lines not logged)" in lines[-1]
    assert SECRET not in caplog.text


def test_the_socket_libraries_logs_are_budgeted_and_short(app, clock, caplog):
    logger = logging.getLogger("engineio.server")
    with caplog.at_level(logging.ERROR, logger="engineio.server"):
        for _ in range(500):
            try:
                raise ValueError(f"bad packet {SECRET}")
            except ValueError:
                logger.exception("message async handler error")
    records = [r for r in caplog.records if r.name == "engineio.server"]
    assert len(records) == 20
    assert SECRET not in caplog.text
    assert "ValueError" in records[0].getMessage()
    assert "Traceback" not in caplog.text
