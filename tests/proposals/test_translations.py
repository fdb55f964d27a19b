"""Translations: the author's and staff's apply, anyone else's wait as suggestions.

Issue 9: any delegate could replace how someone else's proposal reads in another language, at
any step, with no history and no name. Now a translation by the proposal's author or by staff
applies at once and enters the history; another delegate's is a suggestion that changes
nothing anyone reads until the author or a facilitator accepts it; and suggesting follows the
comment rule on steps.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect
from tests.helpers import (
    create_delegate,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    join,
    login,
    received,
)
from workshop.agenda.models import Delegate
from workshop.api import tokens
from workshop.api.schemas import TokenIn
from workshop.audit.models import AuditEntry
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.permissions import can
from workshop.proposals import services
from workshop.proposals.lines import lines_of
from workshop.proposals.models import (
    ProposalTranslation,
    TranslationRevision,
    TranslationSuggestion,
)
from workshop.proposals.schemas import TranslationCreate, TranslationIn
from workshop.validation import parse

FR_TITLE = "Mutuelles de santé pour les travailleurs informels"
ES_TITLE = "Mutuales de salud para la economía informal"
PRANK = "RETIRADA — no voten por esta"


@pytest.fixture
def story(app):
    """A workshop on a discuss step; a French proposal by its author; a facilitator; a
    delegate who translates; a Spanish reader."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    author = create_delegate(workshop, name="Jean-Claude")
    proposal = create_proposal(workshop, author, title=FR_TITLE,
                               description="Étendre la protection sociale.")
    proposal.language = "fr"
    db.session.commit()
    go_to_kind(workshop, "discuss")
    translator = create_delegate(workshop, name="Rosa")
    reader = create_delegate(workshop, name="Ana")
    return workshop, facilitator, author, proposal, translator, reader


def spanish(title: str = ES_TITLE, description: str = "") -> TranslationIn:
    return TranslationIn(language="es", title=title, description=description)


def shown(actor, workshop, proposal_id: int, language: str = "es") -> str:
    """The title a reader of `language` sees on the line."""
    [line] = lines_of(actor, workshop, only=proposal_id)
    return line.proposal.version(language)[0]


def operations(workshop) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.operation).where(
        AuditEntry.workshop_id == workshop.id).order_by(AuditEntry.id)))


# --- Services ---------------------------------------------------------------------------------


