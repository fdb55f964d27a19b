"""Action plans as documents: each plan, and the workshop's global document with the vote
results annexed, built as the plain-data model of workshop/documents.py.

`plan_document` and `workshop_document` read the database and translate every heading and
label once, in the request; workshop/documents.py draws the model as PDF and DOCX (and keeps
the slow drawing off gevent's loop). The drawing helpers are re-exported here for the callers
that know them by this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from workshop.agenda.models import Workshop
from workshop.documents import CHECK as CHECK
from workshop.documents import DOCX_TYPE as DOCX_TYPE
from workshop.documents import PDF_TYPE as PDF_TYPE
from workshop.documents import DocumentTooSlow as DocumentTooSlow
from workshop.documents import StaticOnly as StaticOnly
from workshop.documents import css_string as css_string
from workshop.documents import (
    facts_block,
    heading_block,
    items_block,
    page_labels,
    paragraphs,
    table_block,
    text_block,
    workshop_facts,
)
from workshop.documents import html_to_pdf as html_to_pdf
from workshop.documents import page_counter_css as page_counter_css
from workshop.documents import render_docx as render_docx
from workshop.documents import render_html as render_html
from workshop.documents import run_blocking as run_blocking
from workshop.documents import slug as slug
from workshop.extensions import db
from workshop.permissions import Actor
from workshop.plans import services
from workshop.plans.models import Plan
from workshop.reports import report
from workshop.vocabulary import REGIONS
from workshop.voting.models import Ballot
from workshop.voting.views import percent, score


def _cell(column: dict[str, Any], value: Any) -> str:
    if column["kind"] == "check":
        return CHECK if value else ""
    if column["kind"] == "choice":
        return str((column.get("options") or {}).get(value, value or ""))
    return str(value or "")


def field_blocks(field: dict[str, Any], empty: str) -> list[dict[str, Any]]:
    """A field of `services.editor_context` as blocks: its value turned into text.

    text → one paragraph; longtext → paragraphs; list and multiple choice → a bulleted list
    (choices by their option's name); table → a table (ticks as a check mark, choices by
    name); nothing written → the `empty` note.
    """
    kind, value = field["kind"], field.get("value")
    options = field.get("options") or {}
    if kind in ("text", "longtext") and isinstance(value, str) and value.strip():
        lines = paragraphs(value) if kind == "longtext" else [[value.strip()]]
        return [text_block(lines)]
    if kind == "choice" and not field.get("multiple") and isinstance(value, str) and value:
        return [text_block([[str(options.get(value, value))]])]
    if kind == "choice" and isinstance(value, list) and value:
        return [items_block([str(options.get(k, k)) for k in value])]
    if kind == "list" and isinstance(value, list):
        items = [str(item.get("text", "")).strip() for item in value if isinstance(item, dict)]
        if any(items):
            return [items_block([i for i in items if i])]
    if kind == "table" and isinstance(value, list):
        columns = field.get("columns") or []
        rows = [[_cell(c, row.get(c["key"])) for c in columns]
                for row in value if isinstance(row, dict)]
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if rows:
            return [table_block([(c["label"], c["kind"]) for c in columns], rows)]
    return [text_block([[empty]], style="muted")]


def _regions() -> dict[str, str]:
    return {key: str(name) for key, name in REGIONS.items()}


def _vote_blocks(vote: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The vote that carried a line forward, as frozen in the ballot's results."""
    if not vote:
        return []
    regions = _regions()
    turnout = vote.get("turnout") or {}
    blocks = [heading_block(2, _("The vote that carried this line of work")),
              facts_block([(_("Ballot"), vote.get("ballot", "")),
                           (_("Rank"), _("%(rank)s of %(total)s", rank=vote.get("rank", "–"),
                                         total=vote.get("options", "–"))),
                           (_("Score"), score(vote.get("score"))),
                           (_("Consensus"), percent(vote.get("consensus"))),
                           (_("Ballots cast"), _("%(voted)s of %(eligible)s delegates voted.",
                                                 voted=turnout.get("count", 0),
                                                 eligible=turnout.get("eligible", 0))),
                           (_("Hash of all ballots"), vote.get("hash") or "")])]
    shares = vote.get("region_shares") or {}
    if shares:
        blocks.append(table_block([(_("Region"), "text"), (_("Support by region"), "number")],
                                  [[regions.get(r, r), percent(s)] for r, s in shares.items()]))
    return blocks


