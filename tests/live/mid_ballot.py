"""A ballot with hundreds of phones voting at once while something fails, and the checks that
nothing was lost or doubled: shared by the fault tests (a killed server, one of two processes
killed, Redis restarted, PostgreSQL stopped).

FAULT_PHONES sets how many phones (300 by default; CI runs fewer, see .ci/run).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import create_lines, create_organisation, create_user, create_workshop
from tests.servers import ROOT, signed_session
from workshop.agenda.models import Delegate, Workshop
from workshop.auth.logins import start_login
from workshop.auth.models import User
from workshop.db import utcnow
from workshop.extensions import db
from workshop.voting import services, tally
from workshop.voting.models import Ballot, Participation, RegionTally, Vote
from workshop.voting.results import stored_choice
from workshop.voting.schemas import BallotOpen

PHONES = int(os.environ.get("FAULT_PHONES", "300"))


@dataclass
class OpenBallot:
    """A workshop, its facilitator, its lines of work and the ballot open on them."""

    facilitator: User
    workshop: Workshop
    ballot: Ballot
    lines: list[int]


def open_secret_ranking(lines: int = 6) -> OpenBallot:
    """A workshop with `lines` lines of work and a secret ranking ballot open on them."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    line_ids = [line.id for line in create_lines(workshop, lines)]
    ballot = services.open_ballot(facilitator, workshop, BallotOpen(
        workshop_id=workshop.id, title="Rank the lines", method="ranking", secret=True))
    return OpenBallot(facilitator, workshop, ballot, line_ids)


def phones_of(app, secret_key: str, setup: OpenBallot, n: int) -> list[dict]:
    """n joined delegates in four regions, each with a session signed with `secret_key` (the
    servers'), the page's CSRF token and a ranked paper with its secret."""
    workshop, ballot, lines = setup.workshop, setup.ballot, setup.lines
    rng = random.Random(11)
    orgs = [create_organisation(region=region, country=country) for region, country in (
        ("west_africa", "Senegal"), ("asia", "Nepal"), ("latin_america", "Peru"),
        ("belgium", "Belgium"))]
    delegates = [Delegate(workshop_id=workshop.id, name=f"Phone {i}", locale="en",
                          organisation_id=orgs[i % len(orgs)].id, joined_at=utcnow())
                 for i in range(n)]
    db.session.add_all(delegates)
    db.session.commit()
    people = []
    for delegate in delegates:
        cookie, csrf = signed_session(app, secret_key,
                                      {"_user_id": start_login(delegate), "_fresh": True})
        people.append({"cookie": cookie, "csrf": csrf, "payload": {
            "workshop_id": workshop.id, "ballot_id": ballot.id,
            "choices": rng.sample(lines, rng.randint(1, len(lines))),
            "secret": f"{rng.getrandbits(128):032x}"}})
    return people


class Voters:
    """The voters' process (tests.live.voters): `wait_for_receipts(n)` returns once n phones
    hold a receipt; `report` (see voters.py) is there once every phone is done."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.report: dict = {}

    def wait_for_receipts(self, n: int) -> None:
        for out in self.proc.stdout:
            if out.startswith("ack ") and int(out.split()[1]) >= n:
                return
        raise AssertionError(f"the voters ended before {n} receipts")

    def finish(self) -> None:
        last = ""
        for out in self.proc.stdout:
            last = out
        self.proc.wait(timeout=60)
        self.report = json.loads(last)


@contextmanager
def voting(urls: list[str], setup: OpenBallot, people: list[dict], folder: Path) -> Iterator[
        Voters]:
    """Phones voting against these servers, in a process of their own, until each holds a
    receipt; the block acts on the servers meanwhile, and the voters are awaited at its end."""
    (folder / "people.json").write_text(json.dumps(people))
    voters = Voters(subprocess.Popen(
        [sys.executable, "-m", "tests.live.voters", ",".join(urls), str(setup.workshop.id),
         str(folder / "people.json")], cwd=ROOT, stdout=subprocess.PIPE, text=True))
    try:
        yield voters
        voters.finish()
    finally:
        if voters.proc.poll() is None:
            voters.proc.kill()
            voters.proc.wait()


def assert_every_receipt_stored_once(setup: OpenBallot, people: list[dict], report: dict) -> None:
    """Every phone came back and finished voting; each paper is stored exactly once; each
    receipt a phone holds stands for a stored paper; the running totals by region (what the
    results are counted from) equal the stored papers."""
    ballot = db.session.merge(setup.ballot)  # held here again if the test let it go
    assert report["errors"] == []
    assert len(report["receipts"]) == len(people)
    db.session.rollback()
    papers = list(db.session.scalars(sa.select(Vote).where(Vote.ballot_id == ballot.id)))
    assert len(papers) == len(people)
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))
                             .where(Participation.ballot_id == ballot.id)) == len(people)
    assert {p.receipt for p in papers} == {services.normalise_receipt(r)
                                          for r in report["receipts"].values()}
    sent = sorted(json.dumps(p["payload"]["choices"]) for p in people)
    assert sorted(json.dumps(p.choices) for p in papers) == sent

    rows = list(db.session.scalars(sa.select(RegionTally)
                                   .where(RegionTally.ballot_id == ballot.id)))
    assert sum(r.voters for r in rows) == len(people)
    assert _summed(r.sums for r in rows) == _summed(
        tally.paper_components(stored_choice("ranking", p.choices), "ranking",
                               ballot.option_ids) for p in papers)


def _summed(parts) -> list[list[int]] | None:
    total = None
    for part in parts:
        total = part if total is None else [[a + b for a, b in zip(x, y, strict=True)]
                                            for x, y in zip(total, part, strict=True)]
    return total


def retried(report: dict) -> int:
    """How many phones had to send their paper more than once."""
    return sum(1 for n in report["attempts"].values() if n > 1)
