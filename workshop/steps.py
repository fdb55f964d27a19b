"""What each kind of step adds to the step part of the phone and projector pages.

Features register a provider for the kinds they draw (proposals for propose and discuss, voting
for vote and results), and the scripts those steps need on a phone; the agenda's pages stay
unaware of them. A phone loads only the current step's scripts, and a later step's when it
arrives (a first visit on slow 3G is live sooner without the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workshop.permissions import Actor

Provider = Callable[[Actor, Any, Any], dict[str, Any]]
PROVIDERS: dict[str, list[Provider]] = {}
#: Static files (paths under static/, in load order) a phone needs for a step of each kind.
SCRIPTS: dict[str, list[str]] = {}


def provides(*kinds: str, scripts: tuple[str, ...] = ()) -> Callable[[Provider], Provider]:
    """Register a provider of template context for steps of these kinds, and the scripts
    (paths under static/) a phone loads for them."""

    def decorator(provider: Provider) -> Provider:
        for kind in kinds:
            PROVIDERS.setdefault(kind, []).append(provider)
            SCRIPTS.setdefault(kind, []).extend(s for s in scripts if s not in SCRIPTS[kind])
        return provider

    return decorator


def step_scripts() -> dict[str, list[str]]:
    """Every kind's scripts, for the phone page (it loads a new step's on arrival)."""
    return {kind: list(paths) for kind, paths in SCRIPTS.items()}


def step_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """The merged context of every provider of the step's kind (empty without a step)."""
    context: dict[str, Any] = {}
    if step is not None:
        for provider in PROVIDERS.get(step.kind, []):
            context.update(provider(actor, workshop, step))
    return context
