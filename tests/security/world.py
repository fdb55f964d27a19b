"""One fixture world for the security tests: a workshop with every kind of object and a person
of every role, built once per module, and a way to put the database back after a request that
changed it (so a module can send a thousand requests to one world).

Roles (ROLES): nobody logged in; the big screen opened with the workshop's projector key; a
delegate of another workshop; an admitted delegate; a delegate not (yet) admitted on the voting
register; a facilitator of another workshop only; the workshop's facilitator; an organiser.
"""

from __future__ import annotations

import contextlib
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
import weasyprint
from flask import Flask, got_request_exception
from itsdangerous import URLSafeTimedSerializer

from config import TestConfig
from tests.api.conftest import bearer
from tests.conftest import app_for
from tests.helpers import (
    carry_forward,
    create_delegate,
    create_lines,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    edit_plan,
    go_to_kind,
    invite,
    open_test_ballot,
)
from workshop import sockets
from workshop.agenda.delegates import admit_delegate
from workshop.agenda.models import Workshop
from workshop.agenda.schemas import AdmitIn
from workshop.auth.logins import start_login
from workshop.errors import NotLoggedIn, PermissionDenied
from workshop.extensions import db, socketio
from workshop.plans import services as plans
from workshop.plans.schemas import AssignIn
from workshop.proposals import services as proposal_services
from workshop.proposals.schemas import TranslationIn
from workshop.sockets import projector_pass, projector_session_key

ROLES = ("anonymous", "projector", "other_delegate", "delegate", "unadmitted",
         "other_facilitator", "facilitator", "organiser")


@dataclass
class World:
    """Ids of everything a URL or a payload may name (plain ints: they survive a restore)."""

    workshop_id: int
    other_id: int
    join_code: str
    projector_key: str
    steps: dict[str, int]
    ballot_id: int  # open, approval, on every line of work
    closed_ballot_id: int  # closed, its top 2 carried forward as plans
    option_ids: list[int]
    plan_id: int  # the delegate's working group
    other_plan_id: int
    change_id: int  # a saved change of the plan's "objective" field
    objective_version: int  # the version of that field now
    template_version: int  # the workshop's plan template version (0: the default)
    proposal_id: int
    proposal_ids: list[int]
    comment_id: int
    suggestion_id: int  # Ram's suggested translation of Sita's proposal, waiting
    delegate_id: int
    unadmitted_id: int
    absent_id: int  # admitted, has not voted: a paper ballot or a proxy may be for them
    invited_id: int
    invitation: str  # raw token of the invited delegate's link
    organiser_id: int
    facilitator_id: int
    other_facilitator_id: int
    token_id: int  # the organiser's API token
    api_headers: dict[str, str]
    organisation_id: int
    other_proposal_ids: list[int]  # lines of work of the other workshop
    other_ballot_id: int  # an open ballot of the other workshop
    other_delegate_id: int
    logins: dict[str, str] = field(default_factory=dict)

    def role_workshop(self, role: str) -> int:
        """The workshop a role's socket connects to (its own, for the outsiders)."""
        return self.other_id if role.startswith("other_") else self.workshop_id


