"""The rules of ballots, as the services enforce them (whatever door the request came in by)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from workshop.audit.models import AuditEntry
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.validation import parse
from workshop.voting import casting, proxies, results, secrecy, services, tally
from workshop.voting.models import Ballot, BallotOption, Participation, ProxyAssignment, Vote
from workshop.voting.schemas import BallotOpen, PaperIn, ProxyIn, SelectTopIn

SECRET_A = "a" * 32
SECRET_B = "b" * 32


@pytest.fixture
def room(app):
    """A workshop with four lines of work and delegates from two regions."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = create_lines(workshop, 4)
    west = create_organisation(region="west_africa", org_type="trade_union")
    asia = create_organisation(region="asia", org_type="womens_org", country="India")
    delegates = [create_delegate(workshop, west), create_delegate(workshop, west),
                 create_delegate(workshop, asia)]
    return workshop, facilitator, [line.id for line in lines], delegates


def counts(ballot) -> tuple[int, int]:
    db.session.expire_all()
    votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote)
                              .where(Vote.ballot_id == ballot.id))
    parts = db.session.scalar(sa.select(sa.func.count()).select_from(Participation)
                              .where(Participation.ballot_id == ballot.id))
    return votes, parts


def audit_ops(workshop) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.operation)
                                   .where(AuditEntry.workshop_id == workshop.id)))


# --- Opening ----------------------------------------------------------------------------------


def test_open_offers_every_visible_unmerged_line(room):
    workshop, facilitator, ids, _ = room
    hidden, merged = create_lines(workshop, 2)
    hidden.hidden = True
    merged.merged_into_id = ids[0]
    db.session.commit()
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator)
    assert ballot.option_ids == ids
    assert ballot.status == "open"
    assert "ballot.open" in audit_ops(workshop)


def test_option_ids_kept_with_the_ballot_are_handed_out_as_copies(room):
    """A ballot keeps its option ids once read (a batch of casts asks twice a cast): a
    caller changing the list it got changes no other caller's, and a change to the options
    or their expiry drops the kept ids."""
    workshop, _, ids, _ = room
    ballot_id = open_test_ballot(workshop, "ranking").id
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot_id)
    got = ballot.option_ids
    got.append(999_999)
    assert ballot.option_ids == ids
    assert ballot.known_options == tuple(ids)
    # Kept ids never hide a change (none is made once a ballot opens, but if one were):
    extra = create_lines(workshop, 1)[0].id
    assert ballot.known_options == tuple(ids)
    ballot.options.append(BallotOption(proposal_id=extra))
    assert len(ballot.known_options) == len(ids) + 1
    db.session.rollback()  # expires the ballot: the options are read again
    assert ballot.known_options == tuple(ids)
    ballot.options.remove(ballot.options[0])
    assert ballot.known_options == tuple(ids[1:])
    db.session.rollback()


def test_open_by_theme_and_by_hand(room):
    workshop, _, ids, _ = room
    health = [p.id for p in create_lines(workshop, 2, theme="health_protection")]
    assert open_test_ballot(workshop, scope="theme", theme="health_protection").option_ids \
        == health
    assert open_test_ballot(workshop, scope="pick", proposal_ids=[ids[2], ids[0]]).option_ids \
        == [ids[0], ids[2]]


@pytest.mark.parametrize(("fields", "field"), [
    ({"scope": "pick", "proposal_ids": [1]}, "proposal_ids"),
    ({"scope": "pick", "proposal_ids": [999_999, 999_998]}, "proposal_ids"),
    ({"scope": "theme"}, "theme"),
    ({"scope": "theme", "theme": "labour_rights"}, "proposal_ids"),
    ({"step_id": 999_999}, "step_id"),
])
def test_open_refuses_a_bad_set_of_options(room, fields, field):
    workshop, *_ = room
    with pytest.raises(ValidationFailed) as exc:
        open_test_ballot(workshop, **fields)
    assert field in exc.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_points_ballot_needs_a_budget(room):
    workshop, facilitator, _, _ = room
    with pytest.raises(ValidationFailed) as exc:
        services.open_ballot(facilitator, workshop, BallotOpen(
            workshop_id=workshop.id, title="Points", method="points"))
    assert "budget" in exc.value.fields


def test_max_per_option_defaults_to_the_budget(room):
    workshop, *_ = room
    ballot = open_test_ballot(workshop, "points", budget=7)
    assert (ballot.budget, ballot.max_per_option) == (7, 7)


