"""Every model, imported in one place so Alembic and create_all see the whole schema."""

from workshop.agenda.models import Delegate, Organisation, Step, Workshop, workshop_facilitator
from workshop.api.models import ApiToken
from workshop.audit.models import AuditEntry
from workshop.auth.models import User
from workshop.plans.models import Plan, PlanChange, PlanField, PlanMember, PlanTemplate
from workshop.proposals.models import (
    Comment,
    Proposal,
    ProposalRevision,
    ProposalTranslation,
    Support,
)
from workshop.voting.models import (
    Ballot,
    BallotOption,
    Participation,
    ProxyAssignment,
    RegionTally,
    Vote,
)

__all__ = [
    "AuditEntry", "Comment", "Delegate", "Organisation", "Proposal", "ProposalRevision",
    "ProposalTranslation", "Step", "Support", "User", "Workshop", "workshop_facilitator",
    "Ballot", "BallotOption", "Participation", "ProxyAssignment", "RegionTally", "Vote",
    "Plan", "PlanChange", "PlanField", "PlanMember", "PlanTemplate",
    "ApiToken",
]
