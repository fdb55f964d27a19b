"""Several server processes sharing a Redis message queue, and a server restart."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import create_organisation, create_user, create_workshop
from tests.live.clients import Person
from tests.servers import RedisServer, free_port, server_env, start_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throw-away Redis on loopback, started (and stopped) by the test setup."""
    server = RedisServer.available()
    if server is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server.start()
    yield f"{server.url}/0"
    server.stop()


@pytest.fixture
def logs() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="workshop-scale-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_event_on_one_process_reaches_a_phone_on_another(live, redis_url, logs):
    port_a, port_b = free_port(), free_port()
    db_url = live.env["DATABASE_URL"]
    server_a = start_server(server_env(db_url, port_a, SOCKETIO_MESSAGE_QUEUE=redis_url),
                            port_a, logs / "a.log")
    server_b = start_server(server_env(db_url, port_b, SOCKETIO_MESSAGE_QUEUE=redis_url),
                            port_b, logs / "b.log")
    try:
        facilitator = create_user("facilitator")
        workshop = create_workshop(steps=3, facilitator=facilitator)
        org = create_organisation(region="latin_america", country="Peru")
        staff = Person(f"http://127.0.0.1:{port_a}").login(facilitator.email, workshop.id)
        phone = Person(f"http://127.0.0.1:{port_b}").join(workshop.join_code, org.id, "Luz")
        staff.connect(workshop.id)
        phone.connect(workshop.id)
        phone.next_event("state")
        target = workshop.steps[2].id
        assert staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": target})["ok"]
        assert phone.next_event("state")["step"]["id"] == target
        # And the console on A hears of a delegate joining through B.
        Person(f"http://127.0.0.1:{port_b}").join(workshop.join_code, org.id, "Rosa")
        assert staff.next_event("delegate")["name"] in ("Luz", "Rosa")
        staff.close()
        phone.close()
    finally:
        for proc in (server_a, server_b):
            proc.terminate()
            proc.wait(timeout=10)


def test_phone_recovers_the_current_step_after_a_server_restart(live, logs):
    port = free_port()
    env = server_env(live.env["DATABASE_URL"], port)
    server = start_server(env, port, logs / "first.log")
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=3, facilitator=facilitator)
    org = create_organisation(region="belgium", country="Belgium")
    phone = Person(f"http://127.0.0.1:{port}").join(workshop.join_code, org.id, "Wim")
    staff = Person(live.url).login(facilitator.email, workshop.id)
    try:
        phone.connect(workshop.id, reconnection=True)
        phone.next_event("state")
        server.terminate()
        server.wait(timeout=10)
        # While the server is down the facilitator (on another process) moves on.
        staff.connect(workshop.id)
        target = workshop.steps[1].id
        assert staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": target})["ok"]
        phone.drain()
        server = start_server(env, port, logs / "second.log")
        # The client reconnects by itself and the server greets it with the current state.
        assert phone.next_event("state", timeout=15)["step"]["id"] == target
    finally:
        phone.close()
        staff.close()
        server.terminate()
        server.wait(timeout=10)
