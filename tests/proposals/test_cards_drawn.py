"""New lines' cards, drawn once a coalesced broadcast for every language's room: each in its
own language, outside any request (the batch's and the clock's case) and inside one."""

from __future__ import annotations

import pytest

from tests.helpers import create_proposal, create_workshop
from workshop.extensions import db
from workshop.live import language_room
from workshop.proposals import live

DISCUSS = {"en": "Discuss", "fr": "Discuter", "es": "Debatir", "nl": "Bespreken"}


@pytest.mark.parametrize("inside_a_request", [False, True])
def test_each_languages_room_gets_every_card_in_its_language(app, inside_a_request):
    workshop = create_workshop()
    lines = [create_proposal(workshop, title=f"Street vendors' cover {i}").id for i in range(3)]
    db.session.commit()
    if inside_a_request:
        with app.test_request_context("/"):
            messages = live._cards(workshop.id, frozenset(lines))
    else:
        messages = live._cards(workshop.id, frozenset(lines))
    assert [room for _, _, room in messages] == [language_room(workshop.id, language)
                                                 for language in DISCUSS]
    for (event, payload, _), (language, word) in zip(messages, DISCUSS.items(), strict=True):
        assert event == "proposal.cards"
        assert sorted(card["id"] for card in payload["cards"]) == sorted(lines)
        for card in payload["cards"]:
            assert word in card["html"], (language, card["html"])
            others = [other for lang, other in DISCUSS.items() if lang != language]
            assert not any(f">{other}<" in card["html"] for other in others), language
            assert "Street vendors&#39; cover" in card["html"]  # escaped as ever
