"""The plans part of action-plan steps, on phones and the projector."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from workshop.permissions import Actor, is_delegate_of
from workshop.plans import services
from workshop.steps import provides


@provides("action_plan", scripts=("vendor/diff_match_patch.min.js", "js/plans.js"))
def plans_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """Every plan with its progress; for a delegate, their group's plan to write in."""
    plans = services.list_plans(actor, workshop)
    context: dict[str, Any] = {
        "plans": plans,
        "progress": {p.id: services.progress(p) for p in plans},
        "spotlit": services.spotlit_plan(workshop),
        "lang": str(get_locale()),
    }
    if is_delegate_of(actor, workshop):
        mine = services.group_of(actor)
        context["my_plan"] = next((p for p in plans if p.id == mine), None)
        if context["my_plan"] is not None:
            context.update(services.editor_context(actor, workshop, context["my_plan"],
                                                   str(get_locale())))
    elif context["spotlit"]:
        spot = next((p for p in plans if p.id == context["spotlit"]), None)
        if spot is not None:
            context["spot_plan"] = spot
            context.update(services.editor_context(actor, workshop, spot, str(get_locale())))
    return context
