"""What each kind of step adds to the step part of the phone and projector pages.

Features register a provider for the kinds they draw (proposals for propose and discuss, voting
for vote and results), and the scripts those steps need on a phone; the agenda's pages stay
unaware of them. A phone loads only the current step's scripts, and a later step's when it
arrives (a first visit on slow 3G is live sooner without the rest).

A provider may also say how to draw its part for every phone at once (`shared`): the same for
everyone reading one language, nothing personal in it. Steps whose every provider can are sent
to the phones with the `state` broadcast (workshop/agenda/pushed.py) instead of being fetched
by each of them; what the page needs to make such a part its delegate's (the lines they
support, its delegate's id) it is given once, when it loads (`keeps`). A part drawn for every
phone may not fit some of them (a delegate who carries proxies or has voted sees a paper of
their own): it names the page's marks (`keeps`' "marks") that make a phone fetch its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workshop.permissions import Actor


@dataclass(frozen=True)
class SharedPart:
    """A provider's part of a step as every phone of a language is shown it: its template
    context, what names its version besides the step's key and the workshop's content version
    (a ballot's status), and the marks of a phone's page that make it fetch its own instead."""

    context: dict[str, Any]
    key: str = ""
    fetch_if: tuple[str, ...] = ()


Provider = Callable[[Actor, Any, Any], dict[str, Any]]
#: A step's part drawn for every phone: (workshop, step) -> the part, or None when it cannot
#: be drawn for everyone now (then each phone fetches its own).
SharedProvider = Callable[[Any, Any], SharedPart | None]
PROVIDERS: dict[str, list[Provider]] = {}
SHARED: dict[str, list[SharedProvider | None]] = {}
#: What a phone's page keeps of its delegate, to make a shared part theirs: (actor, workshop).
KEEPS: list[Callable[[Actor, Any], dict[str, Any]]] = []
#: The marks of a delegate (name -> whether it holds) that tell their page a shared part does
#: not fit them: (actor, workshop). Sent with the page, on every socket connection (what
#: changed while a phone slept) and, by the services, when one changes (a `marks` event).
MARKS: list[Callable[[Actor, Any], dict[str, bool]]] = []

#: A delegate carries an absent delegate's vote (their papers are their own).
CARRIES = "carries"
#: A delegate is not on the voting register (whether the workshop keeps one is the part's to
#: say: the mark holds whether or not the register is on, which may change later).
UNREGISTERED = "unregistered"


def voted_mark(ballot_id: int) -> str:
    """The mark of a delegate whose paper is in this ballot."""
    return f"voted:{ballot_id}"
#: Static files (paths under static/, in load order) a phone needs for a step of each kind.
SCRIPTS: dict[str, list[str]] = {}


def provides(*kinds: str, scripts: tuple[str, ...] = (), shared: SharedProvider | None = None,
             keeps: Callable[[Actor, Any], dict[str, Any]] | None = None,
             marks: Callable[[Actor, Any], dict[str, bool]] | None = None,
             ) -> Callable[[Provider], Provider]:
    """Register a provider of template context for steps of these kinds, the scripts (paths
    under static/) a phone loads for them, how to draw their part for every phone, what the
    phone's page keeps to make that part its delegate's, and its delegate's marks."""

    def decorator(provider: Provider) -> Provider:
        if keeps is not None:
            KEEPS.append(keeps)
        if marks is not None:
            MARKS.append(marks)
        for kind in kinds:
            PROVIDERS.setdefault(kind, []).append(provider)
            SHARED.setdefault(kind, []).append(shared)
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


def is_shared(kind: str) -> bool:
    """Whether every provider of this kind of step can draw its part for every phone."""
    providers = SHARED.get(kind)
    return bool(providers) and all(provider is not None for provider in providers)


def shared_step_part(workshop: Any, step: Any) -> SharedPart | None:
    """The step's part as every phone of a language sees it, its providers' merged; None when
    some provider of its kind draws something personal (each phone then fetches its own)."""
    if step is None or not is_shared(step.kind):
        return None
    parts = [provider(workshop, step) for provider in SHARED[step.kind] if provider is not None]
    if any(part is None for part in parts):
        return None
    context: dict[str, Any] = {}
    for part in parts:
        context.update(part.context)
    return SharedPart(context, key="|".join(part.key for part in parts),
                      fetch_if=tuple(mark for part in parts for mark in part.fetch_if))


def page_marks(actor: Actor, workshop: Any) -> dict[str, bool]:
    """Every mark of a delegate (see MARKS)."""
    marks: dict[str, bool] = {}
    for provider in MARKS:
        marks.update(provider(actor, workshop))
    return marks


def kept_by_page(actor: Actor, workshop: Any) -> dict[str, Any]:
    """What a phone's page keeps of its delegate (see `provides`), as JSON-able data: their
    id (a shared ballot paper is made theirs with it), their marks and what providers add."""
    data: dict[str, Any] = {"delegate_id": actor.id, "marks": page_marks(actor, workshop)}
    for keeps in KEEPS:
        data.update(keeps(actor, workshop))
    return data