def test_delegate_cannot_open_close_or_extend(room):
    workshop, _, _, (amina, *_) = room
    with pytest.raises(PermissionDenied):
        open_test_ballot(workshop, actor=amina)
    ballot = open_test_ballot(workshop)
    with pytest.raises(PermissionDenied):
        services.close_ballot(amina, workshop, ballot)
    with pytest.raises(PermissionDenied):
        services.extend_ballot(amina, workshop, ballot, 5)
    with pytest.raises(PermissionDenied):
        services.show_results(amina, workshop, ballot, True)


def test_facilitator_of_another_workshop_cannot_open(room):
    workshop, *_ = room
    stranger = create_user("facilitator")
    with pytest.raises(PermissionDenied):
        open_test_ballot(workshop, actor=stranger)


# --- Casting: the methods ---------------------------------------------------------------------


def test_approval_is_stored_by_id_and_a_retry_counts_once(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, "approval")
    first = cast_vote(amina, ballot, [ids[2], ids[0]])
    assert first.changed is False
    assert len(first.receipt) == 12
    again = cast_vote(amina, ballot, [ids[2], ids[0]])
    assert again.changed is True
    assert again.receipt == first.receipt
    assert counts(ballot) == (1, 1)
    vote = db.session.scalar(sa.select(Vote).where(Vote.ballot_id == ballot.id))
    assert vote.choices == [ids[0], ids[2]]
    assert (vote.delegate_id, vote.source, vote.region) == (amina.id, "phone", "west_africa")


def test_changing_a_vote_replaces_it(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, "ranking")
    cast_vote(amina, ballot, [ids[0], ids[1]])
    cast_vote(amina, ballot, [ids[3]])
    assert counts(ballot) == (1, 1)
    assert db.session.scalar(sa.select(Vote.choices)) == [ids[3]]


@pytest.mark.parametrize(("method", "fields", "choices", "needle", "rule"), [
    ("approval", {}, ["X", 1], "whole number", None),  # refused by the schema: not an id
    ("approval", {}, [999_999], "not one of this ballot's options", "unknown_option"),
    ("approval", {"max_approvals": 2}, "first three", "at most 2", "too_many"),
    ("ranking", {}, "first three", "appears twice", "repeated_option"),
    ("ranking", {}, "unknown", "not one of this ballot's options", "unknown_option"),
    ("ranking", {}, {"1": 1}, "list", "not_a_list"),
    ("points", {"budget": 10, "max_per_option": 6}, "over budget", "Over budget", "over_budget"),
    ("points", {"budget": 10, "max_per_option": 6}, "over max", "At most 6", "over_max"),
    ("points", {"budget": 10}, "negative", "negative", "negative"),
    ("points", {"budget": 10}, [1, 2], "each option", "not_a_mapping"),
    ("matrix", {}, "rating 6", "from 1 to 5", "bad_rating"),
    ("matrix", {}, "one rating", "from 1 to 5", "bad_rating"),
])
def test_a_broken_ballot_paper_is_refused_and_nothing_stored(room, method, fields, choices,
                                                             needle, rule):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, method, **fields)
    named = {
        "first three": [ids[0], ids[1], ids[2]] if method == "approval" else [ids[0], ids[0]],
        "unknown": [ids[0], 999_999],
        "over budget": {ids[0]: 6, ids[1]: 5},
        "over max": {ids[0]: 7},
        "negative": {ids[0]: -1, ids[1]: 3},
        "rating 6": {ids[0]: [6, 1]},
        "one rating": {ids[0]: [3]},
    }
    with pytest.raises(ValidationFailed) as exc:
        cast_vote(amina, ballot, named.get(choices, choices) if isinstance(choices, str)
                  else choices)
    assert "choices" in exc.value.fields
    assert needle in str(exc.value.fields["choices"])
    if rule is not None:  # the rule's code goes to the phone with its sentence
        assert exc.value.to_dict()["codes"] == {"choices": rule}
    db.session.rollback()
    assert counts(ballot) == (0, 0)


def test_points_keep_only_options_given_points(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, "points", budget=10, max_per_option=5)
    cast_vote(amina, ballot, {str(ids[0]): 5, str(ids[1]): 0, str(ids[2]): 4})
    assert db.session.scalar(sa.select(Vote.choices)) == [[ids[0], 5], [ids[2], 4]]