def test_another_delegates_translation_is_a_suggestion_that_changes_nothing(story):
    workshop, facilitator, _author, proposal, translator, reader = story
    suggestion = services.suggest_translation(translator, workshop, proposal.id,
                                              spanish(PRANK, "No"))
    assert (suggestion.status, suggestion.language, suggestion.title, suggestion.description,
            suggestion.suggested_by, suggestion.delegate_id) == (
        "pending", "es", PRANK, "No", "Rosa", translator.id)
    assert suggestion.created_at is not None
    db.session.expire_all()
    assert shown(reader, workshop, proposal.id) == FR_TITLE
    assert db.session.scalar(sa.select(sa.func.count(ProposalTranslation.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(TranslationRevision.id))) == 0
    assert services.suggest_duplicates(facilitator, workshop) == []
    assert operations(workshop)[-1] == "translation.suggest"


def test_the_authors_own_translation_applies_and_enters_the_history(story):
    workshop, _f, author, proposal, _t, reader = story
    services.translate_proposal(author, workshop, proposal.id, spanish())
    assert shown(reader, workshop, proposal.id) == ES_TITLE
    services.translate_proposal(author, workshop, proposal.id, spanish(ES_TITLE + "!"))
    history = services.translation_history(reader, workshop, proposal)
    assert [(r.title, r.translated_by, r.accepted_by) for r in history] == [
        (ES_TITLE + "!", "Jean-Claude", ""), (ES_TITLE, "Jean-Claude", "")]
    assert proposal.translation_in("es").translated_by == "Jean-Claude"
    assert operations(workshop)[-1] == "proposal.translate"


def test_only_the_author_and_staff_translate_directly(story):
    workshop, facilitator, author, proposal, translator, _r = story
    with pytest.raises(PermissionDenied):
        services.translate_proposal(translator, workshop, proposal.id, spanish(PRANK))
    # The author has nothing to suggest to: they translate.
    with pytest.raises(PermissionDenied):
        services.suggest_translation(author, workshop, proposal.id, spanish())
    # Staff translate directly and never suggest.
    with pytest.raises(PermissionDenied):
        services.suggest_translation(facilitator, workshop, proposal.id, spanish())
    services.translate_proposal(facilitator, workshop, proposal.id, spanish())
    assert proposal.version("es")[0] == ES_TITLE
    assert can("proposal.translate", author, workshop, proposal)
    assert not can("proposal.translate", translator, workshop, proposal)
    assert can("translation.suggest", translator, workshop, proposal)


def test_facilitator_accepts_and_the_history_names_translator_and_acceptor(story):
    workshop, facilitator, _a, proposal, translator, reader = story
    suggestion = services.suggest_translation(translator, workshop, proposal.id,
                                              spanish(description="Extender la protección."))
    services.accept_suggestion(facilitator, workshop, suggestion.id)
    assert shown(reader, workshop, proposal.id) == ES_TITLE
    assert proposal.version("es")[1] == "Extender la protección."
    assert (suggestion.status, suggestion.decided_by) == ("accepted", facilitator.display_name)
    assert suggestion.decided_at is not None
    [revision] = services.translation_history(reader, workshop, proposal)
    assert (revision.language, revision.title, revision.translated_by, revision.accepted_by) == (
        "es", ES_TITLE, "Rosa", facilitator.display_name)
    current = proposal.translation_in("es")
    assert (current.translated_by, current.accepted_by) == ("Rosa", facilitator.display_name)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.operation == "translation.accept"))
    assert entry.details["translated_by"] == "Rosa"
    assert entry.actor_name == facilitator.display_name
    with pytest.raises(Conflict):
        services.accept_suggestion(facilitator, workshop, suggestion.id)
    with pytest.raises(Conflict):
        services.reject_suggestion(facilitator, workshop, suggestion.id)


def test_facilitator_rejects_and_nothing_changes(story):
    workshop, facilitator, _a, proposal, translator, reader = story
    suggestion = services.suggest_translation(translator, workshop, proposal.id, spanish(PRANK))
    services.reject_suggestion(facilitator, workshop, suggestion.id)
    assert (suggestion.status, suggestion.decided_by) == ("rejected", facilitator.display_name)
    assert shown(reader, workshop, proposal.id) == FR_TITLE
    assert services.translation_history(reader, workshop, proposal) == []
    with pytest.raises(Conflict):
        services.accept_suggestion(facilitator, workshop, suggestion.id)
    assert shown(reader, workshop, proposal.id) == FR_TITLE
    assert operations(workshop)[-1] == "translation.reject"


def test_the_author_decides_and_nobody_else_does(story):
    workshop, _f, author, proposal, translator, reader = story
    first = services.suggest_translation(translator, workshop, proposal.id, spanish())
    second = services.suggest_translation(reader, workshop, proposal.id, spanish(PRANK))
    for who in (translator, reader):
        for decide in (services.accept_suggestion, services.reject_suggestion):
            with pytest.raises(PermissionDenied):
                decide(who, workshop, second.id)
    services.reject_suggestion(author, workshop, second.id)
    services.accept_suggestion(author, workshop, first.id)
    assert shown(reader, workshop, proposal.id) == ES_TITLE
    [revision] = services.translation_history(reader, workshop, proposal)
    assert (revision.translated_by, revision.accepted_by) == ("Rosa", "Jean-Claude")


