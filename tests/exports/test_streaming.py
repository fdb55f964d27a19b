"""Large exports stream: CSV, ZIP and JSON leave the server in many pieces, on the pages and
through the API (spectree must not gather them); XLSX is written in a worker thread."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest

from tests.api.conftest import bearer
from tests.exports.conftest import read_csv, staff_client
from tests.helpers import create_delegate, create_user, create_workshop
from workshop import heavy
from workshop.exports import formats
from workshop.exports.formats import CHUNK
from workshop.extensions import db
from workshop.proposals.models import Proposal

N = 1500


@pytest.fixture
def big(app):
    """A workshop with 1,500 proposals (a CSV of several hundred kilobytes) and its organiser."""
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=1)
    delegate = create_delegate(workshop)
    db.session.add_all([
        Proposal(workshop_id=workshop.id, title=f"Ligne de travail n° {i} — économie sociale",
                 description="Décrire l'action, ses partenaires et ses résultats attendus. " * 3,
                 theme="decent_work", level="national", language="fr",
                 delegate_id=delegate.id, region="west_africa") for i in range(N)])
    db.session.commit()
    return workshop, organiser


def _pieces(response) -> list[bytes]:
    assert response.status_code == 200
    assert response.is_streamed
    return list(response.response)


@pytest.mark.parametrize("path", ["/exports/proposals.csv", "/exports.zip", "/exports.json"])
def test_pages_stream_large_exports(app, big, path):
    workshop, organiser = big
    client = staff_client(app, organiser)
    pieces = _pieces(client.get(f"/w/{workshop.id}{path}", buffered=False))
    assert len(pieces) > 2, "sent in one piece: not streamed"
    assert max(len(p) for p in pieces) < 4 * CHUNK
    data = b"".join(pieces)
    if path.endswith(".csv"):
        _headings, rows = read_csv(data)
        assert len(rows) == N
    elif path.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _headings, rows = read_csv(archive.read("proposals.csv"))
        assert len(rows) == N
    else:
        assert len(json.loads(data)["tables"]["proposals"]["rows"]) == N


@pytest.mark.parametrize("path", ["/exports/proposals.csv", "/exports/all.zip",
                                  "/exports/all.json"])
def test_the_api_streams_them_too(app, big, path):
    workshop, organiser = big
    response = app.test_client().get(f"/api/v1/workshops/{workshop.id}{path}",
                                     headers=bearer(organiser), buffered=False)
    pieces = _pieces(response)
    assert len(pieces) > 2, "gathered into one piece on the way out"
    data = b"".join(pieces)
    if path.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read("proposals.csv")
    assert len(data) > 3 * CHUNK


def test_the_workbook_is_written_off_the_event_loop(app, big, monkeypatch):
    """Under the gevent server the workbook is written in the hub's thread pool (here: gevent's
    pool without monkey-patching, the same code path), and sent from its temporary file."""
    workshop, organiser = big
    threads = []
    write = formats.write_xlsx

    def recorded(*args):
        threads.append(threading.current_thread())
        return write(*args)

    monkeypatch.setattr(heavy, "under_gevent", lambda: True)
    monkeypatch.setattr(formats, "write_xlsx", recorded)
    client = staff_client(app, organiser)
    response = client.get(f"/w/{workshop.id}/exports.xlsx")
    assert response.status_code == 200
    assert response.is_streamed  # sent from the temporary file, not from memory
    assert len(threads) == 1
    assert threads[0] is not threading.current_thread()
    assert response.data[:2] == b"PK"
