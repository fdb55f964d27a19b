"""Registration in real browsers: an organiser imports a file of delegates, downloads the
sheet of badges, and each badge's QR code, read back from the printed page, logs a phone in
as its delegate.

The PDF is drawn to PNG with `pdftoppm` (poppler-utils) and the codes are read with `zbarimg`
(zbar-tools), as a phone's camera would read the paper.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.people import Room, Setup, no_horizontal_scroll, online
from tests.helpers import create_workshop
from tests.registration.files import HEADER, xlsx_file

pytestmark = pytest.mark.browser

PEOPLE = {"Amina Diallo": "CNTS Sénégal", "सीता शर्मा": "Nepal Women Forum"}


def read_qr_codes(pdf: Path) -> list[str]:
    """Every QR code on the PDF's pages, as printed at 150 dpi."""
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (poppler-utils, zbar-tools)")
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(pdf.with_suffix(""))],
                   check=True, capture_output=True)
    pages = sorted(pdf.parent.glob(pdf.stem + "*.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", *map(str, pages)],
                           capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if line.strip()]


def test_badges_qr_code_logs_the_phone_in(room: Room, cast: Setup, tmp_path: Path):
    workshop = create_workshop(cast.organiser, steps=2)
    rows = [HEADER,
            ["Amina Diallo", "amina@example.org", "CNTS Sénégal", "Senegal", "",
             "trade_union", "fr"],
            ["सीता शर्मा", "", "Nepal Women Forum", "Nepal", "", "womens_org", "en"]]
    desk = room.staff(cast.organiser, f"/w/{workshop.id}/registration")
    desk.locator("#file").set_input_files(files=[{
        "name": "delegates.xlsx", "buffer": xlsx_file(rows),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    desk.locator("#registration-check").click()
    expect(desk.locator("#registration-preview tbody tr")).to_have_count(2)
    desk.locator("#registration-confirm").click()
    expect(desk.locator("#issued-links tbody tr")).to_have_count(2)

    with desk.expect_download() as download:
        desk.locator("#download-badges").click()
    pdf = tmp_path / "badges.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    urls = read_qr_codes(pdf)
    assert len(urls) == 2, urls
    shown = desk.locator("#issued-links input").evaluate_all("els => els.map(e => e.value)")
    assert sorted(urls) == sorted(shown)

    seen = {}
    for url in urls:
        assert re.fullmatch(re.escape(room.live.url) + r"/i/[A-Za-z0-9_-]+", url)
        phone = room.phone()  # a fresh phone (360 px, touch), nobody logged in
        phone.goto(url)
        expect(phone).to_have_url(re.compile(r"/d$"))
        online(phone)
        who = phone.locator(".who").inner_text()
        name = next(n for n in PEOPLE if n in who)
        assert PEOPLE[name] in who
        seen[name] = url
        no_horizontal_scroll(phone)
    assert set(seen) == set(PEOPLE)
