"""The demo workshop: realistic organisations, staff accounts and an agenda from the brief."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workshop.agenda import services
from workshop.agenda.models import Organisation, Workshop
from workshop.agenda.schemas import StepIn, WorkshopIn
from workshop.auth.models import User
from workshop.auth.services import create_user
from workshop.extensions import db

DEMO_ORGANISER = ("organiser@example.org", "Organiser", "organiser-demo")
DEMO_FACILITATOR = ("facilitator@example.org", "Facilitator", "facilitator-demo")
DEMO_TITLE = "Intercontinental workshop 2027-2031"

ORGANISATIONS = [
    ("CSB Burundi", "Burundi", "central_africa", "trade_union"),
    ("Mutuelle de santé de Kigali", "Rwanda", "central_africa", "health_mutual"),
    ("Coopérative des femmes du Kivu", "DR Congo", "central_africa", "womens_org"),
    ("Jeunesse ouvrière du Cameroun", "Cameroon", "central_africa", "youth_org"),
    ("CNTS Sénégal", "Senegal", "west_africa", "trade_union"),
    ("Union des mutuelles du Burkina", "Burkina Faso", "west_africa", "health_mutual"),
    ("Réseau des producteurs du Bénin", "Benin", "west_africa", "farmers_org"),
    ("Microfinance solidaire Togo", "Togo", "west_africa", "microcredit"),
    ("Association des aînés de Guinée", "Guinea", "west_africa", "elderly_org"),
    ("ONG Santé pour tous Mali", "Mali", "west_africa", "ngo"),
    ("CUT Bolivia", "Bolivia", "latin_america", "trade_union"),
    ("Cooperativa Andina Perú", "Peru", "latin_america", "cooperative"),
    ("Mujeres Mayas de Guatemala", "Guatemala", "latin_america", "womens_org"),
    ("Juventud Trabajadora Dominicana", "Dominican Republic", "latin_america", "youth_org"),
    ("Mutuelle haïtienne de solidarité", "Haiti", "latin_america", "health_mutual"),
    ("SEWA Bharat", "India", "asia", "womens_org"),
    ("GEFONT Nepal", "Nepal", "asia", "trade_union"),
    ("KSPI Indonesia", "Indonesia", "asia", "trade_union"),
    ("Philippine Health Cooperative", "Philippines", "asia", "cooperative"),
    ("Bangladesh Youth Forum", "Bangladesh", "asia", "youth_org"),
    ("Cambodian Farmers Network", "Cambodia", "asia", "farmers_org"),
    ("ACV-CSC", "Belgium", "belgium", "trade_union"),
    ("Mutualités chrétiennes", "Belgium", "belgium", "health_mutual"),
    ("WSM", "Belgium", "belgium", "ngo"),
]

AGENDA = [
    ("welcome", "Welcome and introductions", 10,
     "Welcome to the intercontinental workshop. Choose your language and say hello."),
    ("free_text", "The programme 2027-2031 in brief", 15,
     "Four themes: decent work, social dialogue, health and social protection, labour rights."),
    ("propose", "Propose lines of work", 30,
     "Put forward the priorities of your country consultation."),
    ("discuss", "Discuss and merge", 45, "Read, comment and support the proposals."),
    ("vote", "Rank the lines of work", 20, "Rank the lines of work you want for five years."),
    ("results", "Results", 15, "The ranking, by region and organisation type."),
    ("action_plan", "Action plans", 60, "Working groups draft a global action plan per line."),
]


def _user(email: str, name: str, password: str, role: str) -> User:
    existing = db.session.scalar(sa.select(User).where(User.email == email))
    return existing or create_user(email, name, password, role)


def seed_demo() -> Workshop:
    """Create (once) the demo accounts, organisations and workshop; return the workshop."""
    organiser = _user(*DEMO_ORGANISER, "organiser")
    facilitator = _user(*DEMO_FACILITATOR, "facilitator")
    known = set(db.session.scalars(sa.select(Organisation.name)))
    for name, country, region, org_type in ORGANISATIONS:
        if name not in known:
            db.session.add(Organisation(name=name, country=country, region=region, type=org_type))
    db.session.commit()
    workshop = db.session.scalar(sa.select(Workshop).where(Workshop.title == DEMO_TITLE))
    if workshop is not None:
        return workshop
    workshop = services.create_workshop(
        organiser,
        WorkshopIn(title=DEMO_TITLE, kind="face_to_face", starts_on=date(2026, 12, 1),
                   ends_on=date(2026, 12, 3), default_locale="en"),
    )
    for kind, title, minutes, body in AGENDA:
        services.add_step(
            organiser, workshop, StepIn(kind=kind, title=title, body=body,
                                        duration_minutes=minutes)
        )
    services.assign_facilitator(organiser, workshop, facilitator.id, True)
    services.goto_step(organiser, workshop, workshop.steps[0].id)
    return workshop
