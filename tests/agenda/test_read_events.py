"""Read-only socket events run outside a transaction on PostgreSQL (no BEGIN and ROLLBACK
round trips); every other event keeps its transaction, and SQLite is left as it is."""

from __future__ import annotations

import sqlalchemy as sa

from tests.agenda.test_events import staff_and_phone
from tests.helpers import create_lines, open_test_ballot
from workshop.extensions import db


def isolation_of_statements(call) -> tuple[set, object]:
    """The isolation level each statement run during `call` was given, and its result.

    The test's session is ended first and after: in the tests a socket event runs in the
    test's app context, so its session (on the real server each event has its own).
    """
    levels: set = set()
    db.session.commit()

    def seen(conn, cursor, statement, parameters, context, executemany):
        levels.add(conn.get_execution_options().get("isolation_level"))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        result = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
        db.session.close()
    return levels, result


def test_reads_run_outside_a_transaction_on_postgresql_only(app):
    workshop, staff, phone = staff_and_phone(app)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    outside = {"AUTOCOMMIT"} if db.engine.dialect.name == "postgresql" else {None}
    # (state.sync is answered by a group read, in a batch of its own: see test_sync.py)
    payload = {"workshop_id": workshop.id, "ballot_id": ballot.id}  # read before, not during
    levels, ack = isolation_of_statements(lambda: phone.emit("ballot.sync", payload,
                                                             callback=True))
    assert ack["ok"] is True, ack
    assert levels == outside


def test_a_write_keeps_its_transaction(app):
    workshop, staff, _phone = staff_and_phone(app)
    levels, ack = isolation_of_statements(lambda: staff.emit(
        "agenda.goto", {"workshop_id": workshop.id, "step_id": workshop.steps[1].id},
        callback=True))
    assert ack["ok"] is True, ack
    assert levels == {None}
