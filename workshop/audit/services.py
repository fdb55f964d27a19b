"""Recording and reading the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workshop.audit.models import AuditEntry
from workshop.extensions import db
from workshop.group_commit import insert_later
from workshop.permissions import Actor, require


def record(actor: Actor, operation: str, workshop_id: int | None, **details: Any) -> None:
    """Add an entry to the current transaction: it commits or rolls back with the change.

    Inserted without an ORM object (`group_commit.insert_later`, written with the
    transaction's next statement, flush or commit): a batch of new lines audits each of them,
    and nothing reads an entry back before it is stored.
    """
    insert_later(AuditEntry.__table__, {
        "workshop_id": workshop_id,
        "actor_kind": getattr(actor, "kind", "system"),
        "actor_id": getattr(actor, "id", None),
        "actor_name": getattr(actor, "display_name", "system"),
        "operation": operation,
        "details": details,
    })


def list_entries(actor: Actor, workshop, limit: int = 500) -> list[AuditEntry]:
    """The newest entries of a workshop's log.

    :raise PermissionDenied: unless the actor may read the audit log.
    """
    require("audit.view", actor, workshop)
    stmt = (
        sa.select(AuditEntry)
        .where(AuditEntry.workshop_id == workshop.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
