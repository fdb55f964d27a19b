"""Benchmark the global action-plan document: DOCX and PDF of a workshop with every field
of every plan filled in with realistic text.

Run: python bench/bench_documents.py [--plans 10] [--runs 3]
It builds, in an in-memory SQLite database, a workshop whose `--plans` top lines were carried
forward (every field filled: paragraphs in English, French and Spanish with Devanagari and
Khmer phrases, activity tables, indicators, risks, organisations), then downloads the global
DOCX and PDF through the real routes (model, Jinja, drawing in the worker thread), `--runs`
times each, and prints the median beside two baselines measured in the same run: the same
document's HTML rendered by Jinja alone (the part done before drawing), and a one-page
WeasyPrint document (WeasyPrint's fixed cost). `--plans 2 --runs 1` for a quick run.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402
from flask import g  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from config import TestConfig  # noqa: E402
from tests.helpers import (  # noqa: E402
    carry_forward,
    create_organisation,
    create_user,
    create_workshop,
    edit_plan,
    login,
)
from workshop import create_app  # noqa: E402
from workshop.agenda.models import Workshop  # noqa: E402
from workshop.auth.models import User  # noqa: E402
from workshop.extensions import db  # noqa: E402
from workshop.plans import documents  # noqa: E402
from workshop.vocabulary import COUNTRY_REGIONS  # noqa: E402

SENTENCES = [
    "Informal workers in the markets of Cotonou have no health cover and pay every visit "
    "in cash, which pushes families into debt when someone falls ill.",
    "Les mutuelles de santé communautaires couvrent moins de cinq pour cent de la population "
    "et leurs cotisations restent trop élevées pour les ménages les plus pauvres.",
    "Las trabajadoras del hogar en Bolivia y Perú siguen excluidas de la seguridad social, a "
    "pesar de la ratificación del Convenio 189 de la OIT.",
    "Domestic workers' unions in Nepal ask for सामाजिक सुरक्षा to reach home-based workers "
    "as well as those in factories.",
    "In Cambodia the national fund covers garment workers, but សុខភាព services for their "
    "families depend on small mutuals run by volunteers.",
    "The platform will bring national unions, mutuals and cooperatives to the same table as "
    "ministries of labour and health at least twice a year.",
    "Young people entering the labour market rarely know their rights; peer trainers reach "
    "them where they work, in their own language.",
    "Climate shocks destroy the harvests of small farmers, who then lose the little income "
    "they had to pay their contributions.",
]
ACTIVITIES = [
    "Train mutual organisers in member registration and claims",
    "Exchange visits between mutuals of West Africa and Latin America",
    "Campaign for the extension of health insurance to informal workers",
    "Publish a yearly report on social protection coverage",
    "Support unions in collective bargaining on health benefits",
    "Set up a regional fund to reinsure small mutuals",
    "Hold national dialogues with ministries of labour and health",
    "Run radio programmes on workers' rights in local languages",
]


def text(rnd: random.Random, sentences: int) -> str:
    """Paragraphs of 2–4 sentences drawn from SENTENCES."""
    out, left = [], sentences
    while left > 0:
        n = min(left, rnd.randint(2, 4))
        out.append(" ".join(rnd.choice(SENTENCES) for _ in range(n)))
        left -= n
    return "\n\n".join(out)


def fill(rnd: random.Random, org_ids: list[str]) -> dict:
    """A value for every field of the default template, as a working group would write."""
    years = ("2027", "2028", "2029", "2030", "2031")
    return {
        "context": text(rnd, 10),
        "discussion": [{"_id": f"d{i}", "text": rnd.choice(SENTENCES)} for i in range(6)],
        "objective": text(rnd, 3),
        "results_national": text(rnd, 4),
        "results_continental": text(rnd, 3),
        "results_international": text(rnd, 3),
        "activities": [{"_id": f"a{i}", "activity": rnd.choice(ACTIVITIES),
                        "level": rnd.choice(["national", "continental", "international"]),
                        **{y: rnd.random() < 0.5 for y in years}} for i in range(8)],
        "lead": rnd.sample(org_ids, 2),
        "partners": rnd.sample(org_ids, 5),
        "countries": rnd.sample(sorted(COUNTRY_REGIONS), 4),
        "regions": ["west_africa", "asia"],
        "ilo_pillars": ["social_protection", "social_dialogue"],
        "sdg_targets": ["1.3", "3.8", "8.5"],
        "indicators": [{"_id": f"i{i}", "indicator": rnd.choice(ACTIVITIES),
                        "baseline": f"{rnd.randint(1, 90)} %",
                        "target": f"{rnd.randint(50, 100)} %",
                        "source": "Annual survey of member organisations"} for i in range(4)],
        "risks": [{"_id": f"r{i}", "risk": rnd.choice(SENTENCES),
                   "likelihood": rnd.choice(["low", "medium", "high"]),
                   "mitigation": rnd.choice(SENTENCES)} for i in range(3)],
        "resources": text(rnd, 3),
    }


def build(app, plans: int) -> tuple[int, int]:
    """The workshop with `plans` filled-in plans: its id and its organiser's."""
    rnd = random.Random(7)
    with app.app_context():
        db.create_all()
        organiser = create_user("organiser")
        workshop = create_workshop(organiser)
        workshop.place = "Cotonou"
        db.session.commit()
        made, _lines, _ballot = carry_forward(workshop, plans, lines=plans + 2, voters=3)
        org_ids = [str(create_organisation(name=f"Mutual organisation {i}").id)
                   for i in range(8)]
        for plan in made:
            for key, value in fill(rnd, org_ids).items():
                edit_plan(organiser, plan, key, value)
        return workshop.id, organiser.id


