"""The domain's fixed vocabularies, each value with a translatable label."""

from __future__ import annotations

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
