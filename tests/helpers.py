"""Builders that make each test a short story: create_workshop(), create_delegate(), ..."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from workshop.agenda import delegates as delegate_services
from workshop.agenda import services
from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.schemas import InviteIn, JoinIn, StepIn, WorkshopIn
from workshop.auth.models import User
from workshop.auth.services import create_user as _create_user
from workshop.extensions import db
from workshop.proposals import services as proposal_services
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import ProposalIn

PASSWORD = "correct horse battery"
_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def create_user(role: str = "organiser", email: str | None = None) -> User:
    """A staff account with the shared test password."""
    n = _next()
    return _create_user(email or f"{role}{n}@example.org", f"{role.title()} {n}", PASSWORD, role)


def create_organisation(region: str = "west_africa", org_type: str = "trade_union",
                        country: str = "Senegal", name: str | None = None) -> Organisation:
    """An organisation of the given region and type."""
    org = Organisation(name=name or f"Org {_next()}", country=country, region=region,
                       type=org_type)
    db.session.add(org)
    db.session.commit()
    return org


def create_workshop(organiser: User | None = None, steps: int = 3, facilitator: User | None = None,
                    durations: tuple[int | None, ...] = ()) -> Workshop:
    """A workshop with `steps` steps (the first a welcome), optionally assigned a facilitator."""
    organiser = organiser or create_user("organiser")
    workshop = services.create_workshop(
        organiser,
        WorkshopIn(title=f"Workshop {_next()}", kind="face_to_face",
                   starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 3)),
    )
    kinds = ["welcome", "propose", "discuss", "vote", "results", "action_plan", "free_text"]
    for i in range(steps):
        minutes = durations[i] if i < len(durations) else None
        services.add_step(organiser, workshop, StepIn(
            kind=kinds[i % len(kinds)], title=f"Step {i + 1}", body=f"Body of step {i + 1}",
            duration_minutes=minutes,
        ))
    if facilitator is not None:
        services.assign_facilitator(organiser, workshop, facilitator.id, True)
    return workshop


def create_delegate(workshop: Workshop, organisation: Organisation | None = None,
                    name: str | None = None) -> Delegate:
    """A delegate who joined by code."""
    organisation = organisation or create_organisation()
    return delegate_services.join_workshop(
        workshop, JoinIn(name=name or f"Delegate {_next()}", organisation_id=organisation.id)
    )


def invite(workshop: Workshop, organiser: User, organisation: Organisation | None = None,
           name: str = "Invited Delegate") -> tuple[Delegate, str]:
    """A personal invitation: the delegate and the raw token of their link."""
    organisation = organisation or create_organisation()
    return delegate_services.invite_delegate(
        organiser, workshop, InviteIn(name=name, organisation_id=organisation.id)
    )


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (meta tag or hidden field)."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, user: User, password: str = PASSWORD):
    """Log a staff user in through the real login form."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": token})


def join(client, workshop: Workshop, organisation: Organisation, name: str = "Amina"):
    """Join a workshop through the real join form."""
    page = client.get(f"/j/{workshop.join_code}").get_data(as_text=True)
    return client.post(f"/j/{workshop.join_code}", data={
        "name": name, "organisation_id": str(organisation.id), "csrf_token": csrf_from(page),
    })


def create_proposal(workshop: Workshop, delegate: Delegate | None = None, title: str = "",
                    theme: str = "decent_work", level: str = "national",
                    description: str = "") -> Proposal:
    """A proposal submitted by a delegate during a propose step (moving there if needed)."""
    _ensure_step(workshop, "propose")
    delegate = delegate or create_delegate(workshop)
    return proposal_services.submit_proposal(delegate, workshop, ProposalIn(
        title=title or f"Line of work {_next()}", description=description, theme=theme,
        level=level))


def go_to_kind(workshop: Workshop, kind: str) -> None:
    """Make the first step of this kind current (adding one if the agenda has none)."""
    _ensure_step(workshop, kind)


def _ensure_step(workshop: Workshop, kind: str) -> None:
    if workshop.current_step is not None and workshop.current_step.kind == kind:
        return
    organiser = db.session.get(User, workshop.created_by_id)
    step = next((s for s in workshop.steps if s.kind == kind), None)
    if step is None:
        step = services.add_step(organiser, workshop, StepIn(kind=kind, title=kind.title()))
    services.goto_step(organiser, workshop, step.id)


# --- Voting -----------------------------------------------------------------------------------


