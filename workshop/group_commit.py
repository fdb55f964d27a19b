"""Group commit: writes that arrive together share one transaction and one commit.

A thousand phones voting within a second would be a thousand transactions, each with its own
commit (an fsync on SQLite) and its own turn at the locks of the running totals. Instead the
first write to arrive leads: it takes every write queued so far and runs them in one
transaction, each in a savepoint of its own (a refused or failed write undoes only its own
rows), commits once, and only then wakes each waiting caller with its outcome, so an answer
still follows a durable commit. Writes that arrived meanwhile are led by the first of them.
There is no waiting window: alone, a write is a batch of one and costs what it did before;
under load, batches grow by themselves (PostgreSQL's own group commit works the same way).

Under load most writes succeed, so a group commit may run them all at once instead (`refusals`):
with no savepoint each, their rows flushed together (one multi-row INSERT per table rather than
one per write), a write refused by one of `refusals` having promised to raise before it changed
anything. Any other failure (an unexpected error, a refusal that left changes behind, a flush
that met another process's row) undoes the whole attempt and the batch runs again, each write in
its savepoint: the outcome is the same either way, only the cost differs.

The batch runs in an application context of its own, so in a database session of its own:
a write must not use objects of the caller's session (load them again by id). On SQLite the
transaction starts with `BEGIN IMMEDIATE`: the batch holds the write lock from its first
read, so what it checks (a ballot still open) cannot change before it commits.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from workshop.extensions import db
from workshop.live import has_pending

T = TypeVar("T")

#: Casts queued beyond this wait for the next batch (a batch's latency stays bounded).
MAX_BATCH = 200

#: A rush: this many writes submitted within `QUIET` seconds (200 a second); the group commit
#: stays busy until it has passed (see `busy`).
RUSH = 20
QUIET = 0.1


def begin_writing(session: Session) -> None:
    """Start the session's transaction as a writer: on SQLite take the write lock now.

    SQLite's driver would begin only at the first INSERT, after the reads that decided what
    to write; a savepoint opened before that would even commit on release.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def end_callers_reads() -> None:
    """Commit the caller's transaction, if it has one, before it waits on a group commit or
    read: its connection goes back to the pool meanwhile, and afterwards its objects are read
    again, as after any commit. A socket event has usually read nothing, and has no session:
    none is made just to ask (making one and removing it was 7 % of a burst of re-reads)."""
    if db.session.registry.has() and db.session().in_transaction():
        db.session.commit()


#: Where a connection notes that its transaction sent a statement other than a SELECT.
_WROTE = "group_commit.wrote"


