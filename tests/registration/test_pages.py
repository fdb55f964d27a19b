"""The organisers' registration page: check a file, import it, download links and badges,
issue new links and withdraw links, every form with its CSRF token."""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
import sqlalchemy as sa

from tests.helpers import create_user, create_workshop, csrf_from, login
from tests.registration.files import HEADER, csv_file, xlsx_file
from workshop.agenda import delegates as delegate_services
from workshop.agenda.models import Delegate
from workshop.errors import NotFound
from workshop.extensions import db

ROWS = [HEADER, ["Amina Diallo", "amina@example.org", "CNTS Sénégal", "Senegal", "",
                 "trade_union", "fr"],
        ["सीता शर्मा", "", "Nepal Mutual", "Nepal", "", "health_mutual", "en"]]


@pytest.fixture
def page(client, app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    login(client, organiser)
    url = f"/w/{workshop.id}/registration"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return workshop, url, token


def delegates() -> int:
    return db.session.scalar(sa.select(sa.func.count(Delegate.id)))


def imported(client, url, token, rows=ROWS) -> tuple[str, str]:
    """Check then import a file through the page; the issued page and its links field."""
    checked = client.post(url, data={"csrf_token": token, "action": "preview",
                                     "file": (io.BytesIO(xlsx_file(rows)), "d.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert delegates() == 0
    content = re.search(r'name="content" value="([^"]+)"', checked).group(1)
    done = client.post(url, data={"csrf_token": token, "action": "import",
                                  "filename": "d.xlsx", "content": content})
    assert done.status_code == 201
    assert done.headers["Cache-Control"] == "private, no-store"
    html = done.get_data(as_text=True)
    links = html_lib.unescape(re.search(r'name="links" value="([^"]+)"', html).group(1))
    return html, links


def test_only_organisers_open_the_page(client, app):
    workshop = create_workshop()
    login(client, create_user("facilitator"))
    assert client.get(f"/w/{workshop.id}/registration").status_code == 403


def test_preview_then_import_then_download(client, page):
    workshop, url, token = page
    html, links = imported(client, url, token)
    assert delegates() == 2
    tokens = re.findall(r'/i/([A-Za-z0-9_-]{20,})"', html)
    assert len(tokens) == 2
    assert delegate_services.accept_invitation(tokens[0]).name == "Amina Diallo"
    csv_answer = client.post(f"{url}/links.csv", data={"csrf_token": token, "links": links})
    assert csv_answer.status_code == 200
    assert csv_answer.mimetype == "text/csv"
    text = csv_answer.get_data().decode("utf-8-sig")
    assert "amina@example.org" in text
    assert f"/i/{tokens[1]}" in text
    pdf = client.post(f"{url}/badges.pdf", data={"csrf_token": token, "links": links})
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")


def test_errors_are_listed_and_nothing_is_imported(client, page):
    _workshop, url, token = page
    bad = csv_file([*ROWS, ["", "x", "Nepal Mutual", "", "", "", ""]])
    answer = client.post(url, data={"csrf_token": token, "action": "import",
                                    "file": (io.BytesIO(bad), "bad.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="registration-errors"' in html
    assert "<code>email</code>" in html
    assert "<code>name</code>" in html
    assert delegates() == 0


def test_forms_need_their_csrf_token(client, page):
    _workshop, url, _token = page
    answer = client.post(url, data={"action": "preview",
                                    "file": (io.BytesIO(csv_file(ROWS)), "d.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400
    assert delegates() == 0


def test_links_sent_back_must_still_work(client, page):
    workshop, url, token = page
    _html, links = imported(client, url, token)
    first = db.session.scalars(sa.select(Delegate).order_by(Delegate.id)).first()
    revoked = client.post(f"{url}/{first.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert client.post(f"{url}/links.csv",
                       data={"csrf_token": token, "links": links}).status_code == 422
    assert client.post(f"{url}/badges.pdf",
                       data={"csrf_token": token, "links": "[not json"}).status_code == 422


def test_reissue_ticked_delegates(client, page):
    workshop, url, token = page
    html, _links = imported(client, url, token)
    old = re.findall(r'/i/([A-Za-z0-9_-]{20,})"', html)
    ids = [d.id for d in db.session.scalars(sa.select(Delegate).order_by(Delegate.id))]
    again = client.post(f"{url}/reissue", data={"csrf_token": token,
                                                "delegate_ids": [str(ids[1])]})
    assert again.status_code == 200
    fresh = re.findall(r'/i/([A-Za-z0-9_-]{20,})"', again.get_data(as_text=True))
    assert len(fresh) == 1
    assert delegate_services.accept_invitation(fresh[0]).id == ids[1]
    assert delegate_services.accept_invitation(old[0]).id == ids[0]
    with pytest.raises(NotFound):
        delegate_services.accept_invitation(old[1])
    nobody = client.post(f"{url}/reissue", data={"csrf_token": token})
    assert nobody.status_code == 303
    everyone = client.post(f"{url}/reissue", data={"csrf_token": token, "all": "1"})
    assert len(re.findall(r'/i/([A-Za-z0-9_-]{20,})"', everyone.get_data(as_text=True))) == 2
