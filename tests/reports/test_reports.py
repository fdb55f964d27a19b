"""Results reports: a ballot's and a workshop's results as PDF and DOCX.

The files are opened as a reader would open them (pypdf, python-docx) and checked against the
database: the ranking and its scores, Borda beside Schulze, the regions, turnout, the hash and
how to recompute it, page numbers on A4, the charts (SVG by pygal, pictures in Word), headings
in English and French; a secret ballot's report holds no withheld cell and no name; only the
workshop's organisers and facilitators may download them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from docx import Document
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    join,
    login,
    open_test_ballot,
)
from workshop import documents
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.reports import charts, report
from workshop.vocabulary import REGIONS
from workshop.voting import services
from workshop.voting.schemas import SelectTopIn
from workshop.voting.views import score

DEVANAGARI = "सामाजिक सुरक्षा"
ACCENTED = "Protección social é ñ ç"
A4 = (595, 842)  # points
RSVG = shutil.which("rsvg-convert") is not None
# Delegates per region of the named ranking ballot (all five regions vote).
VOTERS = {"west_africa": 3, "central_africa": 2, "asia": 2, "latin_america": 2, "belgium": 1}
# The secret ballot: (region, organisation type, delegates); Belgium (2) and Central Africa
# (4) are under k = 5 and hidden, with the cooperative and women's organisation types.
SECRET = [
    ("west_africa", "trade_union", 5), ("west_africa", "health_mutual", 5),
    ("asia", "trade_union", 4), ("asia", "womens_org", 4),
    ("latin_america", "trade_union", 3), ("latin_america", "health_mutual", 3),
    ("belgium", "cooperative", 1), ("belgium", "health_mutual", 1),
    ("central_africa", "womens_org", 2), ("central_africa", "trade_union", 2),
]
HIDDEN = {"belgium", "central_africa"}


def squash(text: str) -> str:
    """Text without white space: PDF lines wrap wherever the page says."""
    return "".join(text.split())


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def docx_of(data: bytes):
    """The Word document and all its text (paragraphs and table cells)."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return document, "\n".join(parts)


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def rows_of(document, first_header: str, column: int = 0) -> list[list[str]]:
    """The body rows of the first table whose header's cell `column` reads `first_header`."""
    table = next(t for t in document.tables
                 if len(t.rows[0].cells) > column
                 and t.rows[0].cells[column].text == first_header)
    return [[c.text for c in row.cells] for row in table.rows[1:]]


def staff_client(app, user):
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def named(app):
    """A closed named ranking ballot of ten delegates in five regions, over four lines of work
    (one accented, one in Devanagari); the first two carried forward; and an open ballot."""
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    workshop = create_workshop(organiser, facilitator=facilitator)
    workshop.place = "Lomé"
    lines = create_lines(workshop, 4)
    lines[0].title = ACCENTED
    lines[1].title = DEVANAGARI
    db.session.commit()
    ids = [line.id for line in lines]
    ballot = open_test_ballot(workshop, "ranking", actor=facilitator, title="Priorités 2027")
    orders = [ids, [ids[1], ids[0], ids[2]], [ids[0], ids[2]], [ids[3], ids[0], ids[1]]]
    n = 0
    for region, count in VOTERS.items():
        for _ in range(count):
            organisation = create_organisation(region=region, name=f"Org {region} {n}")
            cast_vote(create_delegate(workshop, organisation, name=f"Named voter {n}"), ballot,
                      orders[n % len(orders)])
            n += 1
    services.close_ballot(facilitator, workshop, ballot)
    services.select_top(facilitator, workshop, ballot, SelectTopIn(
        workshop_id=workshop.id, ballot_id=ballot.id, n=2))
    still_open = open_test_ballot(workshop, "approval", actor=facilitator, title="Still open")
    db.session.refresh(ballot)
    return {"organiser": organiser, "facilitator": facilitator, "workshop": workshop,
            "ballot": ballot, "open": still_open, "lines": lines}


