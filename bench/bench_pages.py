"""Benchmark the delegate's page on a slow phone link: bytes over the wire and time to live.

Run with `python bench/bench_pages.py [--lines 5 300]`. It migrates a fresh SQLite database,
starts the real gevent server (`serve.py`) on 127.0.0.1, makes a workshop on a propose step
with that many lines of work and one invited delegate per run, then opens the invitation in
Debian's Chromium at 360×740 with the link throttled as DevTools' "slow 3G" (400 kbit/s down
and up, 400 ms round trip). From Chromium's own network log (DevTools protocol) it prints:

* first visit: bytes received over the wire, requests, and the time until the page is live
  (its socket connected and the step shown), by the page's own clock from the tap on the
  invitation link (`performance.now()`, whose origin is the navigation's start, the redirect
  included), and in brackets as the harness saw it (Playwright's wall clock, which adds its own
  round trips to the browser, about 0.4 s here);
* repeat visit (a new tab, same browser cache): bytes received and static files fetched again;
* baseline, in the same run: the step's HTML fragment alone (`/d/step`, what the server must
  send whatever the page around it), fetched over the same link.

The goals (issue 10): a first visit of at most 60 KB, live within 3 s; a repeat visit fetching
no static file. Not a test: nothing here fails on a figure.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import fresh_database, make_app  # noqa: E402

from tests.servers import free_port, server_env, start_server  # noqa: E402

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8}
CHROMIUM = "/usr/bin/chromium"
#: Notes, by the page's clock, when the connection indicator first says "online".
LIVE_CLOCK = """
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("connection");
  if (!status) return;
  function seen() {
    if (status.dataset.state === "online" && window.__live === undefined) {
      window.__live = performance.now();
    }
  }
  new MutationObserver(seen).observe(status, { attributes: true });
  seen();
});
"""


def prepare(database_url: str, lines: int) -> tuple[str, int]:
    """A workshop on a propose step with `lines` lines of work; an invitation's token."""
    from tests.helpers import (
        create_organisation,
        create_proposal,
        create_user,
        create_workshop,
        invite,
    )
    from workshop.extensions import db

    app = make_app(database_url)
    with app.app_context():
        organiser = create_user("organiser")
        workshop = create_workshop(organiser)
        organisation = create_organisation(region="west_africa", country="Senegal")
        for i in range(lines):
            create_proposal(workshop, title=f"Protection sociale des travailleurs informels {i}",
                            description="Étendre les mutuelles de santé aux vendeurs de rue, "
                                        "aux pêcheurs et aux travailleuses domestiques.")
        _, token = invite(workshop, organiser, organisation, name="Awa Diallo")
        workshop_id = workshop.id
        db.session.remove()
        db.engine.dispose()
    return token, workshop_id


class Log:
    """Bytes and sources of every request of one page, from the DevTools protocol."""

    def __init__(self, page) -> None:
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.cached: set[str] = set()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        cdp.on("Network.requestWillBeSent",
               lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished",
               lambda e: self.bytes.__setitem__(e["requestId"], int(e["encodedDataLength"])))

    def _response(self, event: dict) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromMemoryCache"):
            self.cached.add(event["requestId"])

    def total(self) -> int:
        return sum(self.bytes.values())

    def static_fetched(self) -> int:
        return sum(1 for r, u in self.urls.items()
                   if "/static/" in u and r not in self.cached and r in self.bytes)


def measure(url: str, token: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        ctx = browser.new_context(base_url=url, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
        ctx.add_init_script(LIVE_CLOCK)
        page = ctx.new_page()
        first = Log(page)
        start = time.perf_counter()
        page.goto(f"/i/{token}", wait_until="commit")
        page.wait_for_selector("#connection[data-state='online']", timeout=120_000)
        page.wait_for_selector("#step h1", timeout=120_000)  # in the page's HTML: no later
        wall_s = time.perf_counter() - start
        page.wait_for_load_state("load")
        figures = {"first_bytes": first.total(), "first_requests": len(first.bytes),
                   "first_live_s": page.evaluate("window.__live") / 1000,
                   "first_wall_s": wall_s}

        again = ctx.new_page()
        repeat = Log(again)
        start = time.perf_counter()
        again.goto("/d", wait_until="commit")
        again.wait_for_selector("#connection[data-state='online']", timeout=120_000)
        figures |= {"repeat_bytes": repeat.total(), "repeat_static": repeat.static_fetched(),
                    "repeat_live_s": again.evaluate("window.__live") / 1000,
                    "repeat_wall_s": time.perf_counter() - start}

        bare = ctx.new_page()
        fragment = Log(bare)
        start = time.perf_counter()
        bare.goto("/d/step", wait_until="load")
        loaded = bare.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        figures |= {"fragment_bytes": fragment.total(), "fragment_s": loaded / 1000,
                    "fragment_wall_s": time.perf_counter() - start}
        browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[5, 300])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    database_url = f"sqlite:///{tmp / 'pages.db'}"
    port = free_port()
    env = server_env(database_url, port)
    fresh_database(database_url, env)
    tokens = [(n, *prepare(database_url, n)) for n in args.lines]
    proc = start_server(env, port, tmp / "server.log")
    try:
        print("slow 3G (400 kbit/s, 400 ms); goals: first visit ≤ 60 KB and live ≤ 3 s, "
              "repeat visit fetches no static file")
        print("times by the page's clock from the tap on the link; (the harness's wall clock)")
        print(f"{'lines':>5} | {'first KB':>8} {'req':>4} {'live s':>13} | {'repeat KB':>9} "
              f"{'static':>6} {'live s':>13} | {'fragment KB':>11} {'s':>12} | ratio")
        for lines, token, _workshop in tokens:
            f = measure(f"http://127.0.0.1:{port}", token)
            ratio = f["first_live_s"] / f["fragment_s"] if f["fragment_s"] else float("nan")
            print(f"{lines:>5} | {f['first_bytes'] / 1024:>8.1f} {f['first_requests']:>4} "
                  f"{f['first_live_s']:>6.2f} ({f['first_wall_s']:.2f}) | "
                  f"{f['repeat_bytes'] / 1024:>9.1f} {f['repeat_static']:>6} "
                  f"{f['repeat_live_s']:>6.2f} ({f['repeat_wall_s']:.2f}) | "
                  f"{f['fragment_bytes'] / 1024:>11.1f} {f['fragment_s']:>5.2f} "
                  f"({f['fragment_wall_s']:.2f}) | {ratio:.1f}× the fragment alone")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
