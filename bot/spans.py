"""Choosing among overlapping matches in a text."""

from __future__ import annotations

import bisect
from typing import Callable, Iterable, List, Tuple, TypeVar

T = TypeVar("T")


def longest_non_overlapping(items: Iterable[T], span: Callable[[T], Tuple[int, int]]) -> List[T]:
    """Longest first, then leftmost; anything overlapping a kept item is dropped. In text order.

    n log n: the kept spans do not overlap, so sorted by start they are sorted by end too, and a
    new span needs checking against its two neighbours only (thousands of matches in one long
    message would otherwise cost their square).
    """
    kept: List[T] = []
    kept_spans: List[Tuple[int, int]] = []
    kept_starts: List[int] = []
    for item in sorted(items, key=lambda i: (-(span(i)[1] - span(i)[0]), span(i)[0])):
        start, end = span(item)
        at = bisect.bisect_right(kept_starts, start)
        if at and kept_spans[at - 1][1] > start:
            continue
        if at < len(kept_spans) and kept_spans[at][0] < end:
            continue
        kept_starts.insert(at, start)
        kept_spans.insert(at, (start, end))
        kept.insert(at, item)
    return kept
