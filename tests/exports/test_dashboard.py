"""The organiser's dashboard: participation by region, organisation type and country, lines of
work by theme and level, ballots with turnout and results, every export one click away."""

from __future__ import annotations

import html
import re

from tests.exports.conftest import staff_client
from tests.helpers import join
from workshop.exports.tables import TABLES


def section(page: str, name: str) -> str:
    """The HTML of one <section id=...> of the page."""
    start = page.index(f'id="{name}"')
    return page[start:page.index("</section>", start)]


def group_counts(page: str, name: str) -> dict[str, dict[str, int]]:
    """{group: {"delegates", "joined", "organisations"}} of a participation table."""
    out = {}
    for group, row in re.findall(r'<tr data-group="([^"]+)">(.*?)</tr>', section(page, name),
                                 re.S):
        out[html.unescape(group)] = {k: int(v) for k, v in
                                     re.findall(r'data-count="(\w+)">(\d+)<', row)}
    return out


def test_participation_by_region_type_and_country(app, room):
    page = staff_client(app, room.organiser).get(
        f"/w/{room.workshop.id}/dashboard").get_data(as_text=True)
    assert "13 of 13 delegates have joined, from 7 organisations." in page
    regions = group_counts(page, "by-region")
    assert list(regions) == ["latin_america", "west_africa", "central_africa", "asia",
                             "belgium"]  # every region, in the vocabulary's order
    assert regions["west_africa"] == {"delegates": 5, "joined": 5, "organisations": 2}
    assert regions["asia"] == {"delegates": 4, "joined": 4, "organisations": 2}
    assert regions["latin_america"] == {"delegates": 2, "joined": 2, "organisations": 1}
    assert regions["belgium"] == regions["central_africa"] == {
        "delegates": 1, "joined": 1, "organisations": 1}
    types = group_counts(page, "by-org-type")
    assert types["health_mutual"] == {"delegates": 5, "joined": 5, "organisations": 2}
    assert types["ngo"] == {"delegates": 1, "joined": 1, "organisations": 1}
    assert list(types)[0] == "health_mutual"  # largest first
    assert set(types) == {"health_mutual", "farmers_org", "cooperative", "trade_union",
                          "youth_org", "ngo"}
    countries = group_counts(page, "by-country")
    assert countries == {
        "Senegal": {"delegates": 3, "joined": 3, "organisations": 1},
        "Peru": {"delegates": 2, "joined": 2, "organisations": 1},
        "Benin": {"delegates": 2, "joined": 2, "organisations": 1},
        "Nepal": {"delegates": 2, "joined": 2, "organisations": 1},
        "Cambodia": {"delegates": 2, "joined": 2, "organisations": 1},
        "Belgium": {"delegates": 1, "joined": 1, "organisations": 1},
        "DR Congo": {"delegates": 1, "joined": 1, "organisations": 1},
    }


def test_lines_of_work_by_theme_and_level(app, room):
    """Lines of work: merged proposals count once (as their merge), hidden ones not at all."""
    page = staff_client(app, room.organiser).get(
        f"/w/{room.workshop.id}/dashboard").get_data(as_text=True)
    themes = section(page, "themes")
    assert "3 lines of work (6 proposals in all, merged and hidden ones included)." in themes
    cells = {theme: dict(re.findall(r'data-level="(\w+)">(\d+)<', row))
             for theme, row in re.findall(r'<tr data-theme="(\w+)">(.*?)</tr>', themes, re.S)}
    assert cells["health_protection"] == {"national": "1", "continental": "0",
                                          "international": "0"}
    assert cells["decent_work"]["continental"] == "1"
    assert cells["social_dialogue"]["international"] == "1"
    assert cells["labour_rights"] == {"national": "0", "continental": "0", "international": "0"}


def test_ballots_with_turnout_and_links_to_their_results(app, room):
    client = staff_client(app, room.organiser)
    page = client.get(f"/w/{room.workshop.id}/dashboard").get_data(as_text=True)
    ballots = section(page, "ballots")
    rows = dict(re.findall(r'<tr data-ballot-id="(\d+)">(.*?)</tr>', ballots, re.S))
    assert list(rows) == [str(b.id) for b in (room.open_ballot, room.secret, room.named)]
    expected = {room.named.id: (13, 13), room.secret.id: (12, 13), room.open_ballot.id: (0, 13)}
    for ballot_id, (voted, eligible) in expected.items():
        row = rows[str(ballot_id)]
        assert f'data-voted="{voted}" data-eligible="{eligible}"' in row
        assert f"Voted: {voted} of {eligible}" in row
        link = f"/w/{room.workshop.id}/ballots/{ballot_id}/results"
        assert f'href="{link}"' in row
    assert "Secret ballot" in rows[str(room.secret.id)]
    assert client.get(f"/w/{room.workshop.id}/ballots/{room.named.id}/results").status_code == 200


def test_every_export_is_one_click_away(app, room):
    client = staff_client(app, room.organiser)
    page = client.get(f"/w/{room.workshop.id}/dashboard").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', section(page, "exports"))]
    base = f"/w/{room.workshop.id}"
    assert {f"{base}/exports.zip", f"{base}/exports.xlsx", f"{base}/exports.json"} <= set(links)
    assert {f"{base}/exports/{name}.csv" for name in TABLES} <= set(links)
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["Content-Disposition"].startswith("attachment"), link
        assert response.data, link  # read to the end, as a browser does


def test_the_manage_page_links_to_the_dashboard(app, room):
    page = staff_client(app, room.organiser).get(
        f"/w/{room.workshop.id}/manage").get_data(as_text=True)
    assert f'href="/w/{room.workshop.id}/dashboard"' in page


def test_facilitators_see_it_delegates_do_not(app, room):
    page = staff_client(app, room.facilitator).get(f"/w/{room.workshop.id}/dashboard")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/w/{room.workshop.id}/manage" not in text  # organisers prepare the workshop
    assert "Jan Peeters" not in text  # counts, never names
    assert 'data-ballot-id="' in text
    assert "audit.csv" not in text
    delegate = app.test_client()
    join(delegate, room.workshop, room.organisations[0], name="Curious")
    assert delegate.get(f"/w/{room.workshop.id}/dashboard").status_code == 403
