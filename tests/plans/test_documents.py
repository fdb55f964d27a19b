"""Action plans as documents: each plan and the global document, as DOCX and PDF.

The files are opened as a reader would open them (python-docx, pypdf, pdftoppm) and checked
for every field's content, the labels in the reader's language, the cover, the contents with
the right page numbers, the vote annex with its hash, pages that print (A4, numbered, not
blank, long tables repeating their header), and who may download them.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from flask_babel import force_locale
from gevent import monkey
from pypdf import PdfReader

from tests.helpers import (
    carry_forward,
    create_organisation,
    create_user,
    create_workshop,
    edit_plan,
    join,
    login,
)
from workshop.auth.models import User
from workshop.extensions import db
from workshop.plans import documents
from workshop.plans import template as tpl
from workshop.vocabulary import ILO_PILLARS, LEVELS, LIKELIHOODS, REGIONS, SDG_TARGETS, THEMES

DEVANAGARI = "सामाजिक सुरक्षा"
KHMER = "សុខភាព"
ACCENTS = "é ñ ç ẹ"
A4 = (595, 842)  # points


def squash(text: str) -> str:
    """Text without any white space: PDF lines wrap wherever the page width says."""
    return "".join(text.split())


def samples(lead: str, partner: str) -> dict:
    """A value for every field of the default template, with accented and non-Latin text."""
    return {
        "title": f"Protección social {ACCENTS}",
        "theme": "health_protection",
        "level": ["national", "international"],
        "context": f"{DEVANAGARI} for informal workers in Nepal.\n\n{KHMER} for every family "
                   f"in Cambodia: {ACCENTS}.\nA second line of the same paragraph.",
        "discussion": [{"_id": "d1", "text": "Mutuelles de santé au Bénin et au Togo"},
                       {"_id": "d2", "text": f"{DEVANAGARI} reaches domestic workers"}],
        "objective": "By 2031, 500,000 informal workers are covered by a health mutual.",
        "results_national": "National health insurance laws name the mutuals.",
        "results_continental": "An African platform of mutuals meets every year.",
        "results_international": "The ILO recommendation 202 review hears our members.",
        "activities": [{"_id": "a1", "activity": "Train 40 mutual organisers",
                        "level": "national", "2027": True, "2029": True},
                       {"_id": "a2", "activity": f"Exchange visits {KHMER}",
                        "level": "continental", "2028": True}],
        "lead": [lead],
        "partners": [lead, partner],
        "countries": ["Cambodia", "Nepal"],
        "regions": ["asia", "west_africa"],
        "ilo_pillars": ["social_protection"],
        "sdg_targets": ["3.8", "1.3"],
        "indicators": [{"_id": "i1", "indicator": "Members covered", "baseline": "12,000",
                        "target": "500,000", "source": "Mutual registers"}],
        "risks": [{"_id": "r1", "risk": "Shrinking civic space", "likelihood": "high",
                   "mitigation": "Alliances with national unions"}],
        "resources": "Two coordinators; 40,000 euros a year for training.",
    }


def expected_texts(values: dict, orgs: dict[str, str], lang: str) -> dict[str, list[str]]:
    """What each field must print as, in the reader's language (options by their label)."""
    with force_locale(lang):
        def names(vocabulary, keys):
            return [str(vocabulary[k]) for k in keys]

        return {
            "title": [values["title"]],
            "theme": [str(THEMES[values["theme"]])],
            "level": names(LEVELS, values["level"]),
            "context": [DEVANAGARI, KHMER, ACCENTS, "A second line of the same paragraph."],
            "discussion": [i["text"] for i in values["discussion"]],
            "objective": [values["objective"]],
            "results_national": [values["results_national"]],
            "results_continental": [values["results_continental"]],
            "results_international": [values["results_international"]],
            "activities": ["Train 40 mutual organisers", f"Exchange visits {KHMER}",
                           str(LEVELS["national"]), str(LEVELS["continental"]),
                           documents.CHECK, "2031"],
            "lead": [orgs[k] for k in values["lead"]],
            "partners": [orgs[k] for k in values["partners"]],
            "countries": values["countries"],
            "regions": names(REGIONS, values["regions"]),
            "ilo_pillars": names(ILO_PILLARS, values["ilo_pillars"]),
            "sdg_targets": names(SDG_TARGETS, values["sdg_targets"]),
            "indicators": ["Members covered", "12,000", "500,000", "Mutual registers"],
            "risks": ["Shrinking civic space", str(LIKELIHOODS["high"]),
                      "Alliances with national unions"],
            "resources": [values["resources"]],
        }