def median_time(fn, runs: int) -> tuple[float, object]:
    """Median wall time of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=10, help="plans in the workshop")
    parser.add_argument("--runs", type=int, default=3, help="downloads of each format")
    args = parser.parse_args()

    app = create_app(TestConfig)
    workshop_id, user_id = build(app, args.plans)
    base = f"/w/{workshop_id}/plans/export"
    client = app.test_client()
    with app.app_context():
        login(client, db.session.get(User, user_id))

    def download(extension: str) -> bytes:
        response = client.get(f"{base}.{extension}?lang=en")
        if response.status_code != 200:
            raise SystemExit(f"{base}.{extension}: HTTP {response.status_code}")
        return response.data

    pdf_time, pdf = median_time(lambda: download("pdf"), args.runs)
    docx_time, docx = median_time(lambda: download("docx"), args.runs)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    tables = len(Document(io.BytesIO(docx)).tables)

    with app.app_context():
        user, workshop = db.session.get(User, user_id), db.session.get(Workshop, workshop_id)
        with app.test_request_context("/?lang=en"):
            g.__dict__.clear()
            doc = documents.workshop_document(user, workshop, "en", lambda b: "http://x/")
            jinja_time, html = median_time(lambda: documents.render_html(doc), args.runs)
            one_page = {**doc, "cover": False, "toc": [], "parts": doc["parts"][:1]}
            one_page["parts"] = [{**one_page["parts"][0],
                                  "blocks": one_page["parts"][0]["blocks"][:6]}]
            small_html = documents.render_html(one_page)
    small_time, small = median_time(
        lambda: documents.html_to_pdf(small_html, app.static_folder), args.runs)

    print(f"{args.plans} plans, every field filled: PDF {pages} pages ({len(pdf) // 1024} KiB), "
          f"DOCX {tables} tables ({len(docx) // 1024} KiB); median of {args.runs}")
    print(f"global PDF  (route: model + Jinja + WeasyPrint): {pdf_time:.3f} s")
    print(f"global DOCX (route: model + python-docx):        {docx_time:.3f} s")
    print(f"baseline: same HTML by Jinja alone:              {jinja_time:.3f} s "
          f"({len(html) // 1024} KiB)")
    print(f"baseline: one-page WeasyPrint document:          {small_time:.3f} s "
          f"({len(PdfReader(io.BytesIO(small)).pages)} page)")
    print(f"PDF / one page: {pdf_time / small_time:.1f}x for {pages} pages "
          f"({pdf_time / pages:.3f} s a page)")


if __name__ == "__main__":
    main()
