"""Choosing among overlapping matches in a text."""

from __future__ import annotations

from typing import Callable, Iterable, List, Tuple, TypeVar

T = TypeVar("T")


def longest_non_overlapping(items: Iterable[T], span: Callable[[T], Tuple[int, int]]) -> List[T]:
    """Longest first, then leftmost; anything overlapping a kept item is dropped. In text order."""
    kept: List[T] = []
    kept_spans: List[Tuple[int, int]] = []
    for item in sorted(items, key=lambda i: (-(span(i)[1] - span(i)[0]), span(i)[0])):
        start, end = span(item)
        if all(end <= s or start >= e for s, e in kept_spans):
            kept.append(item)
            kept_spans.append((start, end))
    return sorted(kept, key=lambda i: span(i)[0])
