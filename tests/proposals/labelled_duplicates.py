"""The hand-labelled duplicates set (tests/data/duplicates.json) and how suggestions are scored
against it: shared by the quality test and bench/bench_duplicates.py.

Proposal ids are given in file order from 1; a proposal's human translations (the "translations"
of its cluster, keyed by its position there) come after all the originals, as the app lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from workshop.proposals.duplicates import Pair, Version

PATH = Path(__file__).resolve().parents[1] / "data" / "duplicates.json"
SPLITS = ("same language", "cross-language", "all")


@dataclass(frozen=True)
class Labelled:
    """The set as the suggester sees it (versions) and the answers (cluster and language of each
    proposal)."""

    versions: list[Version]
    cluster: dict[int, str]
    language: dict[int, str]

    def truth(self) -> set[tuple[int, int]]:
        """Every pair of proposals in the same cluster, smaller id first."""
        return {(a, b) for a, b in combinations(sorted(self.cluster), 2)
                if self.cluster[a] == self.cluster[b]}

    def split(self, pair: tuple[int, int]) -> str:
        a, b = pair
        return "same language" if self.language[a] == self.language[b] else "cross-language"


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one split, with the counts they come from."""

    true_positives: int
    suggested: int
    relevant: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.suggested if self.suggested else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.relevant if self.relevant else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load(path: Path = PATH) -> Labelled:
    """Read the set."""
    data = json.loads(path.read_text(encoding="utf-8"))
    versions, translations = [], []
    cluster, language = {}, {}
    for group in data["clusters"]:
        first = len(cluster) + 1
        for offset, p in enumerate(group["proposals"]):
            pid = first + offset
            cluster[pid], language[pid] = group["id"], p["language"]
            versions.append(Version(pid, p["language"], p["title"], p["description"]))
        for position, t in group.get("translations", {}).items():
            translations.append(Version(first + int(position), t["language"], t["title"],
                                        t["description"]))
    return Labelled(versions + translations, cluster, language)


def evaluate(labelled: Labelled, pairs: list[Pair]) -> dict[str, Scores]:
    """Scores per split (same language, cross-language, all) of suggested pairs."""
    truth = labelled.truth()
    found = {(min(p.first, p.second), max(p.first, p.second)) for p in pairs}
    result = {}
    for split in SPLITS:
        def keep(pair: tuple[int, int], split: str = split) -> bool:
            return split == "all" or labelled.split(pair) == split
        relevant = {p for p in truth if keep(p)}
        suggested = {p for p in found if keep(p)}
        result[split] = Scores(len(relevant & suggested), len(suggested), len(relevant))
    return result
