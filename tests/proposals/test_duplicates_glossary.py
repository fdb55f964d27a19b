"""The glossary: the programme's terms in four languages, one concept each."""

from __future__ import annotations

import pytest

from tests.proposals.labelled_duplicates import load
from workshop.proposals import glossary
from workshop.proposals.duplicates import normalise

LANGUAGES = {"en", "fr", "es", "nl"}


def named(text: str) -> frozenset[str]:
    return glossary.concepts(normalise(text))


@pytest.mark.parametrize("text", ["decent work", "Travail décent", "TRABAJO DECENTE",
                                  "waardig werk", "emplois décents", "decent jobs"])
def test_decent_work_is_one_concept_in_four_languages(text):
    assert "decent_work" in named(text)


@pytest.mark.parametrize(("concept", "texts"), [
    ("social_protection", ["social protection", "protection sociale", "protección social",
                           "sociale bescherming"]),
    ("universal_health_coverage", ["universal health coverage",
                                   "couverture sanitaire universelle",
                                   "cobertura universal de salud",
                                   "universele gezondheidsdekking"]),
    ("due_diligence", ["due diligence", "devoir de vigilance", "debida diligencia",
                       "gepaste zorgvuldigheid"]),
    ("just_transition", ["just transition", "transition juste", "transición justa",
                         "rechtvaardige transitie"]),
    ("collective_bargaining", ["collective bargaining", "négociation collective",
                               "negociación colectiva", "collectieve onderhandelingen"]),
    ("living_wage", ["living wage", "salaire vital", "salario digno", "leefbaar loon"]),
    ("child_labour", ["child labour", "travail des enfants", "trabajo infantil",
                      "kinderarbeid"]),
    ("health_mutuals", ["health mutuals", "mutuelles de santé", "mutuales de salud",
                        "ziekenfondsen"]),
])
def test_each_languages_term_names_the_same_concept(concept, texts):
    assert all(concept in named(t) for t in texts)


def test_accents_case_punctuation_endings_and_short_gaps_are_folded():
    assert "domestic_workers" in named("Les TRAVAILLEUSES domestiques !")
    assert "gender_equality" in named("entre les femmes et les hommes")
    assert "maternity_protection" in named("Protection de la maternité")
    assert "occupational_safety_and_health" in named("Santé-et-sécurité au travail")


def test_words_match_whole_not_inside_other_words():
    assert "trade_unions" not in named("a reunion of families")
    assert "minimum_wage" not in named("minimum age for work")
    assert named("") == frozenset()


def test_a_hard_negative_names_different_concepts():
    wage = named("Minimum wage for domestic workers")
    protection = named("Social protection for domestic workers")
    assert wage & protection == {"domestic_workers"}
    assert "minimum_wage" in wage
    assert "social_protection" in protection


def test_every_concept_has_folded_variants_in_the_four_languages():
    for concept, by_language in glossary.CONCEPTS.items():
        assert set(by_language) == LANGUAGES, concept
        for variant in (v for vs in by_language.values() for v in vs):
            bare = variant.replace("*", "")
            assert normalise(bare) == bare, (concept, variant)
    required = {"decent_work", "social_dialogue", "health", "labour_rights", "social_protection",
                "universal_health_coverage", "due_diligence", "just_transition",
                "informal_economy", "collective_bargaining", "minimum_wage",
                "occupational_safety_and_health", "gender_equality", "youth_employment",
                "migrant_workers", "child_labour", "living_wage", "cooperatives",
                "health_mutuals"}
    assert required <= set(glossary.CONCEPTS)


def test_the_first_word_shortcut_finds_what_searching_every_concept_finds():
    patterns = glossary._patterns()
    texts = [normalise(f"{v.title} {v.description}") for v in load().versions]
    for text in texts:
        assert glossary.concepts(text) == {c for c, p in patterns.items() if p.search(text)}
