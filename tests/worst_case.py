"""Worst-case inputs for every regular expression that sees user text, grouped by pattern family.

A backtracking engine (Python's `re`) goes quadratic or worse when a pattern can start at many
places in a long run and scan far before failing: `\\d+万` over "0"×5000, a keyword followed by
20,000 spaces, `“[^”]*”` over "“"×5000. The generator reads each pattern's own pieces (its
literal characters, class members, category samples and literal words) and builds long inputs
from them: a run of one piece, a word followed by a run of a separator, two pieces alternating,
a word repeated with a separator. `screen` picks each pattern's slowest inputs at a small size;
the tests then time them at the sizes the doors allow (tests/test_linear_patterns.py,
tests/test_hostile.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Pattern, Sequence, Tuple

import yaml

try:  # Python 3.11 moved them; 3.10 is what Rasa 3.6 runs on.
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
ENTITY_DATA = ROOT / "data" / "nlu" / "entities.yml"
C = sre_constants
# Characters a class or category stands for, the ones worst cases are made of.
_CATEGORY_SAMPLES = {
    C.CATEGORY_DIGIT: "0１٣", C.CATEGORY_NOT_DIGIT: "a", C.CATEGORY_SPACE: " \u3000\t\n",
    C.CATEGORY_NOT_SPACE: "a0", C.CATEGORY_WORD: "a0_骗", C.CATEGORY_NOT_WORD: " ,",
}
_REPEATS = tuple(op for op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)) if op)
# Separators tried after a keyword and between repeated keywords.
_SEPARATORS = (" ", "0", "a", ",", "\u3000", "\n")
Named = Tuple[str, Pattern[str]]


def pieces(pattern: Pattern[str]) -> Tuple[List[str], List[str]]:
    """The pattern's single characters and its literal words (runs of two or more literals), in order."""
    chars: List[str] = []
    words: List[str] = []

    def add(char: str) -> None:
        if char not in chars:
            chars.append(char)

    def walk(items: Iterable[Tuple[Any, Any]]) -> None:
        run = ""
        for op, value in items:
            if op is C.LITERAL:
                run += chr(value)
                add(chr(value))
                continue
            if len(run) > 1 and run not in words:
                words.append(run)
            run = ""
            if op is C.IN:
                for inner, member in value:
                    if inner is C.LITERAL:
                        add(chr(member))
                    elif inner is C.RANGE:
                        for code in (member[0], (member[0] + member[1]) // 2, member[1]):
                            add(chr(code))
                    elif inner is C.CATEGORY:
                        for char in _CATEGORY_SAMPLES.get(member, ""):
                            add(char)
                    elif inner is C.NEGATE:
                        add("x")
                        add(" ")
            elif op in (C.NOT_LITERAL, C.ANY):
                add("x")
            elif op is C.CATEGORY:
                for char in _CATEGORY_SAMPLES.get(value, ""):
                    add(char)
            elif op in _REPEATS:
                walk(value[2])
            elif op is C.SUBPATTERN:
                walk(value[-1])
            elif op is C.BRANCH:
                for branch in value[1]:
                    walk(branch)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                walk(value[1])
            elif op is C.GROUPREF_EXISTS:
                walk(value[1])
                if value[2]:
                    walk(value[2])
        if len(run) > 1 and run not in words:
            words.append(run)

    walk(sre_parse.parse(pattern.pattern, pattern.flags & ~re.UNICODE))
    return chars, words


def _fill(unit: str, length: int, prefix: str = "") -> str:
    count = max(1, (length - len(prefix)) // max(1, len(unit)))
    return prefix + unit * count


Shape = Callable[[int], str]


def shapes(pattern: Pattern[str], most: int = 120) -> List[Tuple[str, Shape]]:
    """Worst-case input makers for `pattern`: (a short label, length -> text of about that length)."""
    chars, words = pieces(pattern)
    chars, words = chars[:40], words[:30]
    separators = [c for c in chars if not c.isalnum()][:4] + list(_SEPARATORS)
    made: List[Tuple[str, str, str]] = []  # (unit, prefix, label)
    made += [(unit, "", f"{unit!r}×n") for unit in chars + words]
    made += [(sep, word, f"{word!r}+{sep!r}×n") for word in words for sep in separators]
    made += [(a + b, "", f"{a + b!r}×n") for a, b in itertools.combinations(chars[:14], 2)]
    made += [(word + sep, "", f"{word + sep!r}×n") for word in words for sep in separators[:3]]
    seen = set()
    found: List[Tuple[str, Shape]] = []
    for unit, prefix, label in made:
        if (unit, prefix) in seen:
            continue
        seen.add((unit, prefix))
        found.append((label, lambda n, unit=unit, prefix=prefix: _fill(unit, n, prefix)))
    return found[:most]


def run_time(pattern: Pattern[str], text: str) -> float:
    """CPU seconds to find every match, as finditer/sub/search-all would (CPU time: other processes
    on a busy machine do not count)."""
    start = time.process_time()
    for _ in pattern.finditer(text):
        pass
    return time.process_time() - start


def screen(pattern: Pattern[str], length: int = 1024, keep: int = 3) -> List[Tuple[str, Shape]]:
    """The `keep` shapes slowest for `pattern` at `length` characters."""
    timed = [(run_time(pattern, shape(length)), label, shape) for label, shape in shapes(pattern)]
    timed.sort(key=lambda item: -item[0])
    return [(label, shape) for _, label, shape in timed[:keep]]


# ---------------------------------------------------------------------------------------------
# The patterns, by family

def collect(value: Any, path: str, found: List[Named], seen: set, depth: int = 0) -> None:
    """Every compiled pattern reachable from `value` (dataclasses, mappings, sequences)."""
    if id(value) in seen or depth > 8:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        found.append((path, value))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            collect(getattr(value, field.name), f"{path}.{field.name}", found, seen, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            collect(item, f"{path}[{key!r}]", found, seen, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            collect(item, f"{path}[{index}]", found, seen, depth + 1)


def module_patterns(name: str) -> List[Named]:
    import importlib

    module = importlib.import_module(name)
    found: List[Named] = []
    seen: set = set()
    for attribute, value in vars(module).items():
        if not attribute.startswith("__"):
            collect(value, f"{name}.{attribute}", found, seen)
    return found


def entity_patterns() -> Dict[str, List[Named]]:
    """data/nlu/entities.yml as Rasa's RegexFeaturizer and bot/nlu/fraud_entities.py run it
    (rasa.nlu.utils.pattern_utils, no word boundaries, case-insensitive), per regex or lookup name."""
    from rasa.nlu.utils import pattern_utils
    from rasa.shared.nlu.training_data.training_data import TrainingData

    items = yaml.safe_load(ENTITY_DATA.read_text(encoding="utf-8"))["nlu"]

    def examples(item: Dict[str, Any]) -> List[str]:
        return [line[2:] for line in str(item["examples"]).splitlines() if line.startswith("- ")]

    data = TrainingData(
        regex_features=[{"name": i["regex"], "pattern": p} for i in items if "regex" in i for p in examples(i)],
        lookup_tables=[{"name": i["lookup"], "elements": examples(i)} for i in items if "lookup" in i],
    )
    families: Dict[str, List[Named]] = {}
    for number, found in enumerate(pattern_utils.extract_patterns(
        data, use_lookup_tables=True, use_regexes=True, use_only_entities=False, use_word_boundaries=False,
    )):
        name = f"entities.{found['name']}"
        families.setdefault(name, []).append((f"{name}[{number}]", re.compile(found["pattern"], re.IGNORECASE)))
    return families


# Modules whose patterns see user text (or a header, or a sender id), by family.
MODULE_FAMILIES: Dict[str, Tuple[str, ...]] = {
    "language": ("bot.language",),
    "amounts": ("bot.amounts",),
    "timeparse": ("bot.timeparse",),
    "slots": ("actions.slots", "actions.case", "actions.common", "actions.questions", "actions.risk",
              "actions.triage"),
    "channels": ("bot.channels.http", "bot.channels.ratelimit", "bot.channels.webchat", "bot.channels.rest",
                 "bot.channels.integration", "bot.channels.hotline", "bot.channels.turns"),
    "analysis": ("bot.analysis", "bot.spans"),
    "identifiers": ("bot.identifiers",),
    "privacy": ("bot.privacy",),
}


@lru_cache(maxsize=1)
def families() -> Dict[str, Tuple[Named, ...]]:
    """Family name -> its distinct patterns."""
    from bot.facts import load_rules
    from bot.knowledge import load_knowledge

    grouped: Dict[str, List[Named]] = dict(entity_patterns())
    for family, modules in MODULE_FAMILIES.items():
        grouped[family] = [named for module in modules for named in module_patterns(module)]
    facts: List[Named] = []
    collect(load_rules(), "facts", facts, set())
    grouped["facts"] = facts + module_patterns("bot.facts")
    knowledge: List[Named] = []
    collect(load_knowledge(), "knowledge", knowledge, set())
    grouped["red_flags"] = knowledge
    distinct: Dict[str, Tuple[Named, ...]] = {}
    for family, named in grouped.items():
        seen: Dict[Tuple[str, int], Named] = {}
        for path, pattern in named:
            seen.setdefault((pattern.pattern, pattern.flags), (path, pattern))
        distinct[family] = tuple(seen.values())
    return distinct


@cache
def family_texts(family: str, length: int, per_pattern: int = 1, most: int = 24) -> List[Tuple[str, str]]:
    """Up to `most` worst-case texts of `length` characters for a family: the slowest shape of each
    of its slowest patterns, as (label, text)."""
    timed = []
    for path, pattern in families()[family]:
        for label, shape in screen(pattern, keep=per_pattern):
            timed.append((run_time(pattern, shape(1024)), f"{path}: {label}", shape))
    timed.sort(key=lambda item: -item[0])
    texts: List[Tuple[str, str]] = []
    seen = set()
    for _, label, shape in timed:
        text = shape(length)[:length]
        if text not in seen:
            seen.add(text)
            texts.append((label, text))
        if len(texts) >= most:
            break
    return texts


# Texts that were slow before: the examples, kept whatever the screen finds.
KNOWN_SLOW: Sequence[Tuple[str, Callable[[int], str]]] = (
    ("'0'×n", lambda n: "0" * n),
    ("'微信'+' '×n", lambda n: "微信" + " " * (n - 2)),
    ("'qq'+' '×n", lambda n: "qq" + " " * (n - 2)),
    ("'一'×n", lambda n: "一" * n),
    ("'1 '×n", lambda n: "1 " * (n // 2)),
    ("'“'×n", lambda n: "“" * n),
    ("'a-'×n", lambda n: "a-" * (n // 2)),
    ("'www.'×n", lambda n: "www." * (n // 4)),
)
