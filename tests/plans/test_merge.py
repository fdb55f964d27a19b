"""The pure three-way merge of plan fields: clean merges keep everybody's change, overlaps
are conflicts, never a silent overwrite."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workshop.plans.merge import CONFLICT, merge_rows, merge_set, merge_text, merge_value

BASE = "Universal social protection for informal workers in West Africa."


def test_edits_in_different_places_both_survive():
    mine = BASE.replace("Universal", "Universal and fair")
    theirs = BASE.replace("West Africa", "West and Central Africa")
    assert merge_text(BASE, mine, theirs) == (
        "Universal and fair social protection for informal workers in West and Central Africa.")


def test_overlapping_edits_are_a_conflict():
    mine = BASE.replace("informal workers", "domestic workers")
    theirs = BASE.replace("informal workers", "informal traders")
    assert merge_text(BASE, mine, theirs) is CONFLICT


def test_one_side_unchanged_takes_the_other():
    assert merge_text(BASE, BASE, "x") == "x"
    assert merge_text(BASE, "y", BASE) == "y"
    assert merge_text(BASE, "same", "same") == "same"


def test_non_latin_text_merges():
    base = "सामाजिक सुरक्षा — សុខភាព — é ñ ç ẹ"
    mine = "सामाजिक सुरक्षा सबके लिए — សុខភាព — é ñ ç ẹ"
    theirs = "सामाजिक सुरक्षा — សុខភាព — é ñ ç ẹ ok"
    assert merge_text(base, mine, theirs) == "सामाजिक सुरक्षा सबके लिए — សុខភាព — é ñ ç ẹ ok"


def test_rows_added_by_both_are_kept():
    base = [{"_id": "a", "activity": "Training"}]
    mine = [*base, {"_id": "b", "activity": "Campaign"}]
    theirs = [*base, {"_id": "c", "activity": "Study"}]
    assert [r["_id"] for r in merge_rows(base, mine, theirs)] == ["a", "c", "b"]


def test_cells_of_one_row_merge_and_clash():
    base = [{"_id": "a", "activity": "Training", "2027": False}]
    mine = [{"_id": "a", "activity": "Training", "2027": True}]
    theirs = [{"_id": "a", "activity": "Training of trainers", "2027": False}]
    assert merge_rows(base, mine, theirs) == [
        {"_id": "a", "activity": "Training of trainers", "2027": True}]
    clash = [{"_id": "a", "activity": "Workshops", "2027": False}]
    assert merge_rows(base, clash, theirs) is CONFLICT


def test_removing_a_row_someone_changed_is_a_conflict():
    base = [{"_id": "a", "text": "one"}]
    assert merge_rows(base, [], [{"_id": "a", "text": "one!"}]) is CONFLICT
    assert merge_rows(base, [], base) == []


def test_multiple_choice_merges_as_a_set():
    assert merge_set(["1"], ["1", "2"], ["3"]) == ["3", "2"]
    assert merge_value("choice", True, ["1"], [], ["1", "3"]) == ["3"]


def test_single_choice_changed_by_both_is_a_conflict():
    assert merge_value("choice", False, "a", "b", "c") is CONFLICT


words = st.lists(st.sampled_from(["work", "travail", "trabajo", "werk", "salud", "é", "\n"]),
                 min_size=3, max_size=30)


@settings(max_examples=200, deadline=None)
@given(words, st.integers(0, 29), st.integers(0, 29), st.text(min_size=1, max_size=5),
       st.text(min_size=1, max_size=5))
def test_a_clean_merge_contains_both_insertions(base_words, i, j, a, b):
    """Two insertions at distinct places of the same text: merged, or refused; never lost."""
    base = " ".join(base_words)
    i, j = sorted((i % (len(base) + 1), j % (len(base) + 1)))
    mine = base[:i] + a + base[i:]
    theirs = base[:j] + b + base[j:]
    assume(mine != theirs)  # the same edit made twice is kept once, by design
    merged = merge_text(base, mine, theirs)
    if merged is not CONFLICT:
        assert merged.count(a) >= mine.count(a)
        assert merged.count(b) >= theirs.count(b)
        assert len(merged) == len(base) + len(a) + len(b)
