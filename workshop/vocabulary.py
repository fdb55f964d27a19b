"""The domain's fixed vocabularies, each value with a translatable label."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "nl": "Nederlands"}

WORKSHOP_KINDS = {"virtual": _l("Virtual"), "face_to_face": _l("Face to face")}

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
    "elderly_org": _l("Elderly organisation"),
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