def create_lines(workshop: Workshop, n: int = 4, theme: str = "decent_work") -> list[Proposal]:
    """`n` lines of work stored straight away (no propose step needed), in id order."""
    lines = [Proposal(workshop_id=workshop.id, title=f"Line {_next()}", theme=theme,
                      level="national", language="en") for _ in range(n)]
    db.session.add_all(lines)
    db.session.commit()
    return lines


def open_test_ballot(workshop: Workshop, method: str = "approval", actor: User | None = None,
                     **fields):
    """A ballot opened by the workshop's organiser (or `actor`) on all its lines of work."""
    from workshop.voting import services as voting
    from workshop.voting.schemas import BallotOpen

    actor = actor or db.session.get(User, workshop.created_by_id)
    if method == "points":
        fields.setdefault("budget", 10)
    return voting.open_ballot(actor, workshop, BallotOpen(
        workshop_id=workshop.id, title=fields.pop("title", f"Ballot {_next()}"), method=method,
        **fields))


def cast_vote(delegate: Delegate | User, ballot, choices, secret: str | None = None,
              on_behalf_of: int | None = None, replace_lost: bool = False):
    """Cast a ballot paper as a delegate, through the service (validated like a phone's)."""
    from workshop.validation import parse
    from workshop.voting import casting
    from workshop.voting.schemas import CastIn

    payload = {"workshop_id": ballot.workshop_id, "ballot_id": ballot.id, "choices": choices}
    if secret is not None:
        payload["secret"] = secret
    if on_behalf_of is not None:
        payload["on_behalf_of"] = on_behalf_of
    if replace_lost:
        payload["replace_lost"] = True
    workshop = db.session.get(Workshop, ballot.workshop_id)
    return casting.cast_vote(delegate, workshop, parse(CastIn, payload))


# --- Action plans -----------------------------------------------------------------------------


def carry_forward(workshop: Workshop, n: int = 3, lines: int = 4, voters: int = 3):
    """Lines of work voted on (approval: line i gets fewer votes than line i-1), the ballot
    closed and the top `n` carried forward: returns (plans, lines, ballot)."""
    from workshop.plans import services as plans
    from workshop.voting import services as voting
    from workshop.voting.schemas import SelectTopIn

    organiser = db.session.get(User, workshop.created_by_id)
    made = create_lines(workshop, lines)
    ballot = open_test_ballot(workshop, "approval")
    for v in range(voters + lines):
        delegate = create_delegate(workshop)
        cast_vote(delegate, ballot, [p.id for i, p in enumerate(made) if i <= v])
    voting.close_ballot(organiser, workshop, ballot)
    voting.select_top(organiser, workshop, ballot, SelectTopIn(
        workshop_id=workshop.id, ballot_id=ballot.id, n=n))
    return plans.list_plans(organiser, workshop), made, ballot


def edit_plan(actor, plan, field: str, value, base_version: int | None = None,
              edit_id: str | None = None):
    """Save a field of a plan through the service, validated like a phone's edit."""
    from workshop.plans import services as plans
    from workshop.plans.schemas import EditIn
    from workshop.validation import parse

    workshop = db.session.get(Workshop, plan.workshop_id)
    if base_version is None:
        base_version = next(f.version for f in plan.fields if f.key == field)
    payload = {"workshop_id": plan.workshop_id, "plan_id": plan.id, "field": field,
               "base_version": base_version, "value": value}
    if edit_id:
        payload["edit_id"] = edit_id
    return plans.edit_field(actor, workshop, parse(EditIn, payload))


def received(sock, name: str) -> list[dict]:
    """What a test socket received of the event `name` since it was last asked (payloads)."""
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def refused_once_logins_ended_elsewhere(sock, event: str, payload: dict) -> None:
    """End every login where this process cannot close the socket (as another server process
    would, nobody telling this one), send `event`: it is refused `unauthorized` and the socket
    closed."""
    from workshop.auth.models import LoginSession

    db.session.execute(sa.delete(LoginSession))
    db.session.commit()
    assert sock.is_connected()
    ack = sock.emit(event, payload, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "unauthorized"
    assert not sock.is_connected()


def reads_among(sql: str, column: str) -> bool:
    """Whether `sql` reads the rows whose `column` is among a list: an IN list, or on
    PostgreSQL one array parameter (workshop.group_commit.among)."""
    return f"{column} IN" in sql or f"{column} = ANY" in sql


def statements_during(call):
    """The SQL statements the database was sent while `call` ran, and its result."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen, result
