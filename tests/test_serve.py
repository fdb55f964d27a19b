"""What serve.py sets up: the garbage collector's settings (workshop/collector.py) and the
server's sockets (workshop/serving.py)."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys

import geventwebsocket.websocket
import pytest
from geventwebsocket.websocket import Header

from tests.servers import ROOT, free_port, server_env
from workshop import serving
from workshop.collector import THRESHOLDS, collect_if_quiet, tune_garbage_collector
from workshop.serving import Server


@pytest.fixture
def collector():
    """Python's collector as it was, put back after the test (it is the process's own)."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_server_collects_less_often_and_freezes_what_it_made_starting(collector):
    assert tune_garbage_collector() == THRESHOLDS
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert tune_garbage_collector("1000,10,10") == (1000, 10, 10)
    assert gc.get_threshold() == (1000, 10, 10)


@pytest.mark.parametrize("wanted", ["many", "1,2,3,4", "-5", "1,,2", "0"])
def test_thresholds_that_are_not_numbers_are_refused(collector, wanted):
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="GC_THRESHOLDS must be one to three whole numbers"):
        tune_garbage_collector(wanted)
    assert gc.get_threshold() == before


def test_young_objects_are_collected_in_a_quiet_moment_and_only_then(collector):
    """Once a young collection has run since the last of the middle generation, a quiet
    process collects both young generations; a busy one leaves them to the collector."""
    gc.set_threshold(1_000_000, 10, 10)  # no automatic collection in between
    gc.collect(2)  # everything counted from nought
    assert gc.get_count()[1] == 0
    assert not collect_if_quiet(lambda: False)  # nothing piled up: nothing to do
    gc.collect(0)  # as the collector does after enough allocations
    assert gc.get_count()[1] == 1
    assert not collect_if_quiet(lambda: True)  # busy: left as it is
    assert gc.get_count()[1] == 1
    before = gc.get_stats()[1]["collections"]
    assert collect_if_quiet(lambda: False)
    assert gc.get_count()[1] == 0
    assert gc.get_stats()[1]["collections"] == before + 1


def test_a_full_collection_brought_due_runs_in_the_quiet_moment_too(collector):
    """Quiet middle collections count towards a full one, which an allocation would start
    in whatever runs then: the quiet moment that brings it due runs it."""
    gc.set_threshold(1_000_000, 10, 3)
    gc.collect(2)
    gc.collect(1)  # two middle collections towards the full one's three
    gc.collect(1)
    gc.collect(0)
    full = gc.get_stats()[2]["collections"]
    assert collect_if_quiet(lambda: False)
    assert gc.get_stats()[2]["collections"] == full + 1
    assert gc.get_count()[2] == 0


def test_bad_thresholds_stop_the_server_with_a_clear_error(tmp_path):
    port = free_port()
    env = {**server_env(f"sqlite:///{tmp_path / 'gc.db'}", port), "GC_THRESHOLDS": "many"}
    done = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--port", str(port)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "GC_THRESHOLDS must be one to three whole numbers, the first above 0, not 'many'" in (
        done.stderr)


def test_a_server_not_in_gevent_mode_is_refused_with_a_clear_error(tmp_path):
    port = free_port()
    env = {**server_env(f"sqlite:///{tmp_path / 'mode.db'}", port),
           "SOCKETIO_ASYNC_MODE": "threading"}
    done = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--port", str(port)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "serve.py serves Socket.IO in gevent mode only" in done.stderr


def test_every_connection_the_server_accepts_sends_small_writes_at_once(app):
    """An acknowledgement right after a broadcast to the same socket must not wait for the
    client's delayed ACK (Nagle's algorithm off: TCP_NODELAY on each accepted socket)."""
    server = Server(("127.0.0.1", 0), app)  # make_server's class (the tests' app is threaded)
    server.init_socket()
    listening = socket.socket(fileno=os.dup(server.socket.fileno()))  # gevent's is raw
    client = socket.create_connection(listening.getsockname()[:2], timeout=5)
    accepted, _ = listening.accept()
    try:
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for sock in (accepted, client, listening):
            sock.close()
        server.close()


def test_frames_from_phones_are_unmasked_and_checked_in_c():
    """gevent-websocket's loops over each byte a phone sends, in Python, run in wsaccel's C:
    the unmasking (RFC 6455, 5.3) gives the frame back as sent, and UTF-8 is still checked."""
    serving.unmask_frames_in_c()
    assert Header.unmask_payload is serving._unmask
    header = Header(fin=1, opcode=1)
    header.mask = bytes([0x37, 0xFA, 0x21, 0x3D])
    sent = '42["proposal.comment",{"body":"Santé pour toutes et tous, ¡sí!"}]'.encode()
    masked = bytes(byte ^ header.mask[n % 4] for n, byte in enumerate(sent))
    assert header.unmask_payload(masked) == sent
    validator = geventwebsocket.websocket.Utf8Validator()
    assert type(validator).__module__ == "wsaccel.utf8validator"
    assert validator.validate(sent)[0]
    validator.reset()
    assert not validator.validate(b"\xc3\x28")[0]  # a broken two-byte sequence