def test_matrix_may_leave_options_out(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, "matrix")
    cast_vote(amina, ballot, {str(ids[1]): [5, 2]})
    assert db.session.scalar(sa.select(Vote.choices)) == [[ids[1], 5, 2]]


def test_staff_and_strangers_cannot_vote(room):
    workshop, facilitator, ids, _ = room
    ballot = open_test_ballot(workshop)
    outsider = create_delegate(create_workshop())
    for actor in (facilitator, outsider):
        with pytest.raises(PermissionDenied):
            cast_vote(actor, ballot, [ids[0]])
    db.session.rollback()
    assert counts(ballot) == (0, 0)


def test_ballot_of_another_workshop_is_not_found(room):
    workshop, _, ids, (amina, *_) = room
    other = create_workshop()
    create_lines(other, 2)
    ballot = open_test_ballot(other)
    with pytest.raises((NotFound, PermissionDenied)):
        cast_vote(amina, ballot, [ids[0]])


# --- Open and closed --------------------------------------------------------------------------


def test_a_vote_after_close_is_refused(room):
    workshop, facilitator, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop)
    services.close_ballot(facilitator, workshop, ballot)
    with pytest.raises(Conflict):
        cast_vote(amina, ballot, [ids[0]])
    db.session.rollback()
    assert counts(ballot) == (0, 0)
    with pytest.raises(Conflict):
        services.close_ballot(facilitator, workshop, ballot)


def test_a_vote_after_the_closing_time_is_refused_and_the_ballot_closes(room):
    workshop, _, ids, (amina, bongani, _) = room
    ballot = open_test_ballot(workshop, closes_in_minutes=5)
    cast_vote(bongani, ballot, [ids[1]])
    ballot.closes_at -= timedelta(minutes=6)
    db.session.commit()
    with pytest.raises(Conflict):
        cast_vote(amina, ballot, [ids[0]])
    db.session.expire_all()
    assert ballot.status == "closed"
    assert ballot.results["turnout"]["count"] == 1
    assert counts(ballot) == (1, 1)


def test_extend_moves_the_closing_time(room):
    workshop, facilitator, _, _ = room
    ballot = open_test_ballot(workshop)
    assert ballot.closes_at is None
    services.extend_ballot(facilitator, workshop, ballot, 5)
    first = ballot.closes_at
    services.extend_ballot(facilitator, workshop, ballot, 2)
    assert ballot.closes_at - first == timedelta(minutes=2)
    assert 250_000 < services.remaining_ms(ballot) <= 420_000


# --- One ballot per delegate: the database says so ---------------------------------------------


