"""Printable documents (action plans, results reports): one plain-data model, drawn as a PDF
(WeasyPrint, from templates/documents/document.html) and as a DOCX (python-docx).

A feature builds a document in the request: it reads the database and translates every
heading and label once, and returns plain data (parts made of headings, paragraphs, lists,
tables, facts and figures) with every value already turned into text. `html_to_pdf` and
`render_docx` only draw that data, so they run in a worker thread with no app context, and the
two formats cannot disagree about what a document says. `send` does the whole answer: figures
made printable, the slow drawing kept off gevent's loop by `run_blocking`, the file attached.

Figures are SVG (see workshop/reports/charts.py). The PDF embeds them as vectors, the DOCX as
PNG (Word cannot hold SVG). Both go through librsvg's `rsvg-convert` (Debian's librsvg2-bin):
it lays text out with Pango and HarfBuzz, so Devanagari or Khmer labels come out shaped, with
Noto fonts found through fontconfig. CairoSVG draws text with cairo's "toy" API (no shaping, no
font fallback: boxes for non-Latin labels), and WeasyPrint's own SVG drawing places letters
one by one, which breaks the scripts that join or reorder them; librsvg is GNOME's SVG library,
kept up by GNOME and by every Linux distribution's security updates. Without rsvg-convert the
PDF falls back to WeasyPrint's drawing and the DOCX keeps its tables without the picture.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint
from babel.dates import format_interval
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from flask import current_app, render_template, send_file
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from weasyprint.urls import URLFetcher, URLFetcherResponse

from workshop import heavy
from workshop.agenda.models import Workshop
from workshop.vocabulary import WORKSHOP_KINDS

log = logging.getLogger(__name__)

#: The longest a document may take to draw before the request gives up (the worker thread
#: still finishes, but the phone or browser gets an answer).
RENDER_TIMEOUT = 120
#: The longest rsvg-convert may take over one figure.
FIGURE_TIMEOUT = 30
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
#: How a ticked box of a table (e.g. an activity's years) prints.
CHECK = "✓"
#: The printable width of an A4 page between the margins (18 mm each side).
PAGE_WIDTH_MM = 210 - 36
#: Relative widths of table columns by kind: ticks are narrow, free text is wide; an amount
#: is a number under a long header (a region's name), right-aligned like a number.
_WIDTH = {"check": 1.0, "choice": 2.5, "number": 1.5, "amount": 2.4, "text": 5.0}
_RIGHT = {"number", "amount"}
#: Tables with more columns than this print in a smaller type.
_WIDE = 6
#: Scripts Word and LibreOffice draw with a complex-script font; we name the Noto font. A run
#: spans words of one script and the spaces between them.
_SCRIPTS = [(re.compile(rf"{chars}+(?:\s+{chars}+)*"), font) for chars, font in (
    (r"[\u0900-\u097F\uA8E0-\uA8FF\u1CD0-\u1CFF]", "Noto Sans Devanagari"),
    (r"[\u1780-\u17FF\u19E0-\u19FF]", "Noto Sans Khmer"))]
_SCRIPT_RUN = re.compile("|".join(p.pattern for p, _font in _SCRIPTS))
_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
#: How the print HTML names a figure: the PDF's URL fetcher serves it from memory. (Inline, a
#: figure's outlined text would go through the HTML parser: a second slower for nothing.)
FIGURE_SCHEME = "figure"
_AFTER_UPDATE_FIELDS = {qn(f"w:{tag}") for tag in (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "attachedSchema",
    "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures",
    "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary",
    "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")}
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="documents")


_TOO_SLOW = _l("The document took too long to make. Try again in a moment.")


class DocumentTooSlow(heavy.TooSlow):
    """Drawing the document took longer than RENDER_TIMEOUT: answer rather than hang."""


# --------------------------------------------------------------------------------------------
# The document model: plain data, every string already in the reader's language


def text_block(paragraphs: list[list[str]], style: str = "normal") -> dict[str, Any]:
    """Paragraphs (each a list of lines); `style` normal, muted (a note) or mono (a hash)."""
    return {"type": "text", "paragraphs": paragraphs, "style": style}


def heading_block(level: int, text: str) -> dict[str, Any]:
    """A heading of level 2 or 3 (level 1 is a part's title)."""
    return {"type": "heading", "level": level, "text": text}


def items_block(items: list[str]) -> dict[str, Any]:
    """A bulleted list."""
    return {"type": "items", "items": items}


def facts_block(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Label and value pairs, printed as a two-column table without a grid."""
    return {"type": "facts", "pairs": [[str(k), str(v)] for k, v in pairs]}


def table_block(columns: list[tuple[str, str]], rows: list[list[str]]) -> dict[str, Any]:
    """A table block: `columns` as (label, kind); shares of the width follow the kinds.

    `keep` marks the rows short enough (surely under half a page) to be kept whole on one
    page; longer rows may break across pages, under a repeated header row.
    """
    total = sum(_WIDTH.get(kind, _WIDTH["text"]) for _label, kind in columns) or 1.0
    shares = [round(100 * _WIDTH.get(kind, _WIDTH["text"]) / total, 2) for _label, kind in columns]
    return {"type": "table", "rows": rows, "wide": len(columns) > _WIDE,
            "keep": [_short_row(row, shares) for row in rows],
            "columns": [{"label": label, "kind": kind, "share": share}
                        for (label, kind), share in zip(columns, shares, strict=True)]}


def figure_block(spec: dict[str, Any], caption: str, alt: str) -> dict[str, Any]:
    """A figure drawn later from `spec` (by the feature, into `svg`, in a worker thread).

    `src` (PDF) or `png` (DOCX) are filled by `prepare_figures` just before drawing;
    `caption` prints under it, `alt` describes it to screen readers and in the DOCX.
    """
    return {"type": "figure", "spec": spec, "caption": caption, "alt": alt,
            "svg": None, "src": None, "png": None}


def _short_row(row: list[str], shares: list[float]) -> bool:
    """Whether a row surely takes under half a page (about 0.9 characters a line per percent
    of the width, 25 lines), so that keeping it whole never needs a page of its own."""
    for cell, share in zip(row, shares, strict=True):
        per_line = max(4.0, share * 0.9)
        if sum(1 + int(len(line) / per_line) for line in cell.split("\n")) > 25:
            return False
    return True


def paragraphs(text: str) -> list[list[str]]:
    """A long text as paragraphs (blank lines) of lines (single line breaks)."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


def figures(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every figure block of a document, in order."""
    for part in doc["parts"]:
        for block in part["blocks"]:
            if block["type"] == "figure":
                yield block


def page_labels() -> dict[str, Any]:
    """Headings and labels both renderers print, in the reader's language."""
    page = _("Page %(page)s of %(pages)s")
    parts = [p for p in _PLACEHOLDER.split(page) if p != ""]
    return {
        "contents": _("Contents"),
        "page": [{"field": p} if p in ("page", "pages") else {"text": p} for p in parts],
    }


def workshop_facts(workshop: Workshop) -> dict[str, str]:
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


def slug(title: str, fallback: str) -> str:
    """A safe ASCII file name stem: accents dropped, anything else a dash, at most 60 long."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-").lower()[:60].strip("-")
    return stem or fallback


# --------------------------------------------------------------------------------------------
# Figures: SVG made printable by librsvg (see the module docstring for why librsvg)


def _rsvg(svg: str, fmt: str, zoom: float = 1.0) -> bytes | None:
    """`svg` through rsvg-convert as `fmt` (png, or svg with its text turned into outlines);
    None when rsvg-convert is missing or fails (logged).

    Called in the request: under gevent the subprocess module is cooperative there (and only
    there: gevent's subprocess does not work from a worker thread), so the loop keeps going.
    """
    program = shutil.which("rsvg-convert")
    if program is None:
        log.warning("rsvg-convert is not installed (Debian: librsvg2-bin): figures print "
                    "without text shaping in PDFs and are left out of DOCX files")
        return None
    try:
        done = subprocess.run(  # noqa: S603  (our own SVG on stdin, a fixed argument list)
            [program, "--format", fmt, "--zoom", f"{zoom:g}", "--background-color", "white"],
            input=svg.encode("utf-8"), capture_output=True, timeout=FIGURE_TIMEOUT, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("rsvg-convert failed: %s", exc)
        return None
    return done.stdout


def svg_to_png(svg: str, zoom: float = 2.5) -> bytes | None:
    """The figure as a PNG, `zoom` times its SVG size (2.5: about 250 dpi on the page)."""
    return _rsvg(svg, "png", zoom)


def svg_for_print(svg: str) -> bytes:
    """The figure as SVG for WeasyPrint: its text laid out by librsvg as outlines, or
    (without rsvg-convert) as it is."""
    return _rsvg(svg, "svg") or svg.encode("utf-8")


def prepare_figures(doc: dict[str, Any], fmt: str) -> dict[str, bytes]:
    """Make each drawn figure printable: for a PDF, its SVG under a `figure:N` address (the
    figure's `src`), returned as address -> bytes for `html_to_pdf`; for a DOCX, its `png`."""
    resources: dict[str, bytes] = {}
    for number, block in enumerate(figures(doc), start=1):
        if not block.get("svg"):
            continue
        if fmt == "pdf":
            block["src"] = f"{FIGURE_SCHEME}:{number}"
            resources[block["src"]] = svg_for_print(block["svg"])
        else:
            block["png"] = svg_to_png(block["svg"])
    return resources


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
    return render_template("documents/document.html", doc=doc,
                           page_css=page_counter_css(doc["labels"]["page"]),
                           css_string=css_string)


class StaticOnly(URLFetcher):
    """A URL fetcher that reads files of the static folder and the document's own figures
    (`figure:N`, from memory), and nothing else (no network)."""

    def __init__(self, static_folder: str, figures: dict[str, bytes] | None = None) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = Path(static_folder).resolve()
        self.figures = figures or {}

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Refuse any URL outside the static folder and the figures; read the others."""
        if url in self.figures:
            return URLFetcherResponse(url, body=self.figures[url],
                                      headers={"Content-Type": "image/svg+xml"})
        path = Path(unquote(urlsplit(url).path)).resolve()
        if urlsplit(url).scheme != "file" or not path.is_relative_to(self.root):
            raise ValueError(f"documents fetch nothing from {url!r}")
        return super().fetch(url, headers)


def html_to_pdf(html: str, static_folder: str, figures: dict[str, bytes] | None = None
                ) -> bytes:
    """Print HTML to PDF with WeasyPrint; nothing is fetched from the network (`figures`:
    the SVG of each `figure:N` address the HTML names)."""
    return weasyprint.HTML(string=html, base_url=static_folder,
                           url_fetcher=StaticOnly(static_folder, figures)).write_pdf()


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


def _small(paragraph: Any, size: float) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)


def _docx_table(document: Any, block: dict[str, Any], width_mm: float) -> None:
    """A Word table whose header row repeats on every page it runs over."""
    columns = block["columns"]
    size = 8 if block.get("wide") else None
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
        if size:
            _small(cell.paragraphs[0], size)
    for row, keep in zip(block["rows"], block["keep"], strict=True):
        added = table.add_row()
        if keep:
            flag = OxmlElement("w:cantSplit")
            flag.set(qn("w:val"), "true")
            added._tr.get_or_add_trPr().append(flag)
        for cell, text, width, column in zip(added.cells, row, widths, columns, strict=True):
            cell.width = width
            _runs(cell.paragraphs[0], text)
            if column["kind"] in _RIGHT:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if size:
                _small(cell.paragraphs[0], size)
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


def _docx_figure(document: Any, block: dict[str, Any], width_mm: float) -> None:
    """The figure's PNG across the page, its caption below; the alt text on the picture."""
    if not block.get("png"):
        return
    document.add_picture(io.BytesIO(block["png"]), width=Mm(width_mm))
    picture = document.paragraphs[-1]
    picture.paragraph_format.keep_with_next = True
    properties = picture._p.find(".//" + qn("wp:docPr"))
    if properties is not None:
        properties.set("descr", block["alt"])
    if block["caption"]:
        caption = document.add_paragraph()
        _runs(caption, block["caption"])
        for run in caption.runs:
            run.italic = True
            run.font.size = Pt(8.5)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


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
    elif kind == "figure":
        _docx_figure(document, block, width_mm)


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
    width_mm = PAGE_WIDTH_MM
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
# Running the drawing off the event loop, and answering with the file


def run_blocking(fn: Callable[..., Any], *args: Any, timeout: float = RENDER_TIMEOUT) -> Any:
    """Call `fn(*args)` in a worker thread and wait at most `timeout` seconds.

    Under gevent `heavy.run` hands it to the hub's thread pool, so the event loop keeps
    serving every other phone meanwhile; otherwise a small thread pool runs it, so that a
    threaded server has the same time limit.

    :raise DocumentTooSlow: it took longer than `timeout`.
    """
    if heavy.under_gevent():
        try:
            return heavy.run(fn, *args, timeout=timeout)
        except heavy.TooSlow as exc:
            raise DocumentTooSlow(_TOO_SLOW) from exc
    try:
        return _POOL.submit(fn, *args).result(timeout=timeout)
    except FutureTimeout as exc:
        raise DocumentTooSlow(_TOO_SLOW) from exc


def public_url(path: str) -> str:
    """A path of this app as an address a printed page can give (PUBLIC_URL before it)."""
    return current_app.config.get("PUBLIC_URL", "").rstrip("/") + path


def render(doc: dict[str, Any], fmt: str) -> bytes:
    """The document's bytes as `fmt` (pdf or docx): figures made printable here, in the
    request, then the drawing in a worker thread.

    :raise DocumentTooSlow: the drawing took longer than RENDER_TIMEOUT.
    """
    resources = prepare_figures(doc, fmt)
    if fmt == "pdf":
        return run_blocking(html_to_pdf, render_html(doc), current_app.static_folder, resources)
    return run_blocking(render_docx, doc)


def send(doc: dict[str, Any], stem: str, fmt: str) -> Any:
    """The document as a download (`stem`.pdf or .docx): private, never cached.

    :raise DocumentTooSlow: the drawing took longer than RENDER_TIMEOUT.
    """
    data = render(doc, fmt)
    response = send_file(io.BytesIO(data), mimetype=PDF_TYPE if fmt == "pdf" else DOCX_TYPE,
                         as_attachment=True, download_name=f"{stem}.{fmt}", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
