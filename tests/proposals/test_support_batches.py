"""+1s given together share one transaction and one commit (workshop/group_commit.py), each
still checked on its own: a refused +1 is refused alone, a repeated one counts once."""

from __future__ import annotations

import sqlalchemy as sa

from tests.helpers import create_delegate, create_organisation, create_proposal, create_workshop
from tests.voting.test_group_commit import Callers, app  # noqa: F401  (the file-DB app)
from workshop.agenda.models import Delegate, Workshop
from workshop.errors import NotFound
from workshop.extensions import db
from workshop.proposals import services
from workshop.proposals.models import Support


def supporting(delegate_id: int, workshop_id: int, proposal_id: int, on: bool = True):
    """A +1 given through the service, as a socket event or a form would."""
    def call() -> bool:
        return services.set_support(db.session.get(Delegate, delegate_id),
                                    db.session.get(Workshop, workshop_id), proposal_id, on)
    return call


def test_supports_queued_together_are_one_batch_each_checked_on_its_own(app):  # noqa: F811
    workshop = create_workshop()
    line = create_proposal(workshop)
    org = create_organisation()
    amina, bongani, chitra = (create_delegate(workshop, org).id for _ in range(3))
    ids = (workshop.id, line.id)
    db.session.commit()

    group = services.supports()
    callers = Callers(app, group)
    callers.add("amina", supporting(amina, *ids))
    callers.add("bongani", supporting(bongani, *ids))
    callers.add("amina again", supporting(amina, *ids))
    callers.add("chitra, a line that is not there", supporting(chitra, workshop.id, 10**6))
    outcomes = callers.finish()

    assert list(group.batches) == [1, 4]
    assert outcomes["amina"] is outcomes["bongani"] is outcomes["amina again"] is True
    assert isinstance(outcomes["chitra, a line that is not there"], NotFound)
    db.session.expire_all()
    supporters = db.session.scalars(sa.select(Support.delegate_id)
                                    .where(Support.proposal_id == line.id)).all()
    assert sorted(supporters) == sorted([amina, bongani])  # counted once each