def test_who_sees_waiting_suggestions(story):
    workshop, facilitator, author, proposal, translator, reader = story
    mine = services.suggest_translation(translator, workshop, proposal.id, spanish())
    [line] = lines_of(reader, workshop, only=proposal.id)
    assert services.suggestions_for(author, workshop, line) == [mine]
    assert services.suggestions_for(facilitator, workshop, line) == [mine]
    assert services.suggestions_for(translator, workshop, line) == [mine]
    assert services.suggestions_for(reader, workshop, line) == []
    assert services.pending_suggestions(facilitator, workshop) == [mine]
    with pytest.raises(PermissionDenied):
        services.pending_suggestions(author, workshop)


def test_a_new_suggestion_replaces_the_delegates_waiting_one(story):
    workshop, _f, _a, proposal, translator, _r = story
    first = services.suggest_translation(translator, workshop, proposal.id, spanish("Uno"))
    again = services.suggest_translation(translator, workshop, proposal.id, spanish("Dos"))
    assert again.id == first.id
    assert again.title == "Dos"
    dutch = services.suggest_translation(translator, workshop, proposal.id, TranslationIn(
        language="nl", title="Zorgmutualiteiten"))
    assert dutch.id != first.id
    assert db.session.scalar(sa.select(sa.func.count(TranslationSuggestion.id))) == 2


def test_suggesting_is_refused_where_comments_are(story):
    workshop, facilitator, author, proposal, translator, reader = story
    waiting = services.suggest_translation(translator, workshop, proposal.id, spanish())
    go_to_kind(workshop, "vote")
    with pytest.raises(Conflict):
        services.add_comment(translator, workshop, proposal.id, "During the vote")
    with pytest.raises(Conflict):
        services.suggest_translation(reader, workshop, proposal.id, spanish(PRANK))
    # The author writes and accepts during the steps delegates write in, too.
    with pytest.raises(Conflict):
        services.translate_proposal(author, workshop, proposal.id, spanish(PRANK))
    with pytest.raises(Conflict):
        services.accept_suggestion(author, workshop, waiting.id)
    assert shown(reader, workshop, proposal.id) == FR_TITLE
    assert services.translation_history(reader, workshop, proposal) == []
    # Staff may at any step, as they may comment; turning a suggestion down changes nothing
    # anyone reads, so the author may at any step.
    services.accept_suggestion(facilitator, workshop, waiting.id)
    assert shown(reader, workshop, proposal.id) == ES_TITLE
    late = TranslationSuggestion(proposal_id=proposal.id, delegate_id=reader.id, language="nl",
                                 title="Te laat", suggested_by=reader.name)
    db.session.add(late)
    db.session.commit()
    services.reject_suggestion(author, workshop, late.id)
    go_to_kind(workshop, "propose")
    services.suggest_translation(reader, workshop, proposal.id, spanish(PRANK))


def test_delegates_of_another_workshop_cannot_suggest_or_decide(story):
    workshop, _f, _a, proposal, translator, _r = story
    suggestion = services.suggest_translation(translator, workshop, proposal.id, spanish())
    other = create_workshop()
    go_to_kind(other, "discuss")
    stranger = create_delegate(other)
    stranger_staff = create_user("facilitator")
    for actor in (stranger, stranger_staff, None):
        with pytest.raises(PermissionDenied):
            services.suggest_translation(actor, workshop, proposal.id, spanish(PRANK))
        with pytest.raises(PermissionDenied):
            services.translate_proposal(actor, workshop, proposal.id, spanish(PRANK))
        for decide in (services.accept_suggestion, services.reject_suggestion):
            with pytest.raises(PermissionDenied):
                decide(actor, workshop, suggestion.id)
    # Through their own workshop, this workshop's proposal and suggestion do not exist.
    with pytest.raises(NotFound):
        services.suggest_translation(stranger, other, proposal.id, spanish(PRANK))
    with pytest.raises(NotFound):
        services.accept_suggestion(create_user("organiser"), other, suggestion.id)
    assert suggestion.status == "pending"
    assert proposal.version("es")[0] == FR_TITLE