@pytest.fixture
def secret(app):
    """A closed secret approval ballot of 30 delegates; two regions under k = 5."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 4)]
    delegates = []
    for n, (region, org_type, size) in enumerate(SECRET):
        org = create_organisation(region=region, org_type=org_type, name=f"Organisation {n}")
        delegates += [create_delegate(workshop, org, name=f"Voter {n}-{i}") for i in range(size)]
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, secret=True)
    receipts = []
    for number, delegate in enumerate(delegates):
        choice = [o for i, o in enumerate(lines) if (number >> i) & 1] or [lines[0]]
        receipts.append(cast_vote(delegate, ballot, choice, secret=f"{number + 1:040x}").receipt)
    services.close_ballot(facilitator, workshop, ballot)
    db.session.refresh(ballot)
    return {"facilitator": facilitator, "workshop": workshop, "ballot": ballot,
            "delegates": delegates, "receipts": receipts}


def expected_ranking(ballot) -> list[list[str]]:
    """The ranking table as the frozen results give it: rank, title, score (and carried)."""
    titles = services.option_titles(ballot)
    return [[str(s["rank"]), titles[s["option"]], score(s["score"])]
            for s in ballot.results["standings"]]


# --- The ballot's report --------------------------------------------------------------------


def test_ballot_pdf_prints_ranking_scores_regions_hash_on_numbered_a4_pages(app, named):
    ballot, workshop = named["ballot"], named["workshop"]
    client = staff_client(app, named["facilitator"])
    response = client.get(f"/w/{workshop.id}/ballots/{ballot.id}/report.pdf?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=priorites-2027.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    reader = PdfReader(io.BytesIO(response.data))
    pages = [p.extract_text() for p in reader.pages]
    text = squash("\n".join(pages))
    for heading in ("Ranking (Borda)", "Borda and Schulze side by side", "Support by region",
                    "Turnout by region", "By organisation type", "Hash of all ballots",
                    "Carried forward to action plans", "Anyone can recompute the hash"):
        assert squash(heading) in text, heading
    for rank, title, value in expected_ranking(ballot):
        assert squash(f"{rank}{title}{value}") in text, title
    for region in VOTERS:
        assert squash(str(REGIONS[region])) in text
    assert ballot.ballots_hash in text
    assert f"/w/{workshop.id}/ballots/{ballot.id}/receipts" in text
    assert "Lomé" in "\n".join(pages)
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"Page {number} of {len(pages)}", page), f"no page number {number}"
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert {"Noto-Sans", "Noto-Sans-Devanagari"} <= fonts


def test_the_pdf_prints_its_charts(app, named, tmp_path):
    """Printed, the first page shows the ranking's bars (the chart's first colour)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the PDF")
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to look at the page")
    ballot, workshop = named["ballot"], named["workshop"]
    client = staff_client(app, named["facilitator"])
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(client.get(f"/w/{workshop.id}/ballots/{ballot.id}/report.pdf").data)
    subprocess.run(["pdftoppm", "-r", "30", "-f", "1", "-l", "2", "-png", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    blue = tuple(int(charts.PALETTE[0][i:i + 2], 16) for i in (1, 3, 5))
    for png in sorted(tmp_path.glob("page-*.png")):
        with image.open(png) as picture:
            data = picture.convert("RGB").tobytes()
        pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
        bars = sum(1 for p in pixels if all(abs(a - b) < 30 for a, b in zip(p, blue, strict=True)))
        assert bars > 200, f"{png.name}: no chart bars"


def test_ballot_pdf_in_french(app, named):
    ballot, workshop = named["ballot"], named["workshop"]
    client = staff_client(app, named["organiser"])
    pages = pdf_pages(client.get(f"/w/{workshop.id}/ballots/{ballot.id}/report.pdf?lang=fr")
                      .data)
    text = squash("\n".join(pages))
    with force_locale("fr"):
        expected = [str(REGIONS[r]) for r in VOTERS] + [
            row[1] for row in expected_ranking(ballot)]
        scores = [row[2] for row in expected_ranking(ballot)]
        by_region = [score(v) for s in ballot.results["standings"]
                     for v in s["by_region"].values()]
    for heading in ("Classement (Borda)", "Soutien par région", "Participation par région",
                    "Empreinte de tous les votes"):
        assert squash(heading) in text, heading
    for piece in expected + scores + by_region:
        assert squash(piece) in text, piece
    assert any("," in s for s in by_region), "French decimal commas are expected"
    assert re.search(rf"Page 1 sur {len(pages)}", pages[0])


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_ballot_docx_headings_and_tables_match_the_database(app, named, lang):
    ballot, workshop = named["ballot"], named["workshop"]
    client = staff_client(app, named["facilitator"])
    response = client.get(f"/w/{workshop.id}/ballots/{ballot.id}/report.docx?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == documents.DOCX_TYPE
    document, text = docx_of(response.data)
    assert headings(document, 1) == [ballot.title]
    with app.test_request_context(), force_locale(lang):
        titles = services.option_titles(ballot)
        ranking = expected_ranking(ballot)
        ranking_heading, borda, rank_label, region_label = (
            gettext(m) for m in ("Ranking (Borda)", "Borda", "Rank", "Region"))
        regions = {r: str(REGIONS[r]) for r in VOTERS}
    level2 = headings(document, 2)
    assert level2[0] == ranking_heading
    assert ranking_heading == ("Classement (Borda)" if lang == "fr" else "Ranking (Borda)")
    rows = rows_of(document, rank_label)
    assert [row[:3] for row in rows] == ranking
    carried = {titles[p] for p in ballot.selected_proposal_ids}
    assert {row[1] for row in rows if row[-1] == documents.CHECK} == carried
    turnout = rows_of(document, region_label)
    frozen = ballot.results["turnout_by_region"]
    assert sorted(turnout) == sorted(
        [regions[r], str(t["count"]), str(t["eligible"]), score(t["weight"])]
        for r, t in frozen.items())
    assert {r: t["count"] for r, t in frozen.items()} == VOTERS
    # Borda beside Schulze: every line with both ranks.
    schulze = rows_of(document, borda, column=1)
    ranks = ballot.results["schulze"]["ranks"]
    assert [(row[0], row[3]) for row in schulze] == [
        (titles[s["option"]], str(ranks[str(s["option"])]))
        for s in ballot.results["standings"]]
    assert ballot.ballots_hash in text
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert " PAGE " in section.footer._element.xml
    if RSVG:
        assert len(document.inline_shapes) == 2  # the ranking's chart and the regions'


def test_charts_are_svg_holding_the_labels_and_fetching_nothing():
    labels = [f"1. {ACCENTED}", f"2. {DEVANAGARI}", "3. Decent work & job creation"]
    svg = charts.ranking_chart(labels, [12.5, 7, 0], "fr")
    assert svg.lstrip().startswith("<svg")
    for label in (ACCENTED, DEVANAGARI, "Decent work &amp; job creation"):
        assert label in svg
    assert "12,5" in svg  # the French decimal comma
    regions = [("Afrique de l'Ouest", [1.0, 0.5, None]), ("Asie", [0.25, 0.0, 1.0])]
    svg = charts.region_chart(labels, regions, "fr")
    for label in (ACCENTED, "Afrique de l&#x27;Ouest", "Asie", "100"):
        assert label in svg or label.replace("&#x27;", "'") in svg
    for drawn in (svg, charts.ranking_chart(labels, [1, 2, 3], "en")):
        assert "<script" not in drawn
        assert not re.search(r"(?:href|src)=\"(?:https?:)?//", drawn)
    long = charts.short("A line of work with a very long title that goes on and on and on")
    assert len(long) <= charts.MAX_LABEL
    assert long.endswith("…")


def test_the_report_draws_its_charts_from_the_frozen_results(app, named):
    ballot, workshop = named["ballot"], named["workshop"]
    with app.test_request_context():
        doc = report.ballot_document(named["facilitator"], workshop, ballot, "en", "http://x/r")
    report.draw_figures(doc)
    ranking, regions = list(documents.figures(doc))
    titles = services.option_titles(ballot)
    for title in titles.values():
        assert title in ranking["svg"]
        assert title in regions["svg"]
    for region in VOTERS:
        assert str(REGIONS[region]) in regions["svg"]
    if RSVG:
        documents.prepare_figures(doc, "docx")
        assert all(f["png"].startswith(b"\x89PNG") for f in documents.figures(doc))


def test_a_matrix_ballot_prints_its_criteria_and_means(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    ids = [line.id for line in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, "matrix", actor=facilitator, criterion_1="Urgence",
                              criterion_2="Faisabilité")
    for n, region in enumerate(VOTERS):
        delegate = create_delegate(workshop, create_organisation(region=region))
        cast_vote(delegate, ballot, {str(ids[0]): [5, 4], str(ids[1]): [1 + n % 5, 3]})
    services.close_ballot(facilitator, workshop, ballot)
    client = staff_client(app, facilitator)
    document, text = docx_of(client.get(
        f"/w/{workshop.id}/ballots/{ballot.id}/report.docx?lang=en").data)
    assert headings(document, 2)[:2] == ["Ranking (combined score)", "Matrix"]
    rows = rows_of(document, "Urgence", column=1)
    titles = services.option_titles(ballot)
    assert rows[0][:3] == [titles[ids[0]], "5", "4"]
    assert rows[0][3:] == ["20", str(len(VOTERS))]
    assert titles[ids[2]] not in [row[0] for row in rows]  # nobody rated it


def test_an_open_ballot_has_no_report_yet(app, named):
    client = staff_client(app, named["facilitator"])
    url = f"/w/{named['workshop'].id}/ballots/{named['open'].id}/report.pdf"
    assert client.get(url).status_code == 409


# --- The workshop's report ------------------------------------------------------------------


def test_workshop_pdf_has_a_cover_contents_and_every_closed_ballot(app, named):
    workshop, ballot = named["workshop"], named["ballot"]
    client = staff_client(app, named["organiser"])
    response = client.get(f"/w/{workshop.id}/report.pdf?lang=en")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    cover, contents = pages[0], pages[1]
    assert workshop.title in cover
    assert "Results report" in cover
    assert "Page 1" not in cover
    assert "Contents" in contents
    match = re.search(re.escape(ballot.title) + r"[ .]*?(\d+)\s*$", contents, re.MULTILINE)
    assert match, "the ballot is not in the contents"
    assert ballot.title in pages[int(match.group(1)) - 1]
    text = "\n".join(pages)
    assert "Still open" not in text  # an open ballot has no frozen results
    assert ballot.ballots_hash in squash(text)


def test_workshop_docx_in_french_with_no_closed_ballot(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    client = staff_client(app, organiser)
    response = client.get(f"/w/{workshop.id}/report.docx?lang=fr")
    assert response.status_code == 200
    document, text = docx_of(response.data)
    assert next(p for p in document.paragraphs if p.style.name == "Title").text == workshop.title
    assert "Aucun scrutin de cet atelier n'est encore clos." in text
    assert "Rapport des résultats" in text


# --- A secret ballot ------------------------------------------------------------------------


def test_a_secret_ballots_report_shows_no_withheld_cell_and_no_name(app, secret):
    workshop, ballot = secret["workshop"], secret["ballot"]
    frozen = ballot.results
    assert set(frozen["secrecy"]["hidden_regions"]) == HIDDEN
    client = staff_client(app, secret["facilitator"])
    base = f"/w/{workshop.id}/ballots/{ballot.id}/report"
    document, text = docx_of(client.get(f"{base}.docx?lang=en").data)
    pdf = "\n".join(pdf_pages(client.get(f"{base}.pdf?lang=en").data))
    # Turnout by region: a hidden region's row says "fewer than 5", its delegates, no weight.
    turnout = {row[0]: row[1:] for row in rows_of(document, "Region")}
    for region in HIDDEN:
        eligible = frozen["secrecy"]["hidden_regions"][region]["eligible"]
        assert turnout[str(REGIONS[region])] == ["fewer than 5", str(eligible), "–"]
    for region, t in frozen["turnout_by_region"].items():
        assert turnout[str(REGIONS[region])][0] == str(t["count"])
    # Support by region: every cell of a hidden region says "fewer than 5", nothing else.
    support = next(t for t in document.tables if t.rows[0].cells[0].text == "Line of work"
                   and str(REGIONS["belgium"]) in [c.text for c in t.rows[0].cells])
    header = [c.text for c in support.rows[0].cells]
    for row in support.rows[1:]:
        for name, cell in zip(header, row.cells, strict=True):
            if name in {str(REGIONS[r]) for r in HIDDEN}:
                assert cell.text == "fewer than 5"
    # No breakdown of choices by organisation type; small types withheld from turnout.
    assert "A secret ballot has no breakdown of choices by organisation type" in text
    by_type = {row[0]: row[1] for row in rows_of(document, "Organisation type")}
    assert by_type["Cooperative"] == by_type["Women's organisation"] == "fewer than 5"
    # Nobody's name, organisation or receipt; the charts leave the hidden regions out.
    names = [d.name for d in secret["delegates"]] + [
        d.organisation.name for d in secret["delegates"]]
    codes = [services.format_receipt(r) for r in secret["receipts"]] + secret["receipts"]
    for output in (text, pdf):
        assert not [n for n in names if n in output]
        assert not [c for c in codes if c in squash(output)]
    with app.test_request_context():
        doc = report.ballot_document(secret["facilitator"], workshop, ballot, "en", "x")
    report.draw_figures(doc)
    region_chart = list(documents.figures(doc))[1]["svg"]
    for region in HIDDEN:
        assert str(REGIONS[region]) not in region_chart
    shown = json.dumps(list(documents.figures(doc))[1]["spec"])
    assert not [r for r in HIDDEN if str(REGIONS[r]) in shown]


# --- Who may download -----------------------------------------------------------------------


def report_urls(workshop, ballot) -> list[str]:
    return [f"/w/{workshop.id}/ballots/{ballot.id}/report.pdf",
            f"/w/{workshop.id}/ballots/{ballot.id}/report.docx",
            f"/w/{workshop.id}/report.pdf", f"/w/{workshop.id}/report.docx"]


def test_a_delegate_of_the_workshop_is_refused(app, named):
    client = app.test_client()
    join(client, named["workshop"], create_organisation())
    for url in report_urls(named["workshop"], named["ballot"]):
        response = client.get(url)
        assert response.status_code == 403, url
        assert not response.data.startswith((b"%PDF", b"PK"))


def test_an_anonymous_visitor_is_sent_to_log_in(app, named):
    client = app.test_client()
    for url in report_urls(named["workshop"], named["ballot"]):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_a_facilitator_of_another_workshop_is_refused(app, named):
    stranger = create_user("facilitator")
    create_workshop(facilitator=stranger)
    client = staff_client(app, stranger)
    for url in report_urls(named["workshop"], named["ballot"]):
        assert client.get(url).status_code == 403, url


def test_the_results_page_links_the_reports_for_staff_only(app, named):
    workshop, ballot = named["workshop"], named["ballot"]
    page = f"/w/{workshop.id}/ballots/{ballot.id}/results"
    html = staff_client(app, named["facilitator"]).get(page).get_data(as_text=True)
    for url in report_urls(workshop, ballot):
        assert f'href="{url}"' in html
    ballot.results_visible = True
    db.session.commit()
    delegate = app.test_client()
    join(delegate, workshop, create_organisation())
    html = delegate.get(page).get_data(as_text=True)
    assert 'id="report-links"' not in html


def test_titles_come_from_the_frozen_results_not_todays_proposals(app, named):
    """A line of work renamed after close keeps the title it was voted under."""
    ballot = named["ballot"]
    frozen = {o["id"]: o["title"] for o in ballot.results["options"]}
    line = db.session.get(Proposal, named["lines"][2].id)
    line.title = "Renamed afterwards"
    db.session.commit()
    client = staff_client(app, named["facilitator"])
    _document, text = docx_of(client.get(
        f"/w/{named['workshop'].id}/ballots/{ballot.id}/report.docx").data)
    assert "Renamed afterwards" not in text
    assert frozen[line.id] in text