def labels(lang: str) -> list[str]:
    """Every section title and field label of the default template in `lang`."""
    template = tpl.default_template()
    return ([tpl.label(s["title"], lang) for s in template["sections"]]
            + [tpl.label(f["label"], lang) for f in tpl.fields_of(template)])


@pytest.fixture
def story(app):
    """A face-to-face workshop in Dakar with two plans carried forward; every field of the
    first is filled in with accented, Devanagari and Khmer text."""
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    workshop.place = "Dakar"
    db.session.commit()
    plans, _lines, ballot = carry_forward(workshop, 2)
    lead = create_organisation(name=f"Mutualité Chrétienne {ACCENTS}", region="belgium",
                               country="Belgium")
    partner = create_organisation(name="Nepal Health Mutuals", region="asia", country="Nepal")
    values = samples(str(lead.id), str(partner.id))
    assert set(values) == set(tpl.field_map(tpl.default_template())), "a field has no sample"
    plan = plans[0]
    for key, value in values.items():
        edit_plan(organiser, plan, key, value)
    db.session.refresh(plan)
    orgs = {str(lead.id): lead.name, str(partner.id): partner.name}
    return {"organiser": organiser, "workshop": workshop, "plans": plans, "ballot": ballot,
            "values": values, "orgs": orgs}


def staff_client(app, user: User):
    client = app.test_client()
    login(client, user)
    return client


def docx_of(data: bytes):
    """The Word document, and all its text (paragraphs and every table cell)."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return document, "\n".join(parts)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def assert_every_field(text: str, story: dict, lang: str, squashed: bool = False) -> None:
    """Each field's expected strings are in the text (white space ignored for PDFs)."""
    fold = squash if squashed else (lambda s: " ".join(s.split()))
    haystack = fold(text)
    for key, wanted in expected_texts(story["values"], story["orgs"], lang).items():
        for piece in wanted:
            assert fold(piece) in haystack, f"{key}: {piece!r} missing"


# --- One plan -------------------------------------------------------------------------------


def test_plan_docx_holds_every_field_under_heading_styles(app, story):
    client = staff_client(app, story["organiser"])
    plan = story["plans"][0]
    response = client.get(f"/w/{story['workshop'].id}/plans/{plan.id}/export.docx?lang=en")
    assert response.status_code == 200
    assert response.mimetype == documents.DOCX_TYPE
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=proteccion-social-e-n-c-e.docx")
    document, text = docx_of(response.data)
    assert_every_field(text, story, "en")
    assert headings(document, 1) == [f"{plan.position}. {story['values']['title']}"]
    template = tpl.default_template()
    assert headings(document, 2)[1:] == [tpl.label(s["title"], "en")
                                         for s in template["sections"]]
    assert "Context and problem" in headings(document, 2)
    assert "Activities by year" in headings(document, 3)
    assert story["ballot"].ballots_hash in text
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = section.footer._element.xml
    assert " PAGE " in footer
    assert " NUMPAGES " in footer
    # Tables are Word tables whose header row repeats on each page.
    activities = next(t for t in document.tables if t.rows[0].cells[0].text == "Activity")
    assert activities.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in activities.rows[1].cells] == [
        "Train 40 mutual organisers", "National", documents.CHECK, "", documents.CHECK, "", ""]


def test_plan_docx_in_french_names_the_fonts_of_each_script(app, story):
    client = staff_client(app, story["organiser"])
    plan = story["plans"][0]
    response = client.get(f"/w/{story['workshop'].id}/plans/{plan.id}/export.docx?lang=fr")
    document, text = docx_of(response.data)
    assert_every_field(text, story, "fr")
    for label in labels("fr"):
        assert label in text
    assert "Contexte et problème" in headings(document, 2)
    with force_locale("fr"):
        assert str(THEMES["health_protection"]) != "Health and universal social protection"
    fonts = {}
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            element = run._r.find(qn("w:rPr"))
            names = element.find(qn("w:rFonts")) if element is not None else None
            if names is not None:
                fonts[run.text] = names.get(qn("w:cs"))
    assert fonts[DEVANAGARI] == "Noto Sans Devanagari"
    assert fonts[KHMER] == "Noto Sans Khmer"


