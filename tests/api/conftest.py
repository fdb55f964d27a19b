"""A workshop with everything the API touches, its people, and their tokens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.helpers import (
    carry_forward,
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from workshop.agenda.models import Delegate, Organisation, Step, Workshop
from workshop.api import tokens
from workshop.api.schemas import TokenIn
from workshop.auth.models import User
from workshop.plans.models import Plan
from workshop.voting.models import Ballot


def bearer(user: User, workshop: Workshop | None = None, name: str = "script") -> dict:
    """An Authorization header with a new token of `user` (limited to `workshop` if given)."""
    _row, raw = tokens.create_token(user, TokenIn(
        name=name, workshop_id=workshop.id if workshop else None))
    return {"Authorization": f"Bearer {raw}"}


@dataclass
class World:
    """One workshop ready for every operation, and another one nobody here facilitates."""

    organiser: User
    facilitator: User
    outsider: User
    workshop: Workshop
    other: Workshop
    step: Step
    organisation: Organisation
    delegate: Delegate
    ballot: Ballot
    closed_ballot: Ballot
    plan: Plan

    def ids(self) -> dict[str, int]:
        """A value for every id a route of the API may name."""
        return {"workshop_id": self.workshop.id, "step_id": self.step.id,
                "ballot_id": self.ballot.id, "plan_id": self.plan.id,
                "proposal_id": self.plan.proposal_id, "delegate_id": self.delegate.id}


@pytest.fixture
def world(app) -> World:
    """Organiser, assigned facilitator, unassigned facilitator; a workshop with a plan carried
    forward from a closed ballot, an open ballot, a delegate and an organisation."""
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    outsider = create_user("facilitator")
    workshop = create_workshop(organiser, steps=6, facilitator=facilitator)
    other = create_workshop(organiser, steps=1)
    plans, _lines, closed = carry_forward(workshop, n=2)
    ballot = open_test_ballot(workshop, "approval")
    organisation = create_organisation(region="asia", country="Nepal", name="Nepal Mutual")
    delegate = create_delegate(workshop, organisation, name="Sita")
    return World(organiser=organiser, facilitator=facilitator, outsider=outsider,
                 workshop=workshop, other=other, step=workshop.steps[0],
                 organisation=organisation, delegate=delegate, ballot=ballot,
                 closed_ballot=closed, plan=plans[0])
