"""The step's part of a phone's page, sent with the `state` broadcast when every phone reading
one language would be shown the same: on Go, a thousand phones show the new step without a
thousand requests for it.

A step is pushed when every provider of its kind can draw its part for everyone (see
workshop/steps.py: propose and discuss, the list of lines of work and the submission form; a
vote step's ballot paper while no results show, in the lines' own order, which each page
puts in its delegate's order).
The part is drawn once per language, step key and content version, after the commit that
announced the step, in a database session of its own (committed rows only: a kept drawing
never shows a change that was rolled back), gzip-compressed (300 lines of work are about
330 KB of HTML, a few tens of KB compressed; sent as base64 text) and sent to each language's
room with the state. Nothing personal is in it: the page fills in its own CSRF token and
request keys and marks the lines its delegate supports from what it knows. A phone whose
delegate the part does not fit (`fetch_if`: see workshop/steps.py, MARKS), a phone that
cannot inflate it, a state sent on connect or on `state.sync`, and a step of another kind are
fetched as before (GET /d/step).
"""

from __future__ import annotations

import base64
import gzip
import logging
import time
import zlib
from typing import Any

from flask import current_app

from workshop.agenda.models import Step, Workshop
from workshop.extensions import db
from workshop.kept import kept
from workshop.live import for_room, language_room, render_for_room, workshop_room
from workshop.steps import shared_step_part
from workshop.vocabulary import LANGUAGES, STEP_KINDS

log = logging.getLogger(__name__)


def digest(*parts: str) -> str:
    """A short fingerprint of some text, to tell screens that it changed."""
    return format(zlib.crc32("\x1f".join(parts).encode()), "08x")


def step_key(workshop: Workshop, step: Step) -> str:
    """What names a version of the step's part of a page: it changes with whatever that part
    shows besides the lines of work (which have a version of their own)."""
    return ":".join((str(step.id), str(int(workshop.proposals_locked)),
                     str(workshop.step_revision or 0), digest(step.kind, step.title, step.body)))


def phone_part(workshop: Workshop, step: Step, language: str) -> dict[str, Any] | None:
    """The step's part as every phone reading `language` is shown it, gzip-compressed, under
    its step key, with the marks of a page that must fetch its own instead (`fetch_if`) and
    the server's clock (epoch ms) for the closing times it shows; the drawing is kept per
    content version (read first: see workshop/kept.py). None when something in it is
    personal now."""
    with for_room(language):
        shared = shared_step_part(workshop, step)
    if shared is None:
        return None
    key = (workshop.id, workshop.content_version, step_key(workshop, step), shared.key, language)

    def draw() -> dict[str, Any]:
        html = render_for_room("phone/_step.html", language, shared=True, workshop=workshop,
                               step=step, step_kinds=STEP_KINDS, delegate=None, **shared.context)
        # As base64 text, not bytes: Engine.IO encodes a broadcast once for all its sockets,
        # and a binary packet encoded for a WebSocket is then sent as it is to a socket that
        # long-polls, which fails (python-engineio 4.x keeps one encoding per packet).
        gzipped = gzip.compress(html.encode(), mtime=0)
        return {"key": key[2], "gzip": base64.b64encode(gzipped).decode("ascii")}

    return {**kept("pushed-steps", size=16).get(key, draw), "fetch_if": list(shared.fetch_if),
            "clock": int(time.time() * 1000)}


def with_step_part(workshop_id: int, state: dict[str, Any],
                   made_at: float) -> list[tuple[dict[str, Any], str]]:
    """A broadcast (the `state`, a `ballot`) sent after the commit: to each language's room
    with the current step's part for that language (`phone`), or to the whole workshop as it
    is when the part cannot be drawn (the error is logged). A running countdown (a timer's, a
    ballot's) is counted again at sending (`made_at`, time.monotonic() when the broadcast was
    made): drawing takes a moment."""
    parts: dict[str, dict[str, Any] | None] = {}
    try:
        # A session of its own (removed with the context): the announcing one has just
        # committed and reads nothing more.
        with current_app._get_current_object().app_context():
            workshop = db.session.get(Workshop, workshop_id)
            step = workshop.current_step if workshop is not None else None
            if step is not None:
                parts = {language: phone_part(workshop, step, language)
                         for language in LANGUAGES}
    except Exception:  # noqa: BLE001  (the state goes out anyway; the phones fetch their step)
        log.exception("drawing the step's part for the phones")
        parts = {}
    state = _timer_now(state, made_at)  # after the drawing
    if not parts:
        return [(state, workshop_room(workshop_id))]
    return [({**state, "phone": part} if part is not None else state,
             language_room(workshop_id, language)) for language, part in parts.items()]


def _timer_now(state: dict[str, Any], made_at: float) -> dict[str, Any]:
    """The countdowns of a broadcast (a running timer's, a ballot's closing) as at sending."""
    elapsed = int((time.monotonic() - made_at) * 1000)
    if state.get("remaining_ms") is not None:  # a ballot's
        state = {**state, "remaining_ms": max(0, state["remaining_ms"] - elapsed)}
    timer = state.get("timer") or {}
    if timer.get("status") != "running" or timer.get("remaining_ms") is None:
        return state
    return {**state, "timer": {**timer, "remaining_ms": max(0, timer["remaining_ms"] - elapsed)}}
