"""Staff accounts: organisers prepare workshops, facilitators drive them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.db import utcnow
from workshop.extensions import db

ROLES = ("organiser", "facilitator")


class User(UserMixin, db.Model):
    """An organiser or facilitator account (delegates have no account)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20))
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kind = "user"

    def get_id(self) -> str:
        """Flask-Login id, prefixed so user and delegate ids never collide."""
        return f"u:{self.id}"

    def set_password(self, password: str) -> None:
        """Store a salted hash, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_organiser(self) -> bool:
        """Organisers may do everything a facilitator may, in every workshop."""
        return self.role == "organiser"

    @property
    def display_name(self) -> str:
        """Name shown in the audit log and the console."""
        return self.name