def build_world() -> World:
    """Build the world through the services, exactly as the app would."""
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    other_facilitator = create_user("facilitator")
    workshop = create_workshop(organiser, steps=6, facilitator=facilitator)
    other = create_workshop(organiser, steps=3, facilitator=other_facilitator)
    made_plans, lines, closed = carry_forward(workshop, n=2)
    ballot = open_test_ballot(workshop, "approval")
    # The register (and groups chosen by delegates) from now on: the voters of the closed
    # ballot joined before it.
    workshop.voting_register = True
    workshop.plans_self_assign = True
    db.session.commit()

    org = create_organisation(region="asia", country="Nepal")
    delegate = create_delegate(workshop, org, name="Sita")
    absent = create_delegate(workshop, org, name="Ram")
    unadmitted = create_delegate(workshop, name="Walk-in")
    for person in (delegate, absent):
        admit_delegate(organiser, workshop, AdmitIn(workshop_id=workshop.id,
                                                    delegate_id=person.id, admitted=True))
    invited, raw_invitation = invite(workshop, organiser, org, name="Invited")
    other_delegate = create_delegate(other)
    other_lines = create_lines(other, 2)
    other_ballot = open_test_ballot(other, "approval")
    plans.assign_member(organiser, workshop, AssignIn(
        workshop_id=workshop.id, delegate_id=delegate.id, plan_id=made_plans[0].id))
    change = edit_plan(organiser, made_plans[0], "objective", "Decent work for all")

    go_to_kind(workshop, "propose")
    proposal = create_proposal(workshop, delegate, title="Social protection floors")
    comment = proposal_services.add_comment(delegate, workshop, proposal.id,
                                            "Agreed, with health mutuals", None)
    suggestion = proposal_services.suggest_translation(absent, workshop, proposal.id, TranslationIn(
        language="fr", title="Socles de protection sociale"))
    api_headers = bearer(organiser, name="security tests")
    from workshop.api.models import ApiToken

    token_id = db.session.scalar(sa.select(sa.func.max(ApiToken.id)))
    world = World(
        workshop_id=workshop.id, other_id=other.id, join_code=workshop.join_code,
        projector_key=workshop.projector_key,
        steps={s.kind: s.id for s in reversed(workshop.steps)},
        ballot_id=ballot.id, closed_ballot_id=closed.id, option_ids=list(ballot.option_ids),
        plan_id=made_plans[0].id, other_plan_id=made_plans[1].id,
        change_id=_change_id(made_plans[0].id), objective_version=change.version,
        template_version=getattr(plans.latest_template(workshop), "version", 0),
        proposal_id=proposal.id, proposal_ids=[p.id for p in lines], comment_id=comment.id,
        suggestion_id=suggestion.id,
        delegate_id=delegate.id, unadmitted_id=unadmitted.id, absent_id=absent.id,
        invited_id=invited.id, invitation=raw_invitation, organiser_id=organiser.id,
        facilitator_id=facilitator.id, other_facilitator_id=other_facilitator.id,
        token_id=token_id, api_headers=api_headers, organisation_id=org.id,
        other_proposal_ids=[p.id for p in other_lines], other_ballot_id=other_ballot.id,
        other_delegate_id=other_delegate.id,
    )
    for role, principal in (("organiser", organiser), ("facilitator", facilitator),
                            ("other_facilitator", other_facilitator), ("delegate", delegate),
                            ("unadmitted", unadmitted), ("other_delegate", other_delegate)):
        world.logins[role] = start_login(principal)
    db.session.commit()
    db.session.remove()
    return world


def _change_id(plan_id: int) -> int:
    from workshop.plans.models import PlanChange

    return db.session.scalar(sa.select(sa.func.max(PlanChange.id))
                             .where(PlanChange.plan_id == plan_id,
                                    PlanChange.field_key == "objective"))


# --- The database before and after a request --------------------------------------------------


Rows = dict[str, list[tuple]]


#: Bookkeeping a refused request may rightly write: when an API token was last used (written
#: at most once a minute, on any request the token authenticates, before any answer), and a
#: delegate's open sockets (a login replaced or ended closes that person's sockets).
BOOKKEEPING = {("api_token", "last_used_at"), ("delegate", "connections"),
               ("delegate", "last_seen_at")}


def _selects() -> list[tuple[str, str]]:
    dialect = db.engine.dialect
    out = []
    for t in db.metadata.sorted_tables:
        columns = [c for c in t.columns if (t.name, c.name) not in BOOKKEEPING]
        stmt = sa.select(*columns).order_by(*t.primary_key.columns)
        out.append((t.name, str(stmt.compile(dialect=dialect))))
    return out


def table_rows() -> Rows:
    """Every row of every table, in primary-key order, as the driver gives them: equal before
    and after a request exactly when it stored nothing. (Plain SQL: this runs twice a test.)"""
    db.session.rollback()
    conn = db.session.connection()
    out = {name: [tuple(r) for r in conn.exec_driver_sql(sql)] for name, sql in _selects()}
    db.session.rollback()
    return out


def workshop_rows(rows: Rows, workshop_id: int) -> Rows:
    """The rows of tables with a `workshop_id` that belong to this workshop."""
    out: Rows = {}
    for table in db.metadata.sorted_tables:
        names = [c.name for c in table.columns if (table.name, c.name) not in BOOKKEEPING]
        if "workshop_id" in names:
            i = names.index("workshop_id")
            out[table.name] = [r for r in rows[table.name] if r[i] == workshop_id]
    return out


def changed_tables(before: Rows, after: Rows) -> dict[str, str]:
    """Which tables differ, and how (rows added, removed, changed)."""
    out = {}
    for name, rows in before.items():
        if rows != after[name]:
            old, new = {repr(r) for r in rows}, {repr(r) for r in after[name]}
            out[name] = f"+{len(new - old)} -{len(old - new)}: {sorted(new - old)[:2]}"
    return out


