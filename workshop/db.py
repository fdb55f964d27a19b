"""The declarative base, with a naming convention so Alembic constraint names stay stable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no time zone, so every stored time is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def epoch_ms(moment: datetime) -> int:
    """A stored (naive UTC) time as milliseconds since the epoch, whatever the server's time
    zone (`datetime.timestamp()` would read a naive time as local)."""
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def tune_sqlite(engine: Engine) -> None:
    """SQLite in write-ahead-log mode: readers (a thousand phones' state) never wait for the
    writer (a batch of casts) nor block its commit, and a commit appends to the log instead of
    rewriting pages through a rollback journal. `synchronous=FULL` keeps each commit durable
    before it returns (a receipt stands for a paper on disk). No-op for other databases and
    for an in-memory one."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