def test_the_database_refuses_a_second_participation(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop)
    cast_vote(amina, ballot, [ids[0]])
    db.session.add(Participation(ballot_id=ballot.id, delegate_id=amina.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Vote(ballot_id=ballot.id, delegate_id=amina.id, receipt="X", choices=[],
                        region="asia", org_type="ngo"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- Secret ballots ---------------------------------------------------------------------------


def test_a_secret_vote_names_nobody(room):
    workshop, _, ids, (amina, *_) = room
    ballot = open_test_ballot(workshop, "approval", secret=True)
    result = cast_vote(amina, ballot, [ids[1]], secret=SECRET_A)
    vote = db.session.scalar(sa.select(Vote))
    assert vote.delegate_id is None
    assert vote.source is None
    # One delegate one vote needs nothing: no organisation, no type, no region.
    assert (vote.organisation_id, vote.org_type, vote.region, vote.org_key) == (
        None, None, None, None)
    assert vote.proxy_tag is None
    assert vote.secret_hash == secrecy.paper_hash(ballot.id, amina.id, SECRET_A)
    assert vote.receipt == result.receipt == services.receipt_for(
        services.secret_token(ballot.id, amina.id, SECRET_A))
    assert len(vote.id) == 32
    assert not hasattr(Vote, "created_at")
    assert audit_ops(workshop).count("ballot.cast") == 0
    assert ballot.min_cell == 5


def test_a_secret_vote_changes_with_its_secret_only(room):
    workshop, _, ids, (amina, bongani, _) = room
    ballot = open_test_ballot(workshop, "approval", secret=True)
    first = cast_vote(amina, ballot, [ids[1]], secret=SECRET_A)
    again = cast_vote(amina, ballot, [ids[2]], secret=SECRET_A)
    assert (again.receipt, again.changed) == (first.receipt, True)
    assert counts(ballot) == (1, 1)
    with pytest.raises(Conflict, match="another phone"):
        cast_vote(amina, ballot, [ids[3]], secret=SECRET_B)
    db.session.rollback()
    # Amina's secret in Bongani's hands reaches only Bongani's own paper, never hers.
    theirs = cast_vote(bongani, ballot, [ids[3]], secret=SECRET_A)
    assert (theirs.changed, theirs.receipt != first.receipt) == (False, True)
    with pytest.raises(ValidationFailed) as exc:
        cast_vote(bongani, ballot, [ids[3]])
    assert "secret" in exc.value.fields
    db.session.rollback()
    assert counts(ballot) == (2, 2)
    assert sorted(db.session.scalars(sa.select(Vote.choices))) == [[ids[2]], [ids[3]]]


@pytest.mark.parametrize("weighting", ["organisation", "region", "delegate"])
def test_a_secret_paper_keeps_only_what_its_weighting_needs(room, weighting):
    workshop, _, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, secret=True, weighting=weighting)
    for delegate in (amina, bongani, chitra):
        cast_vote(delegate, ballot, [ids[0]], secret=f"{delegate.id:032x}")
    rows = db.session.execute(sa.select(Vote.organisation_id, Vote.org_type, Vote.region,
                                        Vote.org_key, Vote.delegate_id)).all()
    assert all(r.organisation_id is None and r.org_type is None and r.delegate_id is None
               for r in rows)
    if weighting == "organisation":
        # A keyed hash per ballot, not the organisation: the two west Africans share one.
        assert {r.region for r in rows} == {None}
        keys = sorted(r.org_key for r in rows)
        assert keys == sorted([secrecy.org_key(ballot.id, amina.organisation_id)] * 2
                              + [secrecy.org_key(ballot.id, chitra.organisation_id)])
        assert secrecy.org_key(ballot.id + 1, amina.organisation_id) not in keys
    elif weighting == "region":
        assert sorted(r.region for r in rows) == ["asia", "west_africa", "west_africa"]
        assert {r.org_key for r in rows} == {None}
    else:
        assert {(r.region, r.org_key) for r in rows} == {(None, None)}


# --- Proxies and paper ballots ----------------------------------------------------------------


def test_a_proxy_casts_the_absent_delegates_ballot(room):
    workshop, _, ids, (amina, bongani, chitra) = room
    organiser = db.session.get(type(room[1]), workshop.created_by_id)
    proxies.assign_proxy(organiser, workshop, ProxyIn(
        workshop_id=workshop.id, holder_id=amina.id, absent_id=chitra.id))
    ballot = open_test_ballot(workshop, "ranking")
    cast_vote(amina, ballot, [ids[0]])
    cast_vote(amina, ballot, [ids[1], ids[2]], on_behalf_of=chitra.id)
    assert counts(ballot) == (2, 2)
    proxy_vote = db.session.scalar(sa.select(Vote).where(Vote.delegate_id == chitra.id))
    assert (proxy_vote.source, proxy_vote.region) == ("proxy", "asia")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.operation == "ballot.cast"))
    assert entry.actor_id == amina.id
    assert entry.details["absent_id"] == chitra.id
    # Bongani carries nobody's vote: on someone else's behalf is refused, nothing stored.
    with pytest.raises(PermissionDenied):
        cast_vote(bongani, ballot, [ids[3]], on_behalf_of=amina.id)
    db.session.rollback()
    assert counts(ballot) == (2, 2)


def test_proxy_rules(room):
    workshop, facilitator, _, (amina, bongani, chitra) = room
    organiser = db.session.get(type(facilitator), workshop.created_by_id)

    def give(actor, holder, absent):
        return proxies.assign_proxy(actor, workshop, ProxyIn(
            workshop_id=workshop.id, holder_id=holder.id, absent_id=absent.id))

    with pytest.raises(PermissionDenied):
        give(facilitator, amina, chitra)
    with pytest.raises(ValidationFailed):
        give(organiser, amina, amina)
    give(organiser, amina, chitra)
    with pytest.raises(Conflict):
        give(organiser, bongani, chitra)
    with pytest.raises(ValidationFailed):
        give(organiser, chitra, bongani)  # the absent cannot carry votes
    proxies.assign_proxy(organiser, workshop, ProxyIn(
        workshop_id=workshop.id, holder_id=amina.id, absent_id=chitra.id, assigned=False))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAssignment)) == 0