def test_hidden_proposal_and_original_language(story):
    workshop, facilitator, _a, proposal, translator, _r = story
    with pytest.raises(Conflict):
        services.suggest_translation(translator, workshop, proposal.id, TranslationIn(
            language="fr", title="Autre titre"))
    services.hide_proposal(facilitator, workshop, proposal.id, True, "duplicate")
    with pytest.raises(NotFound):
        services.suggest_translation(translator, workshop, proposal.id, spanish())


def test_payloads_are_validated_field_by_field():
    with pytest.raises(ValidationFailed) as caught:
        parse(TranslationCreate, {"workshop_id": 1, "proposal_id": 1, "language": "de",
                                  "title": "", "description": "x" * 5001, "extra": 1})
    assert set(caught.value.fields) == {"language", "title", "description", "extra"}


def test_the_api_lists_only_applied_translations(client, story):
    workshop, facilitator, _a, proposal, translator, _r = story
    _row, raw = tokens.create_token(facilitator, TokenIn(name="script"))
    url = f"/api/v1/workshops/{workshop.id}/proposals/{proposal.id}"
    auth = {"Authorization": f"Bearer {raw}"}
    suggestion = services.suggest_translation(translator, workshop, proposal.id, spanish())
    assert client.get(url, headers=auth).get_json()["translations"] == []
    services.accept_suggestion(facilitator, workshop, suggestion.id)
    [translation] = client.get(url, headers=auth).get_json()["translations"]
    assert (translation["language"], translation["title"]) == ("es", ES_TITLE)


# --- Pages and form fallbacks -----------------------------------------------------------------


def phone_of(app, workshop, name: str, lang: str = "en"):
    """A joined phone (test client) and its delegate."""
    client = app.test_client()
    client.get(f"/?lang={lang}")
    join(client, workshop, create_organisation(), name=name)
    delegate = db.session.scalar(sa.select(Delegate).where(
        Delegate.workshop_id == workshop.id, Delegate.name == name))
    return client, delegate


