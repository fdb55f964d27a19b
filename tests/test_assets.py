"""Static files: content-hashed URLs, immutable caching, compressed copies never stale."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import brotli
import pytest
from flask import url_for

from config import TestConfig
from workshop import create_app

STATIC = Path(__file__).resolve().parent.parent / "static"


def static_url(app, filename: str) -> str:
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_static_urls_carry_the_content_hash_and_are_cached_for_good(app, client):
    url = static_url(app, "js/live.js")
    assert re.fullmatch(r"/static/js/live\.js\?v=[0-9a-f]{12}", url)
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=315360000" in response.headers["Cache-Control"] or \
        "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_phone_page_links_versioned_assets(app, client):
    from tests.helpers import create_organisation, create_workshop, join

    workshop = create_workshop()
    join(client, workshop, create_organisation())
    html = client.get("/d").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    assert all("?v=" in a for a in assets), assets


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("br, gzip", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress)])
def test_static_files_are_sent_compressed(client, app, accept, encoding, decode):
    source = (STATIC / "vendor" / "socket.io.min.js").read_bytes()
    response = client.get(static_url(app, "vendor/socket.io.min.js"),
                          headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == encoding
    assert len(response.data) < len(source) / 2
    assert decode(response.data) == source


def test_pages_are_compressed(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip"
    assert b"<html" in gzip.decompress(response.data)


def test_an_edited_file_is_never_served_from_a_stale_compressed_copy(tmp_path):
    name = f"stale-{os.getpid()}.js"
    path = STATIC / "js" / name
    try:
        path.write_text("var before = 1;" * 200)
        (STATIC / "js" / (name + ".gz")).write_bytes(gzip.compress(b"var stale = 0;"))
        app = create_app(TestConfig)
        response = app.test_client().get(static_url(app, f"js/{name}"),
                                         headers={"Accept-Encoding": "gzip"})
        assert gzip.decompress(response.data) == path.read_bytes()
    finally:
        for leftover in STATIC.glob(f"js/{name}*"):
            leftover.unlink()
