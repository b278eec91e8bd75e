"""Keep a fixed, stratified fifth of our own NLU examples out of training.

The split is a pure function of each example's text: one in five hash buckets
goes to tests/nlu_eval/, which holds out about a fifth of every intent and
language. Re-running after adding examples keeps every earlier decision, so
the evaluation set never leaks into training.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

TRAIN_DIR = Path("data/nlu")
EVAL_DIR = Path("tests/nlu_eval")
HOLDOUT_EVERY = 5
CJK = re.compile(r"[\u4e00-\u9fff]")


def examples_of(block: Dict) -> List[str]:
    return [
        line.strip()[2:].strip()
        for line in str(block.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def held_out(text: str) -> bool:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HOLDOUT_EVERY == 0


def render(blocks: List[Tuple[str, List[str]]]) -> str:
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in blocks:
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"


def intent_blocks(path: Path) -> Dict[str, List[str]]:
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    blocks: Dict[str, List[str]] = defaultdict(list)
    for block in document.get("nlu") or []:
        if "intent" in block:
            blocks[block["intent"]].extend(examples_of(block))
    return blocks


def main() -> None:
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    for train_path in sorted(TRAIN_DIR.glob("*.yml")):
        train = intent_blocks(train_path)
        if not train:
            continue  # regexes, lookups, synonyms: not examples
        held = intent_blocks(EVAL_DIR / train_path.name)
        train_out, eval_out = [], []
        for intent in train:
            pool = list(dict.fromkeys(train[intent] + held.get(intent, [])))
            train_out.append((intent, [e for e in pool if not held_out(e)]))
            eval_out.append((intent, [e for e in pool if held_out(e)]))
        train_path.write_text(render(train_out), encoding="utf-8")
        (EVAL_DIR / train_path.name).write_text(render(eval_out), encoding="utf-8")
        for intent, examples in eval_out:
            zh = sum(1 for e in examples if CJK.search(e))
            print(f"{train_path.name:40} {intent:32} held out zh={zh} en={len(examples) - zh}")


if __name__ == "__main__":
    main()
