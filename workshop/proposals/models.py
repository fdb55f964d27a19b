"""Proposals, supports, comments, translations and edit history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.agenda.models import Delegate, Organisation
from workshop.db import utcnow
from workshop.extensions import db


class Proposal(db.Model):
    """A line of work put forward by a delegate or imported from a country consultation.

    A merged line of work is a proposal of its own; the proposals merged into it keep their
    rows (with `merged_into_id` set) so supporters, comments and origins stay visible and a
    merge can be undone.
    """

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    theme: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(20))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    language: Mapped[str] = mapped_column(sa.String(5))
    source: Mapped[str] = mapped_column(sa.String(10), default="delegate")
    delegate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="SET NULL")
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="SET NULL")
    )
    country: Mapped[str] = mapped_column(sa.String(80), default="")
    region: Mapped[str] = mapped_column(sa.String(40), default="")
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sender's idempotency key: a phone that never heard back sends the same key again
    # and gets this proposal, never a second one.
    request_id: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    #: Not stored: True on the proposal handed back to a retried request (nothing to announce).
    replayed = False

    delegate: Mapped[Delegate | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    translations: Mapped[list[ProposalTranslation]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )

    def translation_in(self, language: str) -> ProposalTranslation | None:
        """The translation readers of `language` see, if any (never a mere suggestion)."""
        if language != self.language:
            for t in self.translations:
                if t.language == language:
                    return t
        return None

    def version(self, language: str) -> tuple[str, str, str]:
        """(title, description, language) in `language` when a translation exists, else the
        original."""
        t = self.translation_in(language)
        if t is not None:
            return t.title, t.description, t.language
        return self.title, self.description, self.language


class ProposalRevision(db.Model):
    """The text of a proposal before a moderator edited it: the history is never lost."""

    __tablename__ = "proposal_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    edited_by: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalTranslation(db.Model):
    """A proposal's title and description in another language: the version readers of that
    language see. Only the author's or staff's own translations, and suggestions they
    accepted, ever get here; every version is also kept in `proposal_translation_revision`."""

    __tablename__ = "proposal_translation"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(sa.String(5))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    translated_by: Mapped[str] = mapped_column(sa.String(120))
    # Who accepted it when it came as another delegate's suggestion ("" when written by the
    # author or staff themselves).
    accepted_by: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="translations")


class TranslationRevision(db.Model):
    """One version of a proposal's translation as it was applied: who translated it, who
    accepted it (for a suggestion) and when. The newest of a language is the current one."""

    __tablename__ = "proposal_translation_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(5))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    translated_by: Mapped[str] = mapped_column(sa.String(120))
    accepted_by: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: The life of a suggested translation.
SUGGESTION_STATUSES = ("pending", "accepted", "rejected")


class TranslationSuggestion(db.Model):
    """Another delegate's translation of a proposal, waiting for its author or a facilitator.

    It changes nothing anyone reads until accepted; accepted and rejected ones stay, with who
    decided and when.
    """

    __tablename__ = "translation_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    delegate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(5))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    suggested_by: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending",
                                        server_default="pending")
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()


class Support(db.Model):
    """A delegate's +1; the database refuses a second one for the same proposal."""

    __tablename__ = "support"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "delegate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("delegate.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    delegate: Mapped[Delegate] = relationship()


class Comment(db.Model):
    """A comment on a proposal, or a reply to another comment."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comment.id", ondelete="CASCADE")
    )
    delegate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(5))
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    #: Not stored: True on the comment handed back to a retried request.
    replayed = False


def as_dict(proposal: Proposal) -> dict[str, Any]:
    """Plain fields of a proposal (for exports and broadcasts)."""
    return {
        "id": proposal.id,
        "title": proposal.title,
        "description": proposal.description,
        "theme": proposal.theme,
        "level": proposal.level,
        "tags": list(proposal.tags or []),
        "language": proposal.language,
        "country": proposal.country,
        "region": proposal.region,
    }
