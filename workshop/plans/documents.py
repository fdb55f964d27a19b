"""Action plans as documents: one plain-data model, drawn as a PDF (WeasyPrint) and as a DOCX.

`plan_document` and `workshop_document` read the database and translate every heading and
label once, in the request; they return plain data (parts made of headings, paragraphs, lists,
tables) with every value already turned into text. `html_to_pdf` and `render_docx` only draw
that data, so they run in a worker thread with no app context, and the two formats cannot
disagree about what a plan says. `run_blocking` keeps the slow drawing off gevent's loop.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import gevent
import sqlalchemy as sa
import weasyprint
from babel.dates import format_interval
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from flask import render_template
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from gevent import monkey
from weasyprint.urls import URLFetcher

from workshop.agenda.models import Workshop
from workshop.errors import WorkshopError
from workshop.extensions import db
from workshop.permissions import Actor
from workshop.plans import services
from workshop.plans.models import Plan
from workshop.vocabulary import REGIONS, WORKSHOP_KINDS
from workshop.voting.models import Ballot
from workshop.voting.views import METHOD_LABELS, WEIGHTING_LABELS, percent, score

#: The longest a document may take to draw before the request gives up (the worker thread
#: still finishes, but the phone or browser gets an answer).
RENDER_TIMEOUT = 120
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
#: How a ticked box of a table (e.g. an activity's years) prints.
CHECK = "✓"
#: Relative widths of table columns by kind: ticks are narrow, free text is wide.
_WIDTH = {"check": 1.0, "choice": 2.5, "number": 1.5, "text": 5.0}
#: Scripts Word and LibreOffice draw with a complex-script font; we name the Noto font. A run
#: spans words of one script and the spaces between them.
_SCRIPTS = [(re.compile(rf"{chars}+(?:\s+{chars}+)*"), font) for chars, font in (
    (r"[\u0900-\u097F\uA8E0-\uA8FF\u1CD0-\u1CFF]", "Noto Sans Devanagari"),
    (r"[\u1780-\u17FF\u19E0-\u19FF]", "Noto Sans Khmer"))]
_SCRIPT_RUN = re.compile("|".join(p.pattern for p, _font in _SCRIPTS))
_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")
_AFTER_UPDATE_FIELDS = {qn(f"w:{tag}") for tag in (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "attachedSchema",
    "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures",
    "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary",
    "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")}
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="documents")


class DocumentTooSlow(WorkshopError):
    """Drawing the document took longer than RENDER_TIMEOUT: answer rather than hang."""

    status = 503
    code = "timeout"


# --------------------------------------------------------------------------------------------
# The document model: plain data, every string already in the reader's language


def _text(paragraphs: list[list[str]], style: str = "normal") -> dict[str, Any]:
    return {"type": "text", "paragraphs": paragraphs, "style": style}


def _heading(level: int, text: str) -> dict[str, Any]:
    return {"type": "heading", "level": level, "text": text}


def _table(columns: list[tuple[str, str]], rows: list[list[str]]) -> dict[str, Any]:
    """A table block: `columns` as (label, kind); shares of the width follow the kinds.

    `keep` marks the rows short enough (surely under half a page) to be kept whole on one
    page; longer rows may break across pages, under a repeated header row.
    """
    total = sum(_WIDTH.get(kind, _WIDTH["text"]) for _label, kind in columns) or 1.0
    shares = [round(100 * _WIDTH.get(kind, _WIDTH["text"]) / total, 2) for _label, kind in columns]
    return {"type": "table", "rows": rows,
            "keep": [_short_row(row, shares) for row in rows],
            "columns": [{"label": label, "kind": kind, "share": share}
                        for (label, kind), share in zip(columns, shares, strict=True)]}


def _short_row(row: list[str], shares: list[float]) -> bool:
    """Whether a row surely takes under half a page (about 0.9 characters a line per percent
    of the width, 25 lines), so that keeping it whole never needs a page of its own."""
    for cell, share in zip(row, shares, strict=True):
        per_line = max(4.0, share * 0.9)
        if sum(1 + int(len(line) / per_line) for line in cell.split("\n")) > 25:
            return False
    return True


def _facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "facts", "pairs": [[str(k), str(v)] for k, v in pairs]}


def _paragraphs(text: str) -> list[list[str]]:
    """A long text as paragraphs (blank lines) of lines (single line breaks)."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


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
        lines = _paragraphs(value) if kind == "longtext" else [[value.strip()]]
        return [_text(lines)]
    if kind == "choice" and not field.get("multiple") and isinstance(value, str) and value:
        return [_text([[str(options.get(value, value))]])]
    if kind == "choice" and isinstance(value, list) and value:
        return [{"type": "items", "items": [str(options.get(k, k)) for k in value]}]
    if kind == "list" and isinstance(value, list):
        items = [str(item.get("text", "")).strip() for item in value if isinstance(item, dict)]
        if any(items):
            return [{"type": "items", "items": [i for i in items if i]}]
    if kind == "table" and isinstance(value, list):
        columns = field.get("columns") or []
        rows = [[_cell(c, row.get(c["key"])) for c in columns]
                for row in value if isinstance(row, dict)]
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if rows:
            return [_table([(c["label"], c["kind"]) for c in columns], rows)]
    return [_text([[empty]], style="muted")]


