"""Likely duplicates among a workshop's lines of work, across languages.

Three signals, each 0–1, for every pair of proposals:

- shared language: RapidFuzz's token-sort ratio in every language both proposals exist in (an
  original or a human translation), as before (`suggest_by_shared_language`, kept as the
  benchmark's baseline);
- character n-grams: TF-IDF cosine of 3- to 5-letter pieces of words, accents and case folded,
  so cognates meet without a translator ("protection", "protección", "protectie");
- concepts: the programme's terms each language names differently ("devoir de vigilance",
  "due diligence"), through `glossary`.

A pair's score (0–100) is the best of the shared-language ratio and the weighted sum of the
other two, rescaled so that both read alike: 70 is "likely" on each (the ratio's threshold
since the start; `BLEND_CUT` for the sum). A high ratio in a shared language is near-certain
(the same words in the same language), so it stands on its own rather than being diluted by
the cross-language signals, and names the pair's language. The weights and `BLEND_CUT` were
chosen on the labelled set in tests/data/duplicates.json; `bench/bench_duplicates.py` prints
the precision and recall.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from threadpoolctl import threadpool_limits

from workshop.proposals import glossary

#: Pairs scoring below this (0–100) are not suggested.
DEFAULT_THRESHOLD = 70.0
#: Weights of the cross-language signals in the blended score (they sum to 1).
NGRAM_WEIGHT = 0.4
CONCEPT_WEIGHT = 0.6
#: The blended score (0–1) that reads as DEFAULT_THRESHOLD: best F1 on the labelled set.
BLEND_CUT = 0.50
#: Character n-gram sizes (within words, padded with spaces like scikit-learn's char_wb).
NGRAM_SIZES = (3, 4, 5)

#: Words too common to tell lines of work apart, in the four languages (folded).
STOPWORDS = frozenset(" ".join((
    # en
    "a an and are as at be by for from in into is it its of on or so that the their them "
    "they this to with without more all every must should can our we not no",
    # fr
    "a au aux avec ce ces dans de des du en et la le les leur leurs par pas plus pour que "
    "qui sa se ses son sur un une ou il elle ils elles doit doivent faut tous toutes tout",
    # es
    "al con del el en es la las lo los para por que se sin sus su un una y o mas todo "
    "todos debe deben",
    # nl
    "aan als bij de den der die dit een en het hun in is met naar niet of om op te tot "
    "van voor zijn ze zodat moet moeten meer ook door",
)).split())


@dataclass(frozen=True)
class Version:
    """One language version of a proposal."""

    proposal_id: int
    language: str
    title: str
    description: str


@dataclass(frozen=True)
class Pair:
    """Two proposals that look alike, the score (0–100) and the language they met in.

    `language` is one code when they were compared in a language both have, or "fr/es" (the
    first's language, then the second's) when they met across languages.
    """

    first: int
    second: int
    score: float
    language: str


_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_NOT_ASCII_ALNUM = re.compile("[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped: 'Protección' and 'proteccion' are equal.

    Latin text (ASCII once its accents are gone) takes two regex passes instead of a loop over
    characters, with the same result; other scripts go through the loop.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = _LATIN_MARKS.sub("", decomposed)
    if bare.isascii():
        return _NOT_ASCII_ALNUM.sub(" ", bare).strip()
    kept = [c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)]
    return " ".join("".join(kept).split())


def _text(version: Version) -> str:
    """Normalised words, sorted once here: a plain ratio of these is the token-sort ratio.

    The title is counted twice so it weighs most; the start of the description breaks ties
    between short titles.
    """
    words = normalise(f"{version.title} {version.title} {version.description[:240]}").split()
    return " ".join(sorted(words))


# --- Shared language (the method before cross-language suggestions) ---------------------------


def _shared_language_scores(versions: list[Version],
                            cutoff: float) -> dict[tuple[int, int], tuple[float, str]]:
    """Best token-sort ratio (0–100) of each pair of proposals in a language both exist in."""
    best: dict[tuple[int, int], tuple[float, str]] = {}
    by_language: dict[str, list[Version]] = {}
    for v in versions:
        by_language.setdefault(v.language, []).append(v)
    for language, group in by_language.items():
        if len(group) < 2:
            continue
        texts = [_text(v) for v in group]
        scores = process.cdist(texts, texts, scorer=fuzz.ratio, dtype=np.uint8,
                               score_cutoff=int(cutoff), workers=-1)
        upper = np.triu(scores, k=1)
        for i, j in zip(*np.nonzero(upper), strict=True):
            a, b = group[int(i)].proposal_id, group[int(j)].proposal_id
            if a == b:
                continue
            key = (min(a, b), max(a, b))
            score = float(upper[i, j])
            if key not in best or best[key][0] < score:
                best[key] = (score, language)
    return best


def _ranked(pairs: list[Pair], limit: int) -> list[Pair]:
    return sorted(pairs, key=lambda p: (-p.score, p.first, p.second))[:limit]


def suggest_by_shared_language(versions: list[Version], threshold: float = DEFAULT_THRESHOLD,
                               limit: int = 100) -> list[Pair]:
    """The suggestions before cross-language matching: only proposals with a language in
    common (through a human translation) can meet. Kept as the benchmark's baseline."""
    scores = _shared_language_scores(versions, threshold)
    return _ranked([Pair(a, b, s, lang) for (a, b), (s, lang) in scores.items()], limit)