def test_plan_pdf_in_french_prints_every_field_on_numbered_a4_pages(app, story):
    client = staff_client(app, story["organiser"])
    plan = story["plans"][0]
    response = client.get(f"/w/{story['workshop'].id}/plans/{plan.id}/export.pdf?lang=fr")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=proteccion-social-e-n-c-e.pdf")
    reader = PdfReader(io.BytesIO(response.data))
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    assert_every_field(text, story, "fr", squashed=True)
    for label in labels("fr"):
        assert squash(label) in squash(text), label
    assert "mars 2027" in text  # the dates in French
    assert story["ballot"].ballots_hash in squash(text)  # the vote that carried the line
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"\b{number}\b\D+\b{len(pages)}\b", page), f"no page number {number}"
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert {"Noto-Sans", "Noto-Sans-Devanagari", "Noto-Sans-Khmer"} <= fonts


def test_an_empty_field_says_so_rather_than_vanish(app, story):
    client = staff_client(app, story["organiser"])
    plan = story["plans"][1]  # pre-filled only: objective, results, ... are empty
    response = client.get(f"/w/{story['workshop'].id}/plans/{plan.id}/export.docx?lang=en")
    document, text = docx_of(response.data)
    assert "Five-year objective" in headings(document, 2)
    assert text.count("Not filled in yet.") >= 5


# --- The global document --------------------------------------------------------------------


def test_global_pdf_has_cover_contents_with_page_numbers_plans_and_annex(app, story):
    client = staff_client(app, story["organiser"])
    workshop, ballot = story["workshop"], story["ballot"]
    response = client.get(f"/w/{workshop.id}/plans/export.pdf?lang=en")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename={documents.slug(workshop.title, 'x')}.pdf")
    pages = pdf_pages(response.data)
    cover, contents = pages[0], pages[1]
    for fact in (workshop.title, "Dakar", "Mar 1", "2027"):
        assert fact in cover
    assert "Page 1" not in cover  # the cover carries no page number
    assert "Contents" in contents
    titles = [f"{n}. {next(f.value for f in p.fields if f.key == 'title')}"
              for n, p in enumerate(story["plans"], start=1)] + ["Annex: vote results"]
    for title in titles:
        match = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", contents, re.MULTILINE)
        assert match, f"{title!r} not in the contents"
        page = pages[int(match.group(1)) - 1]
        assert squash(title) in squash(page), f"{title!r} is not on page {match.group(1)}"
    text = "\n".join(pages)
    assert_every_field(text, story, "en", squashed=True)
    annex = "\n".join(pages[next(i for i, p in enumerate(pages) if "Annex: vote results" in p
                                 and i > 1):])
    assert ballot.ballots_hash in squash(annex)
    for heading in ("Ranking", "Support by region", "Turnout by region", "Hash of all ballots",
                    "Anyone can recompute the hash"):
        assert heading in annex
    assert f"/w/{workshop.id}/ballots/{ballot.id}/receipts" in squash(annex)


def test_global_docx_has_cover_toc_field_plans_and_annex_in_french(app, story):
    client = staff_client(app, story["organiser"])
    workshop, ballot = story["workshop"], story["ballot"]
    response = client.get(f"/w/{workshop.id}/plans/export.docx?lang=fr")
    assert response.status_code == 200
    document, text = docx_of(response.data)
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    assert title.text == workshop.title
    assert "Dakar" in text
    assert "mars 2027" in text
    body = document.element.body.xml
    assert 'TOC \\o "1-1"' in body
    assert document.settings.element.find(qn("w:updateFields")) is not None
    parts = headings(document, 1)
    assert len(parts) == len(story["plans"]) + 1
    for part in parts:  # every part is also an entry of the contents
        assert sum(1 for p in document.paragraphs if p.text == part) == 2
    assert_every_field(text, story, "fr")
    assert ballot.ballots_hash in text
    for label in ("Classement", "Participation par région", "Empreinte de tous les votes"):
        assert label in text
    assert document.sections[0].different_first_page_header_footer


def test_virtual_workshop_cover_says_virtual(app, story):
    workshop = story["workshop"]
    workshop.kind, workshop.place = "virtual", ""
    db.session.commit()
    client = staff_client(app, story["organiser"])
    _document, text = docx_of(client.get(f"/w/{workshop.id}/plans/export.docx?lang=fr").data)
    assert "Virtuel" in text


