"""Action-plan templates, plans, their fields, every change to them, and working groups.

Every saved change is a `PlanChange` row holding the field's whole value at that version, so
any earlier version can be shown, merged against or restored; `PlanField` is the current value
with a version number that only grows (compare-and-swap on it keeps two writers from both
claiming the same version, and the unique key on changes makes the database enforce it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.agenda.models import Delegate
from workshop.db import utcnow
from workshop.extensions import db


class PlanTemplate(db.Model):
    """One version of a workshop's action-plan template; an edit adds a version."""

    __tablename__ = "plan_template"
    __table_args__ = (sa.UniqueConstraint("workshop_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    sections: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Plan(db.Model):
    """The global action plan of one line of work carried forward from a ballot."""

    __tablename__ = "plan"
    __table_args__ = (sa.UniqueConstraint("workshop_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_template.id", ondelete="CASCADE")
    )
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL")
    )
    ballot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ballot.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    # The vote that carried the line forward (rank, score, consensus, support by region), as
    # frozen in the ballot's results: shown with the plan, never edited.
    vote: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    locked: Mapped[bool] = mapped_column(default=False)
    # False when a later "select the top N" left the line out: kept, not shown to delegates.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[PlanTemplate] = relationship()
    fields: Mapped[list[PlanField]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanField.id"
    )


class PlanField(db.Model):
    """The current value of one field of a plan, and its version."""

    __tablename__ = "plan_field"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[Any] = mapped_column(sa.JSON)
    version: Mapped[int] = mapped_column(default=0)
    updated_by: Mapped[str] = mapped_column(sa.String(120), default="")
    updated_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship(back_populates="fields")


class PlanChange(db.Model):
    """One saved change of a field: who, when, how (edit, merge, prefill, restore), the value.

    `edit_id` is the phone's idempotency key: an edit sent twice (a retry after the network
    came back) is stored once.
    """

    __tablename__ = "plan_change"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "field_key", "version", name="uq_plan_change_version"),
        sa.UniqueConstraint("plan_id", "edit_id", name="uq_plan_change_edit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"),
                                         index=True)
    field_key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    value: Mapped[Any] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(10), default="edit")
    edit_id: Mapped[str | None] = mapped_column(sa.String(40))
    restored_from_id: Mapped[int | None]
    author_kind: Mapped[str] = mapped_column(sa.String(20), default="system")
    author_id: Mapped[int | None]
    author_name: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanMember(db.Model):
    """A delegate's working group: the database allows one group per delegate."""

    __tablename__ = "plan_member"
    __table_args__ = (sa.UniqueConstraint("delegate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"),
                                         index=True)
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("delegate.id", ondelete="CASCADE"))
    assigned_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    delegate: Mapped[Delegate] = relationship()
