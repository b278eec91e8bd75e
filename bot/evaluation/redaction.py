"""Leaks per category and wrongly hidden evidence of the redaction (bot/privacy.py).

    python -m bot.evaluation.redaction                      # print the figures of today's redaction
    python -m bot.evaluation.redaction --baseline ed39e11   # and of bot/privacy.py at that commit
    python -m bot.evaluation.redaction --baseline ed39e11 --write docs/redaction.md

The corpus (tests/redaction/corpus.yml) holds personal data as people type it; a row leaks when
the redacted text still holds most of its value (60% of its letters and digits in one piece,
after full-width and Chinese digits are folded). The evidence table (tests/redaction/evidence.yml)
holds what must stay; a phrase is wrongly hidden when it is not in the redacted text any more.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "redaction" / "corpus.yml"
EVIDENCE = ROOT / "tests" / "redaction" / "evidence.yml"
PROMISED = ("mobile", "landline", "id_number", "bank_card", "email", "url_secret", "wechat", "qq", "alipay")
ADDED = ("name", "address", "passport", "plate")
_FOLD = str.maketrans("零〇○一二三四五六七八九幺", "0001234567891")
_KEEP = re.compile(r"[0-9a-z\u4e00-\u9fff]")


def compact(text: str) -> str:
    """Letters, digits and Chinese characters only, folded the way people vary them."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    return "".join(_KEEP.findall(folded))


def leaks(redacted: str, value: str) -> bool:
    """Does most of `value` (60% of it in one piece; all of a short one) survive in `redacted`?"""
    secret = compact(value)
    size = len(secret) if len(secret) <= 4 else max(4, math.ceil(0.6 * len(secret)))
    kept = compact(re.sub(r"\[[A-Z_]+\]", " ", redacted))
    return any(secret[i:i + size] in kept for i in range(len(secret) - size + 1))


def load(path: Path, key: str) -> List[Dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))[key])


@dataclass
class Figures:
    rows: Counter = field(default_factory=Counter)
    leaked: Counter = field(default_factory=Counter)
    mistyped: Counter = field(default_factory=Counter)
    leak_examples: Dict[str, List[str]] = field(default_factory=lambda: defaultdict(list))
    phrases: Counter = field(default_factory=Counter)
    hidden: Counter = field(default_factory=Counter)
    hidden_examples: List[Tuple[str, str, str]] = field(default_factory=list)

    def promised_leaks(self) -> int:
        return sum(self.leaked[c] for c in PROMISED)

    def hidden_total(self) -> int:
        return sum(self.hidden.values())


def measure(redact: Callable[[str], str]) -> Figures:
    figures = Figures()
    for row in load(CORPUS, "personal"):
        category = row["category"]
        out = redact(row["text"])
        figures.rows[category] += 1
        if leaks(out, str(row["value"])):
            figures.leaked[category] += 1
            figures.leak_examples[category].append(f"{row['variant']}: {row['text']!r} -> {out!r}")
        elif row["placeholder"] not in out:
            figures.mistyped[category] += 1
    for row in load(EVIDENCE, "evidence"):
        out = redact(row["text"])
        for phrase in row["keep"]:
            figures.phrases[row["category"]] += 1
            if phrase not in out:
                figures.hidden[row["category"]] += 1
                figures.hidden_examples.append((row["category"], phrase, out))
    return figures


ADDED_PLACEHOLDERS = ("[NAME]", "[ADDRESS]", "[PASSPORT]", "[PLATE]")


def nlu_examples_cost(spans: Callable[[str], List[Tuple[int, int, str]]]) -> Tuple[Counter, Counter]:
    """Examples per group (scam intents / everything else) of data/nlu, and how many spans of the
    added categories the redaction would hide in them: most scam examples are pasted scam messages."""
    examples: Counter = Counter()
    hidden: Counter = Counter()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in item or "examples" not in item:
                continue
            group = "scam" if str(item["intent"]).startswith("scam_") else "other"
            for line in str(item["examples"]).splitlines():
                if line.strip().startswith("- "):
                    examples[group] += 1
                    hidden.update((group, p) for _, _, p in spans(line.strip()[2:]) if p in ADDED_PLACEHOLDERS)
    return examples, hidden


def redact_at(revision: str) -> Callable[[str], str]:
    """bot/privacy.py's `redact` as it was at `revision`."""
    source = subprocess.run(
        ["git", "show", f"{revision}:bot/privacy.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("privacy_baseline", handle.name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.redact


def table(now: Figures, before: Optional[Figures], baseline: str) -> List[str]:
    head = "| category | rows | leaks before (" + baseline + ") | leaks now | placeholder of another type |"
    lines = [head if before else "| category | rows | leaks now | placeholder of another type |",
             "|---|---:|---:|---:|---:|" if before else "|---|---:|---:|---:|"]
    for category in PROMISED + ADDED:
        mark = "" if category in PROMISED else " (added)"
        cells = [f"{category}{mark}", str(now.rows[category])]
        if before:
            cells.append(str(before.leaked[category]))
        cells += [str(now.leaked[category]), str(now.mistyped[category])]
        lines.append("| " + " | ".join(cells) + " |")
    total = ["**promised, total**", str(sum(now.rows[c] for c in PROMISED))]
    if before:
        total.append(str(before.promised_leaks()))
    total += [str(now.promised_leaks()), str(sum(now.mistyped[c] for c in PROMISED))]
    lines.append("| " + " | ".join(total) + " |")
    if before:
        lines += ["", "| evidence | phrases | wrongly hidden before | wrongly hidden now |", "|---|---:|---:|---:|"]
    else:
        lines += ["", "| evidence | phrases | wrongly hidden now |", "|---|---:|---:|"]
    for category in sorted(now.phrases):
        cells = [category, str(now.phrases[category])]
        if before:
            cells.append(str(before.hidden[category]))
        cells.append(str(now.hidden[category]))
        lines.append("| " + " | ".join(cells) + " |")
    total = ["**total**", str(sum(now.phrases.values()))]
    if before:
        total.append(str(before.hidden_total()))
    total.append(str(now.hidden_total()))
    lines.append("| " + " | ".join(total) + " |")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="also measure bot/privacy.py at this git revision")
    parser.add_argument("--write", type=Path, help="write the figures into this Markdown file, between markers")
    args = parser.parse_args(argv)
    from bot.privacy import redact

    now = measure(redact)
    before = measure(redact_at(args.baseline)) if args.baseline else None
    lines = table(now, before, args.baseline or "")
    from bot.privacy import personal_spans

    examples, hidden = nlu_examples_cost(personal_spans)
    lines += ["", "| our NLU examples (data/nlu) | examples | " + " | ".join(ADDED_PLACEHOLDERS) + " |",
              "|---|---:|" + "---:|" * len(ADDED_PLACEHOLDERS)]
    for group, label in (("scam", "scam intents (mostly pasted scam messages)"), ("other", "all other intents")):
        lines.append(f"| {label} | {examples[group]} | "
                     + " | ".join(str(hidden[(group, p)]) for p in ADDED_PLACEHOLDERS) + " |")
    details = [f"- {c}: {e}" for c, examples in now.leak_examples.items() for e in examples]
    details += [f"- wrongly hidden ({c}): {p!r} in {o!r}" for c, p, o in now.hidden_examples]
    print("\n".join(lines + [""] + details))
    if args.write:
        text = args.write.read_text(encoding="utf-8")
        start, end = "<!-- figures:start -->", "<!-- figures:end -->"
        block = "\n".join([start, *lines, "", "What is left (today's code):", "", *(details or ["- nothing"]), end])
        args.write.write_text(re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S),
                              encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
