"""Staff accounts (organisers prepare workshops, facilitators drive them) and login sessions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.db import utcnow
from workshop.extensions import db

ROLES = ("organiser", "facilitator")


class Principal(UserMixin):
    """Who can log in (a staff account or a delegate), as Flask-Login sees them.

    Flask-Login's id is not the database id but the random token of one login session
    (see workshop.auth.logins), so a logout or a revocation ends exactly that login and an
    id that is guessed or left over from an older version logs nobody in.
    """

    kind: str
    id: int

    # Set on the instance when a login starts or is loaded for a request; plain attributes,
    # not columns (the database keeps only a hash of the token).
    _login_id: str | None = None
    _login_session_id: int | None = None

    def get_id(self) -> str:
        """Flask-Login's id: the token of the login session this request belongs to.

        :raise RuntimeError: no login session is attached (log in with start_login()).
        """
        if self._login_id is None:
            raise RuntimeError("No login session: log in through workshop.auth.logins.")
        return self._login_id

    def attach_login(self, login_id: str, login_session_id: int) -> None:
        """Remember which login session this object was loaded (or logged in) through."""
        self._login_id = login_id
        self._login_session_id = login_session_id

    @property
    def login_id(self) -> str | None:
        """The Flask-Login id of the attached login session; None when there is none."""
        return self._login_id

    @property
    def login_session_id(self) -> int | None:
        """The login session's row id (names its socket room), if one is attached."""
        return self._login_session_id

    def __eq__(self, other: object) -> bool:
        """Same person (kind and database id), whichever login each object came through."""
        if isinstance(other, Principal):
            return self is other or (
                self.id is not None and (self.kind, self.id) == (other.kind, other.id)
            )
        return NotImplemented

    __hash__ = object.__hash__


class User(Principal, db.Model):
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

    def set_password(self, password: str) -> None:
        """Store a salted hash, never the password (scrypt unless the configuration names a
        cheaper cost for the tests, which hash thousands of throw-away passwords)."""
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"])

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


class LoginSession(db.Model):
    """One login of a staff account or a delegate, from one browser; deleted at logout.

    Flask-Login's id (kept in the session cookie and the remember-me cookie) is a random
    token; only its SHA-256 is stored, so a database leak gives no working cookie.
    Exactly one of user_id and delegate_id is set.
    """

    __tablename__ = "login_session"
    __table_args__ = (
        sa.CheckConstraint(
            "(user_id IS NULL AND delegate_id IS NOT NULL)"
            " OR (user_id IS NOT NULL AND delegate_id IS NULL)",
            name="one_principal",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    delegate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("delegate.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def principal_kind(self) -> str:
        """"user" or "delegate", as Principal.kind says."""
        return "user" if self.user_id is not None else "delegate"
