"""Four languages: pages follow the reader's choice, and every catalog is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers import create_organisation, create_workshop, join

CATALOGS = Path(__file__).resolve().parent.parent / "workshop" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.mark.parametrize(("lang", "text"), [("en", "Join a workshop"),
                                             ("fr", "Rejoindre un atelier"),
                                             ("es", "Unirse a un taller"),
                                             ("nl", "Aanmelden voor een workshop")])
def test_landing_page_in_each_language(client, lang, text):
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert text in html
    # The choice sticks for the next page.
    assert text in client.get("/").get_data(as_text=True)


def test_browser_language_is_the_default(client):
    html = client.get("/", headers={"Accept-Language": "es-PE,es;q=0.9"}).get_data(as_text=True)
    assert "Unirse a un taller" in html


def test_delegate_keeps_the_language_chosen_before_joining(client):
    workshop = create_workshop()
    client.get("/?lang=nl")
    join(client, workshop, create_organisation(region="belgium", country="Belgium"))
    html = client.get("/d").get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert "Verbinden…" in html


@pytest.mark.parametrize("lang", ["fr", "es", "nl"])
def test_catalog_is_complete_and_keeps_placeholders(lang):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == [], f"untranslated in {lang}: {missing[:10]}"
    for m in catalog:
        if m.id:
            assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id


def test_every_wrapped_string_is_in_every_catalog(tmp_path):
    """A string wrapped for translation but never extracted would stay English for everyone."""
    import subprocess
    import sys

    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
                   cwd=CATALOGS.parent.parent, check=True, capture_output=True)
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    for lang in ("fr", "es", "nl"):
        with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            catalog = read_po(f)
        have = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        missing = sorted(str(m) for m in wanted - have)
        assert missing == [], f"not translated in {lang}: {missing[:10]}"
