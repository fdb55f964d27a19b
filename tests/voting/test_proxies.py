"""A paper belongs to its voter: a proxy touches it only while the proxy lives, and the
delegate's own vote wins over the proxy's (secret and named ballots alike)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    invite,
    open_test_ballot,
)
from workshop.agenda.delegates import admit_delegate
from workshop.agenda.schemas import AdmitIn
from workshop.audit.models import AuditEntry
from workshop.auth.models import User
from workshop.errors import Conflict, PermissionDenied
from workshop.extensions import db
from workshop.voting import casting, proxies, results, secrecy, services
from workshop.voting.models import Participation, RegionTally, Vote
from workshop.voting.schemas import PaperIn, ProxyIn

HOLDER_SECRET = "1" * 32
ABSENT_SECRET = "2" * 32
OTHER_SECRET = "3" * 32


@pytest.fixture(params=[True, False], ids=["secret", "named"])
def proxied(app, request):
    """Amina carries Chitra's vote in an open approval ballot (secret or named)."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    ids = [line.id for line in create_lines(workshop, 4)]
    west = create_organisation(region="west_africa")
    asia = create_organisation(region="asia", country="India")
    amina, bongani = create_delegate(workshop, west), create_delegate(workshop, west)
    chitra = create_delegate(workshop, asia)
    organiser = db.session.get(User, workshop.created_by_id)
    give(organiser, workshop, amina, chitra)
    ballot = open_test_ballot(workshop, "approval", secret=request.param)
    return workshop, organiser, facilitator, ballot, ids, (amina, bongani, chitra)


def give(organiser, workshop, holder, absent, assigned: bool = True) -> None:
    proxies.assign_proxy(organiser, workshop, ProxyIn(
        workshop_id=workshop.id, holder_id=holder.id, absent_id=absent.id, assigned=assigned))


def vote(delegate, ballot, choice, secret, on_behalf_of=None):
    return cast_vote(delegate, ballot, choice, secret=secret if ballot.secret else None,
                     on_behalf_of=on_behalf_of)


def participation(ballot, delegate) -> Participation:
    db.session.expire_all()
    return db.session.scalar(sa.select(Participation).where(
        Participation.ballot_id == ballot.id, Participation.delegate_id == delegate.id))


def audit(workshop, operation: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.workshop_id == workshop.id, AuditEntry.operation == operation)
        .order_by(AuditEntry.id)))


def papers(ballot) -> list[list[int]]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(Vote.choices).where(Vote.ballot_id == ballot.id)))


def region_voters(ballot) -> dict[str, int]:
    db.session.expire_all()
    return {row.region: row.voters for row in db.session.scalars(
        sa.select(RegionTally).where(RegionTally.ballot_id == ballot.id))}


def test_a_revoked_holder_cannot_reach_the_paper_any_more(proxied):
    workshop, organiser, _, ballot, ids, (amina, _, chitra) = proxied
    vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    give(organiser, workshop, amina, chitra, assigned=False)
    [revoked] = [e for e in audit(workshop, "proxy.assign") if e.details["assigned"] is False]
    assert revoked.details["handed_back"] == [ballot.id]
    # For Chitra: refused, nothing changes.
    with pytest.raises(PermissionDenied):
        vote(amina, ballot, [ids[1]], HOLDER_SECRET, on_behalf_of=chitra.id)
    db.session.rollback()
    # As herself, with the secret she used for Chitra: that is Amina's own, new paper.
    own = vote(amina, ballot, [ids[2]], HOLDER_SECRET)
    assert own.changed is False
    assert papers(ballot) == [[ids[0]], [ids[2]]]
    assert participation(ballot, chitra).source == "proxy"  # still counted until replaced
    # Nothing of this was a proxy cast: the audit log holds only the one made under the proxy.
    assert [e.details.get("proxy") for e in audit(workshop, "ballot.cast")] == [True]


def test_the_absent_delegate_takes_their_paper_back_after_revocation(proxied):
    workshop, organiser, _, ballot, ids, (amina, _, chitra) = proxied
    held = vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    give(organiser, workshop, amina, chitra, assigned=False)
    back = vote(chitra, ballot, [ids[3]], ABSENT_SECRET)
    assert back.changed is True
    assert papers(ballot) == [[ids[3]]]  # replaced, not added: Chitra counts once
    assert participation(ballot, chitra).source == "phone"
    entry = audit(workshop, "ballot.cast")[-1]
    assert (entry.actor_id, entry.details["took_back"], entry.details["holder_id"]) == (
        chitra.id, True, amina.id)
    if ballot.secret:
        stored = db.session.scalar(sa.select(Vote))
        assert stored.proxy_tag is None  # her own paper: nothing marks it any more
        assert back.receipt != held.receipt
        assert stored.secret_hash == secrecy.paper_hash(ballot.id, chitra.id, ABSENT_SECRET)
        assert region_voters(ballot) == {"asia": 1}
        # Her own phone changes it again; Amina's old secret reaches nothing of hers.
        assert vote(chitra, ballot, [ids[2]], ABSENT_SECRET).receipt == back.receipt
        with pytest.raises(PermissionDenied):
            vote(amina, ballot, [ids[1]], HOLDER_SECRET, on_behalf_of=chitra.id)
        db.session.rollback()
        assert papers(ballot) == [[ids[2]]]