def test_paper_ballot_is_marked_and_audited(room):
    workshop, facilitator, ids, (amina, bongani, _) = room
    ballot = open_test_ballot(workshop, "approval")
    paper = PaperIn(workshop_id=workshop.id, ballot_id=ballot.id, delegate_id=bongani.id,
                    choices=[ids[3]])
    result = casting.enter_paper_ballot(facilitator, workshop, paper)
    assert len(result.receipt) == 12
    vote = db.session.scalar(sa.select(Vote).where(Vote.delegate_id == bongani.id))
    assert vote.source == "paper"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.operation == "ballot.paper"))
    assert (entry.actor_id, entry.details["delegate_id"]) == (facilitator.id, bongani.id)
    cast_vote(amina, ballot, [ids[0]])
    with pytest.raises(Conflict):
        casting.enter_paper_ballot(facilitator, workshop, PaperIn(
            workshop_id=workshop.id, ballot_id=ballot.id, delegate_id=amina.id, choices=[]))
    with pytest.raises(PermissionDenied):
        casting.enter_paper_ballot(amina, workshop, paper)


# --- Turnout, results, hash, top N ------------------------------------------------------------


def test_turnout_counts_who_voted_by_region_never_what(room):
    workshop, _, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop)
    cast_vote(amina, ballot, [ids[0]])
    turnout = services.turnout(ballot)
    assert turnout == {"ballot_id": ballot.id, "voted": 1, "eligible": 3, "by_region": {
        "west_africa": {"voted": 1, "eligible": 2}, "asia": {"voted": 0, "eligible": 1}}}


def test_close_freezes_results_and_the_hash_matches_the_published_list(room):
    workshop, facilitator, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, "approval", secret=True)
    receipts = {cast_vote(amina, ballot, [ids[0], ids[1]], secret=SECRET_A).receipt,
                cast_vote(bongani, ballot, [ids[0]], secret=SECRET_B).receipt,
                cast_vote(chitra, ballot, [ids[1]], secret="c" * 32).receipt}
    services.close_ballot(facilitator, workshop, ballot)
    frozen = ballot.results
    assert [(s["option"], s["rank"], s["score"]) for s in frozen["standings"]] == [
        (ids[0], 1, 2.0), (ids[1], 1, 2.0), (ids[2], 3, 0.0), (ids[3], 3, 0.0)]
    papers = results.published_ballots(ballot)
    assert ballot.ballots_hash == tally.ballots_hash(papers) == frozen["hash"]
    # Receipts only: three papers are fewer than k, so their choices are not listed.
    assert papers == [{"receipt": code} for code in sorted(receipts)]
    assert frozen["secrecy"]["choices_listed"] is False
    # Two west Africans and one Asian: both regions are under k, so neither is shown and
    # consensus (the lowest share among the regions shown) has no region to stand on.
    assert frozen["secrecy"]["hidden_regions"] == {"asia": {"eligible": 1},
                                                   "west_africa": {"eligible": 2}}
    assert all(s["by_region"] == s["region_shares"] == s["by_org_type"] == {}
               and s["consensus"] is None for s in frozen["standings"])
    assert frozen["turnout_by_region"] == frozen["turnout_by_org_type"] == {}
    assert frozen["turnout"] == {"count": 3, "weight": 3.0, "eligible": 3}
    # Frozen: a later change of a proposal title or a late vote does not move them.
    with pytest.raises(Conflict):
        cast_vote(amina, ballot, [ids[3]], secret=SECRET_A)


def test_a_named_ballot_publishes_every_paper_whole(room):
    workshop, facilitator, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, "approval")
    for delegate, choice in ((amina, [ids[0], ids[1]]), (bongani, [ids[0]]), (chitra, [ids[1]])):
        cast_vote(delegate, ballot, choice)
    services.close_ballot(facilitator, workshop, ballot)
    papers = results.published_ballots(ballot)
    assert ballot.ballots_hash == tally.ballots_hash(papers)
    assert {(p["delegate"], p["region"]) for p in papers} == {
        (amina.name, "west_africa"), (bongani.name, "west_africa"), (chitra.name, "asia")}
    standing = {s["option"]: s for s in ballot.results["standings"]}
    # Consensus: option 0 is approved by half of west Africa and none of Asia.
    assert standing[ids[0]]["consensus"] == 0.0
    assert standing[ids[1]]["consensus"] == 0.5
    assert "secrecy" not in ballot.results


