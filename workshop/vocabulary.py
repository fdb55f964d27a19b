"""The domain's fixed vocabularies, each value with a translatable label."""

from __future__ import annotations

import unicodedata

from babel import Locale
from flask_babel import lazy_gettext as _l

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "nl": "Nederlands"}

WORKSHOP_KINDS = {"virtual": _l("Virtual"), "face_to_face": _l("Face-to-face")}

STEP_KINDS = {
    "welcome": _l("Welcome"),
    "propose": _l("Propose"),
    "discuss": _l("Discuss"),
    "vote": _l("Vote"),
    "results": _l("Results"),
    "action_plan": _l("Action plan"),
    "free_text": _l("Free text"),
}

REGIONS = {
    "latin_america": _l("Latin America and the Caribbean"),
    "west_africa": _l("West Africa"),
    "central_africa": _l("Central Africa"),
    "asia": _l("Asia"),
    "belgium": _l("Belgium"),
}

ORG_TYPES = {
    "trade_union": _l("Trade union"),
    "health_mutual": _l("Health mutual"),
    "cooperative": _l("Cooperative"),
    "womens_org": _l("Women's organisation"),
    "youth_org": _l("Youth organisation"),
    "elderly_org": _l("Older people's organisation"),
    "farmers_org": _l("Farmers' organisation"),
    "ngo": _l("NGO"),
    "microcredit": _l("Microcredit organisation"),
}

THEMES = {
    "decent_work": _l("Decent work and job creation (social and solidarity economy)"),
    "social_dialogue": _l("Social dialogue and civic space"),
    "health_protection": _l("Health and universal social protection"),
    "labour_rights": _l("Labour rights: just transition and human-rights due diligence"),
}

LEVELS = {
    "national": _l("National"),
    "continental": _l("Continental"),
    "international": _l("International"),
}

TAGS = {
    "gender": _l("Gender"),
    "climate": _l("Climate"),
    "informal_economy": _l("Informal economy"),
    "youth": _l("Youth"),
}

#: Countries of the programme and their region (imports may give a country instead of an
#: organisation).
COUNTRY_REGIONS = {
    "Burundi": "central_africa", "Rwanda": "central_africa", "DR Congo": "central_africa",
    "Cameroon": "central_africa", "Senegal": "west_africa", "Burkina Faso": "west_africa",
    "Benin": "west_africa", "Togo": "west_africa", "Guinea": "west_africa",
    "Mali": "west_africa", "Mauritania": "west_africa", "Niger": "west_africa",
    "Bolivia": "latin_america", "Peru": "latin_america", "Guatemala": "latin_america",
    "Dominican Republic": "latin_america", "Haiti": "latin_america", "India": "asia",
    "Nepal": "asia", "Indonesia": "asia", "Philippines": "asia", "Bangladesh": "asia",
    "Cambodia": "asia", "Belgium": "belgium",
}

#: Each programme country's ISO 3166 code: its names in the four languages come from CLDR
#: (Babel), so an import may say "Sénégal", "Senegal" or "Bélgica".
COUNTRY_CODES = {
    "Burundi": "BI", "Rwanda": "RW", "DR Congo": "CD", "Cameroon": "CM", "Senegal": "SN",
    "Burkina Faso": "BF", "Benin": "BJ", "Togo": "TG", "Guinea": "GN", "Mali": "ML",
    "Mauritania": "MR", "Niger": "NE", "Bolivia": "BO", "Peru": "PE", "Guatemala": "GT",
    "Dominican Republic": "DO", "Haiti": "HT", "India": "IN", "Nepal": "NP", "Indonesia": "ID",
    "Philippines": "PH", "Bangladesh": "BD", "Cambodia": "KH", "Belgium": "BE",
}
#: Names CLDR does not give that people write.
_COUNTRY_ALIASES = {
    "DR Congo": ("DRC", "RDC", "RD Congo", "Democratic Republic of the Congo",
                 "République démocratique du Congo", "República Democrática del Congo",
                 "Democratische Republiek Congo"),
}


def _plain(text: str) -> str:
    """A name as compared: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").split()).casefold()


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for language in ("en", "fr", "es", "nl"):
        territories = Locale(language).territories
        for country, code in COUNTRY_CODES.items():
            names[_plain(territories.get(code, country))] = country
    for country in COUNTRY_CODES:
        names[_plain(country)] = country
        for alias in _COUNTRY_ALIASES.get(country, ()):
            names[_plain(alias)] = country
    return names


_COUNTRY_NAMES = _country_names()


def country_named(text: str) -> str | None:
    """The programme country a name means, in any of the four languages, accents or not."""
    return _COUNTRY_NAMES.get(_plain(text))


#: The four pillars of the ILO Decent Work Agenda, for action plans.
ILO_PILLARS = {
    "employment": _l("Employment creation"),
    "rights": _l("Rights at work"),
    "social_protection": _l("Social protection"),
    "social_dialogue": _l("Social dialogue"),
}

#: SDG targets the programme's plans refer to.
SDG_TARGETS = {
    "1.3": _l("1.3 Social protection systems and floors for all"),
    "3.8": _l("3.8 Universal health coverage"),
    "5.4": _l("5.4 Recognise and value unpaid care work"),
    "5.5": _l("5.5 Women's full participation and leadership"),
    "8.3": _l("8.3 Decent job creation and formalisation"),
    "8.5": _l("8.5 Full employment and decent work for all"),
    "8.7": _l("8.7 End forced labour and child labour"),
    "8.8": _l("8.8 Protect labour rights and safe working environments"),
    "10.4": _l("10.4 Fiscal, wage and social protection policies for equality"),
    "13.1": _l("13.1 Resilience to climate-related hazards"),
    "16.7": _l("16.7 Responsive, inclusive and participatory decision-making"),
    "16.10": _l("16.10 Public access to information and fundamental freedoms"),
}

#: How likely a risk of an action plan is.
LIKELIHOODS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}

#: The programme's years, the columns of an action plan's activities.
PROGRAMME_YEARS = ("2027", "2028", "2029", "2030", "2031")