def test_the_delegates_own_vote_wins_over_a_live_proxy(proxied):
    workshop, _, _, ballot, ids, (amina, _, chitra) = proxied
    own = vote(chitra, ballot, [ids[1]], ABSENT_SECRET)
    with pytest.raises(Conflict) as exc:
        vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    assert "on_behalf_of" in exc.value.fields
    db.session.rollback()
    assert papers(ballot) == [[ids[1]]]
    assert participation(ballot, chitra).source == "phone"
    assert audit(workshop, "ballot.cast") == []
    assert vote(chitra, ballot, [ids[1]], ABSENT_SECRET).receipt == own.receipt


def test_the_delegates_own_cast_replaces_a_live_proxys_paper(proxied):
    workshop, _, _, ballot, ids, (amina, _, chitra) = proxied
    vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    vote(amina, ballot, [ids[0], ids[1]], HOLDER_SECRET, on_behalf_of=chitra.id)  # a change
    assert papers(ballot) == [[ids[0], ids[1]]]
    vote(chitra, ballot, [ids[3]], ABSENT_SECRET)
    assert papers(ballot) == [[ids[3]]]
    # From now on the proxy cannot touch it, though it still lives.
    with pytest.raises(Conflict):
        vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    db.session.rollback()
    assert papers(ballot) == [[ids[3]]]
    casts = audit(workshop, "ballot.cast")
    assert [(e.actor_id, e.details.get("proxy"), e.details.get("took_back")) for e in casts] == [
        (amina.id, True, None), (amina.id, True, None), (chitra.id, None, True)]


def test_a_new_holder_replaces_the_old_holders_paper(proxied):
    workshop, organiser, _, ballot, ids, (amina, bongani, chitra) = proxied
    vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    give(organiser, workshop, amina, chitra, assigned=False)
    give(organiser, workshop, bongani, chitra)
    replaced = vote(bongani, ballot, [ids[2]], OTHER_SECRET, on_behalf_of=chitra.id)
    assert replaced.changed is True
    assert papers(ballot) == [[ids[2]]]
    entry = audit(workshop, "ballot.cast")[-1]
    assert (entry.actor_id, entry.details["replaced_holder_id"]) == (bongani.id, amina.id)
    assert participation(ballot, chitra).cast_by_id == bongani.id


def test_a_paper_ballot_for_the_delegate_replaces_the_proxys(proxied):
    workshop, _, facilitator, ballot, ids, (amina, _, chitra) = proxied
    vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)
    result = casting.enter_paper_ballot(facilitator, workshop, PaperIn(
        workshop_id=workshop.id, ballot_id=ballot.id, delegate_id=chitra.id, choices=[ids[3]]))
    assert result.changed is True
    assert papers(ballot) == [[ids[3]]]
    assert audit(workshop, "ballot.paper")[-1].details["took_back"] is True
    with pytest.raises(Conflict):
        vote(amina, ballot, [ids[0]], HOLDER_SECRET, on_behalf_of=chitra.id)


def test_taking_papers_back_keeps_the_count_right(proxied):
    workshop, organiser, facilitator, ballot, ids, (amina, bongani, chitra) = proxied
    vote(amina, ballot, [ids[0]], HOLDER_SECRET)
    vote(bongani, ballot, [ids[0]], OTHER_SECRET)
    vote(amina, ballot, [ids[1]], HOLDER_SECRET + "0", on_behalf_of=chitra.id)
    give(organiser, workshop, amina, chitra, assigned=False)
    vote(chitra, ballot, [ids[2]], ABSENT_SECRET)
    services.close_ballot(facilitator, workshop, ballot)
    scores = {s["option"]: s["score"] for s in ballot.results["standings"]}
    assert (scores[ids[0]], scores[ids[1]], scores[ids[2]]) == (2.0, 0.0, 1.0)
    assert ballot.results["turnout"]["count"] == 3
    if ballot.secret:
        assert region_voters(ballot) == {"west_africa": 2, "asia": 1}
        assert len(results.published_ballots(ballot)) == 3  # receipts only: 3 < k


def test_who_counts_as_eligible_in_the_turnout(app):
    """Delegates who joined, and absent ones whose vote a proxy carries; with a voting
    register only those admitted and not turned away since; never another workshop's."""
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=5)
    create_lines(workshop, 2)
    west = create_organisation(region="west_africa")
    asia = create_organisation(region="asia", country="India")
    joined = create_delegate(workshop, west)
    carried, _ = invite(workshop, organiser, asia)  # never joined; a proxy carries their vote
    invite(workshop, organiser, asia)  # never joined, no proxy: cannot vote
    give(organiser, workshop, joined, carried)
    create_delegate(create_workshop(organiser, steps=5), west)  # another workshop's
    ballot = open_test_ballot(workshop)

    def eligible() -> dict[str, int]:
        db.session.expire_all()
        return {region: cell["eligible"]
                for region, cell in services.turnout(ballot)["by_region"].items()}

    assert eligible() == {"west_africa": 1, "asia": 1}
    workshop.voting_register = True
    db.session.commit()
    assert eligible() == {"asia": 1}  # an invitation admits; a join by code waits

    def admit(delegate, admitted: bool) -> None:
        admit_delegate(organiser, workshop, AdmitIn(workshop_id=workshop.id,
                                                    delegate_id=delegate.id, admitted=admitted))

    admit(joined, True)
    admit(carried, False)
    assert eligible() == {"west_africa": 1}
