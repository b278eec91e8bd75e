"""The redaction corpus (tests/redaction/): no leak in the categories the README promises, and the
evidence it wrongly hides limited to the measured cost of the added categories (docs/redaction.md)."""

from __future__ import annotations

import pytest

from bot.evaluation.redaction import ADDED, CORPUS, PROMISED, Figures, leaks, load, measure
from bot.privacy import redact


@pytest.fixture(scope="module")
def figures() -> Figures:
    return measure(redact)


def test_the_corpus_covers_every_category_in_both_languages() -> None:
    rows = load(CORPUS, "personal")
    assert len(rows) >= 200
    for category in PROMISED + ADDED:
        assert {r["lang"] for r in rows if r["category"] == category} == {"zh", "en"}, category


def test_no_leak_in_the_promised_categories(figures: Figures) -> None:
    leaked = {c: figures.leak_examples[c] for c in PROMISED if figures.leaked[c]}
    assert leaked == {}


def test_the_added_categories_leak_only_what_is_kept_on_purpose(figures: Figures) -> None:
    """A street address without a label stays: in pasted letters it is the sender's (evidence)."""
    leaked = [e for c in ADDED for e in figures.leak_examples[c]]
    assert all(e.startswith("street without a label") for e in leaked), leaked
    assert len(leaked) <= 1


def test_placeholders_say_what_was_there(figures: Figures) -> None:
    assert sum(figures.mistyped.values()) == 0


def test_evidence_stays_except_a_scammer_introducing_himself(figures: Figures) -> None:
    """Amounts, platforms, claims, times, service and order numbers, codes and plain URLs all stay;
    only a pasted message in which the scammer gives his own name or address loses it."""
    hidden = [(c, p) for c, p, _ in figures.hidden_examples if c != "scammer_identity"]
    assert hidden == []
    assert figures.hidden["scammer_identity"] <= 7


def test_the_leak_check_sees_a_leak() -> None:
    assert leaks("call 138 1234 5678", "13812345678")
    assert leaks("call 一三八一二三四五六七八", "13812345678")
    assert not leaks("call [PHONE]", "13812345678")
