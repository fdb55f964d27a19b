"""axe-core (from npm, pinned in package.json) run inside Chromium over a page of the app.

`assert_accessible(page)` fails on any critical or serious violation, naming the rule, the
elements and axe's own explanation; minor and moderate findings are left to review. The
script is evaluated over the DevTools protocol, so the page's Content-Security-Policy (no
inline script) stays on for everything else the test checks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

from tests.servers import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")


@cache
def _source(path: Path = AXE) -> str:
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make install` (npm ci installs axe-core)")
    return path.read_text(encoding="utf-8")


def violations(page: Page, *, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """The violations of the page as it is now, of the given impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    found = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {
                resultTypes: ["violations"],
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                "wcag22aa", "best-practice"]},
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in impacts]


def assert_accessible(page: Page, what: str = "") -> None:
    """Fail on critical or serious violations of WCAG 2.2 AA and axe's best practices."""
    found = violations(page)
    if found:
        lines = [f"{what or page.url}: {len(found)} critical/serious axe-core violation(s)"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"])
        raise AssertionError("\n".join(lines))