def test_pages_offer_suggesting_and_deciding_to_the_right_people(app, story):
    workshop, facilitator, _a, proposal, _t, _r = story
    url = f"/w/{workshop.id}/proposals/{proposal.id}"
    rosa, _ = phone_of(app, workshop, "Rosa Quispe")
    page = rosa.get(url).get_data(as_text=True)
    assert 'data-op="translation.suggest"' in page
    assert f'action="{url}/suggestions"' in page
    token = csrf_from(page)
    bad = rosa.post(f"{url}/suggestions", data={"csrf_token": token, "language": "es",
                                                "title": ""})
    assert bad.status_code == 422
    assert 'id="title-error"' in bad.get_data(as_text=True)
    assert rosa.post(f"{url}/translations", data={"csrf_token": token, "language": "es",
                                                  "title": PRANK}).status_code == 403
    sent = rosa.post(f"{url}/suggestions", data={"csrf_token": token, "language": "es",
                                                 "title": ES_TITLE}, follow_redirects=True)
    assert sent.status_code == 200
    assert ES_TITLE in sent.get_data(as_text=True)  # her own suggestion, waiting
    [suggestion] = db.session.scalars(sa.select(TranslationSuggestion)).all()

    # A Spanish reader sees neither the suggestion nor a changed title.
    ana, _ = phone_of(app, workshop, "Ana", lang="es")
    page = ana.get(url).get_data(as_text=True)
    assert ES_TITLE not in page
    assert FR_TITLE in page
    assert ana.get(f"{url}/translations").get_data(as_text=True).strip() == ""
    token = csrf_from(page)
    assert ana.post(f"/w/{workshop.id}/proposals/suggestions/{suggestion.id}/accept",
                    data={"csrf_token": token}).status_code == 403

    # The facilitator sees it with accept / reject, on the page and on the moderation page.
    staff = app.test_client()
    login(staff, facilitator)
    assert "Suggested translations waiting: 1" in staff.get(
        f"/w/{workshop.id}/proposals/moderate").get_data(as_text=True)
    page = staff.get(url).get_data(as_text=True)
    assert 'data-op="translation.accept"' in page
    assert "suggested by Rosa Quispe" in page
    done = staff.post(f"/w/{workshop.id}/proposals/suggestions/{suggestion.id}/accept",
                      data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302
    page = ana.get(url).get_data(as_text=True)
    assert ES_TITLE in page
    assert "Rosa Quispe" in page  # who translated it, on the card
    history = ana.get(f"{url}/translations").get_data(as_text=True)
    assert 'id="translation-history"' in history
    assert "Rosa Quispe" in history
    assert facilitator.display_name in history


def test_author_page_translates_directly(app, story):
    workshop, _f, _a, _p, _t, _r = story
    client, author = phone_of(app, workshop, "Awa")
    proposal = create_proposal(workshop, author, title="Dialogue social")
    go_to_kind(workshop, "discuss")
    url = f"/w/{workshop.id}/proposals/{proposal.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-op="proposal.translate"' in page
    assert 'data-op="translation.suggest"' not in page
    response = client.post(f"{url}/translations", data={
        "csrf_token": csrf_from(page), "language": "fr", "title": "Dialogue"})
    assert response.status_code == 302
    assert proposal.version("fr")[0] == "Dialogue"


# --- Socket events ----------------------------------------------------------------------------


@pytest.fixture
def room(app):
    """A workshop on a discuss step with sockets for the author (French), a translator, a
    Spanish reader and a facilitator; the author's French proposal."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    author_client, author = phone_of(app, workshop, "Awa", lang="fr")
    proposal = create_proposal(workshop, author, title=FR_TITLE)
    proposal.language = "fr"
    db.session.commit()
    go_to_kind(workshop, "discuss")
    translator_client, _ = phone_of(app, workshop, "Rosa")
    reader_client, _ = phone_of(app, workshop, "Ana", lang="es")
    staff_client = app.test_client()
    login(staff_client, facilitator)
    socks = {
        "author": connect(app, author_client, workshop),
        "translator": connect(app, translator_client, workshop),
        "reader": connect(app, reader_client, workshop),
        "staff": connect(app, staff_client, workshop, f"/w/{workshop.id}/console"),
    }
    for sock in socks.values():
        sock.get_received()
    return workshop, proposal, socks


def test_socket_suggestion_reaches_author_and_staff_only_and_accept_reaches_readers(room):
    workshop, proposal, socks = room
    base = {"workshop_id": workshop.id, "proposal_id": proposal.id}
    ack = socks["translator"].emit("translation.suggest", {**base, "language": "es",
                                                           "title": ES_TITLE}, callback=True)
    assert ack["ok"] is True, ack
    suggestion_id = ack["suggestion_id"]
    [told] = received(socks["author"], "translation.suggested")
    assert told == {"line_id": proposal.id, "proposal_id": proposal.id,
                    "suggestion_id": suggestion_id, "language": "es"}
    assert received(socks["staff"], "translation.suggested")
    assert received(socks["reader"], "translation.suggested") == []
    assert received(socks["reader"], "proposal.card") == []
    assert received(socks["translator"], "proposal.card") == []

    refused = socks["translator"].emit("translation.accept", {
        "workshop_id": workshop.id, "suggestion_id": suggestion_id}, callback=True)
    assert refused["error"] == "forbidden"
    direct = socks["translator"].emit("proposal.translate", {**base, "language": "es",
                                                             "title": PRANK}, callback=True)
    assert direct["error"] == "forbidden"
    assert received(socks["reader"], "proposal.card") == []

    ack = socks["author"].emit("translation.accept", {"workshop_id": workshop.id,
                                                      "suggestion_id": suggestion_id},
                               callback=True)
    assert ack == {"ok": True, "suggestion_id": suggestion_id, "proposal_id": proposal.id,
                   "language": "es", "status": "accepted"}
    [card] = received(socks["reader"], "proposal.card")
    assert ES_TITLE in card["html"]
    assert "Rosa" in card["html"]  # who translated it
    [decided] = received(socks["translator"], "translation.decided")
    assert decided["status"] == "accepted"
    assert received(socks["staff"], "translation.decided")
    again = socks["staff"].emit("translation.reject", {"workshop_id": workshop.id,
                                                       "suggestion_id": suggestion_id},
                                callback=True)
    assert again["error"] == "conflict"


def test_socket_author_translates_directly_and_staff_rejects(room):
    workshop, proposal, socks = room
    base = {"workshop_id": workshop.id, "proposal_id": proposal.id}
    ack = socks["author"].emit("proposal.translate", {**base, "language": "es",
                                                      "title": ES_TITLE}, callback=True)
    assert ack == {"ok": True, "proposal_id": proposal.id, "language": "es"}
    [card] = received(socks["reader"], "proposal.card")
    assert ES_TITLE in card["html"]
    ack = socks["translator"].emit("translation.suggest", {**base, "language": "es",
                                                           "title": PRANK}, callback=True)
    ack = socks["staff"].emit("translation.reject", {"workshop_id": workshop.id,
                                                     "suggestion_id": ack["suggestion_id"]},
                              callback=True)
    assert ack["status"] == "rejected"
    assert received(socks["reader"], "proposal.card") == []
    assert proposal.version("es")[0] == ES_TITLE


def test_socket_payloads_name_the_wrong_field(room):
    workshop, proposal, socks = room
    base = {"workshop_id": workshop.id, "proposal_id": proposal.id}
    for change, field in (({"title": ""}, "title"), ({"language": "de"}, "language"),
                          ({"title": "x" * 201}, "title"), ({"proposal_id": "x"}, "proposal_id"),
                          ({"hack": 1}, "hack")):
        ack = socks["translator"].emit("translation.suggest",
                                       {**base, "language": "es", "title": "t", **change},
                                       callback=True)
        assert ack["ok"] is False, change
        assert field in ack["fields"], (change, ack)
    ack = socks["author"].emit("translation.accept", {"workshop_id": workshop.id,
                                                      "suggestion_id": 0}, callback=True)
    assert "suggestion_id" in ack["fields"]
    ack = socks["author"].emit("translation.accept", {"workshop_id": workshop.id,
                                                      "suggestion_id": 999}, callback=True)
    assert (ack["error"], list(ack["fields"])) == ("not_found", ["suggestion_id"])
    assert db.session.scalar(sa.select(sa.func.count(TranslationSuggestion.id))) == 0


def test_socket_suggestion_refused_during_a_vote(room):
    workshop, proposal, socks = room
    go_to_kind(workshop, "vote")
    base = {"workshop_id": workshop.id, "proposal_id": proposal.id, "language": "es",
            "title": PRANK}
    comment = socks["translator"].emit("proposal.comment", {
        "workshop_id": workshop.id, "proposal_id": proposal.id, "body": "x"}, callback=True)
    assert comment["error"] == "conflict"
    ack = socks["translator"].emit("translation.suggest", base, callback=True)
    assert ack["error"] == "conflict"
    ack = socks["author"].emit("proposal.translate", base, callback=True)
    assert ack["error"] == "conflict"
    assert db.session.scalar(sa.select(sa.func.count(TranslationSuggestion.id))) == 0
    assert received(socks["reader"], "proposal.card") == []


def test_socket_of_another_workshops_delegate(app, room):
    workshop, proposal, _socks = room
    other = create_workshop()
    go_to_kind(other, "discuss")
    client, _ = phone_of(app, other, "Outsider")
    refused = connect(app, client, workshop)
    assert not refused.is_connected()
    sock = connect(app, client, other)
    ack = sock.emit("translation.suggest", {"workshop_id": workshop.id,
                                            "proposal_id": proposal.id, "language": "es",
                                            "title": PRANK}, callback=True)
    assert "workshop_id" in ack["fields"]
    ack = sock.emit("translation.suggest", {"workshop_id": other.id,
                                            "proposal_id": proposal.id, "language": "es",
                                            "title": PRANK}, callback=True)
    assert ack["error"] == "not_found"
    assert db.session.scalar(sa.select(sa.func.count(TranslationSuggestion.id))) == 0
