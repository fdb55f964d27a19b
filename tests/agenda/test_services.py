"""Agenda, timer and permission rules, called directly as every door calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import create_delegate, create_user, create_workshop
from workshop.agenda import services
from workshop.agenda.schemas import StepIn, TimerExtend, TimerStart
from workshop.audit.models import AuditEntry
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, PermissionDenied
from workshop.extensions import db
from workshop.permissions import RULES, ProjectorViewer, can

pytestmark = pytest.mark.usefixtures("app")


def operations() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.operation).order_by(AuditEntry.id)))


def test_goto_moves_the_workshop_and_is_audited():
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=3, facilitator=facilitator)
    second = workshop.steps[1]
    services.goto_step(facilitator, workshop, second.id)
    assert workshop.current_step_id == second.id
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.operation == "agenda.goto")
    )
    assert entry.actor_name == facilitator.name
    assert entry.details["step_id"] == second.id


def test_goto_a_step_of_another_workshop_is_not_found():
    organiser = create_user("organiser")
    one = create_workshop(organiser)
    other = create_workshop(organiser)
    with pytest.raises(NotFound):
        services.goto_step(organiser, one, other.steps[0].id)
    assert one.current_step_id is None


@pytest.mark.parametrize("who", ["delegate", "unassigned facilitator", "projector", "anonymous"])
def test_only_facilitators_of_the_workshop_may_drive_it(who):
    workshop = create_workshop(facilitator=create_user("facilitator"))
    actor = {
        "delegate": lambda: create_delegate(workshop),
        "unassigned facilitator": lambda: create_user("facilitator"),
        "projector": lambda: ProjectorViewer(workshop.id),
        "anonymous": lambda: None,
    }[who]()
    before = operations()
    with pytest.raises(PermissionDenied):
        services.goto_step(actor, workshop, workshop.steps[1].id)
    with pytest.raises(PermissionDenied):
        services.start_timer(actor, workshop, TimerStart(workshop_id=workshop.id, seconds=60))
    db.session.rollback()
    assert workshop.current_step_id is None
    assert operations() == before


def test_facilitators_may_drive_but_not_edit_the_agenda():
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    assert can("agenda.goto", facilitator, workshop)
    assert not can("agenda.edit", facilitator, workshop)
    assert not can("audit.view", facilitator, workshop)
    with pytest.raises(PermissionDenied):
        services.add_step(facilitator, workshop, StepIn(kind="vote", title="x"))


def test_every_rule_refuses_anonymous():
    workshop = create_workshop()
    for name in RULES:
        assert not can(name, None, workshop), name


def test_timer_start_pause_extend_reset():
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, durations=(10,))
    services.goto_step(organiser, workshop, workshop.steps[0].id)
    step = services.start_timer(organiser, workshop, TimerStart(workshop_id=workshop.id))
    assert step.timer_ends_at is not None
    left = (step.timer_ends_at - utcnow()).total_seconds()
    assert 595 <= left <= 600
    step.timer_ends_at -= timedelta(seconds=100)  # a hundred seconds pass
    db.session.commit()
    step = services.pause_timer(organiser, workshop)
    assert step.timer_ends_at is None
    assert 498 <= step.timer_remaining <= 500
    step = services.extend_timer(organiser, workshop,
                                 TimerExtend(workshop_id=workshop.id, seconds=60))
    assert 558 <= step.timer_remaining <= 560
    step = services.start_timer(organiser, workshop, TimerStart(workshop_id=workshop.id))
    assert 555 <= (step.timer_ends_at - utcnow()).total_seconds() <= 560
    step = services.extend_timer(organiser, workshop,
                                 TimerExtend(workshop_id=workshop.id, seconds=-3600))
    assert step.timer_ends_at <= utcnow() + timedelta(seconds=1)
    step = services.reset_timer(organiser, workshop)
    assert step.timer_ends_at is None
    assert step.timer_remaining is None
    assert operations()[-6:] == ["timer.start", "timer.pause", "timer.extend", "timer.start",
                                 "timer.extend", "timer.reset"]


def test_timer_needs_a_current_step_and_a_duration():
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    with pytest.raises(Conflict):
        services.start_timer(organiser, workshop, TimerStart(workshop_id=workshop.id))
    services.goto_step(organiser, workshop, workshop.steps[0].id)
    with pytest.raises(Conflict):
        services.start_timer(organiser, workshop, TimerStart(workshop_id=workshop.id))
    with pytest.raises(Conflict):
        services.pause_timer(organiser, workshop)
    step = services.start_timer(organiser, workshop,
                                TimerStart(workshop_id=workshop.id, seconds=90))
    assert step.duration_seconds == 90


def test_agenda_edit_add_move_delete():
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=3)
    first, second, third = workshop.steps
    services.move_step(organiser, workshop, third.id, "up")
    assert [s.id for s in workshop.steps] == [first.id, third.id, second.id]
    services.goto_step(organiser, workshop, third.id)
    services.delete_step(organiser, workshop, third.id)
    assert workshop.current_step_id is None
    assert [s.position for s in workshop.steps] == [1, 2]
    services.move_step(organiser, workshop, first.id, "up")  # already first: nothing moves
    assert [s.id for s in workshop.steps] == [first.id, second.id]


def test_facilitators_see_only_their_workshops():
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    mine = create_workshop(organiser, facilitator=facilitator)
    create_workshop(organiser)
    assert [w.id for w in services.list_workshops(facilitator)] == [mine.id]
    assert len(services.list_workshops(organiser)) == 2
    delegate = create_delegate(mine)
    with pytest.raises(PermissionDenied):
        services.list_workshops(delegate)
