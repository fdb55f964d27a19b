"""The duplicate scorer: cross-language suggestions without a translator, same-language ones as
before, hard negatives left out."""

from __future__ import annotations

import unicodedata

import pytest

from tests.helpers import create_proposal, create_user, create_workshop, login
from workshop.extensions import db
from workshop.proposals.duplicates import (
    DEFAULT_THRESHOLD,
    Version,
    normalise,
    suggest,
    suggest_by_shared_language,
)
from workshop.vocabulary import LANGUAGES

FR = Version(1, "fr", "Protection sociale universelle pour l'économie informelle",
             "Étendre la protection sociale aux vendeuses de marché et aux moto-taxis.")
ES = Version(2, "es", "Protección social universal para trabajadores informales",
             "Que los vendedores ambulantes tengan acceso a un piso de protección social.")
WAGE = Version(3, "en", "Minimum wage for domestic workers",
               "Domestic workers are left out of the national minimum wage.")
COVER = Version(4, "en", "Social protection for domestic workers",
                "Domestic workers should be registered with social security.")
CARE = Version(5, "en", "Decent work for community health workers",
               "Community health workers need a salary and a contract.")
CARE_AGAIN = Version(6, "en", "Decent work for community health workers in rural areas",
                     "They need a salary and a contract.")
COCOA = Version(7, "nl", "Kinderarbeid in de cacaoketen uitbannen",
                "Scholen en een eerlijke cacaoprijs.")
ALL = [FR, ES, WAGE, COVER, CARE, CARE_AGAIN, COCOA]


def pairs(versions: list[Version], **kwargs) -> dict[frozenset[int], tuple[float, str]]:
    return {frozenset((p.first, p.second)): (p.score, p.language)
            for p in suggest(versions, **kwargs)}


def test_french_and_spanish_inputs_meet_without_a_translation():
    found = pairs(ALL)
    score, language = found[frozenset((1, 2))]
    assert score >= DEFAULT_THRESHOLD
    assert language == "fr/es"
    assert frozenset((1, 2)) not in {frozenset((p.first, p.second))
                                     for p in suggest_by_shared_language(ALL)}


def test_a_hard_negative_is_not_suggested():
    """Same theme and group of workers, another idea: wage versus social protection."""
    assert frozenset((3, 4)) not in pairs(ALL)


def test_same_language_duplicates_are_still_suggested_in_their_language():
    assert pairs(ALL)[frozenset((5, 6))][1] == "en"


def test_a_translation_names_the_language_both_can_be_read_in():
    spanish = Version(1, "es", ES.title, ES.description)  # a human translation of FR
    score, language = pairs([*ALL, spanish])[frozenset((1, 2))]
    assert (language, score >= 90) == ("es", True)


def test_only_pairs_at_or_over_the_threshold_best_first_within_the_limit():
    everything = suggest(ALL, threshold=0, limit=1000)
    assert len(everything) == len(ALL) * (len(ALL) - 1) // 2
    assert [p.score for p in everything] == sorted((p.score for p in everything), reverse=True)
    assert all(0 <= p.score <= 100 and p.first < p.second for p in everything)
    assert suggest(ALL, threshold=0, limit=3) == everything[:3]
    assert all(p.score >= 80 for p in suggest(ALL, threshold=80))
    assert suggest([FR]) == []
    assert suggest([]) == []


def test_accents_case_and_punctuation_do_not_matter():
    loud = Version(8, "es", "¡PROTECCIÓN SOCIAL UNIVERSAL, para TRABAJADORES informales!",
                   ES.description.upper())
    assert pairs([ES, loud, WAGE])[frozenset((2, 8))][0] >= 95
    assert normalise("¡PROTECCIÓN   Social, ya!") == "proteccion social ya"


@pytest.mark.parametrize("text", ["Égalité femmes–hommes : « maintenant » !", "Ça, c'est ÇA",
                                  "जनस्वास्थ्य बीमा", "Ziekenfonds (coöperatie)", "straße"])
def test_the_fast_fold_gives_what_the_character_loop_gives(text):
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept = [c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)]
    assert normalise(text) == " ".join("".join(kept).split())


def test_versions_of_one_proposal_are_never_a_pair():
    english = Version(1, "en", "Universal social protection for the informal economy", "")
    assert all(p.first != p.second for p in suggest([FR, english, ES], threshold=0))


def test_the_moderation_page_names_both_languages_of_a_cross_language_pair(client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    for version in (FR, ES):
        proposal = create_proposal(workshop, title=version.title)
        proposal.language, proposal.description = version.language, version.description
    db.session.commit()
    login(client, facilitator)
    html = client.get(f"/w/{workshop.id}/proposals/moderate").get_data(as_text=True)
    row = html[html.index('id="duplicates"'):html.index("</table>")]
    assert f"{LANGUAGES['fr']} ↔ {LANGUAGES['es']}" in row
