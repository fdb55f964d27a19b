"""The programme's own terms in English, French, Spanish and Dutch, each mapped to one concept.

Why: character n-grams catch cognates ("protection", "protección", "protectie") but not terms
whose words differ between languages ("due diligence", "devoir de vigilance", "gepaste
zorgvuldigheid"; "living wage", "salario digno", "leefbaar loon"). Two proposals that name the
same concepts are likely about the same line of work, whatever their languages.

Variants are written folded (lower case, no accents, punctuation as spaces, see
`duplicates.normalise`). A word ending in `*` matches any ending ("travail*" matches
"travailleuses"); up to two other words may sit between a variant's words ("protection de la
maternite" matches "protec* maternit*" and "femmes et les hommes" matches "femmes et hommes").
"""

from __future__ import annotations

import re
from functools import cache

#: concept id -> language -> folded variants.
CONCEPTS: dict[str, dict[str, tuple[str, ...]]] = {
    # The programme's four themes.
    "decent_work": {
        "en": ("decent work", "decent job*"),
        "fr": ("travail decent", "emploi* decent*"),
        "es": ("trabajo* decente*", "empleo* decente*"),
        "nl": ("waardig werk", "fatsoenlijk werk", "degelijk werk", "decent werk"),
    },
    "social_dialogue": {
        "en": ("social dialogue", "social partner*", "tripartite"),
        "fr": ("dialogue social", "partenaires sociaux", "tripartite"),
        "es": ("dialogo social", "interlocutores sociales", "tripartit*"),
        "nl": ("sociale dialoog", "sociaal overleg", "sociale partners", "tripartit*"),
    },
    "health": {
        "en": ("health",),
        "fr": ("sante", "sanitaire*"),
        "es": ("salud", "sanitari*"),
        "nl": ("gezondheid*",),
    },
    "labour_rights": {
        "en": ("labour rights", "labor rights", "workers rights", "labour law*"),
        "fr": ("droits des travailleurs", "droit du travail"),
        "es": ("derechos laborales", "derechos de los trabajadores", "ley* laboral*"),
        "nl": ("arbeidsrecht*", "rechten van werknemers", "werknemersrechten"),
    },
    # Terms of the programme.
    "social_protection": {
        "en": ("social protection", "social security"),
        "fr": ("protection* sociale*", "securite sociale"),
        "es": ("proteccion social", "seguridad social"),
        "nl": ("sociale bescherming", "sociaal beschermingsstelsel", "sociale zekerheid"),
    },
    "universal_health_coverage": {
        "en": ("universal health coverage", "universal health care"),
        "fr": ("couverture sanitaire universelle", "couverture sante universelle",
               "couverture maladie universelle", "assurance maladie universelle"),
        "es": ("cobertura universal de salud", "cobertura sanitaria universal",
               "cobertura universal"),
        "nl": ("universele gezondheidsdekking", "universele gezondheidszorg",
               "universele ziektekostendekking"),
    },
    "due_diligence": {
        "en": ("due diligence", "duty of vigilance"),
        "fr": ("devoir de vigilance", "diligence raisonnable"),
        "es": ("debida diligencia", "deber de vigilancia"),
        "nl": ("gepaste zorgvuldigheid", "due diligence", "zorgplicht"),
    },
    "supply_chains": {
        "en": ("supply chain*", "value chain*", "supplier*", "subcontractor*"),
        "fr": ("chaine* d approvisionnement", "chaine* de valeur", "filiere*",
               "sous traitant*", "fournisseur*"),
        "es": ("cadena* de suministro", "cadena* de valor", "cadena* de proveedores",
               "proveedor*", "subcontratista*"),
        "nl": ("waardeketen*", "toeleveringsketen*", "toeleverancier*", "onderaannemer*",
               "keten*"),
    },
    "just_transition": {
        "en": ("just transition",),
        "fr": ("transition juste",),
        "es": ("transicion justa",),
        "nl": ("rechtvaardige transitie", "eerlijke transitie"),
    },
    "green_jobs": {
        "en": ("green job*",),
        "fr": ("emploi* vert*",),
        "es": ("empleo* verde*",),
        "nl": ("groene banen", "groene job*"),
    },
    "informal_economy": {
        "en": ("informal*",),
        "fr": ("informel*", "informalite"),
        "es": ("informal*",),
        "nl": ("informele",),
    },
    "collective_bargaining": {
        "en": ("collective bargaining", "bargain* collectively", "collective agreement*"),
        "fr": ("negociation* collective*", "negocier collectivement", "convention* collective*",
               "accord* collectif*"),
        "es": ("negociacion* colectiva*", "negociar colectivamente", "convenio* colectivo*"),
        "nl": ("collectief onderhandel*", "collectieve onderhandeling*", "cao",
               "collectieve arbeidsovereenkomst*"),
    },
    "minimum_wage": {
        "en": ("minimum wage*", "statutory minimum"),
        "fr": ("salaire* minimum*", "smic"),
        "es": ("salario* minimo*",),
        "nl": ("minimumloon", "minimumlonen", "wettelijk minimum"),
    },
    "living_wage": {
        "en": ("living wage*",),
        "fr": ("salaire* vita*", "revenu* vital*"),
        "es": ("salario* digno*", "salario* vital*"),
        "nl": ("leefbaar loon", "leefbare lonen", "leefloon"),
    },
    "occupational_safety_and_health": {
        "en": ("occupational safety", "occupational health", "health and safety",
               "safety and health"),
        "fr": ("sante et securite", "securite et sante"),
        "es": ("seguridad y salud", "salud y seguridad"),
        "nl": ("veiligheid en gezondheid", "gezondheid en veiligheid", "arbeidsveiligheid",
               "welzijn op het werk"),
    },
    "gender_equality": {
        "en": ("gender equality", "women and men", "men and women"),
        "fr": ("egalite de genre", "egalite femmes hommes", "femmes et hommes",
               "hommes et femmes"),
        "es": ("igualdad de genero", "mujeres y hombres", "hombres y mujeres"),
        "nl": ("gendergelijkheid", "vrouwen en mannen", "mannen en vrouwen"),
    },
    "gender_pay_gap": {
        "en": ("gender pay gap", "pay gap*", "equal pay"),
        "fr": ("ecart* salaria*", "egalite salariale"),
        "es": ("brecha salarial", "igualdad salarial"),
        "nl": ("loonkloof", "gelijk loon", "loonverschil*"),
    },
    "violence_and_harassment": {
        "en": ("harassment", "c190", "convention 190"),
        "fr": ("harcelement", "c190", "convention 190"),
        "es": ("acoso", "c190", "convenio 190"),
        "nl": ("intimidatie", "grensoverschrijdend gedrag", "c190", "verdrag 190"),
    },
    "maternity_protection": {
        "en": ("maternity",),
        "fr": ("maternite",),
        "es": ("maternidad",),
        "nl": ("moederschap*", "zwangerschapsverlof", "bevallingsverlof"),
    },
    "youth_employment": {
        "en": ("youth", "young people", "young worker*"),
        "fr": ("jeunes", "jeunesse"),
        "es": ("jovenes", "juvenil", "juventud"),
        "nl": ("jongeren", "jeugd*"),
    },
    "apprenticeships": {
        "en": ("apprentice*", "vocational training"),
        "fr": ("apprenti*", "formation professionnelle"),
        "es": ("aprendiz*", "formacion profesional"),
        "nl": ("leerwerk*", "leercontract*", "duaal leren"),
    },
    "migrant_workers": {
        "en": ("migra*",),
        "fr": ("migra*",),
        "es": ("migra*",),
        "nl": ("migra*", "arbeidsmigrant*"),
    },
    "fair_recruitment": {
        "en": ("recruitment fee*", "recruitment cost*", "fair recruitment"),
        "fr": ("frais de recrutement", "recrutement equitable"),
        "es": ("costos de contratacion", "tasas de contratacion", "reclutamiento equitativo"),
        "nl": ("wervingskosten", "eerlijke werving"),
    },
    "child_labour": {
        "en": ("child labour", "child labor"),
        "fr": ("travail des enfants",),
        "es": ("trabajo infantil",),
        "nl": ("kinderarbeid",),
    },
    "cooperatives": {
        "en": ("cooperati*", "co operative*"),
        "fr": ("cooperati*",),
        "es": ("cooperativ*",),
        "nl": ("cooperatie*", "cooperatief"),
    },
    "health_mutuals": {
        "en": ("health mutual*", "mutuals", "mutual health*", "mutual insurance"),
        "fr": ("mutuelle*", "mutualiste*"),
        "es": ("mutual* de salud", "mutuales", "mutualidad*"),
        "nl": ("ziekenfonds*", "mutualiteit*", "ziekenkas*"),
    },
    "domestic_workers": {
        "en": ("domestic work*", "household work*", "domestic employee*"),
        "fr": ("travail* domestique*", "employe* de maison", "aide* menagere*"),
        "es": ("trabaja* domestic*", "trabaja* del hogar", "emplead* del hogar"),
        "nl": ("huishoud*", "dienstbode*", "huispersoneel"),
    },
    "platform_workers": {
        "en": ("platform*", "gig economy", "gig work*"),
        "fr": ("plateforme*", "uberisation"),
        "es": ("plataforma*",),
        "nl": ("platform*", "platformwerk*"),
    },
    "labour_inspection": {
        "en": ("labour inspect*", "labor inspect*"),
        "fr": ("inspect* du travail",),
        "es": ("inspec* de trabajo", "inspec* del trabajo"),
        "nl": ("arbeidsinspect*", "sociale inspectie", "inspectie van het werk"),
    },
    "freedom_of_association": {
        "en": ("freedom of association", "union rights", "trade union rights"),
        "fr": ("liberte syndicale", "droits syndicaux", "liberte d association"),
        "es": ("libertad sindical", "derechos sindicales", "libertad de asociacion"),
        "nl": ("vakbondsvrijheid", "syndicale vrijheid", "vrijheid van vereniging"),
    },
    "trade_unions": {
        "en": ("union", "unions", "unionist*", "trade union*", "shop steward*"),
        "fr": ("syndica*",),
        "es": ("sindica*",),
        "nl": ("vakbond*", "vakbonds*", "syndica*"),
    },
    "pensions": {
        "en": ("pension*", "retirement"),
        "fr": ("retraite*", "pension*"),
        "es": ("pension*", "jubilacion*"),
        "nl": ("pensioen*",),
    },
    "unemployment": {
        "en": ("unemploy*",),
        "fr": ("chomage", "chomeur*"),
        "es": ("desempleo", "desemplead*", "paro"),
        "nl": ("werkloos*", "werkloosheid*"),
    },
}

