"""Duplicate suggestions over 2,000 proposals: our vectorised search against a plain loop.

Run: python bench/bench_duplicates.py
Prints the time of `workshop.proposals.duplicates.suggest` (RapidFuzz cdist over every pair, in
every language a proposal exists in) beside the obvious implementation (a Python loop calling
the same scorer pair by pair), best of 3, and their ratio.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz  # noqa: E402

from workshop.proposals.duplicates import Version, _text, suggest  # noqa: E402

N = 2000
WORDS = {
    "en": ["social", "protection", "health", "coverage", "informal", "workers", "decent", "work",
           "dialogue", "union", "rights", "climate", "transition", "youth", "women", "training",
           "cooperatives", "mutual", "insurance", "wages", "safety", "migrants", "domestic"],
    "fr": ["protection", "sociale", "santé", "couverture", "informelle", "travailleurs",
           "travail", "décent", "dialogue", "syndicat", "droits", "climat", "transition",
           "jeunes", "femmes", "formation", "coopératives", "mutuelle", "assurance", "salaires"],
    "es": ["protección", "social", "salud", "cobertura", "informal", "trabajadores", "trabajo",
           "decente", "diálogo", "sindicato", "derechos", "clima", "transición", "jóvenes",
           "mujeres", "formación", "cooperativas", "mutual", "seguro", "salarios"],
    "nl": ["sociale", "bescherming", "gezondheid", "dekking", "informele", "werknemers",
           "waardig", "werk", "dialoog", "vakbond", "rechten", "klimaat", "transitie", "jongeren",
           "vrouwen", "opleiding", "coöperaties", "ziekenfonds", "verzekering", "lonen"],
}


def vocabulary(rnd: random.Random) -> dict[str, list[str]]:
    """Each language's domain words plus 400 made-up words, so texts differ as real ones do."""
    syllables = ["ka", "lo", "mi", "ten", "sa", "ru", "po", "de", "na", "vi", "tra", "bel"]
    return {lang: words + ["".join(rnd.choices(syllables, k=rnd.randint(2, 4)))
                           for _ in range(400)] for lang, words in WORDS.items()}


def corpus(seed: int = 7) -> list[Version]:
    """2,000 proposals in four languages, a third with one translation, some near-duplicates."""
    rnd = random.Random(seed)
    words = vocabulary(rnd)
    versions = []
    for pid in range(1, N + 1):
        lang = rnd.choice(list(words))
        title = " ".join(rnd.sample(words[lang], rnd.randint(4, 8)))
        desc = " ".join(rnd.choices(words[lang], k=rnd.randint(10, 40)))
        if pid > 1 and rnd.random() < 0.1:  # a near-duplicate of the previous one
            prev = versions[-1]
            lang, title, desc = prev.language, prev.title + " " + rnd.choice(words[lang]), \
                prev.description
        versions.append(Version(pid, lang, title, desc))
        if rnd.random() < 0.33:
            other = rnd.choice([x for x in words if x != lang])
            versions.append(Version(pid, other, " ".join(rnd.sample(words[other], 5)), ""))
    return versions


def plain_loop(versions: list[Version], threshold: float = 70.0) -> int:
    """The obvious way: every pair in every shared language, one scorer call at a time."""
    by_lang: dict[str, list[Version]] = {}
    for v in versions:
        by_lang.setdefault(v.language, []).append(v)
    found = set()
    for group in by_lang.values():
        texts = [_text(v) for v in group]
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                if fuzz.token_sort_ratio(texts[i], texts[j], score_cutoff=threshold):
                    found.add((group[i].proposal_id, group[j].proposal_id))
    return len(found)


def best_of(fn, runs: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    versions = corpus()
    print(f"{N} proposals, {len(versions)} language versions")
    ours, pairs = best_of(lambda: suggest(versions, limit=10**9))
    print(f"ours (cdist, all pairs, every language): {ours:.3f} s, {len(pairs)} pairs >= 70")
    loop, count = best_of(lambda: plain_loop(versions), runs=1)
    print(f"baseline (Python loop, same scorer):     {loop:.3f} s, {count} pairs >= 70")
    print(f"ratio baseline / ours: {loop / ours:.1f}x")


if __name__ == "__main__":
    main()
