"""Staff accounts (who is logged in: workshop.auth.logins)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.auth.models import User
from workshop.errors import Conflict, ValidationFailed
from workshop.extensions import db


def create_user(email: str, name: str, password: str, role: str) -> User:
    """Create a staff account (used by the CLI and by organisers).

    :raise ValidationFailed: bad role or short password.
    :raise Conflict: the e-mail is taken.
    """
    email = email.strip().lower()
    if role not in ("organiser", "facilitator"):
        raise ValidationFailed(_l("Some fields need correcting."),
                               role=_l("Choose one of the offered values."))
    if len(password) < 8:
        raise ValidationFailed(_l("Some fields need correcting."),
                               password=_l("Use at least 8 characters."))
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(_l("An account with this e-mail exists already."),
                       email=_l("This e-mail is taken."))
    user = User(email=email, name=name.strip() or email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The account these credentials open.

    :raise ValidationFailed: wrong e-mail or password (one message for both, on purpose).
    """
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.check_password(password):
        raise ValidationFailed(_l("Wrong e-mail or password."))
    return user


def list_staff() -> list[User]:
    """Every staff account, for assigning facilitators."""
    return list(db.session.scalars(sa.select(User).order_by(User.name)))
