"""Ballots, their options, who took part, the votes themselves, and proxies.

Secrecy is a property of the schema, not of the code that reads it: in a secret ballot the
`Vote` row has no delegate, no organisation, no organisation type, no time and a random primary
key, and `Participation` (who voted) holds no reference to a vote. SQLite keeps the vote table
WITHOUT ROWID, so even the physical order of its rows is the order of their random keys, not the
order in which people voted. What a secret paper keeps, and why, is written in
workshop/voting/secrecy.py.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import utcnow
from workshop.extensions import db

METHODS = ("approval", "points", "ranking", "matrix")
WEIGHTINGS = ("delegate", "organisation", "region")
SOURCES = ("phone", "proxy", "paper")


def new_vote_id() -> str:
    """A random vote key (128 random bits, 32 hex digits): it says nothing about who voted or
    when."""
    return secrets.token_hex(16)


class Ballot(db.Model):
    """One round of voting on a set of lines of work, with one method and one weighting."""

    __tablename__ = "ballot"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("step.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    method: Mapped[str] = mapped_column(sa.String(12))
    weighting: Mapped[str] = mapped_column(sa.String(12))
    secret: Mapped[bool] = mapped_column(default=False)
    # approval: at most k approvals (None: no limit); points: budget P, at most m on one option.
    max_approvals: Mapped[int | None]
    budget: Mapped[int | None]
    max_per_option: Mapped[int | None]
    # matrix: the two criteria as the facilitator typed them; empty means the default labels.
    criterion_1: Mapped[str] = mapped_column(sa.String(60), default="")
    criterion_2: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    closes_at: Mapped[datetime | None]
    results_visible: Mapped[bool] = mapped_column(default=False)
    # Secret ballots: breakdown cells of fewer than this many voters are never published
    # (fixed when the ballot opens, from SECRET_MIN_CELL).
    min_cell: Mapped[int | None]
    # Frozen on close: the tally's output (JSON-ready) and the hash of every ballot.
    results: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    ballots_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # "Select the top N": the chosen proposals and how the choice was made (ties, picks).
    selected_proposal_ids: Mapped[list[int] | None] = mapped_column(sa.JSON)
    selection: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    options: Mapped[list[BallotOption]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", order_by="BallotOption.proposal_id"
    )

    @property
    def option_ids(self) -> list[int]:
        """The proposal ids on this ballot, in id order (a new list: the caller may change it)."""
        return list(self.known_options)

    @property
    def known_options(self) -> tuple[int, ...]:
        """The proposal ids on this ballot, in id order, kept with the object until its
        options are expired or changed: a ballot's options are set when it opens and never
        change, and a batch of casts asks for them twice a cast."""
        known = self.__dict__.get("_known_options")
        if known is None:
            known = self.__dict__["_known_options"] = tuple(o.proposal_id for o in self.options)
        return known

    @property
    def is_open(self) -> bool:
        """True until the ballot is closed (whether or not its closing time has passed)."""
        return self.status == "open"


def _forget_options(ballot: Ballot) -> None:
    """Drop the kept option ids (`known_options`): read again when next asked."""
    ballot.__dict__.pop("_known_options", None)


@sa.event.listens_for(Ballot, "expire")
def _forget_options_on_expiry(ballot: Ballot, attrs: Any) -> None:
    """With an expiry of the ballot's options (or of all of it)."""
    if attrs is None or "options" in attrs:
        _forget_options(ballot)


@sa.event.listens_for(Ballot, "refresh")
def _forget_options_on_refresh(ballot: Ballot, _context: Any, attrs: Any) -> None:
    _forget_options_on_expiry(ballot, attrs)


@sa.event.listens_for(Ballot.options, "append")
@sa.event.listens_for(Ballot.options, "remove")
def _forget_options_on_change(ballot: Ballot, *_: Any) -> None:
    """An option added or taken off (none is, once a ballot opens; kept ids must not hide
    it if a change ever does)."""
    _forget_options(ballot)


class BallotOption(db.Model):
    """A proposal (line of work) offered on a ballot."""

    __tablename__ = "ballot_option"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballot.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"))

    ballot: Mapped[Ballot] = relationship(back_populates="options")


class Participation(db.Model):
    """That a delegate has voted in a ballot: the database allows one row per delegate.

    It is inserted in the same transaction as the vote, so a second ballot from the same
    delegate (a retry, another phone, a proxy) can never be counted twice. It names no vote.
    """

    __tablename__ = "ballot_participation"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "delegate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballot.id", ondelete="CASCADE"))
    delegate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="CASCADE"), index=True
    )
    # How the ballot came in: the delegate's phone, a proxy holder's, or a facilitator's entry.
    source: Mapped[str] = mapped_column(sa.String(10), default="phone")
    cast_by_kind: Mapped[str] = mapped_column(sa.String(20), default="delegate")
    cast_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vote(db.Model):
    """The choices of one ballot paper, by proposal id (never by screen position).

    Named ballots keep the delegate (one row per delegate, enforced by the database), the
    source, and the organisation, region and type copied at cast time for the breakdowns.

    Secret ballots keep only what the weighting needs (see workshop/voting/secrecy.py): no
    delegate, no source, no time, no organisation, no type; the region only under regional
    balance, a keyed organisation hash (`org_key`) only under one organisation one vote. The
    paper is found again by `secret_hash`, a hash of the voter and of a secret their phone holds;
    `proxy_tag` (a keyed hash of the absent delegate) only while a proxy holder's paper stands
    for them, so that the delegate can take their paper back; `owner_tag` (a keyed hash of the
    voter) only while the ballot is open, so that a voter who lost their phone's secret can
    replace their paper (erased at close).
    """

    __tablename__ = "ballot_vote"
    __table_args__ = (
        sa.UniqueConstraint("ballot_id", "delegate_id", name="uq_ballot_vote_delegate"),
        sa.UniqueConstraint("ballot_id", "secret_hash", name="uq_ballot_vote_secret"),
        sa.UniqueConstraint("ballot_id", "proxy_tag", name="uq_ballot_vote_proxy_tag"),
        sa.UniqueConstraint("ballot_id", "owner_tag", name="uq_ballot_vote_owner_tag"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_vote_id)
    ballot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ballot.id", ondelete="CASCADE"), index=True
    )
    delegate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="CASCADE")
    )
    secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    receipt: Mapped[str] = mapped_column(sa.String(16), index=True)
    choices: Mapped[Any] = mapped_column(sa.JSON)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="SET NULL")
    )
    region: Mapped[str | None] = mapped_column(sa.String(40))
    org_type: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str | None] = mapped_column(sa.String(10))
    org_key: Mapped[str | None] = mapped_column(sa.String(64))
    proxy_tag: Mapped[str | None] = mapped_column(sa.String(64))
    owner_tag: Mapped[str | None] = mapped_column(sa.String(64))


class RegionTally(db.Model):
    """A secret ballot's running totals for one region: how many papers, and their sum.

    Written in the same transaction as each paper (added on cast, the old paper taken off when
    it is changed or replaced), so the regional breakdown and consensus can be counted at close
    although no secret paper names its region. `sums` holds the tally's components of the
    region's papers added up (tally.paper_components), one list per component.
    """

    __tablename__ = "ballot_region_tally"

    ballot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ballot.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    voters: Mapped[int] = mapped_column(default=0)
    sums: Mapped[Any] = mapped_column(sa.JSON)


class ProxyAssignment(db.Model):
    """A present delegate (the holder) carries the vote of an absent one."""

    __tablename__ = "proxy_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    holder_delegate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="CASCADE"), index=True
    )
    absent_delegate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="CASCADE"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
