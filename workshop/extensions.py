"""Extensions, created unbound here and bound in create_app()."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from workshop.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
socketio = SocketIO()
babel = Babel()
csrf = CSRFProtect()

T = TypeVar("T")


def one_per_app(key: str, make: Callable[[], T]) -> T:
    """The object this app keeps under `key` in its extensions (a group commit, a throttle),
    made on first use."""
    extensions = current_app._get_current_object().extensions
    found = extensions.get(key)
    if found is None:  # two threads may both make one: the first stored is the one kept
        found = extensions.setdefault(key, make())
    return found
