"""A workshop with everything an export holds, named in many scripts, and the readers of each
export format (csv, zipfile, openpyxl, json) turning a file back into rows keyed by column."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    login,
    open_test_ballot,
)
from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.audit.services import record
from workshop.auth.models import User
from workshop.exports.tables import TABLES
from workshop.extensions import db
from workshop.proposals.models import Comment, Proposal, ProposalTranslation, Support
from workshop.voting import services as voting
from workshop.voting.models import Ballot

# Organisations named in several scripts: accents (é, ñ, ç), Yoruba's ẹ, Devanagari, Khmer.
ORGANISATIONS = [
    # name, region, type, country, delegates
    ("Fédération des Mutuelles de Santé", "west_africa", "health_mutual", "Senegal", 3),
    ("Asociación Campesina Ñuñoa", "latin_america", "farmers_org", "Peru", 2),
    ("Coopérative Façon Ẹgbẹ́ Àgbẹ̀", "west_africa", "cooperative", "Benin", 2),
    ("नेपाल स्वास्थ्य सहकारी संघ", "asia", "health_mutual", "Nepal", 2),
    ("សហជីពកម្មករកម្ពុជា", "asia", "trade_union", "Cambodia", 2),
    ("ACV-CSC Jeugd", "belgium", "youth_org", "Belgium", 1),
]
DELEGATE_NAMES = ["Adébáyọ̀ Ọláńrewájú", "Aïssatou Ndiaye", "Ñusta Quispe", "François Hounkpè",
                  "सीता शर्मा", "Raúl Peña", "សុខា ចាន់", "Élodie Façonnier", "Ẹniọlá Àdìsá",
                  "राम बहादुर", "Kunthea សុខ", "Jan Peeters"]
FORMULAS = {
    "proposal_title": '=HYPERLINK("http://example.com","click")',
    "proposal_description": "-2+3 as a bullet",
    "comment": "+SUM(1,2)",
    "organisation": "@cmd Organisation",
    "translation": "\t=1+1",
    "hidden_reason": "\rcarriage",
}


@dataclass
class Room:
    """The workshop and the people and objects the tests look for in its exports."""

    workshop: Workshop
    organiser: User
    facilitator: User
    outsider: User
    other: Workshop  # the outsider facilitates it
    organisations: list[Organisation]
    delegates: list[Delegate]
    proposals: list[Proposal]
    merged: Proposal
    named: Ballot
    secret: Ballot
    open_ballot: Ballot
    receipts: dict[int, str] = field(default_factory=dict)  # secret ballot: delegate -> receipt


def _proposal(workshop: Workshop, delegate: Delegate, title: str, theme: str, level: str,
              language: str = "en", **extra: Any) -> Proposal:
    org = delegate.organisation
    proposal = Proposal(workshop_id=workshop.id, title=title, theme=theme, level=level,
                        language=language, delegate_id=delegate.id, organisation_id=org.id,
                        country=org.country, region=org.region, tags=["gender"], **extra)
    db.session.add(proposal)
    db.session.flush()
    return proposal


@pytest.fixture
def room(app) -> Room:
    """12 delegates of 6 organisations (5 regions), proposals in several languages with one
    merge, comments, supports, a closed named ballot, a closed secret ballot (12 voters, k = 5)
    and an open ballot; an organiser, its facilitator and the facilitator of another workshop."""
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    outsider = create_user("facilitator")
    workshop = create_workshop(organiser, steps=6, facilitator=facilitator)
    other = create_workshop(organiser, steps=1, facilitator=outsider)
    organisations, delegates = [], []
    names = iter(DELEGATE_NAMES)
    for name, region, org_type, country, size in ORGANISATIONS:
        org = create_organisation(region=region, org_type=org_type, country=country, name=name)
        organisations.append(org)
        delegates += [create_delegate(workshop, org, name=next(names)) for _ in range(size)]
    formula_org = create_organisation(region="central_africa", org_type="ngo",
                                      country="DR Congo", name=FORMULAS["organisation"])
    organisations.append(formula_org)
    delegates.append(create_delegate(workshop, formula_org, name="Mwamba Kabeya"))

    p1 = _proposal(workshop, delegates[0], "Protection sociale pour l'économie informelle",
                   "health_protection", "national", language="fr",
                   description="Étendre la couverture santé aux travailleuses du secteur "
                               "informel.")
    p2 = _proposal(workshop, delegates[4], "सामाजिक सुरक्षा सबैका लागि", "health_protection",
                   "national", language="en")
    p3 = _proposal(workshop, delegates[6], "ការងារសមរម្យសម្រាប់យុវជន", "decent_work",
                   "continental")
    p4 = _proposal(workshop, delegates[2], "Diálogo social y espacio cívico", "social_dialogue",
                   "international", language="es")
    p5 = _proposal(workshop, delegates[3], FORMULAS["proposal_title"], "labour_rights",
                   "national", description=FORMULAS["proposal_description"], hidden=True,
                   hidden_reason=FORMULAS["hidden_reason"])
    merged = _proposal(workshop, delegates[0], "Couverture santé universelle — fusion",
                       "health_protection", "national", language="fr", source="merge")
    p1.merged_into_id = p2.merged_into_id = merged.id
    db.session.add_all([
        ProposalTranslation(proposal_id=p1.id, language="en", title="Social protection for "
                            "the informal economy", description="Extend health cover.",
                            translated_by="Aïssatou Ndiaye"),
        ProposalTranslation(proposal_id=p1.id, language="es", title="Protección social para "
                            "la economía informal", translated_by="Raúl Peña"),
        ProposalTranslation(proposal_id=p3.id, language="fr", title=FORMULAS["translation"],
                            translated_by="Kunthea សុខ"),
    ])
    first = Comment(proposal_id=p3.id, delegate_id=delegates[8].id,
                    author_name=delegates[8].name, body="Ẹ kú iṣẹ́! Très bonne idée.",
                    language="fr")
    db.session.add(first)
    db.session.flush()
    db.session.add_all([
        Comment(proposal_id=p3.id, parent_id=first.id, delegate_id=delegates[6].id,
                author_name=delegates[6].name, body="អរគុណ", language="en"),
        Comment(proposal_id=p4.id, delegate_id=delegates[3].id,
                author_name=delegates[3].name, body=FORMULAS["comment"], language="en",
                hidden=True, hidden_reason="off topic"),
    ])
    for d in delegates[:7]:
        db.session.add(Support(proposal_id=p3.id, delegate_id=d.id))
    for d in delegates[4:9]:
        db.session.add(Support(proposal_id=merged.id, delegate_id=d.id))
    db.session.commit()

    lines = [merged, p3, p4]
    named = open_test_ballot(workshop, "approval", proposal_ids=[p.id for p in lines],
                             scope="pick", title="Named ballot: quelles lignes ?")
    for i, d in enumerate(delegates):
        cast_vote(d, named, sorted({lines[0].id, lines[i % 3].id}) if i % 2 else [lines[i % 3].id])
    voting.close_ballot(organiser, workshop, named)
    secret = open_test_ballot(workshop, "approval", proposal_ids=[p.id for p in lines],
                              scope="pick", secret=True, title="Secret ballot")
    receipts = {}
    for i, d in enumerate(delegates[:12]):
        result = cast_vote(d, secret, [lines[(i * 7) % 3].id], secret=f"{i + 1:032x}")
        receipts[d.id] = result.receipt
    voting.close_ballot(organiser, workshop, secret)
    open_ballot = open_test_ballot(workshop, "approval", proposal_ids=[p3.id, p4.id],
                                   scope="pick", title="Still open")
    record(facilitator, "message.broadcast", workshop.id, text="Pause café ☕")
    db.session.commit()
    return Room(workshop=workshop, organiser=organiser, facilitator=facilitator,
                outsider=outsider, other=other, organisations=organisations,
                delegates=delegates, proposals=[p1, p2, p3, p4, p5], merged=merged,
                named=named, secret=secret, open_ballot=open_ballot, receipts=receipts)


def staff_client(app, user: User, lang: str = "en"):
    """A test client logged in as `user`, reading in `lang`."""
    client = app.test_client()
    login(client, user)
    client.get(f"/?lang={lang}")
    return client


# --- Reading the files back ------------------------------------------------------------------


DECIMAL = re.compile(r"-?\d+\.\d+")


def text(value: Any) -> str:
    """A value read back from any format, as comparable text (CSV's way of writing it; a
    whole number written as a float, `1.0`, as `1`: XLSX readers give back an int)."""
    out = _text(value)
    if DECIMAL.fullmatch(out) and float(out).is_integer():
        return str(int(float(out)))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def keyed(name: str, headings: list[str], rows: list[list[Any]],
          labels: list[str] | None = None) -> list[dict[str, str]]:
    """Rows of table `name` as dicts by column key, after checking the headings are the
    table's labels (in the reader's language, when `labels` gives them)."""
    keys = TABLES[name].keys
    assert len(headings) == len(keys), (name, headings)
    if labels is not None:
        assert headings == labels, (name, headings, labels)
    return [dict(zip(keys, (text(v) for v in row), strict=True)) for row in rows]


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """A CSV file: it starts with a byte order mark and is UTF-8."""
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return table[0], table[1:]


def read_zip(data: bytes) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every CSV of a ZIP, by table name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name.removesuffix(".csv"): read_csv(archive.read(name))
                for name in archive.namelist()}


def read_xlsx(data: bytes) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every sheet of a workbook, by sheet name, in order."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for ws in workbook.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        out[ws.title] = ([str(h) for h in rows[0]], rows[1:])
    return out


def rows_by_format(client, workshop: Workshop, lang: str = "en") -> dict[str, dict]:
    """{format: {table: rows keyed by column}} for the ZIP of CSVs, every CSV alone, the XLSX
    and the JSON document, all read back with the library that reads them."""
    base = f"/w/{workshop.id}"
    out: dict[str, dict] = {}
    response = client.get(f"{base}/exports.zip")
    assert response.status_code == 200
    out["zip"] = {name: keyed(name, *ht) for name, ht in read_zip(response.data).items()}
    out["csv"] = {}
    for name in out["zip"]:
        response = client.get(f"{base}/exports/{name}.csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        out["csv"][name] = keyed(name, *read_csv(response.data))
    response = client.get(f"{base}/exports.xlsx")
    assert response.status_code == 200
    sheets = read_xlsx(response.data)
    assert len(sheets) == len(out["zip"])
    out["xlsx"] = {name: keyed(name, *ht) for name, ht in zip(out["zip"], sheets.values(),
                                                             strict=True)}
    response = client.get(f"{base}/exports.json")
    assert response.status_code == 200
    doc = json.loads(response.data)
    assert doc["language"] == lang
    out["json"] = {name: [{k: text(v) for k, v in row.items()} for row in t["rows"]]
                   for name, t in doc["tables"].items()}
    out["document"] = doc
    return out
