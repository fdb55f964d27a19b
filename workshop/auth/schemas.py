"""Input schemas of staff login."""

from __future__ import annotations

from workshop.validation import Schema, chars, opaque


class LoginIn(Schema):
    """E-mail and password of a staff account."""

    email: chars(254)
    password: opaque(200)
    next: chars(500, min_length=0) = ""
