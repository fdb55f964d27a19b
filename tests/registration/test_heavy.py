"""workshop.heavy under gevent (in a child process patched like serve.py): heavy work runs
off the event loop, other greenlets keep their turns, a time limit answers, errors travel."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.servers import ROOT

CHILD = r"""
from gevent import monkey; monkey.patch_all()
import json, time, gevent
from workshop import heavy
from workshop.errors import ValidationFailed

def spin(seconds):
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        pass
    return "done"

def refuse():
    raise ValidationFailed("refused", file="x")

ticks = []
def tick():
    for _ in range(15):
        ticks.append(time.monotonic())
        gevent.sleep(0.1)

ticker = gevent.spawn(tick)
result = heavy.run(spin, 1.5)
ticker.join()
out = {"under": heavy.under_gevent(), "result": result,
       "gap": max(b - a for a, b in zip(ticks, ticks[1:]))}
try:
    heavy.run(spin, 3, timeout=0.3)
except heavy.TooSlow as exc:
    out["timeout"] = exc.status
try:
    heavy.run(refuse)
except ValidationFailed as exc:
    out["error"] = exc.message
print(json.dumps(out))
"""


def test_heavy_work_leaves_the_loop_free_under_gevent():
    child = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, check=True)
    out = json.loads(child.stdout.strip().splitlines()[-1])
    assert out["under"] is True
    assert out["result"] == "done"
    # The loop ticked every 0.1 s while a thread spun 1.5 s (generous bound, no fine timing).
    assert out["gap"] < 1.0
    assert out["timeout"] == 503
    assert out["error"] == "refused"
    assert "Traceback" not in child.stderr
