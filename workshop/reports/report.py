"""Results reports: a closed ballot's frozen results, or every closed ballot of a workshop, as a
document (the plain-data model of workshop/documents.py, drawn as PDF and DOCX).

Everything printed comes from the results frozen at close (`Ballot.results`), never from the
ballot papers: a secret ballot's frozen results already leave out every small cell (see
workshop/voting/secrecy.py), so the report can only say which regions or types are withheld
("fewer than k"), never what they hold; and no paper, receipt or name is printed, only the
address of the published list. Headings and labels are translated here, in the request;
`draw_figures` draws the charts (pygal) in a worker thread afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from babel.dates import get_datetime_format
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _

from workshop.agenda.models import Workshop
from workshop.documents import (
    CHECK,
    facts_block,
    figure_block,
    figures,
    heading_block,
    items_block,
    page_labels,
    table_block,
    text_block,
    workshop_facts,
)
from workshop.errors import Conflict
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.reports import charts
from workshop.vocabulary import ORG_TYPES, REGIONS
from workshop.voting.models import Ballot
from workshop.voting.steps import criteria
from workshop.voting.views import (
    CONSENSUS_RULES,
    METHOD_LABELS,
    WEIGHTING_LABELS,
    percent,
    score,
)

OPERATION = "report.read"


def closed_ballots(workshop: Workshop) -> list[Ballot]:
    """The workshop's ballots whose results are frozen, in the order they closed."""
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.workshop_id == workshop.id, Ballot.results.is_not(None))
        .order_by(Ballot.closed_at, Ballot.id)))


def _names(vocabulary: dict[str, Any]) -> dict[str, str]:
    return {key: str(name) for key, name in vocabulary.items()}


def _ranking_heading(method: str) -> str:
    if method == "ranking":
        return _("Ranking (Borda)")
    if method == "matrix":
        return _("Ranking (combined score)")
    return _("Ranking")


def _closed(when: datetime | None) -> str:
    """A moment as the reader's language writes a date and a time (no seconds)."""
    if when is None:
        return ""
    # The locale's own pattern joins the date and the time, as Babel's format_datetime does.
    pattern = get_datetime_format("medium", locale=get_locale()).replace("'", "")
    return pattern.replace("{1}", format_date(when, "medium")).replace(
        "{0}", format_time(when, "short"))


