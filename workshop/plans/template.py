"""Action-plan templates: ordered sections of typed fields, labelled in the four languages.

A template is plain data (JSON-ready dicts) so an organiser can edit it per workshop and a
plan keeps the exact version it was written from. This module knows the field kinds, the
default template (every field of the programme's action plans) and how to check one.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from workshop.errors import ValidationFailed
from workshop.validation import whole_number
from workshop.vocabulary import (
    COUNTRY_REGIONS,
    ILO_PILLARS,
    LEVELS,
    LIKELIHOODS,
    PROGRAMME_YEARS,
    REGIONS,
    SDG_TARGETS,
    THEMES,
)

LANGS = ("en", "fr", "es", "nl")

#: Field kinds: one line, a paragraph, a list of items, a table, a choice among options.
KINDS = ("text", "longtext", "list", "table", "choice")
#: Kinds of a table's columns.
COLUMN_KINDS = ("text", "check", "choice")
#: Where a choice's options come from (organisations are the network's, read at run time).
SOURCES = ("organisations", "countries", "regions", "themes", "levels", "ilo_pillars",
           "sdg_targets", "likelihood")

#: Length limits a template may set, and the defaults per kind.
MAX_LENGTH = {"text": 300, "longtext": 20000, "list": 1000, "table": 2000}
MAX_ITEMS = 200


def fixed_options(source: str) -> dict[str, Any]:
    """The options of a fixed vocabulary (organisations are not fixed: see plans.services)."""
    return {
        "countries": {name: name for name in COUNTRY_REGIONS},
        "regions": REGIONS,
        "themes": THEMES,
        "levels": LEVELS,
        "ilo_pillars": ILO_PILLARS,
        "sdg_targets": SDG_TARGETS,
        "likelihood": LIKELIHOODS,
    }.get(source, {})


def _t(en: str, fr: str, es: str, nl: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "es": es, "nl": nl}


def _field(key: str, kind: str, label: dict, help_: dict | None = None, **extra: Any) -> dict:
    field = {"key": key, "kind": kind, "label": label, "help": help_ or _t("", "", "", "")}
    field.update(extra)
    return field


def _col(key: str, kind: str, label: dict, **extra: Any) -> dict:
    return {"key": key, "kind": kind, "label": label, **extra}


_YEARS = [_col(y, "check", _t(y, y, y, y)) for y in PROGRAMME_YEARS]

#: The default template: every field of a global action plan of the programme.
DEFAULT_TEMPLATE: dict[str, Any] = {"sections": [
    {"key": "line", "title": _t("Line of work", "Axe de travail", "Línea de trabajo",
                                "Werklijn"),
     "fields": [
         _field("title", "text", _t("Title", "Titre", "Título", "Titel"),
                max_length=200),
         _field("theme", "choice", _t("Theme", "Thème", "Tema", "Thema"),
                source="themes", multiple=False),
         _field("level", "choice", _t("Levels", "Niveaux", "Niveles", "Niveaus"),
                _t("Where the plan works: national, continental, international.",
                   "Où le plan agit : national, continental, international.",
                   "Dónde actúa el plan: nacional, continental, internacional.",
                   "Waar het plan werkt: nationaal, continentaal, internationaal."),
                source="levels", multiple=True),
     ]},
    {"key": "context", "title": _t("Context and problem", "Contexte et problème",
                                   "Contexto y problema", "Context en probleem"),
     "fields": [
         _field("context", "longtext",
                _t("Context and problem", "Contexte et problème", "Contexto y problema",
                   "Context en probleem"),
                _t("What the country consultations and proposals say about the problem.",
                   "Ce que disent les consultations nationales et les propositions.",
                   "Lo que dicen las consultas nacionales y las propuestas.",
                   "Wat de landenconsultaties en voorstellen over het probleem zeggen.")),
         _field("discussion", "list",
                _t("Points from the discussion", "Points de la discussion",
                   "Puntos de la discusión", "Punten uit de discussie")),
     ]},
    {"key": "objective", "title": _t("Five-year objective", "Objectif à cinq ans",
                                     "Objetivo a cinco años", "Doelstelling op vijf jaar"),
     "fields": [
         _field("objective", "longtext",
                _t("Objective for 2027–2031", "Objectif pour 2027–2031",
                   "Objetivo para 2027–2031", "Doelstelling voor 2027–2031")),
     ]},
    {"key": "results", "title": _t("Expected results", "Résultats attendus",
                                   "Resultados esperados", "Verwachte resultaten"),
     "fields": [
         _field("results_national", "longtext",
                _t("National level", "Niveau national", "Nivel nacional", "Nationaal niveau")),
         _field("results_continental", "longtext",
                _t("Continental level", "Niveau continental", "Nivel continental",
                   "Continentaal niveau")),
         _field("results_international", "longtext",
                _t("International level", "Niveau international", "Nivel internacional",
                   "Internationaal niveau")),
     ]},
    {"key": "activities", "title": _t("Key activities", "Activités clés", "Actividades clave",
                                      "Kernactiviteiten"),
     "fields": [
         _field("activities", "table",
                _t("Activities by year", "Activités par année", "Actividades por año",
                   "Activiteiten per jaar"),
                _t("Tick the years in which each activity takes place.",
                   "Cochez les années de chaque activité.",
                   "Marque los años de cada actividad.",
                   "Vink de jaren van elke activiteit aan."),
                columns=[_col("activity", "text", _t("Activity", "Activité", "Actividad",
                                                     "Activiteit")),
                         _col("level", "choice", _t("Level", "Niveau", "Nivel", "Niveau"),
                              source="levels"),
                         *_YEARS]),
     ]},
    {"key": "partners", "title": _t("Organisations and countries", "Organisations et pays",
                                    "Organizaciones y países", "Organisaties en landen"),
     "fields": [
         _field("lead", "choice", _t("Lead organisations", "Organisations cheffes de file",
                                     "Organizaciones líderes", "Trekkende organisaties"),
                source="organisations", multiple=True),
         _field("partners", "choice", _t("Partner organisations", "Organisations partenaires",
                                         "Organizaciones socias", "Partnerorganisaties"),
                _t("Pre-filled with the organisations that proposed or supported the line.",
                   "Pré-rempli avec les organisations qui ont proposé ou soutenu l'axe.",
                   "Prellenado con las organizaciones que propusieron o apoyaron la línea.",
                   "Vooraf ingevuld met de organisaties die de lijn voorstelden of steunden."),
                source="organisations", multiple=True),
         _field("countries", "choice", _t("Countries", "Pays", "Países", "Landen"),
                source="countries", multiple=True),
         _field("regions", "choice", _t("Regions", "Régions", "Regiones", "Regio's"),
                source="regions", multiple=True),
     ]},
    {"key": "frames", "title": _t("Reference frames", "Cadres de référence",
                                  "Marcos de referencia", "Referentiekaders"),
     "fields": [
         _field("ilo_pillars", "choice",
                _t("ILO Decent Work pillars", "Piliers du travail décent de l'OIT",
                   "Pilares del trabajo decente de la OIT", "IAO-pijlers van waardig werk"),
                source="ilo_pillars", multiple=True),
         _field("sdg_targets", "choice", _t("SDG targets", "Cibles des ODD", "Metas de los ODS",
                                            "SDG-subdoelen"),
                source="sdg_targets", multiple=True),
     ]},
    {"key": "indicators", "title": _t("Indicators", "Indicateurs", "Indicadores",
                                      "Indicatoren"),
     "fields": [
         _field("indicators", "table",
                _t("Indicators", "Indicateurs", "Indicadores", "Indicatoren"),
                columns=[_col("indicator", "text", _t("Indicator", "Indicateur", "Indicador",
                                                      "Indicator")),
                         _col("baseline", "text", _t("Baseline", "Situation de départ",
                                                     "Línea de base", "Nulmeting")),
                         _col("target", "text", _t("Target", "Cible", "Meta", "Streefwaarde")),
                         _col("source", "text", _t("Source", "Source", "Fuente", "Bron"))]),
     ]},
    {"key": "risks", "title": _t("Risks and mitigation", "Risques et atténuation",
                                 "Riesgos y mitigación", "Risico's en beheersing"),
     "fields": [
         _field("risks", "table",
                _t("Risks", "Risques", "Riesgos", "Risico's"),
                _t("For example: shrinking civic space.",
                   "Par exemple : rétrécissement de l'espace civique.",
                   "Por ejemplo: reducción del espacio cívico.",
                   "Bijvoorbeeld: krimpende maatschappelijke ruimte."),
                columns=[_col("risk", "text", _t("Risk", "Risque", "Riesgo", "Risico")),
                         _col("likelihood", "choice", _t("Likelihood", "Probabilité",
                                                         "Probabilidad", "Waarschijnlijkheid"),
                              source="likelihood"),
                         _col("mitigation", "text", _t("Mitigation", "Atténuation",
                                                       "Mitigación", "Beheersing"))]),
     ]},
    {"key": "resources", "title": _t("Resources", "Ressources", "Recursos", "Middelen"),
     "fields": [
         _field("resources", "longtext",
                _t("Resources needed", "Ressources nécessaires", "Recursos necesarios",
                   "Benodigde middelen"),
                _t("People, money and means, per year where known.",
                   "Personnes, budget et moyens, par année si possible.",
                   "Personas, presupuesto y medios, por año si se conoce.",
                   "Mensen, geld en middelen, per jaar indien bekend.")),
     ]},
]}


def default_template() -> dict[str, Any]:
    """A fresh copy of the default template (callers may change it)."""
    return copy.deepcopy(DEFAULT_TEMPLATE)


def fields_of(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field of a template, in order."""
    return [field for section in template.get("sections", []) for field in section["fields"]]


