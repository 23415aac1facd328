"""Sorted, disjoint ranges: adding, cutting and forgetting keep them merged and their total right."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from vpcsim.sim.spans import Spans

ops = st.lists(st.tuples(st.sampled_from(["add", "cut", "drop"]), st.integers(0, 200), st.integers(0, 40)), max_size=60)


@given(ops)
def test_spans_behave_as_a_set_of_integers(steps: list[tuple[str, int, int]]) -> None:
    spans, model = Spans(), set()
    for op, start, size in steps:
        if op == "add":
            added = spans.add(start, start + size)
            assert added == len(set(range(start, start + size)) - model)
            model |= set(range(start, start + size))
        elif op == "cut":
            spans.cut(start, start + size)
            model -= set(range(start, start + size))
        else:
            spans.drop_below(start)
            model = {x for x in model if x >= start}
        items = spans.items()
        assert {x for s, e in items for x in range(s, e)} == model
        assert spans.total == len(model)
        assert all(e < s2 for (_, e), (s2, _) in pairwise(items))  # disjoint, not touching
        for x in range(0, 250, 7):
            end = spans.end_of(x)
            assert (end is not None) == (x in model)