def ballot_blocks(ballot: Ballot, receipts_url: str, lang: str, level: int = 2,
                  with_figures: bool = True) -> list[dict[str, Any]]:
    """A closed ballot's results as blocks, sections at heading `level` (2 or 3).

    Ranking with scores, consensus and the lines carried forward, and its bar chart; Borda
    and Schulze side by side (ranking ballots); the matrix (matrix ballots); support by
    region, its chart and turnout by region; the breakdown by organisation type; the hash of
    all ballots with how to recompute it. A secret ballot's withheld cells say "fewer than k".
    """
    results = ballot.results or {}
    sub = min(level + 1, 3)
    regions, org_types = _names(REGIONS), _names(ORG_TYPES)
    titles = {o["id"]: o.get("title", "") for o in results.get("options", [])}
    standings = results.get("standings", [])
    carried = set(ballot.selected_proposal_ids or [])
    turnout = results.get("turnout") or {}
    secrecy = results.get("secrecy")
    hidden_regions: dict[str, Any] = secrecy["hidden_regions"] if secrecy else {}
    fewer = _("fewer than %(k)s", k=secrecy["min_cell"]) if secrecy else ""
    labels = [_("%(number)s. %(title)s", number=s["rank"], title=titles.get(s["option"], ""))
              for s in standings]
    capped = with_figures and len(standings) > charts.MAX_BARS

    facts = [(_("Method"), str(METHOD_LABELS.get(ballot.method, ballot.method))),
             (_("Weighting"), str(WEIGHTING_LABELS.get(ballot.weighting, ballot.weighting)))]
    if ballot.closed_at:
        facts.append((_("Ballot closed"), _closed(ballot.closed_at)))
    blocks = [facts_block(facts)]
    if ballot.secret:
        blocks.append(text_block([[_("Secret ballot (receipt codes, no names)")]]))
    blocks.append(text_block([[_("%(voted)s of %(eligible)s delegates voted.",
                                 voted=turnout.get("count", 0),
                                 eligible=turnout.get("eligible", 0))]]))

    # Ranking
    columns = [(_("Rank"), "check"), (_("Line of work"), "text"), (_("Score"), "number"),
               (_("Consensus"), "number")]
    if carried:
        columns.append((_("Action plan"), "check"))
    rows = []
    for s in standings:
        row = [str(s["rank"]), titles.get(s["option"], ""), score(s["score"]),
               percent(s.get("consensus"))]
        if carried:
            row.append(CHECK if s["option"] in carried else "")
        rows.append(row)
    blocks += [
        heading_block(level, _ranking_heading(ballot.method)),
        table_block(columns, rows),
        text_block([[_("Tied lines of work share a rank. Consensus is the lowest share of the "
                       "possible support that a line of work received in any region that "
                       "voted: a line backed in every region scores high, one backed by a "
                       "single region scores low."),
                     *([str(CONSENSUS_RULES[ballot.method])]
                       if ballot.method in CONSENSUS_RULES else [])]], style="muted"),
    ]
    if with_figures and standings:
        caption = _("Bar chart of the scores, in the order of the ranking.")
        blocks.append(figure_block(
            {"kind": "ranking", "labels": labels, "scores": [s["score"] for s in standings],
             "lang": lang}, caption, caption))
    if capped:
        blocks.append(text_block([[_("The charts show the first %(n)s lines of work of the "
                                     "ranking; the tables list them all.",
                                     n=charts.MAX_BARS)]], style="muted"))

    schulze = results.get("schulze")
    if schulze:
        winner = schulze.get("condorcet_winner")
        condorcet = (_("Condorcet winner: %(title)s (preferred to every other line of work by "
                       "a majority).", title=titles.get(winner, "")) if winner is not None
                     else _("There is no Condorcet winner: no line of work is preferred to "
                            "every other one by a majority."))
        ranks = schulze.get("ranks") or {}
        blocks += [
            heading_block(level, _("Borda and Schulze side by side")),
            text_block([[condorcet]]),
            table_block([(_("Line of work"), "text"), (_("Borda"), "number"),
                         (_("Score"), "number"), (_("Schulze"), "number")],
                        [[titles.get(s["option"], ""), str(s["rank"]), score(s["score"]),
                          str(ranks.get(str(s["option"]), "–"))] for s in standings]),
        ]

    matrix = [p for p in results.get("matrix") or [] if p.get("first") is not None]
    if matrix:
        first, second = (str(c) for c in criteria(ballot))
        blocks += [
            heading_block(level, _("Matrix")),
            table_block([(_("Line of work"), "text"), (first, "number"), (second, "number"),
                         (_("Combined"), "number"), (_("Raters"), "number")],
                        [[titles.get(p["option"], ""), score(p["first"]), score(p["second"]),
                          score(p["combined"]), str(p["raters"])] for p in matrix]),
        ]

    # Support and turnout by region
    by_region = results.get("turnout_by_region") or {}
    shown = list(by_region)
    every = shown + [r for r in hidden_regions if r not in by_region]
    if every:
        blocks.append(heading_block(level, _("Support by region")))
        if secrecy:
            blocks.append(text_block([[_(
                "Secret ballot: a region where fewer than %(k)s delegates voted is not shown "
                "(nor, when needed, the next smallest one, so that no small group can be "
                "worked out from the totals), and consensus is the lowest share among the "
                "regions shown.", k=secrecy["min_cell"])]], style="muted"))
            if secrecy.get("region_breakdown") == "per_delegate":
                blocks.append(text_block([[_(
                    "The ballot papers of a secret ballot do not say where they come from: the "
                    "breakdown by region counts each delegate once, whatever the weight of "
                    "their organisation.")]], style="muted"))
        blocks.append(table_block(
            [(_("Line of work"), "text")] + [(regions.get(r, r), "amount") for r in every],
            [[titles.get(s["option"], "")]
             + [fewer if r in hidden_regions else
                _("%(score)s (%(share)s)", score=score(s["by_region"].get(r)),
                  share=percent(s.get("region_shares", {}).get(r)))
                for r in every]
             for s in standings]))
        if with_figures and shown and standings:
            caption = _("Bar chart of each line of work's share of the possible support, "
                        "region by region.")
            blocks.append(figure_block(
                {"kind": "regions", "labels": labels, "lang": lang,
                 "regions": [(regions.get(r, r),
                              [s.get("region_shares", {}).get(r) for s in standings])
                             for r in shown]}, caption, caption))
        blocks += [
            heading_block(sub, _("Turnout by region")),
            table_block([(_("Region"), "text"), (_("Ballots cast"), "number"),
                         (_("Delegates"), "number"), (_("Weight"), "number")],
                        [[regions.get(r, r), str(t.get("count", 0)), str(t.get("eligible", 0)),
                          score(t.get("weight"))] for r, t in by_region.items()]
                        + [[regions.get(r, r), fewer, str(t.get("eligible", 0)), score(None)]
                           for r, t in hidden_regions.items() if r not in by_region]),
        ]

    blocks += _org_type_blocks(results, standings, titles, org_types, level, fewer)

    if carried:
        blocks += [heading_block(level, _("Carried forward to action plans")),
                   items_block([titles.get(pid, "") for pid in ballot.selected_proposal_ids
                                or []])]

    digest = ballot.ballots_hash or results.get("hash") or ""
    blocks += [
        heading_block(level, _("Hash of all ballots")),
        text_block([[digest]], style="mono"),
        facts_block([(_("The published ballots, and a receipt check"), receipts_url)]),
        text_block([[_("Anyone can recompute the hash from this list: each entry as JSON with "
                       "sorted keys and no spaces, the entries sorted, joined into one JSON "
                       "array, hashed with SHA-256.")]]),
    ]
    return blocks


