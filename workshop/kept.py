"""What a process keeps of work it would otherwise redo for every phone: a bounded map per
app, keyed by a version the database bumps (`bump_version`), so every process agrees on when
a kept value is out of date without telling the others.

The version is bumped in the same transaction as the change, by a flush hook, whatever code
made the change; a reader takes the version before the data, so a kept value is never older
than its key says.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session


class Kept:
    """The last few values drawn, newest kept (a new version pushes out the oldest)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._kept: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.made = 0  # how many values were drawn (the tests check sharing with it)

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        """The value kept under `key`, else `make()`'s, kept."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = make()  # outside the lock: two first readers may both draw; one is kept
        with self._lock:
            self.made += 1
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value


def kept(name: str, size: int = 256) -> Kept:
    """This app's store called `name`, holding up to `size` values (made on first use; tests
    make an app each, so stores never outlive their data)."""
    extensions = current_app._get_current_object().extensions
    found = extensions.get(f"workshop.kept.{name}")
    if found is None:
        found = extensions[f"workshop.kept.{name}"] = Kept(size)
    return found


def bump_version(session: Session, model: type, column: str, where: Any) -> None:
    """Add one to `column` of the `model` rows `where` selects, in the session's transaction,
    and expire that attribute on loaded rows so a read later in the transaction sees it."""
    table = model.__table__
    session.connection().execute(
        sa.update(table).where(where).values({column: table.c[column] + 1}))
    for row in list(session.identity_map.values()):
        if isinstance(row, model):
            session.expire(row, [column])
