"""Likely duplicates among a workshop's lines of work, across languages.

Texts are compared with RapidFuzz's token-sort ratio (word order does not matter; extra or
missing words lower the score), vectorised over all pairs in C++. Each proposal is compared in
every language it exists in (its original and its translations), so a French and a Spanish input
on the same line of work meet through a translation of either into the other's language.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

#: Pairs scoring below this (0–100) are not suggested.
DEFAULT_THRESHOLD = 70.0


@dataclass(frozen=True)
class Version:
    """One language version of a proposal."""

    proposal_id: int
    language: str
    title: str
    description: str


@dataclass(frozen=True)
class Pair:
    """Two proposals that look alike, the score (0–100) and the language they met in."""

    first: int
    second: int
    score: float
    language: str


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped: 'Protección' and 'proteccion' are equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept = [c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)]
    return " ".join("".join(kept).split())


def _text(version: Version) -> str:
    """Normalised words, sorted once here: a plain ratio of these is the token-sort ratio.

    The title is counted twice so it weighs most; the start of the description breaks ties
    between short titles.
    """
    words = normalise(f"{version.title} {version.title} {version.description[:240]}").split()
    return " ".join(sorted(words))


def suggest(versions: list[Version], threshold: float = DEFAULT_THRESHOLD,
            limit: int = 100) -> list[Pair]:
    """The most similar pairs of distinct proposals, best first, at most `limit`.

    Pure: plain versions in, pairs out (no database), so it can be benchmarked alone.
    """
    best: dict[tuple[int, int], Pair] = {}
    by_language: dict[str, list[Version]] = {}
    for v in versions:
        by_language.setdefault(v.language, []).append(v)
    for language, group in by_language.items():
        if len(group) < 2:
            continue
        texts = [_text(v) for v in group]
        scores = process.cdist(texts, texts, scorer=fuzz.ratio, dtype=np.uint8,
                               score_cutoff=int(threshold), workers=-1)
        upper = np.triu(scores, k=1)
        for i, j in zip(*np.nonzero(upper), strict=True):
            a, b = group[int(i)].proposal_id, group[int(j)].proposal_id
            if a == b:
                continue
            key = (min(a, b), max(a, b))
            score = float(upper[i, j])
            if key not in best or best[key].score < score:
                best[key] = Pair(key[0], key[1], score, language)
    return sorted(best.values(), key=lambda p: (-p.score, p.first, p.second))[:limit]