def plan_part(actor: Actor, workshop: Workshop, plan: Plan, number: int,
              lang: str) -> dict[str, Any]:
    """One plan as a part of a document: its title, the vote, then each section's fields."""
    context = services.editor_context(actor, workshop, plan, lang)
    empty = _("Not filled in yet.")
    values = {f["key"]: f.get("value") for s in context["sections"] for f in s["fields"]}
    title = values.get("title") if isinstance(values.get("title"), str) else ""
    blocks = list(_vote_blocks(plan.vote))
    members = context.get("members") or []
    if members:
        blocks.append(facts_block([(_("Working group"), ", ".join(m.name for m in members))]))
    for section in context["sections"]:
        blocks.append(heading_block(2, section["title"]))
        for field in section["fields"]:
            if field["label"].strip().casefold() != section["title"].strip().casefold():
                blocks.append(heading_block(3, field["label"]))
            blocks.extend(field_blocks(field, empty))
    return {"anchor": f"plan-{plan.id}",
            "title": _("%(number)s. %(title)s", number=number,
                       title=(title or plan.title).strip()),
            "blocks": blocks}


def carrying_ballots(workshop: Workshop) -> list[Ballot]:
    """The closed ballots of a workshop that carried lines of work forward, oldest first."""
    return [b for b in db.session.scalars(
        sa.select(Ballot).where(Ballot.workshop_id == workshop.id, Ballot.results.is_not(None))
        .order_by(Ballot.closed_at, Ballot.id)) if b.selected_proposal_ids]


def ballot_blocks(ballot: Ballot, receipts_url: str, lang: str) -> list[dict[str, Any]]:
    """A ballot's frozen results, as the results report prints them (without its charts):
    ranking with scores, support and turnout by region, the hash."""
    return [heading_block(2, ballot.title),
            *report.ballot_blocks(ballot, receipts_url, lang, level=3, with_figures=False)]


def plan_document(actor: Actor, workshop: Workshop, plan: Plan, lang: str) -> dict[str, Any]:
    """One plan as a document: a short masthead (workshop, dates, place) and the plan."""
    part = plan_part(actor, workshop, plan, plan.position or 1, lang)
    return {"lang": lang, "title": part["title"], "workshop": workshop_facts(workshop),
            "cover": False, "subtitle": _("Action plan"), "toc": [], "parts": [part],
            "labels": page_labels()}


def workshop_document(actor: Actor, workshop: Workshop, lang: str,
                      receipts_url: Callable[[Ballot], str]) -> dict[str, Any]:
    """The global document: a cover, contents, every active plan, the vote results annexed.

    :raise PermissionDenied: the actor may not read this workshop's plans.
    """
    plans = services.list_plans(actor, workshop)
    parts = [plan_part(actor, workshop, plan, n, lang) for n, plan in enumerate(plans, 1)]
    ballots = carrying_ballots(workshop)
    if ballots:
        blocks = []
        for ballot in ballots:
            blocks.extend(ballot_blocks(ballot, receipts_url(ballot), lang))
        parts.append({"anchor": "annex", "title": _("Annex: vote results"), "blocks": blocks})
    return {"lang": lang, "title": workshop.title, "workshop": workshop_facts(workshop),
            "cover": True, "subtitle": _("Action plans"),
            "toc": [{"anchor": p["anchor"], "title": p["title"]} for p in parts],
            "parts": parts, "labels": page_labels()}
