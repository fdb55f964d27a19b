"""The list of lines of work is drawn once per workshop, language and content version and
shared by every phone; any change to what it shows makes the next phone draw it again."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale

from tests.helpers import (
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    go_to_kind,
    join,
)
from workshop.agenda.models import Delegate, Workshop
from workshop.extensions import db
from workshop.kept import kept
from workshop.proposals import services
from workshop.proposals.listing import listing
from workshop.proposals.models import Comment, Support
from workshop.proposals.schemas import EditIn, MergeIn, TranslationIn

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def page(app):
    """A request being answered (drawing builds the cards' links)."""
    with app.test_request_context("/"):
        yield


def supported_on(page: str) -> list[int]:
    """The lines the page's script will mark as supported."""
    return json.loads(re.search(r"data-supported='([^']*)'", page).group(1))


def phone(app, workshop, organisation, name):
    """A phone that joined through the real form, and its delegate."""
    client = app.test_client()
    join(client, workshop, organisation, name=name)
    delegate = db.session.query(Delegate).filter_by(name=name).one()
    return client, delegate


def test_phones_of_one_language_share_one_drawing_and_keep_their_own_supports(app):
    workshop = create_workshop()
    org = create_organisation()
    lines = [create_proposal(workshop, title=f"Line {n}") for n in range(3)]
    go_to_kind(workshop, "discuss")
    (amina, amina_d), (kofi, _kofi_d) = (phone(app, workshop, org, n) for n in ("Amina", "Kofi"))
    services.set_support(amina_d, workshop, lines[1].id, True)
    store = kept("listings")
    before = store.made

    pages = [c.get("/d/step").get_data(as_text=True) for c in (amina, kofi, amina, kofi)]

    assert store.made == before + 1  # four fetches, one drawing
    assert supported_on(pages[0]) == [lines[1].id]
    assert supported_on(pages[1]) == []
    assert all("Line 2" in page and "Supporters: <b class=\"supporters\">1</b>" in page
               for page in pages)


def test_another_language_is_drawn_apart(page):
    workshop = create_workshop()
    delegate = create_delegate(workshop)
    create_proposal(workshop, title="Social protection")
    store = kept("listings")
    before = store.made
    drawn = {}
    for lang in ("en", "fr", "en", "fr"):
        with force_locale(lang):
            drawn[lang] = str(listing(delegate, workshop).html)
    assert store.made == before + 2
    assert "Filter and sort" in drawn["en"]
    assert "Filtrer et trier" in drawn["fr"]


def test_a_supported_merged_proposal_marks_the_line_it_was_merged_into(page):
    workshop = create_workshop()
    first, second = create_proposal(workshop), create_proposal(workshop)
    fan = create_delegate(workshop)
    services.set_support(fan, workshop, first.id, True)
    go_to_kind(workshop, "discuss")
    merged = services.merge_proposals(create_user("organiser"), workshop, MergeIn(
        proposal_ids=[first.id, second.id], title="Both"))
    shared = listing(fan, workshop)
    assert shared.lines_supported(services.supported_by(fan)) == [merged.id]


def _rename_organisation(workshop, proposal, staff):
    proposal.organisation.name = "Renamed Union"
    db.session.commit()
    return "Renamed Union"


def _support(workshop, proposal, staff):
    services.set_support(create_delegate(workshop), workshop, proposal.id, True)
    return 'Supporters: <b class="supporters">1</b>'


def _comment(workshop, proposal, staff):
    services.add_comment(create_delegate(workshop), workshop, proposal.id, "A first comment")
    return 'Comments: <b class="comments">1</b>'


def _edit(workshop, proposal, staff):
    services.edit_proposal(staff, workshop, proposal.id, EditIn(
        title="Edited title", theme=proposal.theme, level=proposal.level))
    return "Edited title"


def _hide(workshop, proposal, staff):
    services.hide_proposal(staff, workshop, proposal.id, True, "off topic")
    return 'Lines of work: <b class="line-count">0</b>'


def _submit(workshop, proposal, staff):
    create_proposal(workshop, title="A newer line")
    return "A newer line"


def _merge(workshop, proposal, staff):
    other = create_proposal(workshop)
    services.merge_proposals(staff, workshop, MergeIn(proposal_ids=[proposal.id, other.id],
                                                      title="The merged line"))
    return "The merged line"


def _translate(workshop, proposal, staff):
    services.translate_proposal(staff, workshop, proposal.id, TranslationIn(
        language="en", title="Translated into English"))
    return "Translated into English"


def _direct_row(workshop, proposal, staff):
    """A row written without a service still changes the version (the hook sees flushes)."""
    db.session.add(Support(proposal_id=proposal.id, delegate_id=create_delegate(workshop).id))
    db.session.commit()
    return 'Supporters: <b class="supporters">1</b>'


@pytest.mark.parametrize("change", [_support, _comment, _edit, _hide, _submit, _merge,
                                    _translate, _direct_row, _rename_organisation])
def test_every_change_to_what_the_list_shows_is_drawn_on_the_next_fetch(change, page):
    staff = create_user("organiser")
    workshop = create_workshop(organiser=staff)
    org = create_organisation()
    author = create_delegate(workshop, org)
    proposal = create_proposal(workshop, delegate=author, title="Décent work",
                               description="")
    if change is _translate:  # a proposal written in French, translated into English
        proposal.language = "fr"
        db.session.commit()
    go_to_kind(workshop, "discuss")
    reader = create_delegate(workshop)
    with force_locale("en"):
        listing(reader, workshop)  # drawn and kept
        version = db.session.get(Workshop, workshop.id).content_version
        expected = change(workshop, proposal, staff)
        assert db.session.get(Workshop, workshop.id).content_version > version
        assert expected in str(listing(reader, workshop).html)


def test_a_rolled_back_change_leaves_the_version_as_it_was():
    workshop = create_workshop()
    proposal = create_proposal(workshop)
    version = workshop.content_version
    db.session.add(Comment(proposal_id=proposal.id, author_name="X", body="never", language="en"))
    db.session.flush()
    db.session.rollback()
    assert db.session.get(Workshop, workshop.id).content_version == version


def test_changes_elsewhere_leave_a_workshop_version_alone():
    mine, other = create_workshop(), create_workshop()
    create_proposal(mine)
    version = db.session.get(Workshop, mine.id).content_version
    proposal = create_proposal(other)
    services.add_comment(create_delegate(other), other, proposal.id, "elsewhere")
    assert db.session.get(Workshop, mine.id).content_version == version


def test_a_stranger_gets_no_listing(page):
    from workshop.errors import PermissionDenied

    workshop = create_workshop()
    create_proposal(workshop)
    with pytest.raises(PermissionDenied):
        listing(create_delegate(create_workshop()), workshop)
