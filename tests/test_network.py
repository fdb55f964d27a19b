"""`make room`: the laptop's address on the room's network goes into the join link."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.servers import ROOT, free_port, server_env, wait_until_up
from workshop.network import Interface, choose, interfaces


def test_the_private_address_is_chosen_never_loopback_or_public():
    found = [Interface("lo", "127.0.0.1"), Interface("wan", "8.8.4.4"),
             Interface("docker0", "172.17.0.1"), Interface("wlan0", "192.168.1.23")]
    choice = choose(found)
    assert choice.address == "192.168.1.23"
    assert [i.address for i in choice.others] == ["172.17.0.1"]


def test_no_room_network_is_said_plainly():
    assert choose([Interface("lo", "127.0.0.1")]).address is None


def test_a_facilitator_can_name_the_address():
    found = [Interface("wlan0", "192.168.1.23"), Interface("eth0", "10.0.0.5")]
    choice = choose(found, "10.0.0.5")
    assert choice.address == "10.0.0.5"
    assert [i.address for i in choice.others] == ["192.168.1.23"]


def test_room_server_prints_its_address_and_puts_it_in_the_join_link(tmp_path):
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'room.db'}", port)
    env.pop("PUBLIC_URL")
    subprocess.run([sys.executable, "-m", "flask", "--app", "workshop", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp_path / "room.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--room", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc)
        printed = log.read_text()
        expected = choose(interfaces()).address
        if expected is None:
            assert "no address on a local network" in printed
            return
        assert f"Phones join at http://{expected}:{port}/" in printed
        # Listening on the room's network, not only on loopback.
        assert requests.get(f"http://{expected}:{port}/", timeout=5).status_code == 200
        projector = _projector_page(env, port, expected)
        # The join link the projector gives (its QR code says the same) is on the room's network.
        assert f"http://{expected}:{port}" in projector
        assert "127.0.0.1" not in projector
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _projector_page(env: dict, port: int, address: str) -> str:
    """The projector page of a new workshop, read through the running server on `address`."""
    from config import TestConfig
    from tests.helpers import create_workshop
    from workshop import create_app
    from workshop.extensions import db

    class Room(TestConfig):
        SQLALCHEMY_DATABASE_URI = env["DATABASE_URL"]

    app = create_app(Room)
    with app.app_context():
        workshop = create_workshop()
        page = requests.get(
            f"http://{address}:{port}/w/{workshop.id}/projector?key={workshop.projector_key}",
            timeout=5)
        assert page.status_code == 200
        assert workshop.join_code in page.text
        db.session.remove()
        db.engine.dispose()
    return page.text
