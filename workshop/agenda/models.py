"""Workshops, agenda steps, organisations and delegates."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.auth.models import Principal
from workshop.db import utcnow
from workshop.extensions import db

if TYPE_CHECKING:
    from workshop.auth.models import User

workshop_facilitator = sa.Table(
    "workshop_facilitator",
    db.metadata,
    sa.Column("workshop_id", sa.ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(db.Model):
    """A member organisation of the network (trade union, health mutual, ...)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(80))
    region: Mapped[str] = mapped_column(sa.String(40))
    type: Mapped[str] = mapped_column(sa.String(40))


class Workshop(db.Model):
    """One workshop: an agenda that every phone follows live."""

    __tablename__ = "workshop"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    default_locale: Mapped[str] = mapped_column(sa.String(5), default="en")
    join_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    projector_key: Mapped[str] = mapped_column(sa.String(64))
    current_step_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("step.id", use_alter=True, ondelete="SET NULL")
    )
    proposals_locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Where it takes place ("" for a virtual workshop), for covers of documents.
    place: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    # Action plans: may delegates choose their own working group, and write in other groups'
    # plans too (otherwise only their own group's)?
    plans_self_assign: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    plans_open_editing: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # What the projector puts in the spotlight, e.g. {"kind": "plan", "id": 3}.
    spotlight: Mapped[dict | None] = mapped_column(sa.JSON)
    # Bumped by any feature that changes what a step shows (plans created, groups changed),
    # so screens reload the step's part of the page.
    step_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # The voting register: when on, only admitted delegates vote (and count as eligible);
    # `open_participation` lets the others still propose and discuss.
    voting_register: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    open_participation: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Bumped on every change a screen must follow, so clients can ignore stale snapshots.
    state_version: Mapped[int] = mapped_column(default=0)
    # Bumped in the same transaction as any change to the lines of work, their translations,
    # supports or comments (workshop/proposals/listing.py): the key of the rendered list.
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped with any change to who has joined, or from which region (agenda/state.py).
    joined_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    steps: Mapped[list[Step]] = relationship(
        back_populates="workshop",
        order_by="Step.position",
        foreign_keys="Step.workshop_id",
        cascade="all, delete-orphan",
    )
    current_step: Mapped[Step | None] = relationship(
        foreign_keys=[current_step_id], post_update=True
    )
    facilitators: Mapped[list[User]] = relationship(secondary=workshop_facilitator)


class Step(db.Model):
    """One item of the agenda, of a kind that tells phones and projector what to show."""

    __tablename__ = "step"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    duration_seconds: Mapped[int | None]
    # Timer: running when timer_ends_at is set; paused (or never started) keeps the rest in
    # timer_remaining; both empty means the timer is idle at its full duration.
    timer_ends_at: Mapped[datetime | None]
    timer_remaining: Mapped[int | None]

    workshop: Mapped[Workshop] = relationship(back_populates="steps", foreign_keys=[workshop_id])


class Delegate(Principal, db.Model):
    """A participant on a phone: no account, no password, one identity per person."""

    __tablename__ = "delegate"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    # Only a hash of the invitation token is kept: a database leak gives no working links.
    invite_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    connections: Mapped[int] = mapped_column(default=0)
    last_seen_at: Mapped[datetime | None]
    # On the voting register: admitted by an invitation link (or badge) or checked in by a
    # facilitator; a rejected join keeps following but never votes.
    admitted_at: Mapped[datetime | None]
    admitted_by: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    rejected_at: Mapped[datetime | None]

    workshop: Mapped[Workshop] = relationship()
    organisation: Mapped[Organisation] = relationship()

    kind = "delegate"

    @property
    def display_name(self) -> str:
        """Name shown in the audit log and the console."""
        return self.name

    @property
    def admitted(self) -> bool:
        """On the voting register (admitted and not rejected since)."""
        return self.admitted_at is not None and self.rejected_at is None