def test_pdf_pages_are_not_blank_when_printed(app, story, tmp_path: Path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the PDF")
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to count ink")
    client = staff_client(app, story["organiser"])
    pdf = tmp_path / "global.pdf"
    pdf.write_bytes(client.get(f"/w/{story['workshop'].id}/plans/export.pdf").data)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "4", "-png", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 4
    for png in pngs:
        with image.open(png) as picture:
            grey = picture.convert("L")
            ink = sum(grey.histogram()[:200])  # pixels clearly darker than white
            assert ink > 0.001 * grey.width * grey.height, f"{png.name} looks blank"


def test_a_long_table_runs_over_pages_repeating_its_header(app, story):
    """Seventy rows, the first taller than a page: each page of the table starts with the
    header row, short rows stay whole, nothing is lost."""
    organiser, plan = story["organiser"], story["plans"][0]
    tall = " ".join(f"w{i:03d}" for i in range(400))[:2000]
    rows = [{"_id": "tall", "activity": tall, "level": "national", "2027": True}] + [
        {"_id": f"r{i}", "activity": f"Activity number {i} " + "with a longer text " * 6,
         "level": "national", "2030": True} for i in range(70)]
    edit_plan(organiser, plan, "activities", rows)
    client = staff_client(app, organiser)
    base = f"/w/{story['workshop'].id}/plans/{plan.id}"
    pages = pdf_pages(client.get(f"{base}/export.pdf?lang=en").data)
    with_rows = [p for p in pages if re.search(r"Activity number|w\d{3}", p)]
    assert len(with_rows) >= 4
    for page in with_rows:
        assert re.search(r"Activity\s+Level\s+2027", page), "header row not repeated"
    text = "\n".join(pages)
    assert set(re.findall(r"w\d{3}", text)) == set(tall.split())
    assert all(f"Activity number {i} " in text for i in range(70))
    document, _text = docx_of(client.get(f"{base}/export.docx?lang=en").data)
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Activity")
    assert len(table.rows) == 72
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert table.rows[1]._tr.trPr is None or table.rows[1]._tr.trPr.find(
        qn("w:cantSplit")) is None  # the tall row may break across pages
    assert table.rows[2]._tr.trPr.find(qn("w:cantSplit")) is not None


# --- Who may download -----------------------------------------------------------------------


def urls(story: dict) -> list[str]:
    base = f"/w/{story['workshop'].id}/plans"
    plan = story["plans"][0].id
    return [f"{base}/{plan}/export.docx", f"{base}/{plan}/export.pdf", f"{base}/export.docx",
            f"{base}/export.pdf"]


def test_a_delegate_of_the_workshop_may_download(app, story):
    client = app.test_client()
    join(client, story["workshop"], create_organisation())
    for url in urls(story)[:2]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_delegate_of_another_workshop_is_refused(app, story):
    other = create_workshop()
    client = app.test_client()
    join(client, other, create_organisation())
    for url in urls(story):
        response = client.get(url)
        assert response.status_code == 403, url
        assert not response.data.startswith((b"%PDF", b"PK"))


def test_an_anonymous_visitor_is_sent_to_log_in(app, story):
    client = app.test_client()
    for url in urls(story):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_a_plan_of_another_workshop_is_not_found(app, story):
    other = create_workshop(story["organiser"])
    client = staff_client(app, story["organiser"])
    plan = story["plans"][0].id
    assert client.get(f"/w/{other.id}/plans/{plan}/export.pdf").status_code == 404


# --- Pieces ---------------------------------------------------------------------------------


def test_file_names_are_ascii_slugs_with_a_fallback():
    assert documents.slug("Protección social: é ñ ç ẹ / 2027", "x") == (
        "proteccion-social-e-n-c-e-2027")
    assert documents.slug(DEVANAGARI, "action-plan-3") == "action-plan-3"
    assert len(documents.slug("a" * 300, "x")) == 60


def test_the_pdf_fetcher_reads_the_static_folder_and_nothing_else(app):
    fetcher = documents.StaticOnly(app.static_folder)
    for url in ("http://example.org/logo.png", "https://example.org/x.css", "file:///etc/passwd",
                f"file://{app.static_folder}/../config.py"):
        with pytest.raises(ValueError, match="fetch nothing"):
            fetcher.fetch(url)
    response = fetcher.fetch(f"file://{app.static_folder}/css/app.css")
    try:
        assert response.read(1)
    finally:
        response.close()


def test_page_numbers_follow_the_translation():
    parts = [{"text": "Page "}, {"field": "page"}, {"text": " sur "}, {"field": "pages"}]
    assert documents.page_counter_css(parts) == '"Page " counter(page) " sur " counter(pages)'
    assert documents.css_string('a "b" \\ c') == '"a \\"b\\" \\\\ c"'


@pytest.mark.parametrize("gevent_patched", [False, True])
def test_drawing_runs_in_a_worker_with_a_time_limit(monkeypatch, gevent_patched):
    monkeypatch.setattr(monkey, "is_module_patched", lambda name: gevent_patched)
    assert documents.run_blocking(sum, [1, 2, 3]) == 6
    with pytest.raises(documents.DocumentTooSlow):
        documents.run_blocking(time.sleep, 0.5, timeout=0.05)
