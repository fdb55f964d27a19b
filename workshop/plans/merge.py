"""Three-way merge of a plan field: what I changed from the base, applied onto what is there now.

Pure: no Flask, no database. A phone sends its new value with the version it started from (the
base); when somebody else saved in between ("theirs"), the server merges instead of
overwriting. Text merges character by character with diff-match-patch where the edits don't
overlap; tables and lists merge row by row (rows carry a stable `_id`) and cell by cell; a
multiple choice merges as a set. When both changed the same thing differently the merge
fails (returns `CONFLICT`), and nobody's text is overwritten.
"""

from __future__ import annotations

from typing import Any

from diff_match_patch import diff_match_patch

CONFLICT: Any = object()


def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    # Strict matching: a patch applies where its context is found nearly exactly, or not at
    # all (then the merge is a conflict, never a guess).
    dmp.Match_Threshold = 0.1
    dmp.Patch_DeleteThreshold = 0.1
    dmp.Match_Distance = 1000
    dmp.Diff_Timeout = 0.5
    return dmp


def _overlaps(base: str, mine: str, theirs: str, dmp: diff_match_patch) -> bool:
    """True when both sides changed (or touched) the same span of the base text."""

    def spans(other: str) -> list[tuple[int, int]]:
        out = []
        pos = 0
        for op, text in dmp.diff_main(base, other):
            if op == 0:
                pos += len(text)
            elif op == -1:
                out.append((pos, pos + len(text)))
                pos += len(text)
            else:
                out.append((pos, pos))
        return out

    mine_spans, their_spans = spans(mine), spans(theirs)
    for a0, a1 in mine_spans:
        for b0, b1 in their_spans:
            # Two inserts at the same place, or spans that touch or cross.
            if a0 <= b1 and b0 <= a1:
                return True
    return False


def merge_text(base: str, mine: str, theirs: str) -> Any:
    """Apply my change (base → mine) onto theirs; `CONFLICT` where the edits overlap."""
    if mine in (base, theirs):
        return theirs
    if theirs == base:
        return mine
    dmp = _dmp()
    if _overlaps(base, mine, theirs, dmp):
        return CONFLICT
    patches = dmp.patch_make(base, mine)
    merged, applied = dmp.patch_apply(patches, theirs)
    if not all(applied):
        return CONFLICT
    return merged


def _merge_scalar(base: Any, mine: Any, theirs: Any) -> Any:
    if mine in (base, theirs):
        return theirs
    if theirs == base:
        return mine
    if isinstance(base, str) and isinstance(mine, str) and isinstance(theirs, str):
        return merge_text(base, mine, theirs)
    return CONFLICT


def _merge_row(base: dict, mine: dict, theirs: dict) -> Any:
    out: dict[str, Any] = {}
    for key in list(dict.fromkeys([*theirs, *mine])):
        default = "" if isinstance(mine.get(key, theirs.get(key, "")), str) else False
        value = _merge_scalar(base.get(key, default), mine.get(key, default),
                              theirs.get(key, default))
        if value is CONFLICT:
            return CONFLICT
        out[key] = value
    return out


def merge_rows(base: list[dict], mine: list[dict], theirs: list[dict]) -> Any:
    """Merge two edits of a table (rows identified by `_id`).

    Theirs keep their order; rows I added come after; a row I removed goes unless they changed
    it meanwhile (a conflict), and the same the other way round.
    """
    base_by = {r.get("_id"): r for r in base}
    mine_by = {r.get("_id"): r for r in mine}
    their_by = {r.get("_id"): r for r in theirs}
    out: list[dict] = []
    for rid, row in their_by.items():
        if rid in mine_by:
            merged = _merge_row(base_by.get(rid, {}), mine_by[rid], row)
            if merged is CONFLICT:
                return CONFLICT
            out.append(merged)
        elif rid in base_by:  # I removed it
            if row != base_by[rid]:
                return CONFLICT
        else:  # they added it
            out.append(row)
    for rid, row in mine_by.items():
        if rid in their_by:
            continue
        if rid in base_by:  # they removed it
            if row != base_by[rid]:
                return CONFLICT
            continue
        out.append(row)  # I added it
    return out


def merge_set(base: list, mine: list, theirs: list) -> list:
    """A multiple choice: my additions and removals applied to theirs (never a conflict)."""
    added = [v for v in mine if v not in base]
    removed = {v for v in base if v not in mine}
    out = [v for v in theirs if v not in removed]
    out.extend(v for v in added if v not in out)
    return out


def merge_value(kind: str, multiple: bool, base: Any, mine: Any, theirs: Any) -> Any:
    """Merge a field's value by its kind; `CONFLICT` when it cannot be merged."""
    if mine in (base, theirs):
        return theirs
    if theirs == base:
        return mine
    if kind in ("text", "longtext"):
        return merge_text(base, mine, theirs)
    if kind in ("list", "table"):
        return merge_rows(base, mine, theirs)
    if kind == "choice" and multiple:
        return merge_set(base, mine, theirs)
    return CONFLICT
