"""+1s, comments and new lines sent together share one transaction and one commit
(workshop/group_commit.py), each still checked on its own, in the batch that writes it: a
refused one is refused alone, a repeated one counts once, and one sent over a socket whose
login has ended stores nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_sync import sender_of
from tests.helpers import (
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
    reads_among,
)
from tests.voting.test_cast_sender import statements_during
from tests.voting.test_group_commit import Callers
from tests.voting.test_group_commit import app as file_app
from workshop.agenda.models import Delegate, Workshop
from workshop.audit.models import AuditEntry
from workshop.auth.models import LoginSession
from workshop.errors import Conflict, NotFound, NotLoggedIn, PermissionDenied
from workshop.extensions import db
from workshop.proposals import services
from workshop.proposals.models import Comment, Proposal, Support
from workshop.proposals.schemas import CommentIn, MergeIn, ProposalCreate

#: These tests' app: on a database file that several threads share (SQLite's locks are real).
app = file_app


def supporters(proposal_id: int) -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(Support.delegate_id)
                                     .where(Support.proposal_id == proposal_id)))


def test_supports_sent_together_are_one_batch_each_checked_on_its_own(app):
    workshop, other = create_workshop(), create_workshop()
    line = create_proposal(workshop).id
    org = create_organisation()
    amina, bongani, chitra = (sender_of(create_delegate(workshop, org)) for _ in range(3))
    ended, stranger = sender_of(create_delegate(workshop, org)), sender_of(
        create_delegate(other, org))
    wid = workshop.id
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id == ended.login_session_id))
    db.session.commit()
    group = services.supports()

    def together() -> dict:
        callers = Callers(app, group)
        callers.add("amina", lambda: services.send_support(amina, wid, line, True))
        callers.add("bongani", lambda: services.send_support(bongani, wid, line, True))
        callers.add("amina again", lambda: services.send_support(amina, wid, line, True))
        callers.add("chitra, no such line", lambda: services.send_support(chitra, wid, 10**6,
                                                                          True))
        callers.add("ended", lambda: services.send_support(ended, wid, line, True))
        callers.add("stranger", lambda: services.send_support(stranger, wid, line, True))
        return callers.finish()

    statements, outcomes = statements_during(together)
    reads = [sql for sql in statements if sql.lstrip().startswith("SELECT")]

    assert list(group.batches) == [1, 6]
    # All at once (no savepoint each): every refusal raised before it changed anything.
    assert list(group.modes) == ["at once", "at once"]
    assert outcomes["amina"] is outcomes["bongani"] is outcomes["amina again"] is True
    assert isinstance(outcomes["chitra, no such line"], NotFound)
    assert isinstance(outcomes["ended"], NotLoggedIn)
    assert isinstance(outcomes["stranger"], PermissionDenied)
    assert supporters(line) == sorted([amina.id, bongani.id])  # counted once each
    # The batch read its delegates, logins, workshops and their +1s in one query each, and
    # counted the line's supporters once for every screen (not once per +1).
    assert sum(reads_among(sql, "WHERE delegate.id") for sql in reads) == 1
    assert sum(reads_among(sql, "WHERE support.delegate_id") for sql in reads) == 1
    assert sum("WHERE support.proposal_id IN" in sql for sql in reads) == 1
    assert sum("FROM login_session" in sql for sql in reads) == 1
    assert sum("FROM workshop" in sql for sql in reads) == 1
    # New +1s are written without the ORM: copied in on PostgreSQL (unseen here), one
    # statement a batch elsewhere.
    inserts = [sql for sql in statements if sql.startswith("INSERT INTO support")]
    assert inserts == [] if db.engine.dialect.name == "postgresql" else 1 <= len(inserts) <= 2


def test_a_support_given_through_a_page_and_one_from_nobody(app):
    workshop = create_workshop()
    line = create_proposal(workshop).id
    delegate = create_delegate(workshop, create_organisation())
    wid, did = workshop.id, delegate.id
    db.session.commit()
    assert services.set_support(db.session.get(Delegate, did), db.session.get(Workshop, wid),
                                line, True) is True
    assert supporters(line) == [did]
    assert services.set_support(db.session.get(Delegate, did), db.session.get(Workshop, wid),
                                line, False) is False
    assert supporters(line) == []
    with pytest.raises(PermissionDenied):
        services.send_support(None, wid, line, True)  # a projector's socket, say
    assert supporters(line) == []


def test_a_batch_sees_its_own_supports_and_the_lines_merged_proposals(app):
    workshop = create_workshop()
    organiser = create_user("organiser")
    first, second = create_proposal(workshop), create_proposal(workshop)
    org = create_organisation()
    dina, emeka, fatou = (sender_of(create_delegate(workshop, org)) for _ in range(3))
    services.set_support(db.session.get(Delegate, dina.id), workshop, first.id, True)
    line = services.merge_proposals(organiser, workshop, MergeIn(
        proposal_ids=[first.id, second.id], title="Health cover for all")).id
    wid, first_id, second_id = workshop.id, first.id, second.id
    db.session.commit()

    group = services.supports()
    callers = Callers(app, group)
    # Dina's +1 on a proposal merged into the line already counts for it: nothing new.
    callers.add("dina", lambda: services.send_support(dina, wid, line, True))
    callers.add("emeka", lambda: services.send_support(emeka, wid, line, True))
    callers.add("emeka takes it back", lambda: services.send_support(emeka, wid, line, False))
    callers.add("fatou", lambda: services.send_support(fatou, wid, second_id, True))
    # Dina takes back hers and gives it again in the same batch (a double tap).
    callers.add("dina takes it back", lambda: services.send_support(dina, wid, first_id, False))
    callers.add("dina again", lambda: services.send_support(dina, wid, first_id, True))
    outcomes = callers.finish()

    assert list(group.batches)[-1] == 6
    assert list(group.modes)[-1] == "at once"  # no flush failed: the batch ran once
    assert [outcomes[n] for n in ("dina", "emeka", "emeka takes it back", "fatou",
                                  "dina takes it back", "dina again")] == [
        True, True, False, True, False, True]
    db.session.expire_all()
    rows = sorted(db.session.execute(sa.select(Support.delegate_id, Support.proposal_id)).all())
    assert rows == sorted([(dina.id, first_id), (fatou.id, second_id)])


def test_comments_sent_together_are_one_batch_each_checked_and_audited(app, monkeypatch):
    monkeypatch.setattr(services, "COMMENTS_PER_DELEGATE", 1)
    workshop = create_workshop()
    line = create_proposal(workshop).id
    org = create_organisation()
    amina, bongani, chitra = (sender_of(create_delegate(workshop, org)) for _ in range(3))
    ended = sender_of(create_delegate(workshop, org))
    wid = workshop.id
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id == ended.login_session_id))
    db.session.commit()

    def comment(body: str, request_id: str | None = None, parent_id: int | None = None):
        return CommentIn(workshop_id=wid, proposal_id=line, body=body, request_id=request_id,
                         parent_id=parent_id)

    group = services.comments()
    callers = Callers(app, group)
    callers.add("amina", lambda: services.send_comment(amina, wid, comment("Yes", "key-amina-1")))
    callers.add("amina's retry", lambda: services.send_comment(amina, wid,
                                                               comment("Yes", "key-amina-1")))
    callers.add("amina's second", lambda: services.send_comment(amina, wid, comment("Also")))
    callers.add("bongani", lambda: services.send_comment(bongani, wid, comment("No")))
    callers.add("chitra with amina's key", lambda: services.send_comment(chitra, wid,
                                                               comment("Mine", "key-amina-1")))
    callers.add("a lost parent", lambda: services.send_comment(chitra, wid,
                                                               comment("Hm", parent_id=10**6)))
    callers.add("ended", lambda: services.send_comment(ended, wid, comment("Late")))
    outcomes = callers.finish()

    assert list(group.batches) == [1, 7]
    assert list(group.modes) == ["at once", "at once"]
    first, retry = outcomes["amina"], outcomes["amina's retry"]
    assert (retry.comment_id, retry.replayed, first.replayed) == (first.comment_id, True, False)
    assert isinstance(outcomes["amina's second"], Conflict)  # one comment each here
    assert isinstance(outcomes["chitra with amina's key"], Conflict)  # a key someone else used
    assert isinstance(outcomes["a lost parent"], NotFound)
    assert isinstance(outcomes["ended"], NotLoggedIn)
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Comment).where(Comment.proposal_id == line)).all()
    assert sorted(c.id for c in stored) == sorted([first.comment_id,
                                                   outcomes["bongani"].comment_id])
    audited = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.operation == "proposal.comment")).all()
    assert sorted(d["comment_id"] for d in audited) == sorted(c.id for c in stored)


def test_lines_sent_together_are_one_batch_each_checked_and_audited(app, monkeypatch):
    monkeypatch.setattr(services, "PROPOSALS_PER_DELEGATE", 1)
    workshop, locked = create_workshop(), create_workshop()
    for w in (workshop, locked):
        go_to_kind(w, "propose")
    locked.proposals_locked = True
    org = create_organisation(region="east_africa")
    amina, bongani, chitra = (sender_of(create_delegate(workshop, org)) for _ in range(3))
    ended = sender_of(create_delegate(workshop, org))
    shut_out = sender_of(create_delegate(locked, org))
    wid, lid = workshop.id, locked.id
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id == ended.login_session_id))
    db.session.commit()

    def line(title: str, request_id: str | None = None, workshop_id: int = wid):
        return ProposalCreate(workshop_id=workshop_id, title=title, theme="decent_work",
                              level="national", request_id=request_id)

    group = services.lines()

    def together() -> dict:
        callers = Callers(app, group)
        callers.add("amina", lambda: services.send_proposal(amina, wid,
                                                            line("Sick pay", "key-amina-1")))
        callers.add("amina's retry", lambda: services.send_proposal(
            amina, wid, line("Sick pay", "key-amina-1")))
        callers.add("amina's second", lambda: services.send_proposal(amina, wid, line("More")))
        callers.add("bongani", lambda: services.send_proposal(bongani, wid, line("Day care")))
        callers.add("chitra with amina's key", lambda: services.send_proposal(
            chitra, wid, line("Mine", "key-amina-1")))
        callers.add("not chitra's workshop", lambda: services.send_proposal(
            chitra, lid, line("Elsewhere", workshop_id=lid)))
        callers.add("locked", lambda: services.send_proposal(shut_out, lid,
                                                             line("Late", workshop_id=lid)))
        callers.add("ended", lambda: services.send_proposal(ended, wid, line("Gone")))
        return callers.finish()

    statements, outcomes = statements_during(together)
    reads = [sql for sql in statements if sql.lstrip().startswith("SELECT")]

    assert list(group.batches) == [1, 8]
    assert list(group.modes) == ["at once", "at once"]
    first, retry = outcomes["amina"], outcomes["amina's retry"]
    assert (retry.proposal_id, retry.replayed, first.replayed) == (first.proposal_id, True,
                                                                   False)
    assert isinstance(outcomes["amina's second"], Conflict)  # one line each here
    assert isinstance(outcomes["chitra with amina's key"], Conflict)  # someone else's key
    assert isinstance(outcomes["not chitra's workshop"], PermissionDenied)
    assert isinstance(outcomes["locked"], Conflict)
    assert isinstance(outcomes["ended"], NotLoggedIn)
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Proposal).where(Proposal.workshop_id.in_([wid, lid]))
                                ).all()
    assert sorted(p.id for p in stored) == sorted([first.proposal_id,
                                                   outcomes["bongani"].proposal_id])
    assert {(p.organisation_id, p.region) for p in stored} == {(org.id, "east_africa")}
    audited = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.operation == "proposal.create")).all()
    assert sorted(d["proposal_id"] for d in audited) == sorted(p.id for p in stored)
    # Each batch wrote its new lines without the ORM, in one statement: numbered from the
    # sequence and copied in on PostgreSQL (a COPY, unseen here), elsewhere given their ids
    # by the database and returned in order.
    inserts = [sql for sql in statements if sql.startswith("INSERT INTO proposal")]
    if db.engine.dialect.name == "postgresql":
        assert inserts == []
        assert any("nextval" in sql for sql in statements)
    else:
        assert 1 <= len(inserts) <= 2
        assert all(sql.endswith("RETURNING id") for sql in inserts)
    # The second batch read its writers' organisations and request keys in one query each.
    assert sum(reads_among(sql, "WHERE organisation.id") for sql in reads) <= 2
    assert sum(reads_among(sql, "WHERE proposal.request_id") for sql in reads) <= 2


def test_a_line_put_forward_through_a_form_is_the_callers_to_read(app):
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    amina = create_delegate(workshop, create_organisation())
    data = ProposalCreate(workshop_id=workshop.id, title="Sick pay", theme="decent_work",
                          level="national", request_id="key-form-1")
    proposal = services.submit_proposal(amina, workshop, data)
    assert not proposal.replayed
    again = services.submit_proposal(amina, workshop, data)
    assert (again.id, again.replayed) == (proposal.id, True)
    assert (proposal.title, proposal.delegate_id) == ("Sick pay", amina.id)
    with pytest.raises(PermissionDenied):
        services.send_proposal(None, workshop.id, data)  # a projector's socket


def _broken_write() -> None:
    raise RuntimeError("an unexpected failure: the batch runs again, one write at a time")


@pytest.mark.parametrize("stored_first", [False, True])
@pytest.mark.parametrize("mode", ["at once", "one by one"])
def test_a_plus_one_given_again_after_other_taps_in_its_batch_stands(app, mode, stored_first):
    """Dina gives (or has given) a +1, takes it back and gives it again in one batch, while
    Emeka gives and takes back one of his own in between: her last tap stands, his leaves
    nothing, whether the batch runs at once or each write in its savepoint (whose release
    writes what it changed)."""
    workshop = create_workshop()
    p, q = create_proposal(workshop), create_proposal(workshop)
    org = create_organisation()
    dina, emeka = (sender_of(create_delegate(workshop, org)) for _ in range(2))
    if stored_first:
        services.set_support(db.session.get(Delegate, dina.id), workshop, p.id, True)
    wid, pid, qid = workshop.id, p.id, q.id
    db.session.commit()

    group = services.supports()
    callers = Callers(app, group)
    taps = [("dina gives", dina, pid, True)] if not stored_first else []
    taps += [("dina takes it back", dina, pid, False), ("emeka gives", emeka, qid, True),
             ("emeka takes it back", emeka, qid, False), ("dina again", dina, pid, True)]
    for name, who, line, on in taps:
        callers.add(name, lambda who=who, line=line, on=on: services.send_support(
            who, wid, line, on))
    if mode == "one by one":
        callers.add("broken", lambda: group.submit(_broken_write))
    outcomes = callers.finish()

    assert list(group.modes)[-1] == mode
    assert {name: outcomes[name] for name, *_ in taps} == {name: on for name, _, _, on in taps}
    db.session.expire_all()
    rows = db.session.execute(sa.select(Support.delegate_id, Support.proposal_id)).all()
    assert [tuple(row) for row in rows] == [(dina.id, pid)]
