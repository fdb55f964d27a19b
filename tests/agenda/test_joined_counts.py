"""The joined counts every screen's state carries are counted once per joined version and
shared; any change to who has joined, or from where, is counted on the next read."""

from __future__ import annotations

import pytest

from tests.helpers import create_delegate, create_organisation, create_user, create_workshop, invite
from workshop.agenda.delegates import accept_invitation
from workshop.agenda.models import Delegate, Workshop
from workshop.agenda.state import snapshot
from workshop.db import utcnow
from workshop.extensions import db
from workshop.kept import kept

pytestmark = pytest.mark.usefixtures("app")


def joined(workshop: Workshop) -> dict:
    return snapshot(db.session, db.session.get(Workshop, workshop.id))["joined"]


def test_reads_of_one_version_share_one_count():
    workshop = create_workshop()
    create_delegate(workshop, create_organisation(region="asia"))
    store = kept("joined")
    assert joined(workshop) == {"total": 1, "by_region": {"asia": 1}}
    before = store.made
    for _ in range(5):
        assert joined(workshop) == {"total": 1, "by_region": {"asia": 1}}
    assert store.made == before  # counted once, by the first read (or the join's broadcast)


def test_a_join_is_counted_on_the_next_read():
    workshop = create_workshop()
    west = create_organisation(region="west_africa")
    create_delegate(workshop, west)
    assert joined(workshop)["total"] == 1
    create_delegate(workshop, create_organisation(region="latin_america"))
    assert joined(workshop) == {"total": 2, "by_region": {"west_africa": 1, "latin_america": 1}}


def test_an_invited_delegate_counts_once_they_open_their_link():
    organiser = create_user("organiser")
    workshop = create_workshop(organiser=organiser)
    _delegate, token = invite(workshop, organiser, create_organisation(region="latin_america"))
    assert joined(workshop)["total"] == 0
    accept_invitation(token)
    assert joined(workshop) == {"total": 1, "by_region": {"latin_america": 1}}


def test_moving_a_delegate_or_an_organisation_moves_the_count():
    workshop = create_workshop()
    org = create_organisation(region="west_africa")
    delegate = create_delegate(workshop, org)
    assert joined(workshop)["by_region"] == {"west_africa": 1}
    delegate.organisation_id = create_organisation(region="latin_america").id
    db.session.commit()
    assert joined(workshop)["by_region"] == {"latin_america": 1}
    db.session.get(Delegate, delegate.id).organisation.region = "asia"
    db.session.commit()
    assert joined(workshop)["by_region"] == {"asia": 1}


def test_a_rolled_back_join_changes_nothing():
    workshop = create_workshop()
    assert joined(workshop)["total"] == 0
    version = db.session.get(Workshop, workshop.id).joined_version
    org = create_organisation()
    db.session.add(Delegate(workshop_id=workshop.id, name="Gone", organisation_id=org.id,
                            locale="en", joined_at=utcnow()))
    db.session.flush()
    assert joined(workshop)["total"] == 1  # inside the transaction, the join is seen
    db.session.rollback()
    assert db.session.get(Workshop, workshop.id).joined_version == version
    assert joined(workshop)["total"] == 0


def test_a_kept_count_is_a_copy():
    workshop = create_workshop()
    create_delegate(workshop, create_organisation(region="latin_america"))
    joined(workshop)["by_region"]["latin_america"] = 99
    assert joined(workshop)["by_region"] == {"latin_america": 1}
