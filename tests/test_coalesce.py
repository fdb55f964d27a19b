"""The coalescer (workshop/coalesce.py) and what the counts of lines send through it
(workshop/proposals/live.py): several lines in one message, lines gone left out, and the items
of an update that failed sent with the next one; updates wait while writes are under way."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Hashable

from tests.helpers import create_proposal, create_workshop
from workshop import coalesce
from workshop.coalesce import Coalescer
from workshop.extensions import db
from workshop.group_commit import QUIET, RUSH, GroupCommit, busy
from workshop.live import workshop_room
from workshop.proposals import live


def test_one_line_is_sent_as_its_counts_and_several_as_one_message_without_lines_gone(app):
    workshop = create_workshop(steps=3)
    kept, other, hidden, merged = (create_proposal(workshop, title=f"Line {n}")
                                   for n in range(4))
    hidden.hidden = True
    merged.merged_into_id = kept.id
    db.session.commit()

    [(event, payload, room)] = live._counts(workshop.id, frozenset({kept.id}))
    assert (event, payload["id"], room) == ("proposal.counts", kept.id,
                                             workshop_room(workshop.id))
    assert payload["members"] == [kept.id, merged.id]

    [(event, payload, room)] = live._counts(
        workshop.id, frozenset({kept.id, other.id, hidden.id, merged.id}))
    assert event == "proposal.counts.many"
    assert room == workshop_room(workshop.id)
    assert sorted(line["id"] for line in payload["lines"]) == [kept.id, other.id]

    assert live._counts(workshop.id, frozenset({hidden.id, merged.id})) == []
    assert live._counts(workshop.id, frozenset()) == []


class _Logged(logging.Handler):
    """Says when a record is logged."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.set()


def test_the_items_of_an_update_that_failed_go_with_the_next_announcement(app):
    logged = _Logged()
    app.logger.addHandler(logged)
    asked: queue.Queue[frozenset] = queue.Queue()
    failing = {"now": False}

    def messages(_key: Hashable, items: frozenset) -> list:
        asked.put(items)
        if failing["now"]:
            raise RuntimeError("the database is down")
        return []

    coalescer = Coalescer(messages)
    coalescer.configure(app, 60.0)
    coalescer.announce(db.session, "w1", "a")  # the first after a quiet spell: at once
    db.session.commit()
    assert asked.get(timeout=10) == {"a"}  # read after the commit, by a task

    failing["now"] = True
    coalescer.announce(db.session, "w1", "b")  # within the interval: later, by a task
    coalescer._last["w1"] = 0.0  # the interval has passed: the task runs at once
    db.session.commit()
    assert asked.get(timeout=10) == {"b"}  # and fails
    assert logged.seen.wait(timeout=10)  # logged once its items are kept

    failing["now"] = False
    coalescer._last["w1"] = 0.0  # a quiet spell again
    coalescer.announce(db.session, "w1", "c")
    db.session.commit()
    assert asked.get(timeout=10) == {"b", "c"}  # b's counts were never sent: with c's now
    app.logger.removeHandler(logged)


def _held_batch(app, request, commit: GroupCommit) -> tuple[threading.Thread, threading.Event]:
    """A batch of `commit` running in a thread until the returned event is set (at the
    latest when the test ends)."""
    started, release = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        release.wait(timeout=30)

    def run() -> None:
        with app.app_context():
            commit.submit(work)

    writer = threading.Thread(target=run)
    request.addfinalizer(lambda: (release.set(), writer.join(timeout=10)))
    writer.start()
    assert started.wait(timeout=10)
    return writer, release


def test_an_update_waits_while_writes_are_under_way_and_no_longer_than_max_defer(
        app, request, monkeypatch):
    asked: queue.Queue[frozenset] = queue.Queue()

    def messages(_key: Hashable, items: frozenset) -> list:
        asked.put(items)
        return []

    coalescer = Coalescer(messages)
    coalescer.configure(app, 60.0)
    commit = GroupCommit()
    waited = threading.Event()  # the update's task found writes under way

    def watched_busy() -> bool:
        answer = busy()
        if answer:
            waited.set()
        return answer

    monkeypatch.setattr(coalesce, "busy", watched_busy)

    writer, release = _held_batch(app, request, commit)
    coalescer.announce(db.session, "w1", "a")  # due at once, but a batch is running
    db.session.commit()
    assert waited.wait(timeout=10)
    assert asked.empty()  # not sent while the batch runs
    release.set()
    writer.join(timeout=10)
    assert asked.get(timeout=10) == {"a"}  # sent once it has ended

    monkeypatch.setattr(coalesce, "MAX_DEFER", 0.2)
    writer, release = _held_batch(app, request, commit)
    coalescer._last["w1"] = 0.0  # a quiet spell
    coalescer.announce(db.session, "w1", "b")
    db.session.commit()
    assert asked.get(timeout=10) == {"b"}  # sent after MAX_DEFER though writes go on
    assert writer.is_alive()
    assert busy()
    release.set()
    writer.join(timeout=10)


def test_a_rush_keeps_the_group_commit_busy_a_moment_and_a_trickle_only_while_it_writes(app):
    commit = GroupCommit()
    with app.app_context():
        commit.submit(lambda: None)  # a lone write, its batch ended
    assert not commit.busy(time.monotonic())  # a trickle keeps nothing waiting

    with app.app_context():
        for _ in range(RUSH - 1):
            commit.submit(lambda: None)
    oldest = commit._submitted[0]  # RUSH writes, the first of them at `oldest`
    assert commit.busy(oldest + QUIET / 2)  # more may be on their way: a moment more
    assert not commit.busy(oldest + QUIET * 2)  # none for a while: the rush is over


class _Queue(list):
    """A group commit's queue that says when two writes wait in it."""

    def __init__(self) -> None:
        super().__init__()
        self.two = threading.Event()

    def append(self, write: object) -> None:
        super().append(write)
        if len(self) >= 2:
            self.two.set()


def test_a_batch_of_several_keeps_the_group_commit_busy_a_moment_after_it_ended(app, request):
    """Its writers, woken, have yet to answer: a broadcast waits for them."""
    commit = GroupCommit()
    first, release = _held_batch(app, request, commit)

    def write() -> None:
        with app.app_context():
            commit.submit(lambda: None)

    with commit._lock:  # the first batch took its queue: the next one says when two wait
        commit._queue = _Queue()
        two = commit._queue.two
    others = [threading.Thread(target=write) for _ in range(2)]
    for other in others:
        other.start()
    assert two.wait(timeout=10)
    release.set()
    for writer in (first, *others):
        writer.join(timeout=10)
    assert list(commit.batches)[-2:] == [1, 2]
    ended = commit._several_ended
    assert commit.busy(ended + QUIET / 2)
    assert not commit.busy(ended + QUIET * 2)
