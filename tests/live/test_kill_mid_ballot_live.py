"""The server killed (SIGKILL) in the middle of a ballot while hundreds of phones vote, then
restarted: every receipt a phone received stands for a paper stored exactly once, the phones
come back by themselves and finish voting, and the running totals equal the stored papers.

FAULT_PHONES sets how many phones (300 by default; CI runs fewer, see .ci/run).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import LiveServer
from tests.helpers import create_lines, create_organisation, create_user, create_workshop
from tests.servers import ROOT, signed_session
from workshop.agenda.models import Delegate
from workshop.auth.logins import start_login
from workshop.db import utcnow
from workshop.extensions import db
from workshop.voting import services, tally
from workshop.voting.models import Participation, RegionTally, Vote
from workshop.voting.results import stored_choice
from workshop.voting.schemas import BallotOpen

pytestmark = pytest.mark.live

PHONES = int(os.environ.get("FAULT_PHONES", "300"))


def phones_of(server: LiveServer, workshop, ballot, lines: list[int], n: int) -> list[dict]:
    """n joined delegates in four regions, each with a signed session and a ranked paper."""
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
        cookie, csrf = signed_session(server.app, server.env["SECRET_KEY"],
                                      {"_user_id": start_login(delegate), "_fresh": True})
        people.append({"cookie": cookie, "csrf": csrf, "payload": {
            "workshop_id": workshop.id, "ballot_id": ballot.id,
            "choices": rng.sample(lines, rng.randint(1, len(lines))),
            "secret": f"{rng.getrandbits(128):032x}"}})
    return people


def test_a_server_killed_mid_ballot_loses_and_doubles_no_vote(own_server: LiveServer,
                                                              tmp_path: Path):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 6)]
    ballot = services.open_ballot(facilitator, workshop, BallotOpen(
        workshop_id=workshop.id, title="Rank the lines", method="ranking", secret=True))
    people = phones_of(own_server, workshop, ballot, lines, PHONES)
    (tmp_path / "people.json").write_text(json.dumps(people))

    voters = subprocess.Popen(
        [sys.executable, "-m", "tests.live.voters", own_server.url, str(workshop.id),
         str(tmp_path / "people.json")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        for out in voters.stdout:  # kill the server once a third of the phones hold a receipt
            if out.startswith("ack ") and int(out.split()[1]) >= PHONES // 3:
                break
        own_server.kill()
        own_server.restart(tmp_path / "after-kill.log")
        last = ""
        for out in voters.stdout:
            last = out
        voters.wait(timeout=60)
    finally:
        if voters.poll() is None:
            voters.kill()
    report = json.loads(last)

    # Every phone came back and finished voting: nobody was told anything but a receipt.
    assert report["errors"] == []
    assert len(report["receipts"]) == PHONES
    retried = sum(1 for n in report["attempts"].values() if n > 1)
    print(f"{PHONES} phones; {retried} sent their paper again after the kill")
    assert retried > 0  # the kill came mid-burst: some phones had to try again

    db.session.rollback()
    papers = list(db.session.scalars(sa.select(Vote).where(Vote.ballot_id == ballot.id)))
    # Each paper exactly once; each receipt a phone holds stands for a stored paper.
    assert len(papers) == PHONES
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))
                             .where(Participation.ballot_id == ballot.id)) == PHONES
    assert {p.receipt for p in papers} == {services.normalise_receipt(r)
                                          for r in report["receipts"].values()}
    sent = sorted(json.dumps(p["payload"]["choices"]) for p in people)
    assert sorted(json.dumps(p.choices) for p in papers) == sent

    # The running totals by region (what results are counted from) equal the stored papers.
    rows = list(db.session.scalars(sa.select(RegionTally)
                                   .where(RegionTally.ballot_id == ballot.id)))
    assert sum(r.voters for r in rows) == PHONES
    from_papers = None
    for paper in papers:
        parts = tally.paper_components(stored_choice("ranking", paper.choices), "ranking",
                                       ballot.option_ids)
        from_papers = parts if from_papers is None else [
            [a + b for a, b in zip(x, y, strict=True)]
            for x, y in zip(from_papers, parts, strict=True)]
    from_rows = None
    for row in rows:
        from_rows = row.sums if from_rows is None else [
            [a + b for a, b in zip(x, y, strict=True)]
            for x, y in zip(from_rows, row.sums, strict=True)]
    assert from_rows == from_papers
