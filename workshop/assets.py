"""Static files: compressed once, cached for good, re-fetched only when their content changes.

WhiteNoise serves `static/` ahead of Flask, with the gzip and Brotli files that
`python -m whitenoise.compress static` wrote beside each file at install (`make install`), so
a phone on a slow link gets socket.io in 15 KB rather than 48 KB and the server compresses
nothing at run time. Every static URL the templates make carries a hash of the file's content
(`?v=…`), so a file can be cached as immutable for a year: a repeat visit asks for nothing, and
a new release changes the URL of every file it changed. Pages, fragments and JSON are
compressed per response by Flask-Compress.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

ONE_YEAR = 31_536_000
#: Headers of every static file (they are served before Flask's own header hooks run).
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

compress = Compress()


class _Versions:
    """The content hash of each static file, read once (again when the file changes)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._known: dict[str, tuple[float, str]] = {}

    def __call__(self, filename: str) -> str | None:
        path = (self.root / filename).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        known = self._known.get(filename)
        if known is None or known[0] != mtime:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            known = self._known[filename] = (mtime, digest)
        return known[1]


class _StaticFiles(WhiteNoise):
    """WhiteNoise whose compressed copies are never older than their file.

    `whitenoise.compress` gives each copy its source's modification time; a copy whose time
    differs (the file was edited since `make install`) is made again before it is served, so a
    browser never gets yesterday's script under today's hash.
    """

    _compressor = Compressor(quiet=True)

    def get_static_file(self, path: str, url: str, stat_cache: Any = None) -> Any:
        if not self.is_compressed_variant(path) and self._compressor.should_compress(path):
            _refresh_copies(self._compressor, Path(path))
        return super().get_static_file(path, url, stat_cache=None)


def _refresh_copies(compressor: Compressor, path: Path) -> None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return
    copies = [path.with_name(path.name + suffix) for suffix in (".br", ".gz")]
    if all(c.exists() and c.stat().st_mtime == mtime for c in copies):
        return
    for copy in copies:
        copy.unlink(missing_ok=True)
    compressor.compress(str(path))


def _static_headers(headers: Any, path: str, url: str) -> None:
    for name, value in STATIC_HEADERS.items():
        headers[name] = value


def init_app(app: Flask) -> None:
    """Serve static files through WhiteNoise and version their URLs; compress responses."""
    root = Path(app.static_folder or "static")
    versions = _Versions(root)

    @app.url_defaults
    def _version_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values:
            version = versions(values.get("filename", ""))
            if version:
                values["v"] = version

    app.wsgi_app = _StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix=(app.static_url_path or "/static").strip("/") + "/",
        max_age=ONE_YEAR,
        # Every URL carries its content's hash, so a cached copy never needs checking.
        immutable_file_test=lambda path, url: True,
        # Development edits files while the server runs: look them up on each request.
        autorefresh=bool(app.config.get("STATIC_AUTOREFRESH")),
        add_headers_function=_static_headers,
    )
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "application/json", "application/javascript",
        "text/javascript", "image/svg+xml", "application/problem+json"])
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)