# --- Across languages ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Folded:
    """A version's title and description folded once, for both cross-language signals."""

    owner: int
    title: str
    description: str

    def content_words(self) -> list[str]:
        """Title (twice: it weighs most) and the description's first 60 words, no stopwords."""
        title = self.title.split()
        words = title + title + self.description.split()[:60]
        return [w for w in words if w not in STOPWORDS and not w.isdigit()]


def _word_ngrams(word: str) -> list[str]:
    """A word's n-grams, padded with spaces as scikit-learn's char_wb does."""
    padded = f" {word} "
    return [padded[i:i + n] for n in NGRAM_SIZES for i in range(len(padded) - n + 1)]


def _by_proposal(similarity: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Version × version similarities to proposal × proposal: the best of their versions.

    `owners` is each version's proposal index, sorted.
    """
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    if len(starts) == len(owners):
        return similarity
    return np.maximum.reduceat(np.maximum.reduceat(similarity, starts, axis=0), starts, axis=1)


def ngram_similarity(folded: list[_Folded], owners: np.ndarray) -> np.ndarray:
    """TF-IDF cosine of character n-grams (sublinear term frequency, smoothed IDF), per
    proposal pair. N-grams in one version only are dropped after the norms are taken: they
    change no dot product, and the matrix stays small."""
    ids: dict[str, int] = {}
    of_word: dict[str, list[int]] = {}  # words repeat: their n-grams are looked up once
    rows: list[int] = []
    columns: list[int] = []
    counts: list[int] = []
    for row, version in enumerate(folded):
        grams: Counter[int] = Counter()
        for word in version.content_words():
            if word not in of_word:
                of_word[word] = [ids.setdefault(g, len(ids)) for g in _word_ngrams(word)]
            grams.update(of_word[word])
        rows.extend([row] * len(grams))
        columns.extend(grams.keys())
        counts.extend(grams.values())
    n = len(folded)
    row_of, column_of = np.array(rows, dtype=np.intp), np.array(columns, dtype=np.intp)
    df = np.bincount(column_of, minlength=len(ids))
    idf = np.log((1 + n) / (1 + df)) + 1
    weight = (1 + np.log(np.array(counts, dtype=np.float64))) * idf[column_of]
    norms = np.sqrt(np.bincount(row_of, weights=weight * weight, minlength=n))
    weight /= np.where(norms > 0, norms, 1)[row_of]
    shared = df > 1
    compact = np.cumsum(shared) - 1
    keep = shared[column_of]
    matrix = np.zeros((n, max(int(shared.sum()), 1)), dtype=np.float32)
    matrix[row_of[keep], compact[column_of[keep]]] = weight[keep]
    with threadpool_limits(1, user_api="blas"):  # small product: threads only contend
        product = matrix @ matrix.T
    return _by_proposal(product, owners)


def concept_similarity(folded: list[_Folded], proposals: int) -> np.ndarray:
    """Cosine of the glossary concepts two proposals name (in any of their versions), each
    weighted by its rarity among these proposals and double when named in a title."""
    named: list[dict[str, float]] = [{} for _ in range(proposals)]
    for version in folded:
        found = named[version.owner]
        for concept in glossary.concepts(version.description):
            found.setdefault(concept, 1.0)
        for concept in glossary.concepts(version.title):
            found[concept] = 2.0
    df = Counter(c for found in named for c in found)
    columns = {c: k for k, c in enumerate(df)}
    matrix = np.zeros((proposals, max(len(columns), 1)), dtype=np.float32)
    for row, found in enumerate(named):
        for c, w in found.items():
            matrix[row, columns[c]] = w * (math.log((1 + proposals) / (1 + df[c])) + 1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1)
    return matrix @ matrix.T


def blend(versions: list[Version], ids: list[int]) -> np.ndarray:
    """The weighted sum (0–1) of n-gram and concept similarity, proposal × proposal, rows and
    columns in the order of `ids` (sorted proposal ids)."""
    index = {pid: k for k, pid in enumerate(ids)}
    folded = sorted((_Folded(index[v.proposal_id], normalise(v.title), normalise(v.description))
                     for v in versions), key=lambda f: f.owner)
    owners = np.array([f.owner for f in folded])
    return (NGRAM_WEIGHT * ngram_similarity(folded, owners)
            + CONCEPT_WEIGHT * concept_similarity(folded, len(ids)))


def _on_ratio_scale(blended: np.ndarray) -> np.ndarray:
    """Blended similarity (0–1) to 0–100, piecewise linear: BLEND_CUT becomes
    DEFAULT_THRESHOLD and 1 stays 100, so one threshold serves both kinds of score."""
    low = blended * (DEFAULT_THRESHOLD / BLEND_CUT)
    high = DEFAULT_THRESHOLD + (blended - BLEND_CUT) * ((100 - DEFAULT_THRESHOLD)
                                                       / (1 - BLEND_CUT))
    return np.clip(np.where(blended < BLEND_CUT, low, high), 0, 100)


def suggest(versions: list[Version], threshold: float = DEFAULT_THRESHOLD,
            limit: int = 100) -> list[Pair]:
    """The most similar pairs of distinct proposals, best first, at most `limit`, in any
    languages.

    Pure: plain versions in, pairs out (no database), so it can be benchmarked alone. A
    proposal's first version is taken as its original.
    """
    ids = sorted({v.proposal_id for v in versions})
    if len(ids) < 2:
        return []
    original: dict[int, str] = {}
    for v in versions:
        original.setdefault(v.proposal_id, v.language)
    blended = _on_ratio_scale(blend(versions, ids))
    shared = _shared_language_scores(versions, threshold)
    pairs = []
    for i, j in zip(*np.nonzero(np.triu(blended >= threshold, k=1)), strict=True):
        a, b = ids[int(i)], ids[int(j)]
        languages = (original[a], original[b])
        pairs.append(Pair(a, b, round(float(blended[i, j]), 1),
                          languages[0] if len(set(languages)) == 1 else "/".join(languages)))
    found = {(p.first, p.second): p for p in pairs}
    for (a, b), (score, language) in shared.items():  # named by the language both can be read in
        blended_score = found[(a, b)].score if (a, b) in found else 0.0
        found[(a, b)] = Pair(a, b, max(score, blended_score), language)
    return _ranked(list(found.values()), limit)
