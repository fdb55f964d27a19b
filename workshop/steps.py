"""What each kind of step adds to the step part of the phone and projector pages.

Features register a provider for the kinds they draw (proposals for propose and discuss, voting
for vote and results); the agenda's pages stay unaware of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workshop.permissions import Actor

Provider = Callable[[Actor, Any, Any], dict[str, Any]]
PROVIDERS: dict[str, list[Provider]] = {}


def provides(*kinds: str) -> Callable[[Provider], Provider]:
    """Register a provider of template context for steps of these kinds."""

    def decorator(provider: Provider) -> Provider:
        for kind in kinds:
            PROVIDERS.setdefault(kind, []).append(provider)
        return provider

    return decorator


def step_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """The merged context of every provider of the step's kind (empty without a step)."""
    context: dict[str, Any] = {}
    if step is not None:
        for provider in PROVIDERS.get(step.kind, []):
            context.update(provider(actor, workshop, step))
    return context
