"""Sockets closing together share one batch: one read of their delegates, one commit, each
delegate's count right (see workshop/agenda/presence.py)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.agenda.test_events import staff_and_phone
from tests.helpers import create_delegate, create_organisation, create_workshop
from tests.voting.test_group_commit import Callers
from workshop.agenda.models import Delegate
from workshop.agenda.presence import closings, count_connection, mark_disconnected
from workshop.extensions import db


def counts(ids: list[int]) -> list[int]:
    db.session.expire_all()
    return [db.session.get(Delegate, i).connections for i in ids]


def test_sockets_closing_together_are_counted_in_one_batch(app):
    workshop = create_workshop()
    org = create_organisation()
    people = [create_delegate(workshop, org) for _ in range(3)]
    for delegate in people:
        count_connection(delegate, +1)
    count_connection(people[0], +1)  # two phones
    db.session.commit()
    ids = [d.id for d in people]
    delegate_reads: list[str] = []
    commits: list[bool] = []

    def read(conn, cursor, sql, *args):
        if sql.lstrip().startswith("SELECT delegate.id"):
            delegate_reads.append(sql)

    def commit(conn):
        commits.append(True)

    sa.event.listen(db.engine, "before_cursor_execute", read)
    sa.event.listen(db.engine, "commit", commit)
    try:
        group = closings()
        callers = Callers(app, group)
        commits.clear()
        for n, delegate_id in enumerate([*ids, ids[0], 10**9]):  # and one removed meanwhile
            callers.add(f"closed {n}", lambda i=delegate_id: mark_disconnected(i))
        outcomes = callers.finish()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", read)
        sa.event.remove(db.engine, "commit", commit)
    assert list(group.batches)[-2:] == [1, 5]
    assert list(group.modes)[-1] == "at once"
    assert all(outcome is None for name, outcome in outcomes.items() if name != "leader")
    assert len(delegate_reads) == 1  # the batch read its delegates (and organisations) once
    assert len(commits) == 2  # the leader's batch, then one for the five closings
    assert counts(ids) == [0, 0, 0]


def test_a_phone_closing_its_socket_tells_the_console_it_went_offline(app):
    workshop, staff, phone = staff_and_phone(app)
    staff.get_received()
    phone.disconnect()
    seen = [m["args"][0] for m in staff.get_received() if m["name"] == "delegate"]
    assert len(seen) == 1
    assert seen[0]["online"] is False
    assert counts([seen[0]["id"]]) == [0]
