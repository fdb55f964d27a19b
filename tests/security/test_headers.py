"""Security headers on every response (pages, JSON, static files, errors), and templates that
need no inline script or style, so the Content-Security-Policy can forbid both."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import TestConfig
from tests.conftest import app_for
from tests.helpers import create_user, login

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

def print_only(text: str) -> bool:
    """A template rendered for WeasyPrint (PDF) only, never served to a browser: it styles
    its pages (`@page`) in a style element of its own."""
    return "@page" in text


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def check_headers(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    connect = csp["connect-src"].split()
    assert connect == ["'self'", "ws://localhost", "wss://localhost"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/openapi.json", "/api/v1/docs",
                                  "/no/such/page", "/api/v1/workshops"])
def test_every_kind_of_response_carries_the_headers(client, path):
    response = client.get(path)
    check_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/js/live.js",
                                  "/static/vendor/socket.io.min.js"])
def test_static_files_carry_the_headers(client, path):
    # Served ahead of Flask (workshop/assets.py): a file needs no sources of its own.
    response = client.get(path)
    assert response.status_code == 200
    csp = directives(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] in ("'none'", "'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_logged_in_pages_and_json_errors_carry_the_headers(app, client):
    login(client, create_user("organiser"))
    for path in ("/workshops", "/w/1/manage"):
        check_headers(client.get(path))
    response = client.post("/d/ballots/1/vote", json={"choices": []})
    assert response.is_json
    check_headers(response)


def test_the_websocket_host_follows_the_request(client):
    response = client.get("/", base_url="http://192.168.1.20:5000")
    assert "ws://192.168.1.20:5000 wss://192.168.1.20:5000" in directives(response)[
        "connect-src"]
    # A Host header that is not a host name is not echoed into the policy.
    response = client.get("/", headers={"Host": "evil; script-src *"})
    assert directives(response)["connect-src"] == "'self'"
    assert "script-src *" not in response.headers["Content-Security-Policy"]


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_when_cookies_are_https_only(monkeypatch):
    class SecureConfig(TestConfig):
        SESSION_COOKIE_SECURE = True
        REMEMBER_COOKIE_SECURE = True

    with app_for(SecureConfig, monkeypatch) as app:
        for path in ("/", "/api/v1/openapi.json"):
            response = app.test_client().get(path)
            assert response.headers["Strict-Transport-Security"].startswith("max-age="), path


def test_the_remember_cookie_is_secure_with_the_session_cookie():
    env = {**os.environ, "SESSION_COOKIE_SECURE": "1"}
    code = ("import config; c = config.Config; "
            "assert c.SESSION_COOKIE_SECURE is True and c.REMEMBER_COOKIE_SECURE is True")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    env["SESSION_COOKIE_SECURE"] = "0"
    code = "import config; assert config.Config.REMEMBER_COOKIE_SECURE is False"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def _templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        yield name, path.read_text(encoding="utf-8")


def test_no_template_has_an_inline_script_or_event_handler():
    inline_script = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE)
    javascript_url = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""",
                                re.IGNORECASE)
    found = []
    for name, text in _templates():
        for pattern in (inline_script, handler, javascript_url):
            found += [(name, m.group(0)[:60]) for m in pattern.finditer(text)]
    assert found == []


def test_no_served_template_has_an_inline_style():
    style = re.compile(r"""<[a-zA-Z][^>]*?\sstyle\s*=|<style\b""", re.IGNORECASE)
    found = [(name, m.group(0)[:60]) for name, text in _templates() if not print_only(text)
             for m in style.finditer(text)]
    assert found == []


def test_the_scripts_set_no_style_attribute_nor_evaluate_strings():
    pattern = re.compile(r"""setAttribute\(\s*["']style|\beval\(|new Function\(|"""
                         r"""style\s*=\s*\\?["']""")
    found = [(p.name, m.group(0)) for p in sorted((ROOT / "static" / "js").glob("*.js"))
             for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
