"""Issue 9 on the real gevent server: XLSX bombs and floods of rows sent to the import
previews are refused with a clear error, and meanwhile another phone's pages still answer
fast (the reading runs off the event loop, bounded in size, rows and time)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.helpers import create_organisation, create_user, create_workshop
from tests.live.clients import Person
from tests.registration.files import many_rows_xlsx, zip_bomb_xlsx

pytestmark = pytest.mark.live


def test_bombs_are_refused_while_others_stay_served(live):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=2)
    org = create_organisation(region="asia", country="Nepal")
    files = {"flood.xlsx": many_rows_xlsx(400_000), "bomb.xlsx": zip_bomb_xlsx(100)}
    staff = Person(live.url).login(organiser.email, workshop.id)
    phone = Person(live.url).join(workshop.join_code, org.id, "Sita")
    answers: list[tuple[str, int, str, float]] = []

    def send_bombs() -> None:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            for name, data in files.items():
                for path in ("registration", "proposals/import"):
                    start = time.monotonic()
                    response = staff.http.post(
                        f"{live.url}/w/{workshop.id}/{path}",
                        data={"csrf_token": staff.csrf, "action": "preview"},
                        files={"file": (name, data)}, timeout=60)
                    answers.append((name, response.status_code, response.text,
                                    time.monotonic() - start))

    sender = threading.Thread(target=send_bombs)
    sender.start()
    times = []
    while sender.is_alive():
        start = time.monotonic()
        response = phone.http.get(f"{live.url}/d", timeout=10)
        times.append(time.monotonic() - start)
        assert response.status_code == 200
        time.sleep(0.05)
    sender.join()

    assert len(answers) >= 4
    for name, status, text, _took in answers:
        assert status == 422, (name, status)
        if name == "bomb.xlsx":
            assert "unpacks to 100 MB" in text
        else:
            assert "rows: nothing was read past that" in text
    # Generous bounds, not fine timings: nobody waits seconds, no bomb takes long.
    assert max(times) < 2, f"slowest page {max(times):.2f} s over {len(times)} requests"
    assert max(took for *_rest, took in answers) < 10
