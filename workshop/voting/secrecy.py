"""Secret ballots: what a secret paper keeps, the keyed hashes it uses, and the small-cell rule.

The rule: nothing stored, shown, published or exported about a secret ballot lets anyone (a
delegate, a facilitator, an organiser, someone holding the database file) tell how a person
voted. How this code keeps it:

**What a secret paper keeps** (`Vote` row): its choices, its receipt code, a random key, and
`secret_hash` (SHA-256 of the ballot, the voter and a 128-bit secret only their phone holds: the
paper can be found again only by that voter with that secret; the database alone cannot say
whose it is). No delegate, no time, no source, no organisation, no organisation type. Then
only what the weighting needs:

* one delegate one vote: nothing more;
* regional balance: the region (each region's papers share one vote). Someone holding the
  database file sees which papers came from which region; a region whose few delegates are
  known to have voted gives their papers away to them. That is the price of weighting by region
  on a paper that can be changed until close;
* one organisation one vote: `org_key`, an HMAC of the ballot and the organisation under a
  key derived from SECRET_KEY (never stored in the database), rather than the organisation id.
  Trade-off: someone holding only the database file learns which papers share an organisation
  and how many each organisation has, not which organisation it is; matched with who voted
  (the participation table), an organisation whose number of voters is unique can still be
  picked out, and its papers then belong to its few delegates. With the organisation id they
  would read the organisation straight off every paper. The hash is per ballot, so the same
  organisation's groups cannot be joined across ballots. Whoever holds SECRET_KEY as well (the
  operator) can recompute it: the key protects against a leaked database or backup, not
  against the server's own operator. A ballot must be counted with the key it was cast with.

**Proxies.** A paper a proxy holder casts for an absent delegate also keeps `proxy_tag`, an HMAC
of the ballot and the absent delegate under the same key: it lets the server find that paper
when the delegate comes to vote themself (the delegate's own vote replaces it) or a holder
changes it, and nothing else can. A paper the delegate casts themself has no tag.

**A lost secret.** A voter whose phone's secret is gone (another browser, a cleared phone) can
still replace their paper, by this rule: while the ballot is open every secret paper also keeps
`owner_tag`, an HMAC of the ballot and the voter under the same key; a voter who has voted, sends
a new paper without the old secret and says so (`replace_lost`) has the paper carrying their tag
withdrawn (taken off its region's totals, never shown to anyone) and the new one stored with the
new secret and a new receipt; the old receipt is then no longer in the list. The close erases
every owner tag in the same transaction that counts the papers, so from then on nothing stored
links a paper to a voter, even for whoever holds SECRET_KEY. Trade-off: while the ballot is open,
whoever holds both the database and SECRET_KEY could link papers to voters; a leaked database or
backup alone cannot, and the running server sees who casts what at that moment anyway.

**Breakdowns.** A secret paper does not know its region, so the regional breakdown (and the
consensus built on it) comes from `RegionTally`: per ballot and region, the number of papers and
the sum of their tally components, updated in the transaction that writes the paper. There is
no breakdown of choices by organisation type for a secret ballot: published next to the
regional one, two overlapping partitions of the same papers can be subtracted from each other
to isolate a small (region, type) group even when every published cell is large (the demo has
23 of 24 organisations alone in their pair). Turnout by organisation type (counts of who took
part, from the participation table) is kept, under the small-cell rule. Under one organisation
one vote the regional breakdown counts each delegate once (the totals cannot know the
organisations' final sizes); the results page says so.

**Small cells** (`hidden_cells`): every cell of fewer than k voters (Ballot.min_cell, from
SECRET_MIN_CELL, default 5) is withheld wherever it appears: choice breakdowns, turnout by
region and type, the live turnout broadcast, consensus (the minimum runs over the published
regions only). Because the totals are published, hiding one small cell is not enough (the total
minus the others gives it back): more cells are hidden, smallest first, until the hidden ones
are at least two and add up to at least k voters.

**The published list** (see results.published_ballots): receipt codes and, apart from them,
the choices in a canonical order, with no link between the two; the choices only when every
group of papers of equal weight holds at least k papers and never under one organisation one
vote (weights would tell the organisations' sizes, and with the regional breakdown single out
small organisations). What remains a risk is written in README ("What a receipt proves").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

DEFAULT_MIN_CELL = 5
_KEY_LABEL = b"workshop.voting.secrecy:v1"


class Secrecy:
    """The app's secrecy settings: the default k and the key of the keyed hashes.

    Configured once by `configure(app)` (voting.events.register), so services never read the
    app's configuration themselves.
    """

    def __init__(self) -> None:
        self.min_cell = DEFAULT_MIN_CELL
        self._key = hmac.new(b"unconfigured", _KEY_LABEL, hashlib.sha256).digest()

    def configure(self, app: Any) -> None:
        """Take SECRET_MIN_CELL and a key derived from SECRET_KEY from the app's config."""
        self.min_cell = max(1, int(app.config.get("SECRET_MIN_CELL", DEFAULT_MIN_CELL)))
        secret = app.config.get("SECRET_KEY") or ""
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        self._key = hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()

    def tag(self, kind: str, ballot_id: int, value: int) -> str:
        """HMAC-SHA256 (hex) of `kind:ballot:value` under the derived key."""
        message = f"{kind}:{ballot_id}:{value}".encode()
        return hmac.digest(self._key, message, "sha256").hex()  # one call: a third of hmac.new's


settings = Secrecy()


def org_key(ballot_id: int, organisation_id: int) -> str:
    """The organisation of a secret paper under one organisation one vote, as a keyed hash."""
    return settings.tag("org", ballot_id, organisation_id)


def proxy_tag(ballot_id: int, absent_delegate_id: int) -> str:
    """The mark of the paper a proxy holder cast for this absent delegate in this ballot."""
    return settings.tag("proxy", ballot_id, absent_delegate_id)


def owner_tag(ballot_id: int, voter_id: int) -> str:
    """The mark of a voter's secret paper while the ballot is open (see "A lost secret")."""
    return settings.tag("owner", ballot_id, voter_id)


def paper_hash(ballot_id: int, voter_id: int, secret: str) -> str:
    """`secret_hash` of a secret paper: only this voter sending this secret finds it again."""
    return hashlib.sha256(f"paper:{ballot_id}:{voter_id}:{secret}".encode()).hexdigest()


def min_cell(ballot: Any) -> int:
    """The ballot's k: its own, else the configured default."""
    return ballot.min_cell or settings.min_cell


def hidden_cells(counts: Mapping[str, int], k: int) -> set[str]:
    """The cells of a breakdown to withhold, given each cell's number of voters.

    Every cell under k; then, while the hidden cells are fewer than two or add up to fewer than
    k voters, the smallest shown cell too (ties by name), so that the published total minus the
    shown cells never gives back a small group. Hides everything when nothing less will do.
    """
    hidden = {cell for cell, n in counts.items() if n < k}
    if not hidden:
        return hidden
    shown = sorted((n, cell) for cell, n in counts.items() if cell not in hidden)
    while shown and (len(hidden) < 2 or sum(counts[c] for c in hidden) < k):
        hidden.add(shown.pop(0)[1])
    return hidden
