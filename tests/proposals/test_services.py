"""Proposal rules: who may submit, support, comment, moderate and merge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.helpers import (
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
)
from workshop.errors import Conflict, NotFound, PermissionDenied
from workshop.extensions import db
from workshop.proposals import services
from workshop.proposals.lines import lines_of
from workshop.proposals.models import Proposal, ProposalRevision, Support
from workshop.proposals.schemas import EditIn, MergeIn, ProposalIn, TranslationIn

pytestmark = pytest.mark.usefixtures("app")

IDEA = ProposalIn(title="Social protection floors", theme="health_protection", level="national")


def test_delegate_submits_with_their_origin_attached():
    workshop = create_workshop()
    org = create_organisation(region="asia", country="Nepal", org_type="health_mutual")
    delegate = create_delegate(workshop, org)
    go_to_kind(workshop, "propose")
    proposal = services.submit_proposal(delegate, workshop, IDEA)
    assert (proposal.organisation_id, proposal.country, proposal.region) == (org.id, "Nepal",
                                                                             "asia")
    assert proposal.delegate_id == delegate.id


def test_submission_needs_a_propose_step_and_an_open_list():
    workshop = create_workshop()
    delegate = create_delegate(workshop)
    with pytest.raises(Conflict):
        services.submit_proposal(delegate, workshop, IDEA)
    go_to_kind(workshop, "propose")
    organiser = create_user("organiser")
    services.lock_submissions(organiser, workshop, True)
    with pytest.raises(Conflict):
        services.submit_proposal(delegate, workshop, IDEA)
    services.lock_submissions(organiser, workshop, False)
    assert services.submit_proposal(delegate, workshop, IDEA).id


def test_staff_and_strangers_cannot_submit_as_delegates():
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    outsider = create_delegate(create_workshop())
    for actor in (create_user("organiser"), outsider, None):
        with pytest.raises(PermissionDenied):
            services.submit_proposal(actor, workshop, IDEA)
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_support_once_per_delegate_and_withdraw():
    workshop = create_workshop()
    proposal = create_proposal(workshop)
    fan = create_delegate(workshop)
    services.set_support(fan, workshop, proposal.id, True)
    services.set_support(fan, workshop, proposal.id, True)
    [line] = lines_of(fan, workshop)
    assert line.supporters == {fan.id}
    services.set_support(fan, workshop, proposal.id, False)
    [line] = lines_of(fan, workshop)
    assert line.supporters == set()


def test_the_database_refuses_a_second_support():
    workshop = create_workshop()
    proposal = create_proposal(workshop)
    fan = create_delegate(workshop)
    db.session.add(Support(proposal_id=proposal.id, delegate_id=fan.id))
    db.session.commit()
    db.session.add(Support(proposal_id=proposal.id, delegate_id=fan.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_delegate_cannot_act_on_another_workshops_proposal():
    workshop = create_workshop()
    proposal = create_proposal(workshop)
    other = create_workshop()
    stranger = create_delegate(other)
    go_to_kind(other, "discuss")
    with pytest.raises(PermissionDenied):
        services.set_support(stranger, workshop, proposal.id, True)
    with pytest.raises(NotFound):
        services.set_support(stranger, other, proposal.id, True)
    with pytest.raises(NotFound):
        services.add_comment(stranger, other, proposal.id, "hello")


def test_delegate_cannot_edit_or_hide():
    workshop = create_workshop()
    author = create_delegate(workshop)
    proposal = create_proposal(workshop, author)
    with pytest.raises(PermissionDenied):
        services.edit_proposal(author, workshop, proposal.id, EditIn(
            title="Mine now", theme="decent_work", level="national"))
    with pytest.raises(PermissionDenied):
        services.hide_proposal(author, workshop, proposal.id, True, "spam")
    db.session.refresh(proposal)
    assert proposal.title != "Mine now"
    assert proposal.hidden is False


def test_edit_keeps_the_history():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    proposal = create_proposal(workshop, title="Frist draft")
    services.edit_proposal(facilitator, workshop, proposal.id, EditIn(
        title="First draft", theme="decent_work", level="continental"))
    [revision] = db.session.scalars(sa.select(ProposalRevision)).all()
    assert revision.title == "Frist draft"
    assert proposal.title == "First draft"
    assert proposal.level == "continental"


def test_hidden_proposal_disappears_for_delegates_and_comes_back():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    proposal = create_proposal(workshop)
    delegate = create_delegate(workshop)
    services.hide_proposal(facilitator, workshop, proposal.id, True, "off topic")
    assert lines_of(delegate, workshop) == []
    assert len(lines_of(facilitator, workshop, include_hidden=True)) == 1
    services.hide_proposal(facilitator, workshop, proposal.id, False, "")
    assert len(lines_of(delegate, workshop)) == 1


def test_threaded_comments_and_hiding():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    proposal = create_proposal(workshop)
    alice, bob = create_delegate(workshop), create_delegate(workshop)
    first = services.add_comment(alice, workshop, proposal.id, "Why national?")
    reply = services.add_comment(bob, workshop, proposal.id, "Because of laws", first.id)
    assert reply.parent_id == first.id
    other = create_proposal(workshop)
    with pytest.raises(NotFound):
        services.add_comment(bob, workshop, other.id, "wrong thread", first.id)
    services.hide_comment(facilitator, workshop, first.id, True, "rude")
    [line] = [x for x in lines_of(bob, workshop) if x.proposal.id == proposal.id]
    assert [c.id for c in services.comments_of(bob, workshop, line)] == [reply.id]
    assert len(services.comments_of(facilitator, workshop, line)) == 2


def test_translation_is_shown_in_the_readers_language():
    workshop = create_workshop()
    delegate = create_delegate(workshop)
    proposal = create_proposal(workshop, delegate, title="Protection sociale")
    proposal.language = "fr"
    db.session.commit()
    services.translate_proposal(delegate, workshop, proposal.id, TranslationIn(
        language="es", title="Protección social"))
    assert proposal.version("es")[0] == "Protección social"
    assert proposal.version("nl")[0] == "Protection sociale"
    with pytest.raises(Conflict):
        services.translate_proposal(delegate, workshop, proposal.id, TranslationIn(
            language="fr", title="x"))


def test_merge_keeps_supporters_comments_and_origins_and_can_be_undone():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    asia = create_delegate(workshop, create_organisation(region="asia", country="India"))
    peru = create_delegate(workshop, create_organisation(region="latin_america", country="Peru"))
    a = create_proposal(workshop, asia, title="Health insurance for informal workers")
    b = create_proposal(workshop, peru, title="Seguro de salud para informales")
    both = create_delegate(workshop)
    for d in (asia, both):
        services.set_support(d, workshop, a.id, True)
    for d in (peru, both):
        services.set_support(d, workshop, b.id, True)
    services.add_comment(peru, workshop, b.id, "Yes")
    merged = services.merge_proposals(facilitator, workshop, MergeIn(
        proposal_ids=[a.id, b.id], title="Health coverage for informal workers"))
    lines = lines_of(both, workshop)
    assert [line.proposal.id for line in lines] == [merged.id]
    line = lines[0]
    assert line.supporters == {asia.id, peru.id, both.id}  # the shared supporter counts once
    assert line.comment_count == 1
    assert line.regions == ["asia", "latin_america"]
    assert len(line.organisations) == 2
    # Supporting the merged line again changes nothing; withdrawing removes the old +1s.
    services.set_support(both, workshop, merged.id, True)
    assert len(lines_of(both, workshop)[0].supporters) == 3
    services.undo_merge(facilitator, workshop, merged.id)
    ids = sorted(line.proposal.id for line in lines_of(both, workshop))
    assert ids == sorted([a.id, b.id])


def test_merge_needs_two_proposals_of_the_workshop():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    a = create_proposal(workshop)
    with pytest.raises(Conflict):
        services.merge_proposals(facilitator, workshop, MergeIn(proposal_ids=[a.id, a.id],
                                                                title="x"))
    elsewhere = create_proposal(create_workshop())
    with pytest.raises(NotFound):
        services.merge_proposals(facilitator, workshop, MergeIn(
            proposal_ids=[a.id, elsewhere.id], title="x"))
    assert db.session.get(Proposal, a.id).merged_into_id is None


def test_duplicates_are_found_across_languages_with_or_without_a_translation():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    fr = create_proposal(workshop, title="Protection sociale pour l'économie informelle")
    es = create_proposal(workshop, title="Protección social para la economía informal")
    other = create_proposal(workshop, title="Climate adaptation for smallholder farmers")
    fr.language, es.language = "fr", "es"
    db.session.commit()
    before = services.suggest_duplicates(facilitator, workshop)
    assert [(p.first, p.second, p.language) for p in before] == [(fr.id, es.id, "fr/es")]
    assert other.id not in {p.first for p in before} | {p.second for p in before}
    services.translate_proposal(facilitator, workshop, fr.id, TranslationIn(
        language="es", title="Protección social para la economía informal"))
    pairs = services.suggest_duplicates(facilitator, workshop)
    match = [p for p in pairs if {p.first, p.second} == {fr.id, es.id}]
    assert match
    assert match[0].score >= 90
    assert match[0].language == "es"
