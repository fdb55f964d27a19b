"""Action-plan services: templates, pre-filled plans, groups, edits, history, restore, locks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import (
    carry_forward,
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    edit_plan,
    login,
)
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.plans import services as plans
from workshop.plans import template as tpl
from workshop.plans.models import Plan, PlanChange
from workshop.plans.schemas import AssignIn, LockIn, RestoreIn, SpotlightIn
from workshop.plans.services import EditConflict
from workshop.proposals.models import Comment, ProposalTranslation, Support
from workshop.proposals.schemas import MergeIn
from workshop.proposals.services import merge_proposals


@pytest.fixture
def organiser(app):
    return create_user("organiser")


@pytest.fixture
def workshop(organiser):
    return create_workshop(organiser, steps=6)


def field(plan, key):
    db.session.refresh(plan)
    return next(f for f in plan.fields if f.key == key)


def test_the_default_template_covers_every_field_of_a_plan():
    keys = set(tpl.field_map(tpl.default_template()))
    assert {"title", "theme", "level", "context", "discussion", "objective",
            "results_national", "results_continental", "results_international", "activities",
            "lead", "partners", "countries", "regions", "ilo_pillars", "sdg_targets",
            "indicators", "risks", "resources"} <= keys
    for f in tpl.fields_of(tpl.default_template()):
        assert set(f["label"]) == {"en", "fr", "es", "nl"}
        assert all(f["label"].values())
    tpl.check_template(tpl.default_template())


def test_carrying_lines_forward_makes_one_prefilled_plan_each(workshop, organiser):
    org = create_organisation(region="asia", country="Nepal", name="Nepal Health Mutual")
    plans_, lines, ballot = carry_forward(workshop, n=3)
    assert [p.proposal_id for p in plans_] == [line.id for line in lines[:3]]
    first = plans_[0]
    assert field(first, "title").value == lines[0].title
    assert field(first, "theme").value == lines[0].theme
    assert first.vote["rank"] == 1
    assert first.vote["hash"] == ballot.ballots_hash
    # Nothing invented: what the data does not give stays empty at version 0.
    assert field(first, "objective").value == ""
    assert field(first, "objective").version == 0
    assert field(first, "lead").value == []
    assert org.id  # an organisation that neither proposed nor supported is not a partner
    assert str(org.id) not in field(first, "partners").value


def test_prefill_takes_merged_origins_translations_supporters_and_comments(workshop, organiser):
    from tests.helpers import create_proposal, go_to_kind

    senegal = create_organisation(region="west_africa", country="Senegal", name="CNTS")
    peru = create_organisation(region="latin_america", country="Peru", name="CGTP")
    a = create_proposal(workshop, create_delegate(workshop, senegal), title="Protection sociale",
                        description="Pour l'économie informelle.")
    b = create_proposal(workshop, create_delegate(workshop, peru), title="Protección social",
                        description="Para trabajadores informales.")
    a.language, b.language = "fr", "es"
    db.session.add(ProposalTranslation(proposal_id=a.id, language="en",
                                       title="Social protection", description="For the informal"
                                       " economy.", translated_by="x"))
    supporter = create_delegate(workshop, create_organisation(region="asia", country="Nepal",
                                                              name="GEFONT"))
    db.session.add(Support(proposal_id=b.id, delegate_id=supporter.id))
    db.session.add(Comment(proposal_id=a.id, author_name="Awa", body="Include domestic workers",
                           language="fr", delegate_id=a.delegate_id))
    db.session.commit()
    go_to_kind(workshop, "discuss")
    merged = merge_proposals(organiser, workshop, MergeIn(
        proposal_ids=[a.id, b.id], title="Social protection for all"))
    from tests.helpers import cast_vote, create_lines, open_test_ballot
    from workshop.voting import services as voting
    from workshop.voting.schemas import SelectTopIn

    extra = create_lines(workshop, 1)[0]
    ballot = open_test_ballot(workshop, "approval", proposal_ids=[merged.id, extra.id],
                              scope="pick")
    cast_vote(supporter, ballot, [merged.id])
    voting.close_ballot(organiser, workshop, ballot)
    voting.select_top(organiser, workshop, ballot, SelectTopIn(workshop_id=workshop.id,
                                                               ballot_id=ballot.id, n=1))
    plan = plans.list_plans(organiser, workshop)[0]
    context = field(plan, "context").value
    for text in ("Protection sociale", "Pour l'économie informelle.", "Social protection",
                 "Protección social", "Para trabajadores informales.", "[FR]", "[ES]", "[EN]"):
        assert text in context
    partners = set(field(plan, "partners").value)
    assert {str(senegal.id), str(peru.id), str(supporter.organisation_id)} <= partners
    assert {"Senegal", "Peru", "Nepal"} <= set(field(plan, "countries").value)
    assert {"west_africa", "latin_america", "asia"} <= set(field(plan, "regions").value)
    assert "Include domestic workers" in field(plan, "discussion").value[0]["text"]


def test_a_template_edit_leaves_existing_plans_on_their_version(workshop, organiser):
    plans_, _, _ = carry_forward(workshop, n=1)
    data = tpl.default_template()
    data["sections"][0]["fields"].append({"key": "budget_line", "kind": "text",
                                          "label": {"en": "Budget line"}})
    row = plans.update_template(organiser, workshop, data)
    assert row.version == 2
    assert "budget_line" not in tpl.field_map(plans_[0].template.sections)
    with pytest.raises(ValidationFailed) as err:
        plans.update_template(organiser, workshop, {"sections": [{"title": {"en": "x"},
                                                                  "fields": [{"key": "Bad!"}]}]})
    assert "sections.0.fields.0.key" in err.value.fields


def test_only_the_working_group_writes_unless_open_editing(workshop, organiser):
    plans_, _, _ = carry_forward(workshop, n=2)
    member, outsider = create_delegate(workshop), create_delegate(workshop)
    plans.assign_member(organiser, workshop, AssignIn(workshop_id=workshop.id,
                                                      delegate_id=member.id,
                                                      plan_id=plans_[0].id))
    edit_plan(member, plans_[0], "objective", "By 2031")
    with pytest.raises(PermissionDenied):
        edit_plan(outsider, plans_[0], "objective", "Mine")
    workshop.plans_open_editing = True
    db.session.commit()
    assert edit_plan(outsider, plans_[0], "objective", "By 2031, for all").version == 2


def test_edits_merge_refuse_overlaps_and_are_idempotent(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    edit_plan(organiser, plan, "objective", "Decent work for domestic workers.")
    merged = edit_plan(organiser, plan, "objective", "Decent work for all domestic workers.",
                       base_version=1)
    later = edit_plan(organiser, plan, "objective", "Decent work for domestic workers by 2031.",
                      base_version=1)
    assert later.merged
    assert later.value == "Decent work for all domestic workers by 2031."
    assert merged.version == 2
    assert later.version == 3
    with pytest.raises(EditConflict) as err:
        edit_plan(organiser, plan, "objective", "Decent work for migrant workers.",
                  base_version=1)
    assert err.value.to_dict()["current"]["version"] == 3
    again = edit_plan(organiser, plan, "resources", "Two staff", edit_id="edit-0001-abcd")
    twice = edit_plan(organiser, plan, "resources", "Two staff", base_version=0,
                      edit_id="edit-0001-abcd")
    assert twice.duplicate
    assert twice.version == again.version == 1
    assert db.session.scalar(sa.select(sa.func.count(PlanChange.id)).where(
        PlanChange.plan_id == plan.id, PlanChange.field_key == "resources")) == 1


def test_bad_values_name_their_field_and_store_nothing(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    cases = [
        ("objective", "x" * 20001, "value"),
        ("objective", ["a list"], "value"),
        ("activities", [{"_id": "r1", "activity": 5}], "value.0.activity"),
        ("activities", [{"_id": "r1", "nope": "x"}], "value.0.nope"),
        ("activities", [{"activity": "no id"}], "value.0._id"),
        ("countries", ["Atlantis"], "value.0"),
        ("theme", "not_a_theme", "value"),
        ("no_such_field", "x", "field"),
        ("title", "a\x00b", "value"),
    ]
    for key, value, where in cases:
        with pytest.raises(ValidationFailed) as err:
            edit_plan(organiser, plan, key, value, base_version=0 if key != "title" else 1)
        assert where in err.value.fields, (key, err.value.fields)
    with pytest.raises(ValidationFailed) as err:
        edit_plan(organiser, plan, "objective", "x", base_version=7)
    assert "base_version" in err.value.fields
    assert db.session.scalar(sa.select(sa.func.count(PlanChange.id)).where(
        PlanChange.kind != "prefill")) == 0


def test_history_and_restore_of_a_field_and_of_the_whole_plan(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    edit_plan(organiser, plan, "objective", "First")
    first = db.session.scalar(sa.select(PlanChange).where(PlanChange.field_key == "objective"))
    edit_plan(organiser, plan, "objective", "Second")
    edit_plan(organiser, plan, "resources", "Money")
    plans.restore(organiser, workshop, RestoreIn(workshop_id=workshop.id, plan_id=plan.id,
                                                 change_id=first.id))
    assert field(plan, "objective").value == "First"
    assert field(plan, "objective").version == 3
    restored = plans.history(organiser, workshop, plan, "objective")[0]
    assert restored.kind == "restore"
    assert restored.restored_from_id == first.id
    plans.restore(organiser, workshop, RestoreIn(workshop_id=workshop.id, plan_id=plan.id,
                                                 change_id=first.id, scope="plan"))
    assert field(plan, "resources").value == ""  # as it stood right after the first change
    with pytest.raises(ValidationFailed):
        plans.restore(organiser, workshop, RestoreIn(workshop_id=workshop.id, plan_id=plan.id,
                                                     change_id=999999))


def test_locked_plans_refuse_edits_and_restores(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    plans.lock_plans(organiser, workshop, LockIn(workshop_id=workshop.id, locked=True))
    with pytest.raises(Conflict):
        edit_plan(organiser, plan, "objective", "Late")
    plans.lock_plans(organiser, workshop, LockIn(workshop_id=workshop.id, plan_id=plan.id,
                                                 locked=False))
    assert edit_plan(organiser, plan, "objective", "In time").version == 1


def test_another_workshops_plan_is_not_found(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    other = create_workshop(organiser)
    with pytest.raises(NotFound):
        plans.get_plan(organiser, other, plan.id)
    stranger = create_delegate(other)
    with pytest.raises(PermissionDenied):
        plans.get_plan(stranger, workshop, plan.id)


def test_reselection_sets_aside_and_brings_back(workshop, organiser):
    from workshop.voting import services as voting
    from workshop.voting.schemas import SelectTopIn

    plans_, lines, ballot = carry_forward(workshop, n=3)
    edit_plan(organiser, plans_[2], "objective", "Kept text")
    voting.select_top(organiser, workshop, ballot, SelectTopIn(workshop_id=workshop.id,
                                                               ballot_id=ballot.id, n=2))
    assert len(plans.list_plans(organiser, workshop)) == 2
    voting.select_top(organiser, workshop, ballot, SelectTopIn(workshop_id=workshop.id,
                                                               ballot_id=ballot.id, n=3))
    back = plans.list_plans(organiser, workshop)
    assert len(back) == 3
    assert field(back[2], "objective").value == "Kept text"
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 3


def test_spotlight_and_progress(workshop, organiser):
    plan = carry_forward(workshop, n=1)[0][0]
    before = plans.progress(plan)["filled"]
    edit_plan(organiser, plan, "objective", "Something")
    after = plans.progress(plan)
    assert after["filled"] == before + 1
    assert after["writers"] == [organiser.display_name]
    plans.spotlight(organiser, workshop, SpotlightIn(workshop_id=workshop.id, plan_id=plan.id))
    assert plans.spotlit_plan(workshop) == plan.id


def test_pages_render_for_staff_and_delegates(client, workshop, organiser):
    plan = carry_forward(workshop, n=2)[0][0]
    login(client, organiser)
    for url in (f"/w/{workshop.id}/plans", f"/w/{workshop.id}/plans/{plan.id}",
                f"/w/{workshop.id}/plans/{plan.id}/history", f"/w/{workshop.id}/plans/template"):
        page = client.get(url)
        assert page.status_code == 200, url
    assert "Five-year objective" in client.get(f"/w/{workshop.id}/plans/{plan.id}").text
    assert "Objectif à cinq ans" in client.get(f"/w/{workshop.id}/plans/{plan.id}?lang=fr").text
    assert client.get(f"/w/{workshop.id}/plans/999999").status_code == 404
    bad = client.post(f"/w/{workshop.id}/plans/template",
                      data={"template": "{not json", "version": "1",
                            "csrf_token": _csrf(client, workshop)})
    assert bad.status_code == 422
    # The reader chose French above (?lang=fr): the error speaks it too.
    assert "pas du JSON valide" in bad.text


def _csrf(client, workshop):
    from tests.helpers import csrf_from

    return csrf_from(client.get(f"/w/{workshop.id}/plans/template").text)


def test_the_template_form_edits_labels_orders_adds_and_removes(client, workshop, organiser):
    login(client, organiser)
    token = _csrf(client, workshop)
    base = tpl.default_template()
    form = {"csrf_token": token, "version": "0",
            "s-0-title-fr": "Axe", "s-1-pos": "0.5",           # context section first
            "s-0-f-0-label-nl": "Naam", "s-0-f-0-help-es": "Ayuda",
            "s-2-remove": "1",                                  # no objective section
            "s-0-f-1-remove": "1",                              # no theme field
            "s-0-new-kind": "table", "s-0-new-label-en": "Budget lines",
            "s-0-new-columns": "Item, Amount, 2027:check",
            "new-title-en": "Partners' own words", "new-title-fr": "Paroles des partenaires"}
    answer = client.post(f"/w/{workshop.id}/plans/template", data=form)
    assert answer.status_code == 302, answer.text
    saved = plans.template_data(workshop)
    keys = [s["key"] for s in saved["sections"]]
    assert keys[0] == "context"
    assert "objective" not in keys
    assert keys[-1] == "partners_own_words"
    line = next(s for s in saved["sections"] if s["key"] == "line")
    assert line["title"]["fr"] == "Axe"
    assert line["fields"][0]["label"]["nl"] == "Naam"
    assert line["fields"][0]["help"]["es"] == "Ayuda"
    assert "theme" not in [f["key"] for f in line["fields"]]
    table = line["fields"][-1]
    assert table["key"] == "budget_lines"
    assert [(c["key"], c["kind"]) for c in table["columns"]] == [
        ("item", "text"), ("amount", "text"), ("2027", "check")]
    assert len(base["sections"]) == len(saved["sections"])  # one removed, one added
    stale = client.post(f"/w/{workshop.id}/plans/template", data={**form, "version": "0"})
    assert stale.status_code == 409
    wrong = client.post(f"/w/{workshop.id}/plans/template",
                        data={"csrf_token": token, "version": "1", "s-0-pos": "first"})
    assert wrong.status_code == 422
    assert "s-0-pos" in wrong.text