@sa.event.listens_for(sa.Engine, "begin")
def _began(connection: sa.Connection) -> None:
    connection.info[_WROTE] = False


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _note_writes(connection: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
    """Anything but a SELECT (an INSERT, a flush's statements, a savepoint) marks the
    transaction as one that may have written; a COPY, sent past these events, marks it in
    `_copy`."""
    if not statement.startswith("SELECT"):
        connection.info[_WROTE] = True


def end_reads(session: Session) -> bool:
    """On PostgreSQL, end the session's transaction with a COMMIT if it only read; True if
    it did. Otherwise nothing is done here: the caller ends it as before (a rollback).

    Why: psycopg forgets every statement it has prepared on a connection at each ROLLBACK
    (DDL undone could leave them pointing at nothing), and every read of a request, socket
    event or group read ended in one, so PostgreSQL planned every statement each time it ran:
    the login's five-table join took 0.44 ms to plan and 0.05 to run, on every socket that
    connects. A read-only transaction ends the same either way; only one that sent nothing
    but SELECTs, has no ORM change pending, no row queued and nothing waiting for its commit
    (a broadcast queued by a change that was then given up) is committed, so nothing
    half-written is ever kept or announced; and its objects are not expired (a streamed
    export goes on reading those its view loaded, as after the session's close)."""
    if (not session.in_transaction() or session.get_bind().dialect.name != "postgresql"
            or any(_unwritten(session)) or has_pending(session)):
        return False
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        if session.connection().info.get(_WROTE) is not False:
            return False
        session.commit()
        return True
    except sa.exc.SQLAlchemyError:  # the connection lost, say: the caller's ending follows
        return False
    finally:
        session.expire_on_commit = expire


def among(column: Any, values: Any) -> sa.ColumnElement[bool]:
    """`column IN values` for a batch's reads: on PostgreSQL one array parameter (`= ANY`).

    An IN list of a batch's 200 ids is 200 placeholders, a statement psycopg converts in
    Python each time (it caches none of over 4 KB): about 1 ms of CPU a read, several reads a
    batch. With the array the statement is short and the same for every batch."""
    values = list(values)
    if not values:
        return sa.false()
    if db.engine.dialect.name != "postgresql":
        return column.in_(values)
    return column == sa.any_(sa.bindparam(None, values, type_=sa.ARRAY(column.type)))


def held(name: str) -> dict:
    """Rows this transaction has locked, under `name`, to use again rather than read again.

    Emptied when the transaction commits or rolls back, and when a savepoint rolls back (its
    locks may go with it): a row found here was read in this transaction, now, and is locked
    by it if the read asked for a lock (a group commit's do; a group read's take none).
    """
    return db.session.info.setdefault(("held", name), {})


def held_row(name: str, key: Any, read: Callable[[], Any]) -> Any:
    """The row this transaction holds under `name` and `key` (None: known to be absent), else
    the one `read()` selects, held from now on."""
    rows = held(name)
    if key not in rows:
        rows[key] = db.session.scalar(read())
    return rows[key]


def hold_rows(name: str, keys: Any, rows: Any, key_of: Callable[[Any], Any]) -> None:
    """Hold the `rows` one query read for all of `keys`, each under `key_of(row)`; a key that
    no row answered is held as None (known to be absent, not read again)."""
    kept = held(name)
    kept.update(dict.fromkeys(keys, None))
    kept.update((key_of(row), row) for row in rows)


def held_by_id(name: str, model: type, row_id: int, lock: Callable[[sa.Select], sa.Select]
               = lambda query: query) -> Any:
    """`held_row` for a row of `model` by its id (`lock` may add a lock to the read)."""
    return held_row(name, row_id, lambda: lock(sa.select(model).where(model.id == row_id)))


def hold_by_ids(name: str, model: type, ids: set[int], *options: Any,
                lock: Callable[[sa.Select], sa.Select] = lambda query: query) -> None:
    """`hold_rows` for the rows of `model` with these ids, read in one query (with `options`,
    and the lock `lock` adds; in id order, so that batches lock alike); nothing to read,
    no query."""
    if ids:
        hold_rows(name, ids, db.session.scalars(lock(
            sa.select(model).options(*options).where(among(model.id, ids)).order_by(model.id))),
            lambda row: row.id)


#: The models whose new rows a flush numbers first (see `number_new_rows`).
_NUMBERED: set[type] = set()


def number_new_rows(model: type) -> None:
    """Have every flush on PostgreSQL give the session's new rows of `model` their ids from
    the table's own sequence first, in one query, when there are at least two of them.

    Rows whose ids the database chooses are inserted together as one multi-row INSERT …
    RETURNING: for a batch of 200 new lines of work, thousands of placeholders that psycopg
    converts in Python on every batch (it caches no statement of more than 50 parameters),
    and a new statement for PostgreSQL to parse. Numbered first, they go as one short
    INSERT sent for each row in psycopg's pipeline, converted once and parsed once. The ids
    are the sequence's, as the database would have given them (a rollback leaves gaps, as
    it always did).
    """
    _NUMBERED.add(model)


@sa.event.listens_for(Session, "before_flush")
def _number_new_rows(session: Session, context: Any, instances: Any) -> None:
    """Number the flush's new rows of the registered models (PostgreSQL, two or more of a
    model): one query per model, before the unit of work decides how to insert them."""
    if not session._new or session.get_bind().dialect.name != "postgresql":
        return
    unnumbered: dict[type, list[Any]] = {}
    for row in session.new:
        if type(row) in _NUMBERED and row.id is None:
            unnumbered.setdefault(type(row), []).append(row)
    for model, rows in unnumbered.items():
        if len(rows) < 2:
            continue
        ids = _next_ids(session.connection(), model.__table__, len(rows))
        for row, row_id in zip(rows, ids, strict=True):
            row.id = row_id


def _next_ids(connection: sa.Connection, table: sa.Table, n: int) -> list[int]:
    """The next `n` ids of the table's sequence (PostgreSQL), in one query."""
    return list(connection.execute(sa.text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": n}).scalars())


def _numbered_table(table: sa.Table) -> bool:
    return any(model.__table__ is table for model in _NUMBERED)


#: Where a session keeps the rows it will insert without the ORM (see `insert_later`), and
#: what its writes added up for rows it will change (see `add_later`).
_LATER = "group_commit.later"
_ADDED = "group_commit.added"


def insert_later(table: sa.Table, row: dict[str, Any]) -> Queued:
    """Have `row` inserted into `table` when the session next flushes the ORM's rows (before
    a statement unless under `no_autoflush`, after a flush that wrote any, at a commit, a
    savepoint's too), after them, with the other rows queued for it in one statement.

    For the rows a batch adds by the hundred (a cast's paper and participation): made into
    objects and flushed by the ORM's unit of work, they cost the batch more than everything
    it checks. Such a row is not in the session: the caller keeps the dict (changing it before
    it is written changes what is written) and reads the row back to change it afterwards.
    A rollback of the transaction drops it, and so does a savepoint's rollback, of every row
    still queued then: write them first (`write_later`) if rows queued before a savepoint
    must outlive it, as a group commit does before each write's savepoint. A row of a
    `number_new_rows` model queued without an id gets one when it is written (`row["id"]`:
    the sequence's on PostgreSQL, drawn first; elsewhere the database's, returned).
    Returns the row as the batch holds it (`Queued`).
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the row belongs to a transaction: it ends with it, however
    session.info.setdefault(_LATER, {}).setdefault(table, []).append(row)
    return Queued(row)


def drop_later(table: sa.Table, row: dict[str, Any]) -> bool:
    """Take `row` (this very dict) off the rows queued for `table`: False when it is not
    queued (written already, or never queued)."""
    rows = db.session().info.get(_LATER, {}).get(table, [])
    for n, queued in enumerate(rows):
        if queued is row:
            del rows[n]
            return True
    return False


@dataclass(eq=False)
class Queued:
    """A row a batch queued with `insert_later`, held for the batch's later writes as its
    row: they read its columns as attributes (a numbered model's id once written); one that
    changes the row reads it back as an object first."""

    row: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None


def add_later(key: Any, apply: Callable[[Any], None], start: Callable[[], T]) -> T:
    """The accumulator this transaction adds to under `key` (made by `start()` at first),
    handed to `apply` once, just before the session next flushes (before a statement, at a
    commit, at a savepoint's release), as `insert_later`'s rows are written then.

    For a row that hundreds of a batch's writes each change by a little (a secret ballot's
    running totals in a region): the writes add to plain numbers and the row is changed once
    a flush, not once a write. Each call counts as a change not yet written (`_unwritten`),
    whether or not the caller then adds anything. A rollback of the transaction drops what
    was added and not yet applied, and so does a savepoint's rollback: apply it first
    (`flush_all`) if what was added before a savepoint must outlive it, as a group commit
    does before each write's savepoint.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the change belongs to a transaction: it ends with it, however
    entry = session.info.get(_ADDED, {}).get(key)
    if entry is None:
        added = start()  # first: a query it makes applies (and so empties) what is pending
        entry = session.info.setdefault(_ADDED, {})[key] = _Added(apply, added)
    entry.calls += 1
    return entry.added


@dataclass(eq=False)
class _Added:
    """An accumulator of `add_later`'s, what applies it, and how many writes were handed it."""

    apply: Callable[[Any], None]
    added: Any
    calls: int = 0


def _apply_added(session: Session) -> None:
    """Hand each accumulator `add_later` made to its `apply` (the ORM writes what they
    change in the flush that follows)."""
    pending = session.info.pop(_ADDED, None)
    if pending:
        for entry in pending.values():
            entry.apply(entry.added)


def write_later(session: Session) -> None:
    """Insert the rows `insert_later` queued in `session` (see there); nothing queued, nothing
    done. Called after each flush, and by `flush_all` (before each statement, at each commit
    and at the end of a group commit's batch) for when the ORM had nothing to flush."""
    later = session.info.pop(_LATER, None)
    if later:
        connection = session.connection()
        postgresql = connection.dialect.name == "postgresql"
        for table, rows in later.items():
            numbered = _numbered_table(table)
            if numbered and postgresql:
                unnumbered = [row for row in rows if row.get("id") is None]
                if unnumbered:
                    _give_ids(unnumbered, _next_ids(connection, table, len(unnumbered)))
            alike: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:  # one statement needs the same columns in every row
                alike.setdefault(tuple(row), []).append(row)
            for columns, group in alike.items():
                if postgresql:
                    _copy(connection, table, columns, group)
                elif numbered and "id" not in columns:
                    _give_ids(group, connection.execute(table.insert().returning(
                        table.c.id, sort_by_parameter_order=True), group).scalars())
                else:
                    connection.execute(table.insert(), group)
        _count_flush(session, None)  # rows written, as by a flush (see `_changes`)


def _give_ids(rows: list[dict[str, Any]], ids: Any) -> None:
    """Tell each queued row its id (the caller holds the dict: `Queued`)."""
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id


def _copy(connection: sa.Connection, table: sa.Table, columns: tuple[str, ...],
          rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (each with these `columns`) into `table` with PostgreSQL's COPY: psycopg
    streams them, about 3 us of CPU a row here against 12-13 for an executemany (a batch of
    200 casts inserts 400). The columns' own defaults computed in Python are filled in as an
    INSERT would (the database fills in its own, a serial id); each value goes through its
    type's conversion for psycopg (JSON, say)."""
    defaults = [column for column in table.columns if column.name not in columns
                and column.default is not None and not column.default.is_sequence]
    names = [*columns, *(column.name for column in defaults)]
    dialect = connection.dialect
    convert = [table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)
               for name in names]
    quote = dialect.identifier_preparer
    statement = (f"COPY {quote.format_table(table)} ({', '.join(map(quote.quote, names))}) "
                 "FROM STDIN")
    raw = connection.connection.dbapi_connection
    connection.info[_WROTE] = True  # the COPY goes past the engine's events
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [*(row[name] for name in columns),
                          *(column.default.arg({}) if column.default.is_callable
                            else column.default.arg for column in defaults)]
                copy.write_row([value if process is None else process(value)
                                for process, value in zip(convert, values, strict=True)])
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it (IntegrityError, ...)
        lost = dialect.is_disconnect(exc, raw, None)
        if lost:  # the pool must not hand this connection out again
            connection.invalidate(exc)
        raise sa.exc.DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error,
                                         connection_invalidated=lost, dialect=dialect) from exc


def flush_all(session: Session) -> None:
    """Apply what `add_later` added up, flush the ORM's rows, then the ones `insert_later`
    queued (which may refer to them)."""
    _apply_added(session)
    session.flush()  # nothing of the ORM's pending: nothing done (and no after_flush)
    write_later(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_later(session: Session, transaction: Any) -> None:
    """A transaction or savepoint ended: what is still queued was not written in it (closed,
    rolled back; a commit or a release wrote its rows first) and goes with it, as does what
    `add_later` added up and no flush applied."""
    session.info.pop(_LATER, None)
    session.info.pop(_ADDED, None)


def _later_count(session: Session) -> int:
    return sum(len(rows) for rows in session.info.get(_LATER, {}).values())


@sa.event.listens_for(Session, "do_orm_execute")
def _write_later_before_reading(state: Any) -> None:
    """Before a statement, as the ORM's autoflush would (this hook runs before it): the ORM's
    rows first, then the queued ones. Not in the middle of a flush (a query a flush's own
    listener makes): its end writes them, after its rows."""
    session = state.session
    if session.autoflush and not session._flushing:
        flush_all(session)


@sa.event.listens_for(Session, "before_flush")
def _apply_added_before_flush(session: Session, context: Any, instances: Any) -> None:
    _apply_added(session)  # a flush not made by flush_all: the changes go in it too


@sa.event.listens_for(Session, "after_flush")
def _write_later_after_flush(session: Session, context: Any) -> None:
    write_later(session)  # after the ORM's rows, as at a commit


@sa.event.listens_for(Session, "before_commit")
def _write_later_before_commit(session: Session) -> None:
    flush_all(session)


@sa.event.listens_for(Session, "after_commit")
def _commit_releases(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its locks belong to the transaction now
    _forget_held(session)


@sa.event.listens_for(Session, "after_soft_rollback")
def _rollback_releases(session: Session, previous_transaction: Any) -> None:
    _forget_held(session)


def _forget_held(session: Session) -> None:
    for key in [k for k in session.info if isinstance(k, tuple) and k[0] == "held"]:
        del session.info[key]


class _Undo(Exception):
    """A refused write left changes in the session: the batch cannot run all at once."""


def _unwritten(session: Session) -> tuple[int, int, int, int, int]:
    """How many rows the session holds to insert (by the ORM and by `insert_later`), delete
    and update (by the ORM and by `add_later`), not yet written. Counted without building the
    sets `session.new` and `session.dirty` would, which grow with the batch."""
    return (len(session._new), _later_count(session), len(session._deleted),
            len(session.identity_map._modified),
            sum(entry.calls for entry in session.info.get(_ADDED, {}).values()))


def _changes(session: Session) -> tuple[tuple[int, int, int, int, int], int]:
    """The session's unwritten rows (`_unwritten`) and how many flushes it has made: a write
    that changed nothing leaves these as they were (a flush, even one a query made by
    itself, may have written its rows)."""
    return _unwritten(session), session.info.get("flushes", 0)


@sa.event.listens_for(Session, "after_flush")
def _count_flush(session: Session, context: Any) -> None:
    session.info["flushes"] = session.info.get("flushes", 0) + 1


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[], T]
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False
    committed: bool = False
    result: Any = None
    error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result


_group_commits: weakref.WeakSet[GroupCommit] = weakref.WeakSet()


def busy() -> bool:
    """Whether writes (or group reads) are under way in this process: one queued or running,
    a rush on (`RUSH` submitted within the last `QUIET` seconds: more are on their way, even
    between batches), or a batch of several ended within `QUIET` (its writers, woken, have
    yet to answer). Broadcasts that can wait a moment wait for this to pass
    (workshop/coalesce.py), so that a rush's writers are answered before everyone is told
    what changed; a steady trickle of writes (a room voting over a minute, batches of one)
    keeps them waiting only while a write runs."""
    now = time.monotonic()
    return any(commit.busy(now) for commit in list(_group_commits))


class GroupCommit:
    """Runs submitted writes in shared transactions; see the module's docstring.

    `before_commit(results)` runs in the batch's session with the results of the writes that
    succeeded (perhaps none), just before the commit; it returns what to do once the commit
    succeeded (send broadcasts), which runs before any caller is woken. A write that fails on
    one of `retry_on` is tried once more in a fresh savepoint. `prepare(works)` runs at the
    start of each batch's transaction with the batch's writes, to read what they will need in
    a few queries rather than one each. With `refusals`, the batch is first tried all at once
    (see the module's docstring).
    """

    def __init__(self, before_commit: Callable[[list[Any]], Callable[[], None]] | None = None,
                 retry_on: tuple[type[Exception], ...] = (), max_batch: int = MAX_BATCH,
                 prepare: Callable[[list[Callable[[], Any]]], None] | None = None,
                 refusals: tuple[type[Exception], ...] = ()) -> None:
        self.before_commit = before_commit
        self.retry_on = retry_on
        self.max_batch = max_batch
        self.prepare = prepare
        self.refusals = refusals
        #: How each batch ran: "at once" or "one by one" (bounded like `batches`).
        self.modes: deque[str] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self._queue: list[_Write] = []
        self._leading = False
        self._leader: int | None = None  # the thread (greenlet) running a batch now
        #: When the latest `RUSH` writes were submitted, and when the last batch of several
        #: ended (monotonic).
        self._submitted: deque[float] = deque(maxlen=RUSH)
        self._several_ended = float("-inf")
        #: Sizes of the latest batches (the tests check batching; bounded, the server runs long).
        self.batches: deque[int] = deque(maxlen=1000)
        _group_commits.add(self)

    def busy(self, now: float) -> bool:
        """A batch queued or running, a rush on, or a batch of several just ended, at `now`
        (see `busy`)."""
        return (self._leading or now - self._several_ended < QUIET
                or (len(self._submitted) == RUSH and now - self._submitted[0] < QUIET))

    def submit(self, work: Callable[[], T]) -> T:
        """Run `work` in the next shared transaction; its result once that has committed.

        Raises what `work` raised (its rows undone), or the commit's error (nothing stored).
        """
        write: _Write[T] = _Write(work)
        with self._lock:
            if self._leading and self._leader == threading.get_ident():
                # Waiting here for a batch this very caller runs would wait forever.
                raise RuntimeError("a group commit's batch submitted to itself")
            self._queue.append(write)
            self._submitted.append(time.monotonic())
            if not self._leading:
                self._leading = write.lead = True
        while not write.done:
            if write.lead:
                self._lead()
            else:
                write.woken.wait()
                write.woken.clear()
        return write.outcome()

    def _lead(self) -> None:
        """Run the queued writes (this one among them), then hand the lead on.

        The leader first yields once: under gevent a handler runs until it waits, and SQLite's
        driver never waits, so without this every cast received meanwhile would only queue
        after the batch (a batch of one each time). After the yield, every handler that was
        ready has reached the queue.
        """
        time.sleep(0)
        with self._lock:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self._leader = threading.get_ident()
        try:
            self._run(batch)
        finally:
            with self._lock:
                for write in batch:
                    if not write.committed and write.error is None:  # the leader was killed
                        write.error = ConnectionAbortedError("the batch was interrupted")
                    write.done = True
                    write.lead = False
                self._leader = None
                if len(batch) > 1:
                    self._several_ended = time.monotonic()
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].woken.set()
                else:
                    self._leading = False
            for write in batch:
                write.woken.set()

    def _run(self, batch: list[_Write]) -> None:
        self.batches.append(len(batch))
        with current_app._get_current_object().app_context():
            try:
                after = self._write(batch)
                if after is not None:
                    try:
                        after()
                    except Exception:  # the commit stands: its callers get their answers
                        current_app.logger.exception("after a group commit")
            finally:
                db.session.remove()

    def _attempt(self, session: Session, write: _Write) -> None:
        """Run one write in a savepoint; once more if it failed on `retry_on` (two copies of
        one write racing from two processes: the second attempt finds the first's row)."""
        for _ in range(2):
            write.error = None
            try:
                flush_all(session)  # what is queued belongs to no write's savepoint
                with session.begin_nested():
                    write.result = write.work()
                return
            except self.retry_on as exc:
                write.error = exc
            except Exception as exc:  # noqa: BLE001  (handed to its own caller)
                write.error = exc
                return

    def _begin(self, session: Session, batch: list[_Write]) -> None:
        begin_writing(session)
        if self.prepare is not None:
            self.prepare([write.work for write in batch])

    def _at_once(self, session: Session, batch: list[_Write]) -> bool:
        """Run every write in the transaction itself and flush once. False, with everything
        undone, when a write failed other than by a refusal, a refusal left changes behind, or
        the flush failed: the batch must run one by one."""
        try:
            self._begin(session, batch)
            for write in batch:
                before = _changes(session)
                try:
                    write.result, write.error = write.work(), None
                except self.refusals as exc:
                    write.error = exc
                    if _changes(session) != before:
                        raise _Undo from exc
            flush_all(session)
            self.modes.append("at once")
            return True
        except Exception:  # noqa: BLE001  (the batch runs again, one write at a time)
            session.rollback()
            for write in batch:
                write.result = write.error = None
            return False

    def _write(self, batch: list[_Write]) -> Callable[[], None] | None:
        """One transaction: the writes (all at once, or each in its savepoint), the commit."""
        session = db.session()  # the session itself (`_changes` reads its bookkeeping)
        try:
            if not (self.refusals and self._at_once(session, batch)):
                self.modes.append("one by one")
                self._begin(session, batch)
                for write in batch:
                    self._attempt(session, write)
            results = [w.result for w in batch if w.error is None]
            after = self.before_commit(results) if self.before_commit else None
            session.commit()
        except Exception as exc:  # noqa: BLE001  (nothing is stored: every caller is told)
            session.rollback()
            for write in batch:
                if write.error is None:
                    write.error = exc
            return None
        for write in batch:
            write.committed = write.error is None
        return after


class GroupRead(GroupCommit):
    """Reads that arrive together share one read: a thousand phones asking for the state at
    once (after the room's Wi-Fi came back) make a few queries, not a thousand.

    The same queue as a group commit, so every answer comes from a read begun after its
    request arrived (a request made while a batch reads waits for the next one): as fresh as
    reading alone. `prepare(works)` reads what the batch needs; each work then answers from
    it, or raises its own refusal. Nothing is written: a SQLite batch does not begin as a
    writer (it takes no write lock); the batch's transaction ends with a COMMIT on PostgreSQL
    (see `end_reads`), else a rollback.
    """

    def __init__(self, prepare: Callable[[list[Callable[[], Any]]], None] | None = None,
                 max_batch: int = MAX_BATCH) -> None:
        super().__init__(prepare=prepare, max_batch=max_batch)

    def _write(self, batch: list[_Write]) -> Callable[[], None] | None:
        session = db.session()
        try:
            if self.prepare is not None:
                self.prepare([write.work for write in batch])
            for n, write in enumerate(batch):
                try:
                    write.result, write.error = write.work(), None
                except sa.exc.DBAPIError as exc:  # PostgreSQL ends the transaction with it
                    write.error = exc
                    session.rollback()
                    if self.prepare is not None:  # the rest read again, in a new one
                        self.prepare([later.work for later in batch[n + 1:]])
                except Exception as exc:  # noqa: BLE001  (handed to its own caller)
                    write.error = exc
        except Exception as exc:  # noqa: BLE001  (every caller is told)
            for write in batch:
                if write.error is None:
                    write.error = exc
        finally:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # the connection may be gone
                if not end_reads(session):  # nothing was written: see end_reads
                    session.rollback()
        for write in batch:
            write.committed = write.error is None
        return None