@pytest.mark.parametrize("secret", [False, True])
@pytest.mark.parametrize(("weighting", "expected"), [
    ("delegate", {0: 2.0, 1: 1.0}),
    ("organisation", {0: 1.0, 1: 1.0}),  # two west Africans share one vote
    ("region", {0: 1.0, 1: 1.0}),
])
def test_weightings(room, weighting, expected, secret):
    workshop, facilitator, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, "approval", weighting=weighting, secret=secret)
    cast_vote(amina, ballot, [ids[0]], secret=SECRET_A if secret else None)
    cast_vote(bongani, ballot, [ids[0]], secret=SECRET_B if secret else None)
    cast_vote(chitra, ballot, [ids[1]], secret="c" * 32 if secret else None)
    services.close_ballot(facilitator, workshop, ballot)
    scores = {s["option"]: s["score"] for s in ballot.results["standings"]}
    assert {i: scores[ids[i]] for i in expected} == expected


def test_ranking_results_carry_borda_and_schulze(room):
    workshop, facilitator, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, "ranking")
    cast_vote(amina, ballot, [ids[2], ids[0]])
    cast_vote(bongani, ballot, [ids[2], ids[1], ids[0]])
    cast_vote(chitra, ballot, [ids[0], ids[2]])
    services.close_ballot(facilitator, workshop, ballot)
    frozen = ballot.results
    assert frozen["schulze"]["condorcet_winner"] == ids[2]
    assert frozen["ranking"][0] == [ids[2]]
    assert frozen["schulze"]["ranks"][str(ids[2])] == 1


def test_empty_ballot_closes_with_zero_turnout(room):
    workshop, facilitator, _, _ = room
    ballot = open_test_ballot(workshop, "matrix")
    services.close_ballot(facilitator, workshop, ballot)
    assert ballot.results["turnout"]["count"] == 0
    assert all(s["rank"] == 1 for s in ballot.results["standings"])


def test_select_top_shows_a_tie_and_a_person_settles_it(room):
    workshop, facilitator, ids, (amina, bongani, chitra) = room
    ballot = open_test_ballot(workshop, "approval")
    cast_vote(amina, ballot, [ids[0], ids[1], ids[2]])
    cast_vote(bongani, ballot, [ids[0], ids[1]])
    cast_vote(chitra, ballot, [ids[0], ids[2]])
    data = {"workshop_id": workshop.id, "ballot_id": ballot.id, "n": 2}
    with pytest.raises(Conflict):
        services.select_top(facilitator, workshop, ballot, parse(SelectTopIn, data))
    services.close_ballot(facilitator, workshop, ballot)
    preview = services.top_preview(ballot, 2)
    assert (preview.selected, set(preview.tied_at_cutoff), preview.seats_left) == (
        (ids[0],), {ids[1], ids[2]}, 1)
    with pytest.raises(ValidationFailed) as exc:
        services.select_top(facilitator, workshop, ballot, parse(SelectTopIn, data))
    assert "picks" in exc.value.fields
    selected = services.select_top(facilitator, workshop, ballot,
                                   parse(SelectTopIn, {**data, "picks": [ids[2]]}))
    assert selected == [ids[0], ids[2]]
    assert ballot.selected_proposal_ids == [ids[0], ids[2]]
    assert "ballot.select_top" in audit_ops(workshop)


def test_each_delegate_gets_a_stable_order_of_their_own(room):
    workshop, _, ids, (amina, bongani, _) = room
    create_lines(workshop, 8)
    ballot = open_test_ballot(workshop, "ranking")
    first = services.shuffled_options(ballot, amina.id)
    assert sorted(first) == sorted(ballot.option_ids)
    assert services.shuffled_options(ballot, amina.id) == first
    orders = {tuple(services.shuffled_options(ballot, d)) for d in range(1, 30)}
    assert len(orders) > 20


def test_receipts_read_and_normalise():
    assert services.format_receipt("ABCDEFGHJKLM") == "ABCD-EFGH-JKLM"
    assert services.normalise_receipt(" abcd-efgh jklm ") == "ABCDEFGHJKLM"


def test_a_receipt_is_the_same_code_as_ever():
    """Receipts already handed out and published must still be found: the code for a known
    token is pinned (the first 12 base32 characters of SHA-256 over "receipt:" + token)."""
    assert services.receipt_for("7:42:" + "a" * 64) == "W237QN7JXZPU"
    assert services.format_receipt("W237QN7JXZPU") == "W237-QN7J-XZPU"