class Snapshot:
    """The database as built; `restore()` puts it back.

    SQLite in memory (the default): its backup API copies the whole file both ways in well
    under a millisecond. Another database (TEST_DATABASE_URL): every table emptied and its
    rows inserted again, foreign keys pointing forward in the table order (the workshop's
    current step) inserted empty and set afterwards, so enforced keys are respected.
    """

    def __init__(self) -> None:
        db.session.commit()
        self.rows = table_rows()
        self._sqlite = None
        if db.engine.dialect.name == "sqlite" and db.engine.url.database in (None, "",
                                                                           ":memory:"):
            import sqlite3

            self._sqlite = sqlite3.connect(":memory:", check_same_thread=False)
            self._driver().backup(self._sqlite)
        else:
            self._typed = {t.name: [tuple(r) for r in db.session.execute(
                sa.select(t).order_by(*t.primary_key.columns))]
                for t in db.metadata.sorted_tables}
            self._json_nulls = {t.name: self._sql_nulls(t) for t in db.metadata.sorted_tables}
            db.session.rollback()

    @staticmethod
    def _sql_nulls(table: sa.Table) -> list[tuple[tuple, list[str]]]:
        """(primary key, JSON columns holding SQL NULL) of each row that has some: read back,
        SQL NULL and JSON null are both None, and inserting None writes JSON null."""
        json_columns = [c for c in table.columns if isinstance(c.type, sa.JSON)]
        if not json_columns:
            return []
        keys = list(table.primary_key.columns)
        stmt = sa.select(*keys, *[c.is_(None) for c in json_columns])
        out = []
        for row in db.session.execute(stmt):
            empty = [c.name for c, flag in zip(json_columns, row[len(keys):], strict=True)
                     if flag]
            if empty:
                out.append((tuple(row[:len(keys)]), empty))
        return out

    def _driver(self):
        return db.session.connection().connection.driver_connection

    def counter(self) -> int | None:
        """SQLite's count of rows written on this connection (rolled back or not): unchanged
        means nothing was written. None on other databases."""
        return self._driver().total_changes if self._sqlite is not None else None

    def restore(self) -> None:
        """Put the database back as built."""
        db.session.rollback()
        if self._sqlite is not None:
            driver = self._driver()
            driver.commit()
            self._sqlite.backup(driver)
        else:
            self._restore_rows()
        db.session.expire_all()
        db.session.remove()

    def _restore_rows(self) -> None:
        tables = db.metadata.sorted_tables
        order = {t.name: i for i, t in enumerate(tables)}
        later = {t.name: [fk.parent.name for fk in t.foreign_keys
                          if order[fk.column.table.name] >= order[t.name]] for t in tables}
        conn = db.session.connection()
        for table in tables:
            if later[table.name]:
                conn.execute(table.update().values({c: None for c in later[table.name]}))
        for table in reversed(tables):
            conn.execute(table.delete())
        forward = []  # keys to rows of later tables: set once every table is back
        for table in tables:
            names = [c.name for c in table.columns]
            data = [dict(zip(names, row, strict=True)) for row in self._typed[table.name]]
            if not data:
                continue
            cols = later[table.name]
            conn.execute(table.insert(), [{**d, **{c: None for c in cols}} for d in data])
            forward.append((table, cols, data))
            for key, empty in self._json_nulls[table.name]:
                conn.execute(table.update().where(
                    *[pk == v for pk, v in zip(table.primary_key.columns, key, strict=True)]
                ).values({c: sa.null() for c in empty}))
        for table, cols, data in forward:
            for d in data:
                values = {c: d[c] for c in cols if d[c] is not None}
                if values:
                    conn.execute(table.update().where(
                        *[pk == d[pk.name] for pk in table.primary_key.columns]).values(values))
        db.session.commit()


# --- Who is asking ----------------------------------------------------------------------------


class Refusals:
    """Counts PermissionDenied and NotLoggedIn raised while a request runs: a form that answers
    a refusal with a redirect and a flashed message is still a refusal."""

    def __init__(self) -> None:
        self.count = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the errors' constructors to count them."""
        for cls in (PermissionDenied, NotLoggedIn):
            original = cls.__init__

            def counting(exc, *args, _original=original, **kwargs):
                self.count += 1
                _original(exc, *args, **kwargs)

            monkeypatch.setattr(cls, "__init__", counting)