def _org_type_blocks(results: dict[str, Any], standings: list[dict[str, Any]],
                     titles: dict[int, str], org_types: dict[str, str], level: int,
                     fewer: str) -> list[dict[str, Any]]:
    """By organisation type: named ballots, each line's score by type (under a first row of
    the ballots cast by type); secret ballots, only how many took part by type, small types
    withheld."""
    by_type = results.get("turnout_by_org_type") or {}
    secrecy = results.get("secrecy")
    hidden = [t for t in (secrecy or {}).get("hidden_org_types", []) if t not in by_type]
    if not by_type and not hidden:
        return []
    blocks = [heading_block(level, _("By organisation type"))]
    if secrecy:
        blocks += [
            text_block([[_("A secret ballot has no breakdown of choices by organisation type: "
                           "crossed with the breakdown by region, it could single out small "
                           "groups. Only who took part is counted by type.")]], style="muted"),
            table_block([(_("Organisation type"), "text"), (_("Ballots cast"), "number")],
                        [[org_types.get(k, k), str(t.get("count", 0))]
                         for k, t in by_type.items()]
                        + [[org_types.get(k, k), fewer] for k in hidden]),
        ]
        return blocks
    keys = list(by_type)
    blocks.append(table_block(
        [(_("Line of work"), "text")] + [(org_types.get(k, k), "amount") for k in keys],
        [[_("Ballots cast")] + [str(by_type[k].get("count", 0)) for k in keys]]
        + [[titles.get(s["option"], "")] + [score(s.get("by_org_type", {}).get(k)) for k in keys]
           for s in standings]))
    return blocks


def _part(ballot: Ballot, receipts_url: str, lang: str) -> dict[str, Any]:
    return {"anchor": f"ballot-{ballot.id}", "title": ballot.title,
            "blocks": ballot_blocks(ballot, receipts_url, lang)}


def ballot_document(actor: Actor, workshop: Workshop, ballot: Ballot, lang: str,
                    receipts_url: str) -> dict[str, Any]:
    """One closed ballot's results report: a masthead (workshop, dates, place), the results.

    :raise PermissionDenied: the actor is neither organiser nor facilitator of the workshop.
    :raise Conflict: the ballot is still open (its results are frozen when it closes).
    """
    require(OPERATION, actor, workshop)
    if ballot.workshop_id != workshop.id or ballot.is_open or ballot.results is None:
        raise Conflict(_("The report is made when the ballot closes."))
    return {"lang": lang, "title": ballot.title, "workshop": workshop_facts(workshop),
            "cover": False, "subtitle": _("Results report"), "toc": [],
            "parts": [_part(ballot, receipts_url, lang)], "labels": page_labels()}


def workshop_document(actor: Actor, workshop: Workshop, lang: str,
                      receipts_url: Callable[[Ballot], str]) -> dict[str, Any]:
    """The workshop's results report: a cover, contents, every closed ballot in the order
    they closed (a short note when none has).

    :raise PermissionDenied: the actor is neither organiser nor facilitator of the workshop.
    """
    require(OPERATION, actor, workshop)
    parts = [_part(ballot, receipts_url(ballot), lang) for ballot in closed_ballots(workshop)]
    if not parts:
        parts = [{"anchor": "none", "title": _("Results report"),
                  "blocks": [text_block([[_("No ballot of this workshop has closed yet.")]])]}]
    return {"lang": lang, "title": workshop.title, "workshop": workshop_facts(workshop),
            "cover": True, "subtitle": _("Results report"),
            "toc": [{"anchor": p["anchor"], "title": p["title"]} for p in parts],
            "parts": parts, "labels": page_labels()}


def draw_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """Draw every chart of a report (each figure's `svg`, from its spec); returns the
    document. Pure: no app context, so it runs in a worker thread."""
    for block in figures(doc):
        if block.get("svg") is None:
            block["svg"] = charts.draw(block["spec"])
    return doc
