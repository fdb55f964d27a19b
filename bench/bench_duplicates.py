"""Duplicate suggestions: quality on a hand-labelled set in four languages, and time for all pairs.

Run: .venv/bin/python bench/bench_duplicates.py
Quality: tests/data/duplicates.json (111 proposals in EN, FR, ES and NL, in clusters of true
duplicates, with hard negatives: same theme, another idea). Precision, recall and F1 of the
suggested pairs, same-language pairs / cross-language pairs / all, for the method before
(`suggest_by_shared_language`: RapidFuzz ratio in a language both proposals exist in, i.e. only
through a human translation) beside the new `suggest` (that, or character n-grams + glossary
concepts), both at the app's threshold. Two more rows take the new method apart: n-grams alone
and concepts alone, each at the cut that gives it the best F1 on this set (flattering them).
Time: all pairs of 300 and of 2,000 generated proposals (a third with one translation), best
of 3, old and new.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.proposals.labelled_duplicates import SPLITS, Scores, evaluate, load  # noqa: E402
from workshop.proposals import duplicates  # noqa: E402
from workshop.proposals.duplicates import (  # noqa: E402
    Pair,
    Version,
    suggest,
    suggest_by_shared_language,
)

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
Suggester = Callable[[list[Version]], list[Pair]]


def corpus(size: int, seed: int = 7) -> list[Version]:
    """`size` made-up proposals in four languages (domain words plus 400 made-up words per
    language), a third with one translation, some near-duplicates: for timing only."""
    rnd = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ten", "sa", "ru", "po", "de", "na", "vi", "tra", "bel"]
    words = {lang: ws + ["".join(rnd.choices(syllables, k=rnd.randint(2, 4))) for _ in range(400)]
             for lang, ws in WORDS.items()}
    versions: list[Version] = []
    for pid in range(1, size + 1):
        lang = rnd.choice(list(words))
        title = " ".join(rnd.sample(words[lang], rnd.randint(4, 8)))
        desc = " ".join(rnd.choices(words[lang], k=rnd.randint(10, 40)))
        if pid > 1 and rnd.random() < 0.1:  # a near-duplicate of the previous one
            prev = versions[-1]
            lang, title, desc = prev.language, f"{prev.title} {rnd.choice(words[lang])}", \
                prev.description
        versions.append(Version(pid, lang, title, desc))
        if rnd.random() < 0.33:
            other = rnd.choice([x for x in words if x != lang])
            versions.append(Version(pid, other, " ".join(rnd.sample(words[other], 5)), ""))
    return versions


@contextmanager
def weights(ngram: float, cut: float) -> Iterator[None]:
    """The new method with other weights and cut, for the rows that take it apart."""
    saved = duplicates.NGRAM_WEIGHT, duplicates.CONCEPT_WEIGHT, duplicates.BLEND_CUT
    duplicates.NGRAM_WEIGHT, duplicates.CONCEPT_WEIGHT, duplicates.BLEND_CUT = \
        ngram, 1 - ngram, cut
    try:
        yield
    finally:
        duplicates.NGRAM_WEIGHT, duplicates.CONCEPT_WEIGHT, duplicates.BLEND_CUT = saved


@contextmanager
def blend_once(versions: list[Version]) -> Iterator[None]:
    """`suggest` reuses one computed blend while only the cut changes."""
    computed = duplicates.blend(versions, sorted({v.proposal_id for v in versions}))
    saved = duplicates.blend
    duplicates.blend = lambda _versions, _ids: computed
    try:
        yield
    finally:
        duplicates.blend = saved


def best_cut(ngram: float, versions: list[Version], score: Callable) -> float:
    """The cut (0.05–0.95) with the best F1 over all pairs when only these weights count."""
    def f1(cut: float) -> float:
        with weights(ngram, cut):
            return score(suggest(versions, limit=10**9))["all"].f1
    with weights(ngram, 0.5), blend_once(versions):
        return max((c / 100 for c in range(5, 96)), key=f1)


def cell(s: Scores) -> str:
    precision = f"{s.precision:.2f}" if s.suggested else "  – "
    return f"{precision}  {s.recall:.2f}  {s.f1:.2f}"


def timed(fn: Suggester, versions: list[Version], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn(versions)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    labelled = load()
    truth = labelled.truth()
    score = lambda pairs: evaluate(labelled, pairs)  # noqa: E731
    counts = {split: sum(1 for p in truth if split == "all" or labelled.split(p) == split)
              for split in SPLITS}
    print(f"Labelled set: {len(labelled.cluster)} proposals, "
          f"{len(labelled.versions) - len(labelled.cluster)} with a human translation; true "
          f"pairs: {counts['same language']} same language, {counts['cross-language']} "
          f"cross-language (threshold {duplicates.DEFAULT_THRESHOLD:.0f})")
    rows: list[tuple[str, dict[str, Scores]]] = [
        ("before: shared language only",
         score(suggest_by_shared_language(labelled.versions, limit=10**9))),
        ("new: n-grams + concepts", score(suggest(labelled.versions, limit=10**9))),
    ]
    for name, ngram in (("  n-grams alone (best cut)", 1.0), ("  concepts alone (best cut)", 0.0)):
        cut = best_cut(ngram, labelled.versions, score)
        with weights(ngram, cut):
            rows.append((f"{name[:-4]}{cut:.2f})", score(suggest(labelled.versions,
                                                                 limit=10**9))))
    head = "".join(f" | {split:^16}" for split in SPLITS)
    print(f"{'method':34}{head}")
    print(f"{'':34}" + " |  P     R     F1 " * len(SPLITS))
    for name, result in rows:
        print(f"{name:34}" + "".join(f" | {cell(result[s])}" for s in SPLITS))
    print()
    for size in (300, 2000):
        versions = corpus(size)
        old = timed(lambda v: suggest_by_shared_language(v, limit=10**9), versions)
        new = timed(lambda v: suggest(v, limit=10**9), versions)
        print(f"all pairs of {size:>5} proposals ({len(versions)} versions): "
              f"before {old:.3f} s, new {new:.3f} s")


if __name__ == "__main__":
    main()