#: Up to this many words may sit between two words of a variant.
GAP = 2


def _variant_pattern(variant: str) -> str:
    """A regex for one variant: whole words, `*` for any ending, short gaps between words."""
    words = []
    for word in variant.split():
        stem = re.escape(word.rstrip("*"))
        words.append(stem + (r"\w*" if word.endswith("*") else ""))
    gap = r"\s+(?:\w+\s+){0," + str(GAP) + r"}?"
    return r"\b" + gap.join(words) + r"\b"


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """One compiled alternation per concept, every language's variants together (a French
    text may well use an English term)."""
    compiled = {}
    for concept, by_language in CONCEPTS.items():
        variants = sorted({v for vs in by_language.values() for v in vs}, key=len, reverse=True)
        compiled[concept] = re.compile("|".join(_variant_pattern(v) for v in variants))
    return compiled


@cache
def _first_words() -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """A pattern finding any variant's first word (its stem), longest first, and for each stem
    the concepts that may start there (those with that stem or a shorter one it begins with).

    Why: most texts name few concepts; one scan for first words picks the concepts worth a full
    search (about ten times faster than searching every concept, same result).
    """
    stems: dict[str, set[str]] = {}
    for concept, by_language in CONCEPTS.items():
        for variant in (v for vs in by_language.values() for v in vs):
            stems.setdefault(variant.split()[0].rstrip("*"), set()).add(concept)
    ordered = sorted(stems, key=len, reverse=True)
    finder = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in ordered) + ")")
    concepts_at = {s: frozenset(c for t in stems if s.startswith(t) for c in stems[t])
                   for s in stems}
    return finder, concepts_at


def concepts(folded: str) -> frozenset[str]:
    """The concepts a folded text names (fold it first with `duplicates.normalise`)."""
    finder, concepts_at = _first_words()
    candidates = {c for stem in set(finder.findall(folded)) for c in concepts_at[stem]}
    patterns = _patterns()
    return frozenset(c for c in candidates if patterns[c].search(folded))