def field_map(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's fields by key."""
    return {field["key"]: field for field in fields_of(template)}


def label(text: dict[str, str] | None, lang: str) -> str:
    """A label in the reader's language, falling back to English, then to any language."""
    if not text:
        return ""
    return text.get(lang) or text.get("en") or next((v for v in text.values() if v), "")


def max_length(field: dict[str, Any]) -> int:
    """The longest text a field (or one cell or item of it) may hold."""
    return int(field.get("max_length") or MAX_LENGTH.get(field["kind"], 1000))


def empty_value(field: dict[str, Any]) -> Any:
    """A field's value before anybody wrote in it."""
    if field["kind"] in ("text", "longtext"):
        return ""
    if field["kind"] == "choice" and not field.get("multiple"):
        return ""
    return []


def is_filled(field: dict[str, Any], value: Any) -> bool:
    """Whether a field counts as filled in a plan's progress."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(
            (isinstance(v, dict) and any(str(c).strip() for k, c in v.items()
                                         if k != "_id" and not isinstance(c, bool)))
            or (isinstance(v, str) and v.strip())
            for v in value
        )
    return False


_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _need(cond: bool, path: str, message: Any) -> None:
    if not cond:
        raise ValidationFailed(_l("Some fields need correcting."), **{path: message})


def _check_labels(value: Any, path: str, required: bool) -> None:
    _need(isinstance(value, dict) and set(value) <= set(LANGS), path,
          _l("Give the text in English, French, Spanish or Dutch."))
    for lang, text in value.items():
        _need(isinstance(text, str) and len(text) <= 500, f"{path}.{lang}",
              _l("Enter at most %(n)s characters.", n=500))
    if required:
        _need(any(str(t).strip() for t in value.values()), path, _l("This field is required."))


def check_template(template: Any) -> dict[str, Any]:
    """Check an edited template's shape and return it; every problem names its place.

    :raise ValidationFailed: e.g. `sections.2.fields.0.kind` is not a known kind.
    """
    _need(isinstance(template, dict) and isinstance(template.get("sections"), list),
          "sections", _l("This value has the wrong type."))
    _need(0 < len(template["sections"]) <= 40, "sections", _l("Keep between 1 and 40 sections."))
    keys: set[str] = set()
    for s, section in enumerate(template["sections"]):
        spath = f"sections.{s}"
        _need(isinstance(section, dict) and isinstance(section.get("fields"), list), spath,
              _l("This value has the wrong type."))
        _check_labels(section.get("title"), f"{spath}.title", required=True)
        _need(len(section["fields"]) <= 40, f"{spath}.fields", _l("At most 40 fields."))
        for f, field in enumerate(section["fields"]):
            fpath = f"{spath}.fields.{f}"
            _need(isinstance(field, dict), fpath, _l("This value has the wrong type."))
            key = field.get("key")
            _need(isinstance(key, str) and bool(_KEY.match(key)), f"{fpath}.key",
                  _l("Use lower-case letters, digits and _ only."))
            _need(key not in keys, f"{fpath}.key", _l("Two fields have the same key."))
            keys.add(key)
            _need(field.get("kind") in KINDS, f"{fpath}.kind",
                  _l("Choose one of the offered values."))
            _check_labels(field.get("label"), f"{fpath}.label", required=True)
            _check_labels(field.get("help") or {}, f"{fpath}.help", required=False)
            if field.get("max_length") is not None:
                _need(isinstance(field["max_length"], int)
                      and 1 <= field["max_length"] <= MAX_LENGTH["longtext"],
                      f"{fpath}.max_length", _l("Enter a number of at most %(n)s.",
                                                n=MAX_LENGTH["longtext"]))
            if field["kind"] == "choice":
                _need(field.get("source") in SOURCES, f"{fpath}.source",
                      _l("Choose one of the offered values."))
            if field["kind"] == "table":
                columns = field.get("columns")
                _need(isinstance(columns, list) and 0 < len(columns) <= 12, f"{fpath}.columns",
                      _l("A table has between 1 and 12 columns."))
                ckeys: set[str] = set()
                for c, column in enumerate(columns):
                    cpath = f"{fpath}.columns.{c}"
                    _need(isinstance(column, dict) and column.get("kind") in COLUMN_KINDS,
                          cpath, _l("Choose one of the offered values."))
                    ckey = column.get("key")
                    _need(isinstance(ckey, str) and ckey not in ckeys and ckey != "_id"
                          and bool(re.match(r"^[a-z0-9][a-z0-9_]{0,39}$", ckey)),
                          f"{cpath}.key", _l("Use lower-case letters, digits and _ only."))
                    ckeys.add(ckey)
                    _check_labels(column.get("label"), f"{cpath}.label", required=True)
                    if column["kind"] == "choice":
                        _need(column.get("source") in SOURCES, f"{cpath}.source",
                              _l("Choose one of the offered values."))
    return template


def _slug(text: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    return key[:40] or "field"


def _order(items: list[tuple[float, int, Any]]) -> list[Any]:
    return [item for _pos, _i, item in sorted(items, key=lambda t: (t[0], t[1]))]


def _position(form: Any, name: str, default: int) -> float:
    try:
        return float(form.get(name, default))
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Some fields need correcting."),
                               **{name: _l("Enter a number.")}) from None


def _texts(form: Any, prefix: str, current: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(current or {})
    for lang in LANGS:
        name = f"{prefix}-{lang}"
        if name in form:
            out[lang] = str(form.get(name, "")).strip()
    return {lang: text for lang, text in out.items() if text}


def _columns(spec: str, label_lang: str = "en") -> list[dict[str, Any]]:
    """Columns of a new table from "Activity, Budget, 2027:check, Likelihood:likelihood"."""
    columns = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, kind = part.partition(":")
        column: dict[str, Any] = {"key": _slug(name), "kind": "text",
                                  "label": {label_lang: name.strip()}}
        if kind.strip() == "check":
            column["kind"] = "check"
        elif kind.strip() in SOURCES:
            column.update(kind="choice", source=kind.strip())
        columns.append(column)
    return columns


def from_form(base: dict[str, Any], form: Any) -> dict[str, Any]:
    """The template an organiser's form describes, built on the version it was opened from.

    Names: `s-<i>-title-<lang>`, `s-<i>-pos`, `s-<i>-remove`; for field j of section i the same
    under `s-<i>-f-<j>-` plus `label-<lang>`, `help-<lang>`, `max`; a new field of section i
    under `s-<i>-new-` (`key`, `kind`, `source`, `multiple`, `columns`, `label-<lang>`); a new
    section under `new-` (`key`, `title-<lang>`). A field's key and kind never change: plans
    written from older versions keep their meaning.

    :raise ValidationFailed: a position that is not a number.
    """
    sections: list[tuple[float, int, Any]] = []
    for i, section in enumerate(copy.deepcopy(base.get("sections", []))):
        prefix = f"s-{i}"
        if form.get(f"{prefix}-remove"):
            continue
        section["title"] = _texts(form, f"{prefix}-title", section.get("title"))
        fields: list[tuple[float, int, Any]] = []
        for j, field in enumerate(section.get("fields", [])):
            fprefix = f"{prefix}-f-{j}"
            if form.get(f"{fprefix}-remove"):
                continue
            field["label"] = _texts(form, f"{fprefix}-label", field.get("label"))
            field["help"] = _texts(form, f"{fprefix}-help", field.get("help"))
            raw_max = str(form.get(f"{fprefix}-max", "") or "").strip()
            if raw_max:
                max_length = whole_number(raw_max)
                if max_length is None or max_length < 0:
                    raise ValidationFailed(_l("Some fields need correcting."),
                                           **{f"{fprefix}-max": _l("Enter a whole number.")})
                field["max_length"] = max_length
            fields.append((_position(form, f"{fprefix}-pos", j + 1), j, field))
        new_label = _texts(form, f"{prefix}-new-label")
        if new_label:
            kind = str(form.get(f"{prefix}-new-kind", "text"))
            name = str(form.get(f"{prefix}-new-key", "") or "") or next(iter(new_label.values()))
            field = {"key": _slug(name), "kind": kind, "label": new_label, "help": {}}
            if kind == "choice":
                field["source"] = str(form.get(f"{prefix}-new-source", ""))
                field["multiple"] = bool(form.get(f"{prefix}-new-multiple"))
            if kind == "table":
                field["columns"] = _columns(str(form.get(f"{prefix}-new-columns", "")))
            fields.append((float("inf"), len(fields), field))
        section["fields"] = _order(fields)
        sections.append((_position(form, f"{prefix}-pos", i + 1), i, section))
    new_title = _texts(form, "new-title")
    if new_title:
        name = str(form.get("new-key", "") or "") or next(iter(new_title.values()))
        sections.append((float("inf"), len(sections),
                         {"key": _slug(name), "title": new_title, "fields": []}))
    return {"sections": _order(sections)}
