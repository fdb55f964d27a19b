"""API tokens: how an organiser's or facilitator's script acts in their name.

Only the SHA-256 of a token is stored (shown once at creation), so a database leak gives no
working token. A token carries its owner's rights, evaluated at every request, and may be
limited to one workshop; revoking keeps the row so the audit log still names it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import utcnow
from workshop.extensions import db

if TYPE_CHECKING:
    from workshop.agenda.models import Workshop
    from workshop.auth.models import User


class ApiToken(db.Model):
    """One bearer token of a staff account, optionally limited to one workshop."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # None: every workshop the owner may act on; else only this one.
    workshop_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    workshop: Mapped[Workshop | None] = relationship()

    @property
    def active(self) -> bool:
        """Not revoked: requests made with it are answered."""
        return self.revoked_at is None