def _regions() -> dict[str, str]:
    return {key: str(name) for key, name in REGIONS.items()}


def _vote_blocks(vote: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The vote that carried a line forward, as frozen in the ballot's results."""
    if not vote:
        return []
    regions = _regions()
    turnout = vote.get("turnout") or {}
    blocks = [_heading(2, _("The vote that carried this line of work")),
              _facts([(_("Ballot"), vote.get("ballot", "")),
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
        blocks.append(_table([(_("Region"), "text"), (_("Support by region"), "number")],
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
        blocks.append(_facts([(_("Working group"), ", ".join(m.name for m in members))]))
    for section in context["sections"]:
        blocks.append(_heading(2, section["title"]))
        for field in section["fields"]:
            if field["label"].strip().casefold() != section["title"].strip().casefold():
                blocks.append(_heading(3, field["label"]))
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


def ballot_blocks(ballot: Ballot, receipts_url: str) -> list[dict[str, Any]]:
    """A ballot's frozen results: ranking with scores, support and turnout by region, hash."""
    results = ballot.results or {}
    regions = _regions()
    titles = {o["id"]: o.get("title", "") for o in results.get("options", [])}
    carried = set(ballot.selected_proposal_ids or [])
    turnout = results.get("turnout") or {}
    blocks = [
        _heading(2, ballot.title),
        _facts([(_("Method"), str(METHOD_LABELS.get(ballot.method, ballot.method))),
                (_("Weighting"), str(WEIGHTING_LABELS.get(ballot.weighting, ballot.weighting)))]),
        _text([[_("%(voted)s of %(eligible)s delegates voted.", voted=turnout.get("count", 0),
                  eligible=turnout.get("eligible", 0))]]),
        _heading(3, _("Ranking")),
        _table([(_("Rank"), "check"), (_("Line of work"), "text"), (_("Score"), "number"),
                (_("Consensus"), "number"), (_("Action plan"), "check")],
               [[str(s["rank"]), titles.get(s["option"], ""), score(s["score"]),
                 percent(s.get("consensus")), CHECK if s["option"] in carried else ""]
                for s in results.get("standings", [])]),
        _text([[_("Tied lines of work share a rank. Consensus is the lowest share of the "
                  "possible support that a line of work received in any region that voted: a "
                  "line backed in every region scores high, one backed by a single region "
                  "scores low.")]], style="muted"),
    ]
    by_region = list((results.get("turnout_by_region") or {}).items())
    if by_region:
        blocks += [
            _heading(3, _("Support by region")),
            _table([(_("Line of work"), "text")]
                   + [(regions.get(r, r), "number") for r, _t in by_region],
                   [[titles.get(s["option"], "")]
                    + [_("%(score)s (%(share)s)", score=score(s["by_region"].get(r)),
                         share=percent(s.get("region_shares", {}).get(r)))
                       for r, _t in by_region]
                    for s in results.get("standings", [])]),
            _heading(3, _("Turnout by region")),
            _table([(_("Region"), "text"), (_("Ballots cast"), "number"),
                    (_("Delegates"), "number"), (_("Weight"), "number")],
                   [[regions.get(r, r), str(t.get("count", 0)), str(t.get("eligible", 0)),
                     score(t.get("weight"))] for r, t in by_region]),
        ]
    digest = ballot.ballots_hash or results.get("hash") or ""
    blocks += [
        _heading(3, _("Hash of all ballots")),
        _text([[digest]], style="mono"),
        _facts([(_("The published ballots, and a receipt check"), receipts_url)]),
        _text([[_("Anyone can recompute the hash from this list: each entry as JSON with sorted "
                  "keys and no spaces, the entries sorted, joined into one JSON array, hashed "
                  "with SHA-256.")]]),
    ]
    return blocks


def _labels() -> dict[str, Any]:
    """Headings and labels both renderers print, in the reader's language."""
    page = _("Page %(page)s of %(pages)s")
    parts = [p for p in _PLACEHOLDER.split(page) if p != ""]
    return {
        "contents": _("Contents"),
        "page": [{"field": p} if p in ("page", "pages") else {"text": p} for p in parts],
    }


def _workshop_facts(workshop: Workshop) -> dict[str, str]:
    """The cover's facts: title, dates, place (or "Virtual"), the export's date."""
    locale = get_locale()
    if workshop.starts_on and workshop.ends_on:
        dates = format_interval(workshop.starts_on, workshop.ends_on, "yMMMMd", locale=locale)
    elif workshop.starts_on:
        dates = format_date(workshop.starts_on, format="long")
    else:
        dates = ""
    place = workshop.place.strip() if workshop.kind != "virtual" else ""
    return {"title": workshop.title, "dates": dates,
            "place": place or str(WORKSHOP_KINDS["virtual"] if workshop.kind == "virtual"
                                  else ""),
            "exported": _("Exported on %(date)s", date=format_date(date.today(), "long"))}


def plan_document(actor: Actor, workshop: Workshop, plan: Plan, lang: str) -> dict[str, Any]:
    """One plan as a document: a short masthead (workshop, dates, place) and the plan."""
    part = plan_part(actor, workshop, plan, plan.position or 1, lang)
    return {"lang": lang, "title": part["title"], "workshop": _workshop_facts(workshop),
            "cover": False, "subtitle": _("Action plan"), "toc": [], "parts": [part],
            "labels": _labels()}


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
            blocks.extend(ballot_blocks(ballot, receipts_url(ballot)))
        parts.append({"anchor": "annex", "title": _("Annex: vote results"), "blocks": blocks})
    return {"lang": lang, "title": workshop.title, "workshop": _workshop_facts(workshop),
            "cover": True, "subtitle": _("Action plans"),
            "toc": [{"anchor": p["anchor"], "title": p["title"]} for p in parts],
            "parts": parts, "labels": _labels()}


def slug(title: str, fallback: str) -> str:
    """A safe ASCII file name stem: accents dropped, anything else a dash, at most 60 long."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-").lower()[:60].strip("-")
    return stem or fallback


# --------------------------------------------------------------------------------------------
# Drawing: PDF


def css_string(text: str) -> str:
    """Text as a CSS string literal (quotes, backslashes and line breaks escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def page_counter_css(parts: list[dict[str, str]]) -> str:
    """The translated "Page X of Y" as a CSS `content` value with the page counters."""
    return " ".join(f"counter({p['field']})" if "field" in p else css_string(p["text"])
                    for p in parts)


def render_html(doc: dict[str, Any]) -> str:
    """The document as print HTML (needs the app: it renders a Jinja template)."""
    return render_template("plans/document.html", doc=doc,
                           page_css=page_counter_css(doc["labels"]["page"]),
                           css_string=css_string)


class StaticOnly(URLFetcher):
    """A URL fetcher that reads files of the static folder and nothing else (no network)."""

    def __init__(self, static_folder: str) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = Path(static_folder).resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Refuse any URL outside the static folder; read the others as files."""
        path = Path(unquote(urlsplit(url).path)).resolve()
        if urlsplit(url).scheme != "file" or not path.is_relative_to(self.root):
            raise ValueError(f"documents fetch nothing from {url!r}")
        return super().fetch(url, headers)


def html_to_pdf(html: str, static_folder: str) -> bytes:
    """Print HTML to PDF with WeasyPrint; nothing is fetched from the network."""
    return weasyprint.HTML(string=html, base_url=static_folder,
                           url_fetcher=StaticOnly(static_folder)).write_pdf()


# --------------------------------------------------------------------------------------------
# Drawing: DOCX


def _fonts(rpr_owner: Any, name: str, complex_name: str | None = None) -> None:
    """Name the font of a style or run for Latin, East-Asian and complex scripts alike."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:cs"), complex_name or name)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def _runs(paragraph: Any, text: str, bold: bool = False) -> None:
    """Add text as runs, naming Noto Sans Devanagari or Khmer for runs in those scripts."""
    pos = 0
    for match in _SCRIPT_RUN.finditer(text):
        if match.start() > pos:
            paragraph.add_run(text[pos:match.start()]).bold = bold or None
        run = paragraph.add_run(match.group())
        run.bold = bold or None
        font = next(f for pattern, f in _SCRIPTS if pattern.fullmatch(match.group()))
        _fonts(run._r, font, font)
        pos = match.end()
    if pos < len(text) or not text:
        paragraph.add_run(text[pos:]).bold = bold or None


def _field_run(paragraph: Any, instruction: str, placeholder: str = "") -> None:
    """A Word field (PAGE, NUMPAGES, ...) in a paragraph, with its shown text."""
    def char(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(placeholder)
    char("end")


def _toc(document: Any, entries: list[dict[str, str]]) -> None:
    """A TOC field (Word fills in the page numbers when it updates fields on opening); until
    then it shows the entries without numbers, so every reader sees what the document holds."""
    first = document.add_paragraph()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    first.add_run()._r.append(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = ' TOC \\o "1-1" \\h \\z \\u '
    first.add_run()._r.append(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    first.add_run()._r.append(separate)
    last = first
    for i, entry in enumerate(entries):
        paragraph = first if i == 0 else document.add_paragraph()
        _runs(paragraph, entry["title"])
        last = paragraph
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    last.add_run()._r.append(end)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings = document.settings.element
    # The schema fixes the order of settings: updateFields comes before these.
    later = next((child for child in settings if child.tag in _AFTER_UPDATE_FIELDS), None)
    if later is None:
        settings.append(update)
    else:
        later.addprevious(update)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _styled(document: Any, style_id: str) -> Any:
    """A new paragraph in a style given by id (python-docx's lookup by name scans every
    style each time: most of the drawing time of a long document)."""
    paragraph = document.add_paragraph()
    paragraph._p.get_or_add_pPr().style = style_id
    return paragraph


def _docx_table(document: Any, block: dict[str, Any], width_mm: float) -> None:
    """A Word table whose header row repeats on every page it runs over."""
    columns = block["columns"]
    table = document.add_table(rows=1, cols=len(columns))
    table._tbl.tblPr.style = "TableGrid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    widths = [Mm(width_mm * c["share"] / 100) for c in columns]
    header = table.rows[0]
    header_pr = header._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        flag = OxmlElement(tag)
        flag.set(qn("w:val"), "true")
        header_pr.append(flag)
    for cell, column, width in zip(header.cells, columns, widths, strict=True):
        cell.width = width
        _runs(cell.paragraphs[0], column["label"], bold=True)
        _shade(cell, "E8E8E8")
    for row, keep in zip(block["rows"], block["keep"], strict=True):
        added = table.add_row()
        if keep:
            flag = OxmlElement("w:cantSplit")
            flag.set(qn("w:val"), "true")
            added._tr.get_or_add_trPr().append(flag)
        for cell, text, width in zip(added.cells, row, widths, strict=True):
            cell.width = width
            _runs(cell.paragraphs[0], text)
    document.add_paragraph()


def _docx_facts(document: Any, block: dict[str, Any], width_mm: float) -> None:
    table = document.add_table(rows=0, cols=2)
    table.autofit = False
    for label, value in block["pairs"]:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(width_mm * 0.3), Mm(width_mm * 0.7)
        _runs(cells[0].paragraphs[0], label, bold=True)
        _runs(cells[1].paragraphs[0], value)
    document.add_paragraph()


def _docx_block(document: Any, block: dict[str, Any], width_mm: float) -> None:
    kind = block["type"]
    if kind == "heading":
        _runs(_styled(document, f"Heading{block['level']}"), block["text"])
    elif kind == "text":
        for lines in block["paragraphs"]:
            paragraph = document.add_paragraph()
            for i, line in enumerate(lines):
                if i:
                    paragraph.add_run().add_break()
                _runs(paragraph, line)
            if block["style"] == "muted":
                for run in paragraph.runs:
                    run.italic = True
                    run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            elif block["style"] == "mono":
                for run in paragraph.runs:
                    _fonts(run._r, "Courier New")
                    run.font.size = Pt(8.5)
    elif kind == "items":
        for item in block["items"]:
            _runs(_styled(document, "ListBullet"), item)
    elif kind == "table":
        _docx_table(document, block, width_mm)
    elif kind == "facts":
        _docx_facts(document, block, width_mm)


def _docx_styles(document: Any) -> None:
    """Noto Sans everywhere (complex scripts named per run), dark headings, 10 pt text."""
    styles = document.styles
    _fonts(styles["Normal"].element, "Noto Sans")
    styles["Normal"].font.size = Pt(10)
    for name, size in (("Title", 26), ("Heading 1", 17), ("Heading 2", 13), ("Heading 3", 10.5)):
        style = styles[name]
        _fonts(style.element, "Noto Sans")
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0x11, 0x11, 0x11)
        style.paragraph_format.keep_with_next = True


def render_docx(doc: dict[str, Any]) -> bytes:
    """The document model as a Word file: A4, heading styles, a TOC field, page numbers."""
    document = Document()
    _docx_styles(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    width_mm = 210 - 36
    document.core_properties.title = doc["title"]
    document.core_properties.language = doc["lang"]

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in doc["labels"]["page"]:
        if "field" in part:
            _field_run(footer, "PAGE" if part["field"] == "page" else "NUMPAGES", "1")
        else:
            footer.add_run(part["text"])

    facts = doc["workshop"]
    if doc["cover"]:
        section.different_first_page_header_footer = True
        _runs(document.add_paragraph(style="Title"), facts["title"])
        for line, size in ((doc["subtitle"], 16), (facts["dates"], 12), (facts["place"], 12),
                           (facts["exported"], 9)):
            if line:
                paragraph = document.add_paragraph()
                _runs(paragraph, line)
                for run in paragraph.runs:
                    run.font.size = Pt(size)
        document.add_page_break()
        contents = document.add_paragraph()
        _runs(contents, doc["labels"]["contents"], bold=True)
        contents.runs[0].font.size = Pt(17)
        _toc(document, doc["toc"])
    else:
        masthead = document.add_paragraph()
        line = " · ".join(x for x in (facts["title"], facts["dates"], facts["place"]) if x)
        _runs(masthead, line)
        for run in masthead.runs:
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    for i, part in enumerate(doc["parts"]):
        heading = _styled(document, "Heading1")
        _runs(heading, part["title"])
        heading.paragraph_format.page_break_before = bool(doc["cover"] or i)
        for block in part["blocks"]:
            _docx_block(document, block, width_mm)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Running the drawing off the event loop


def run_blocking(fn: Callable[..., Any], *args: Any, timeout: float = RENDER_TIMEOUT) -> Any:
    """Call `fn(*args)` in a worker thread and wait at most `timeout` seconds.

    Under gevent (threading patched) the hub's thread pool runs it, so the event loop keeps
    serving every other phone meanwhile; otherwise a small thread pool does.

    :raise DocumentTooSlow: it took longer than `timeout`.
    """
    if monkey.is_module_patched("threading"):
        try:
            return gevent.get_hub().threadpool.spawn(fn, *args).get(timeout=timeout)
        except gevent.Timeout as exc:
            raise DocumentTooSlow(_("The document took too long to make. Try again in a "
                                    "moment.")) from exc
    try:
        return _POOL.submit(fn, *args).result(timeout=timeout)
    except FutureTimeout as exc:
        raise DocumentTooSlow(_("The document took too long to make. Try again in a "
                                "moment.")) from exc