class ServerErrors:
    """Keeps the traceback of every request or socket event that failed on the server (a 5xx,
    an `"error": "server"` answer): the app logs only the error's kind and place."""

    def __init__(self) -> None:
        self.records: list[str] = []

    def install(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap workshop.sockets.log_failure (the socket error handler calls it) and listen
        to Flask's got_request_exception."""
        original = sockets.log_failure

        def recording(event: Any, exc: BaseException) -> None:
            self.records.append(f"socket event {event!r} failed:\n"
                                + "".join(traceback.format_exception(exc)))
            original(event, exc)

        monkeypatch.setattr(sockets, "log_failure", recording)
        got_request_exception.connect(self._request_failed, app, weak=False)

    def uninstall(self, app: Flask) -> None:
        """Stop listening to the app."""
        got_request_exception.disconnect(self._request_failed, app)

    def _request_failed(self, sender: Flask, exception: BaseException, **extra: Any) -> None:
        self.records.append("".join(traceback.format_exception(exception)))

    def text(self) -> str:
        """The tracebacks kept since the last `clear()`."""
        return "\n".join(self.records)

    def clear(self) -> None:
        """Forget what was kept."""
        self.records.clear()


@dataclass
class Room:
    """The module's app, its world, the database as built, and one socket per role (kept
    open across tests: opening one costs more than the event it sends)."""

    app: Flask
    world: World
    refusals: Refusals
    server_errors: ServerErrors
    snapshot: Snapshot | None = None
    sockets: dict[tuple[str, int], Any] = field(default_factory=dict)

    @property
    def rows(self) -> Rows:
        """The rows of the world as built."""
        return self.snapshot.rows

    def mark(self) -> int | None:
        """Where the database's change counter stands (SQLite; None elsewhere)."""
        return self.snapshot.counter()

    def rows_since(self, mark: int | None) -> Rows | None:
        """The rows now, or None when nothing was written since `mark` (quick on SQLite)."""
        if mark is not None and self.snapshot.counter() == mark:
            return None
        return table_rows()

    def reset(self, after: Rows | None = None) -> None:
        """Back to the world as built, if anything changed (`after`: the rows now, if known)."""
        if (after if after is not None else table_rows()) != self.rows:
            self.snapshot.restore()

    def client(self, role: str):
        """A new browser of this role, and the CSRF token of its session."""
        client = self.app.test_client()
        login_id = self.world.logins.get(role)
        with client.session_transaction() as sess:
            if login_id is not None:
                sess["_user_id"] = login_id
                sess["_fresh"] = True
            if role == "projector":
                sess[projector_session_key(self.world.workshop_id)] = projector_pass(
                    self.world.projector_key)
            # What Flask-WTF's generate_csrf() keeps and signs (no page to render for it).
            raw = secrets.token_hex(20)
            sess["csrf_token"] = raw
        token = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token").dumps(raw)
        return client, token

    def socket(self, role: str, workshop_id: int):
        """The role's socket on `workshop_id`, opened on first use (and again if the server
        closed it); None when the role may not open one."""
        key = (role, workshop_id)
        sock = self.sockets.get(key)
        if key in self.sockets and (sock is None or sock.is_connected()):
            return sock
        client, token = self.client(role)
        sock = socketio.test_client(self.app, flask_test_client=client,
                                    auth={"workshop": workshop_id, "csrf": token})
        self.sockets[key] = sock if sock.is_connected() else None
        if sock.is_connected():
            sock.get_received()
        return self.sockets[key]

    def close(self) -> None:
        """Close every socket."""
        for sock in self.sockets.values():
            if sock is not None and sock.is_connected():
                sock.disconnect()


STUB_PDF = b"%PDF-1.4\n% laid out by a stub: tests/security/world.py\n%%EOF\n"


@contextlib.contextmanager
def room(config: type = TestConfig) -> Iterator[Room]:
    """An app with the world built once, for a whole module, every role's socket open.

    PDFs are laid out by a stub: WeasyPrint takes seconds a document, and what these tests
    check is who gets past the gate and what a payload does to the app; the documents' HTML
    is still made. tests/plans, tests/reports and tests/registration draw real ones.
    """
    with pytest.MonkeyPatch.context() as mp, app_for(config, mp) as app:
        mp.setattr(weasyprint.HTML, "write_pdf", lambda self, *args, **kwargs: STUB_PDF)
        world = build_world()
        refusals = Refusals()
        refusals.install(mp)
        server_errors = ServerErrors()
        server_errors.install(app, mp)
        built = Room(app=app, world=world, refusals=refusals, server_errors=server_errors)
        try:
            for role in ROLES:
                built.socket(role, world.workshop_id)
                if role.startswith("other_"):
                    built.socket(role, world.other_id)
            built.snapshot = Snapshot()
            yield built
        finally:
            built.close()
            server_errors.uninstall(app)


def workshop_of(world: World) -> Workshop:
    """The main workshop, loaded now."""
    return db.session.get(Workshop, world.workshop_id)
