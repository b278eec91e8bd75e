"""Triage facts from whatever a person writes: money sent, when, how much, how, and what else they gave away.

    facts = extract_facts("他让我下了个软件，刚才转了两万", "zh", now=datetime(2024, 5, 10, 15, 0))
    facts.money_sent, facts.minutes_since_transfer, facts.amount, facts.app_installed
    -> True, 5.0, "两万", True

Pure Python, no model. The words live in `knowledge/facts.yml` (loaded and checked once, when
this module is imported); this module only applies them:

1. The text is normalised (case, width, traditional characters, spaces, misspellings) with a
   map back to the original, so an amount or a time is returned as the person wrote it.
2. It is cut into clauses and sentences; quoted words (“…”, "他说：…", the other side's turns
   of a pasted chat) are marked; `exclusions` are blanked out ("把我转给了检察官").
3. Each field's patterns are matched and each match is read in its clause: a question or a
   hypothesis ("要不要转", "should I pay?"), the act of the one spoken to ("你把钱转到…"),
   reported speech, a warning ("请勿转账") or a plan is no fact; a negation ("我没转") makes
   it False; a Chinese act counts only when done (了/过/已经, or a state). A clause without an
   object ("我没发", "but I didn't") is about the last object named before it. Both
   languages are read whatever `lang` says.
4. The time, the amount and the channel nearest to the money leaving are chosen; without a
   transfer, only a message that is nothing but a time or an amount ("十分钟前", "600")
   gives one (the answer to the question just asked).

Everything runs in linear time in the length of the text: the loader refuses unbounded and
nested repeats, texts are read up to `max_chars`, and each field reads at most `max_matches`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Pattern, Sequence, Set, Tuple

import yaml

from bot.amounts import AmountMention, find_amounts
from bot.spans import longest_non_overlapping
from bot.timeparse import TimeMention, find_times

FACTS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "facts.yml"
BOOL_FIELDS: Tuple[str, ...] = (
    "money_sent",
    "app_installed",
    "screen_shared",
    "id_given",
    "card_details_given",
    "code_given",
    "loan_taken",
    "still_in_contact",
)
CHANNELS: Tuple[str, ...] = (
    "bank_transfer", "alipay", "wechat_pay", "card_payment", "crypto", "gift_card", "cash", "other",
)
# The question the assistant asked, as the caller may name it (see `extract_facts(asked=...)`).
ASKABLE: Tuple[str, ...] = BOOL_FIELDS + ("amount", "payment_channel", "minutes_since_transfer",
                                          "time_since_transfer")
CUE_CLASSES = ("question", "request", "modal", "negation", "speech", "other_actor", "done_before", "asked")
AFTER_CUES = ("negation_after", "not_again_after", "done_after", "question_after")
LAST_WINS = ("still_in_contact",)


@dataclass(frozen=True)
class Facts:
    money_sent: Optional[bool] = None
    minutes_since_transfer: Optional[float] = None
    time_text: Optional[str] = None
    amount: Optional[str] = None
    payment_channel: Optional[str] = None
    app_installed: Optional[bool] = None
    screen_shared: Optional[bool] = None
    id_given: Optional[bool] = None
    card_details_given: Optional[bool] = None
    code_given: Optional[bool] = None
    loan_taken: Optional[bool] = None
    still_in_contact: Optional[bool] = None
    # What they asked the person to do that the message does not say was done ("他让我下载个App").
    asked_for: Tuple[str, ...] = ()


# Facts that say a code, the screen, an app, ID or card details or a loan went to them.
EXPOSURES = ("app_installed", "screen_shared", "id_given", "card_details_given", "code_given", "loan_taken")
# The acts `Facts.asked_for` can name.
ASKABLE_ACTS = ("money_sent",) + EXPOSURES


class FactsRulesError(ValueError):
    """knowledge/facts.yml is broken: a bad or slow pattern, a missing part."""


# ---------------------------------------------------------------------------
# The rules, loaded once

@dataclass(frozen=True)
class Rule:
    pattern: Pattern[str]
    polarity: bool
    requires: Optional[str]
    done: bool
    source: str


@dataclass(frozen=True)
class Cue:
    pattern: Pattern[str]  # ends at the end of the window
    reach: int  # the longest stretch it can match: only that much of the window is searched
    anchored: bool  # uses ^ (the clause start)


@dataclass(frozen=True)
class Rules:
    max_chars: int
    max_matches: int
    short_answer_chars: int
    short_channel_chars: int
    window: int
    char_map: Dict[str, str]
    variants_zh: Optional[Pattern[str]]
    variants_en: Optional[Pattern[str]]
    variant_map: Dict[str, str]
    clause_breaks: Pattern[str]
    sentence_breaks: Pattern[str]
    quote_pairs: Tuple[Tuple[str, str], ...]
    speech_colon: Pattern[str]
    other_speaker: Pattern[str]
    any_speaker: Pattern[str]
    contexts: Dict[str, Pattern[str]]
    cues: Dict[str, Tuple[Cue, ...]]
    after: Dict[str, Tuple[Pattern[str], ...]]
    yes: Pattern[str]
    no: Pattern[str]
    exclusions: Tuple[Pattern[str], ...]
    ellipsis: Tuple[Pattern[str], ...]
    objects: Dict[str, Pattern[str]]
    ellipsis_verbs: Dict[str, Pattern[str]]
    amount_answer: Pattern[str]
    time_answer: Pattern[str]
    time_clause_transfer: Pattern[str]
    time_other_before: Pattern[str]
    time_other_event: Pattern[str]
    time_alone: Pattern[str]
    follows: Tuple[Pattern[str], ...]
    fields: Dict[str, Tuple[Rule, ...]]
    state_fields: Tuple[str, ...]
    pay_words: Pattern[str]
    channel_negation: Pattern[str]
    channels: Dict[str, Tuple[Pattern[str], Pattern[str]]]
    amount_before: Pattern[str]
    amount_after: Pattern[str]
    amount_total: Pattern[str]
    amount_blockers: Tuple[Pattern[str], ...]
    non_money_after: Pattern[str]


def _repeat_codes() -> Tuple[Any, Any, Any, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import sre_constants
        import sre_parse
    return sre_parse, sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.MAXREPEAT


def check_linear(pattern: str, max_repeat: int, max_nested: int) -> None:
    """Refuse patterns that can backtrack over a long input: no unbounded or huge repeats,
    nested repeats bounded in product, no back-references. Raises FactsRulesError."""
    sre_parse, max_op, min_op, unbounded = _repeat_codes()
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise FactsRulesError(f"bad pattern {pattern!r}: {exc}") from exc

    def walk(items: Iterable[Any], product: int) -> None:
        for op, arg in items:
            name = str(op)
            if op in (max_op, min_op):
                low, high, sub = arg
                if high == unbounded:
                    raise FactsRulesError(f"unbounded repeat in {pattern!r}: use {{0,N}}")
                if high > max_repeat:
                    raise FactsRulesError(f"repeat {{{low},{high}}} over {max_repeat} in {pattern!r}")
                inner = product * max(high, 1)
                if product > 1 and inner > max_nested:
                    raise FactsRulesError(f"nested repeats over {max_nested} in {pattern!r}")
                walk(sub, inner)
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                raise FactsRulesError(f"back-reference in {pattern!r}")
            elif name == "SUBPATTERN":
                walk(arg[-1], product)
            elif name == "BRANCH":
                for branch in arg[1]:
                    walk(branch, product)
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(arg[1], product)

    walk(parsed, 1)


UNKNOWN_DEF = re.compile(r"<<\w{1,40}>>")


def expand_defs(pattern: str, defs: Mapping[str, str]) -> str:
    """`<<name>>` replaced by the regex named in a `defs` table (knowledge/facts.yml, knowledge/scam_types.yml).

    Raises ValueError for a name the table does not have."""
    for _ in range(3):  # defs may use defs
        for name, value in defs.items():
            pattern = pattern.replace(f"<<{name}>>", f"(?:{value})")
    unknown = UNKNOWN_DEF.search(pattern)
    if unknown:
        raise ValueError(f"unknown {unknown.group(0)} in {pattern!r}")
    return pattern


class _Compiler:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.defs: Dict[str, str] = {str(k): str(v) for k, v in (data.get("defs") or {}).items()}
        self.max_repeat = int(data.get("max_repeat", 60))
        self.max_nested = int(data.get("max_nested_repeat", 400))

    def expand(self, pattern: str) -> str:
        try:
            return expand_defs(pattern, self.defs)
        except ValueError as error:
            raise FactsRulesError(str(error)) from error

    def compile(self, pattern: Any, flags: int = re.MULTILINE) -> Pattern[str]:
        if not isinstance(pattern, str) or not pattern:
            raise FactsRulesError(f"a pattern must be a non-empty string, not {pattern!r}")
        text = self.expand(pattern)
        check_linear(text, self.max_repeat, self.max_nested)
        try:
            return re.compile(text, flags)
        except re.error as exc:
            raise FactsRulesError(f"bad pattern {pattern!r}: {exc}") from exc

    def join(self, patterns: Sequence[Any]) -> Pattern[str]:
        if isinstance(patterns, str):
            patterns = [patterns]
        for pattern in patterns:
            self.compile(pattern)
        return self.compile("|".join(f"(?:{self.expand(p)})" for p in patterns))


def _width(pattern: str) -> int:
    """The most characters the pattern can match (bounded: check_linear allows no unbounded repeat)."""
    sre_parse = _repeat_codes()[0]
    return int(min(sre_parse.parse(pattern).getwidth()[1], 10_000))


def _require(data: Mapping[str, Any], key: str) -> Any:
    if key not in data:
        raise FactsRulesError(f"facts.yml: missing `{key}`")
    return data[key]


def parse_rules(data: Mapping[str, Any]) -> Rules:
    """Check and compile the rules of knowledge/facts.yml (raises FactsRulesError)."""
    if not isinstance(data, Mapping):
        raise FactsRulesError("facts.yml: not a mapping")
    comp = _Compiler(data)
    char_map = {str(k): str(v) for k, v in (data.get("char_map") or {}).items()}
    for key in char_map:
        if len(key) != 1:
            raise FactsRulesError(f"char_map: {key!r} is not one character")
    variants = data.get("variants") or {}
    variant_map: Dict[str, str] = {}
    variant_patterns: Dict[str, Optional[Pattern[str]]] = {}
    for lang in ("zh", "en"):
        spellings = {str(k).lower(): str(v).lower() for k, v in (variants.get(lang) or {}).items()}
        variant_map.update(spellings)
        if not spellings:
            variant_patterns[lang] = None
            continue
        words = "|".join(re.escape(k) for k in sorted(spellings, key=len, reverse=True))
        variant_patterns[lang] = re.compile(rf"\b(?:{words})\b" if lang == "en" else words)

    cues: Dict[str, Tuple[Cue, ...]] = {}
    after: Dict[str, Tuple[Pattern[str], ...]] = {}
    cue_data = _require(data, "cues")
    for name in CUE_CLASSES:
        entry = _require(cue_data, name)
        compiled = []
        for lang in ("zh", "en"):
            part = _require(entry, lang)
            gap = int(part.get("gap", 6))
            joined = "|".join(f"(?:{comp.expand(p)})" for p in _require(part, "patterns"))
            pattern = comp.compile(f"(?:{joined}).{{0,{gap}}}$", 0)
            compiled.append(Cue(pattern, _width(pattern.pattern), "^" in joined))
        cues[name] = tuple(compiled)
    for name in AFTER_CUES:
        entry = _require(cue_data, name)
        after[name] = tuple(comp.compile(_require(entry, lang), 0) for lang in ("zh", "en"))

    fields: Dict[str, Tuple[Rule, ...]] = {}
    state_fields = []
    unknown = (set(data.get("objects") or {}) | set(data.get("ellipsis_verbs") or {})) - set(BOOL_FIELDS)
    if unknown:
        raise FactsRulesError(f"objects: unknown fields {sorted(unknown)}")
    field_data = _require(data, "fields")
    contexts = {str(k): comp.compile(v) for k, v in (data.get("contexts") or {}).items()}
    for name in BOOL_FIELDS:
        entry = _require(field_data, name)
        if entry.get("state"):
            state_fields.append(name)
        rules: List[Rule] = []
        for polarity in (True, False):
            for item in entry.get("positive" if polarity else "negative") or []:
                spec = item if isinstance(item, Mapping) else {"re": item}
                requires = spec.get("requires")
                if requires is not None and requires not in contexts:
                    raise FactsRulesError(f"{name}: unknown context {requires!r}")
                rules.append(Rule(comp.compile(spec.get("re")), polarity, requires, bool(spec.get("done")),
                                  str(spec.get("re"))))
        if not rules:
            raise FactsRulesError(f"{name}: no patterns")
        fields[name] = tuple(rules)

    channel_data = _require(data, "channels")
    channels = {}
    for name in CHANNELS:
        entry = _require(channel_data, name)
        channels[name] = (comp.compile(_require(entry, "strong")), comp.compile(_require(entry, "weak")))
    quotes = _require(data, "quotes")
    pairs = tuple((str(p)[0], str(p)[1]) for p in _require(quotes, "pairs"))
    amount = _require(data, "amount")
    answers = _require(data, "answers")
    return Rules(
        max_chars=int(data.get("max_chars", 6000)),
        max_matches=int(data.get("max_matches", 400)),
        short_answer_chars=int(data.get("short_answer_chars", 16)),
        short_channel_chars=int(data.get("short_channel_chars", 8)),
        window=int(data.get("window", 60)),
        char_map=char_map,
        variants_zh=variant_patterns["zh"],
        variants_en=variant_patterns["en"],
        variant_map=variant_map,
        clause_breaks=comp.join(_require(data, "clause_breaks")),
        sentence_breaks=comp.join(_require(data, "sentence_breaks")),
        quote_pairs=pairs,
        speech_colon=comp.compile(_require(quotes, "speech_colon")),
        other_speaker=comp.compile(_require(quotes, "other_speaker")),
        any_speaker=comp.compile(_require(quotes, "any_speaker")),
        contexts=contexts,
        cues=cues,
        after=after,
        yes=comp.compile(_require(answers, "affirmative"), 0),
        no=comp.compile(_require(answers, "negative"), 0),
        exclusions=tuple(comp.compile(p) for p in _require(data, "exclusions")),
        ellipsis=tuple(comp.compile(p) for p in _require(data, "ellipsis")),
        objects={name: comp.compile(p) for name, p in _require(data, "objects").items()},
        amount_answer=comp.compile(_require(data, "amount_answer"), 0),
        time_answer=comp.compile(_require(data, "time_answer"), 0),
        time_clause_transfer=comp.compile(_require(data, "time_clause_transfer"), 0),
        time_other_before=comp.compile(_require(data, "time_other_before"), 0),
        time_other_event=comp.compile(_require(data, "time_other_event"), 0),
        time_alone=comp.compile(_require(data, "time_alone"), 0),
        follows=tuple(comp.compile(_require(_require(cue_data, "follows"), lang), 0) for lang in ("zh", "en")),
        ellipsis_verbs={name: comp.compile(p, 0) for name, p in _require(data, "ellipsis_verbs").items()},
        fields=fields,
        state_fields=tuple(state_fields),
        pay_words=comp.compile(_require(channel_data, "pay_words")),
        channel_negation=comp.compile(_require(channel_data, "negation"), 0),
        channels=channels,
        amount_before=comp.compile(_require(amount, "context_before"), 0),
        amount_after=comp.compile(_require(amount, "context_after"), 0),
        amount_total=comp.compile(_require(amount, "total"), 0),
        amount_blockers=tuple(comp.compile(p) for p in _require(amount, "blockers")),
        non_money_after=comp.compile(_require(amount, "non_money_after"), 0),
    )


@lru_cache(maxsize=4)
def load_rules(path: Optional[str] = None) -> Rules:
    """The rules of knowledge/facts.yml (or `path`), loaded and checked once per process."""
    file = Path(path) if path else FACTS_FILE
    with file.open(encoding="utf-8") as handle:
        return parse_rules(yaml.safe_load(handle))


# ---------------------------------------------------------------------------
# The text, prepared

_WIDE = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_SPACE = re.compile(r"\s")


@dataclass
class _Text:
    original: str
    norm: str  # normalised: lower case, narrow, simplified, one space, usual spellings
    origin: List[int]  # origin[i]: index in `original` of norm[i]; one more entry for the end
    acts: str = ""  # norm with clause breaks as line breaks and exclusions blanked out
    clauses: str = ""  # norm with clause breaks as line breaks
    clause_bounds: List[int] = field(default_factory=list)  # sorted break positions
    sentence_bounds: List[int] = field(default_factory=list)
    quoted: List[Tuple[int, int]] = field(default_factory=list)
    quoted_starts: List[int] = field(default_factory=list)

    def span_text(self, start: int, end: int) -> str:
        return self.original[self.origin[start]:self.origin[end - 1] + 1].strip()

    def clause_of(self, pos: int) -> Tuple[int, int]:
        i = bisect.bisect_right(self.clause_bounds, pos)
        start = self.clause_bounds[i - 1] + 1 if i else 0
        end = self.clause_bounds[i] if i < len(self.clause_bounds) else len(self.norm)
        return start, end

    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.sentence_bounds, pos)

    def in_quote(self, pos: int) -> bool:
        i = bisect.bisect_right(self.quoted_starts, pos) - 1
        return i >= 0 and self.quoted[i][0] <= pos < self.quoted[i][1]


def _normalise(text: str, rules: Rules) -> _Text:
    chars: List[str] = []
    origin: List[int] = []
    last_space = True
    for index, char in enumerate(text):
        char = rules.char_map.get(char, _WIDE.get(char, char))
        if _SPACE.match(char):
            if last_space:
                if char in "\n\r" and chars and chars[-1] == " ":
                    chars[-1] = "\n"  # a line break outweighs the spaces around it
                continue
            char, last_space = ("\n" if char in "\n\r" else " "), True
        else:
            last_space = False
            lower = char.lower()
            char = lower if len(lower) == 1 else char
        chars.append(char)
        origin.append(index)
    while chars and chars[-1] in " \n":
        chars.pop()
        origin.pop()
    norm = "".join(chars)
    for pattern in (rules.variants_zh, rules.variants_en):
        if pattern is None:
            continue
        pieces: List[str] = []
        new_origin: List[int] = []
        last = 0
        for match in pattern.finditer(norm):
            pieces.append(norm[last:match.start()])
            new_origin.extend(origin[last:match.start()])
            replacement = rules.variant_map[match.group(0)]
            pieces.append(replacement)
            span = origin[match.start():match.end()]
            new_origin.extend(span[min(i, len(span) - 1)] for i in range(len(replacement)))
            last = match.end()
        if last:
            pieces.append(norm[last:])
            new_origin.extend(origin[last:])
            norm, origin = "".join(pieces), new_origin
    origin.append(len(text))
    return _Text(text, norm, origin)


def _mark_quotes(text: _Text, rules: Rules) -> None:
    norm = text.norm
    regions: List[Tuple[int, int]] = []
    sentence_ends = text.sentence_bounds
    for opening, closing in rules.quote_pairs:
        pos = 0
        while True:
            start = norm.find(opening, pos)
            if start < 0:
                break
            end = norm.find(closing, start + 1)
            if end < 0:  # unclosed: to the end of the line
                line = norm.find("\n", start + 1)
                end = len(norm) if line < 0 else line
            regions.append((start, end + 1))
            pos = end + 1
    for match in rules.speech_colon.finditer(norm):
        i = bisect.bisect_right(sentence_ends, match.end())
        end = sentence_ends[i] if i < len(sentence_ends) else len(norm)
        regions.append((match.end(), end))
    speakers = sorted({m.start() for m in rules.any_speaker.finditer(norm)}
                      | {m.start() for m in rules.other_speaker.finditer(norm)})
    for match in rules.other_speaker.finditer(norm):
        i = bisect.bisect_right(speakers, match.start())
        end = speakers[i] if i < len(speakers) else len(norm)
        regions.append((match.start(), end))
    merged: List[Tuple[int, int]] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    text.quoted = merged
    text.quoted_starts = [start for start, _ in merged]


def _prepare(raw: str, rules: Rules) -> _Text:
    text = _normalise(raw[: rules.max_chars], rules)
    norm = text.norm
    clauses = list(norm)
    bounds: List[int] = []
    for match in rules.clause_breaks.finditer(norm):
        for i in range(match.start(), max(match.end(), match.start() + 1)):
            if i < len(clauses):
                clauses[i] = "\n"
                bounds.append(i)
    for i, char in enumerate(clauses):  # a clause starts and ends with a word, not a space
        if char == " " and ((i and clauses[i - 1] == "\n") or (i + 1 < len(clauses) and clauses[i + 1] == "\n")):
            clauses[i] = "\n"
            bounds.append(i)
    text.clause_bounds = sorted(set(bounds))
    text.clauses = "".join(clauses)
    sentence_bounds = []
    for match in rules.sentence_breaks.finditer(norm):
        sentence_bounds.append(match.start())
    text.sentence_bounds = sentence_bounds
    _mark_quotes(text, rules)
    acts = list(text.clauses)
    for pattern in rules.exclusions:
        for match in pattern.finditer(text.clauses):
            for i in range(match.start(), match.end()):
                if acts[i] != "\n":
                    acts[i] = "\u2592"
    text.acts = "".join(acts)
    return text


# ---------------------------------------------------------------------------
# Reading one match

@dataclass(frozen=True)
class _Hit:
    name: str
    start: int
    end: int
    verb: int
    value: bool
    sentence: int


def _keep_longest(items: List[Tuple[int, int, Any]]) -> List[Tuple[int, int, Any]]:
    """Longest first, then leftmost; anything overlapping a kept span is dropped (n log n)."""
    return longest_non_overlapping(items, lambda item: (item[0], item[1]))


def _cue(rules: Rules, name: str, window: str) -> bool:
    """A cue word of this class ends within its gap before the end of the window.

    The window is cut to the cue's reach (its longest match), unless the cue looks for the
    clause start (`^`), which needs the window from there.
    """
    for cue in rules.cues[name]:
        part = window if cue.anchored else window[-cue.reach:]
        if cue.pattern.search(part):
            return True
    return False


def _someone_elses(rules: Rules, window: str) -> bool:
    """The words before a verb make it another's act or words: the one spoken to, reported speech,
    a rule. Doing what someone said ("按照客服说的把钱转了") is the person's own act: that phrase is
    taken out of the window first."""
    if _cue(rules, "other_actor", window):
        return True
    for pattern in rules.follows:
        window = pattern.sub(lambda m: "\u2592" * len(m.group(0)), window)
    return _cue(rules, "speech", window) or _cue(rules, "request", window)


def _after(rules: Rules, name: str, rest: str) -> bool:
    return any(pattern.search(rest) for pattern in rules.after[name])


# A flood of one verb ("投1投1…") would look for the asked cue before every match: the first few tell.
MAX_ASKED_CHECKS = 12


@dataclass
class _Asked:
    """The acts someone asks of the person; the cue is looked for before at most MAX_ASKED_CHECKS
    matches of each field."""

    found: Set[str] = field(default_factory=set)
    checks: Dict[str, int] = field(default_factory=dict)

    def look(self, rules: Rules, name: str, window: str) -> None:
        if name in self.found or self.checks.get(name, 0) >= MAX_ASKED_CHECKS:
            return
        self.checks[name] = self.checks.get(name, 0) + 1
        if _cue(rules, "asked", window):
            self.found.add(name)


def _read(text: _Text, rules: Rules, name: str, rule: Rule, match: re.Match[str],
          present: Dict[str, bool], asked: _Asked) -> Optional[bool]:
    """What one match says: True, False, or None (a question, a plan, someone else's words).
    An act someone asks of the person ("他让我下载", "he wants me to install") adds its field to `asked`."""
    groups = match.groupdict()
    verb = match.start("v") if groups.get("v") is not None else match.start()
    verb_end = match.end("v") if groups.get("v") is not None else match.end()
    if text.in_quote(verb):
        return None
    if rule.requires:
        if rule.requires not in present:
            present[rule.requires] = bool(rules.contexts[rule.requires].search(text.acts))
        if not present[rule.requires]:
            return None
    clause_start, clause_end = text.clause_of(verb)
    window = text.clauses[max(clause_start, verb - rules.window):verb]
    rest = text.clauses[verb_end:clause_end]
    rest_after_match = text.clauses[match.end():clause_end]
    if _cue(rules, "question", window) or _after(rules, "question_after", rest_after_match):
        return None
    if rule.polarity and name in ASKABLE_ACTS:
        asked.look(rules, name, window)
    if _someone_elses(rules, window):
        return None
    negated = _cue(rules, "negation", window) or _after(rules, "negation_after", rest)
    if negated:
        if _after(rules, "not_again_after", rest):
            return None
        return not rule.polarity
    if _cue(rules, "modal", window):
        return None
    done = (rule.done or name in rules.state_fields or _done_group(text, match)
            or _cue(rules, "done_before", window) or _after(rules, "done_after", rest))
    if not done:
        return None
    return rule.polarity


_DE_ENDS = set("呢啊吧呀哦钱款")


def _done_group(text: _Text, match: re.Match[str]) -> bool:
    """The pattern's completed form; 的 only ends a clause ("用支付宝转的"), it does not describe ("充值的顾客")."""
    if match.groupdict().get("done") is None:
        return False
    if match.group("done") != "的":
        return True
    after = text.clauses[match.end("done"):match.end("done") + 1]
    return not after or after in _DE_ENDS or not ("\u3400" <= after <= "\u9fff")


def _hits(text: _Text, rules: Rules, asked: _Asked) -> Dict[str, List[_Hit]]:
    present: Dict[str, bool] = {}
    found: Dict[str, List[_Hit]] = {}
    for name, field_rules in rules.fields.items():
        candidates: List[Tuple[int, int, Any]] = []
        for rule in field_rules:
            # exclusions guard against misread acts; a `negative` statement reads the plain clauses
            source = text.acts if rule.polarity else text.clauses
            for count, match in enumerate(rule.pattern.finditer(source)):
                if count >= rules.max_matches:
                    break
                if match.end() > match.start():
                    candidates.append((match.start(), match.end(), (rule, match)))
        hits: List[_Hit] = []
        for start, end, (rule, match) in _keep_longest(candidates)[: rules.max_matches]:
            value = _read(text, rules, name, rule, match, present, asked)
            if value is not None:
                verb = match.start("v") if match.groupdict().get("v") is not None else start
                hits.append(_Hit(name, start, end, verb, value, text.sentence_of(verb)))
        found[name] = hits
    _ellipsis_hits(text, rules, found)
    return found


def _ellipsis_hits(text: _Text, rules: Rules, found: Dict[str, List[_Hit]]) -> None:
    """Clauses without an object ("我没发", "but I didn't") read as about the nearest object before them."""
    objects: List[Tuple[int, str]] = []
    for name, pattern in rules.objects.items():
        for count, match in enumerate(pattern.finditer(text.acts)):
            if count >= rules.max_matches:
                break
            objects.append((match.start(), name))
    if not objects:
        return
    objects.sort()
    positions = [pos for pos, _ in objects]
    hit_starts = {name: sorted(h.start for h in hits) for name, hits in found.items()}
    for pattern in rules.ellipsis:
        for count, match in enumerate(pattern.finditer(text.acts)):
            if count >= rules.max_matches:
                break
            i = bisect.bisect_left(positions, match.start()) - 1
            if i < 0 or match.end() <= match.start():
                continue
            name = objects[i][1]
            verb = match.start("v")
            verb_text = text.clauses[verb:match.end("v")]
            for field_name, verb_pattern in rules.ellipsis_verbs.items():
                if verb_pattern.search(verb_text) and any(n == field_name for _, n in objects[: i + 1]):
                    name = field_name
                    break
            starts = hit_starts[name]
            j = bisect.bisect_left(starts, match.start())
            if text.in_quote(verb) or (j < len(starts) and starts[j] < match.end()):
                continue  # the clause already says it explicitly
            clause_start, _ = text.clause_of(verb)
            window = text.clauses[max(clause_start, verb - rules.window):verb]
            if _cue(rules, "question", window) or _cue(rules, "modal", window) or _cue(rules, "request", window):
                continue
            if _cue(rules, "negation", window) or _cue(rules, "negation", verb_text):
                value = False
            elif match.group("done") is not None or _cue(rules, "done_before", window) or _after(
                    rules, "done_after", text.clauses[match.end("v"):match.end()]):
                value = True
            else:
                continue
            found[name].append(_Hit(name, match.start(), match.end(), verb, value, text.sentence_of(verb)))


def _verdict(name: str, hits: List[_Hit]) -> Optional[bool]:
    if not hits:
        return None
    if name in LAST_WINS:
        return max(hits, key=lambda h: h.start).value
    return any(h.value for h in hits)


# ---------------------------------------------------------------------------
# Time, amount, channel: the ones nearest to the money leaving

class _Anchors:
    """Where money left (the verbs of the acts), for "nearest to it" in O(log n)."""

    def __init__(self, text: _Text, hits: Sequence[_Hit]) -> None:
        self.text = text
        self.verbs = sorted(h.verb for h in hits)
        self.sentences = [text.sentence_of(v) for v in self.verbs]
        self.sentence_set = set(self.sentences)

    def __bool__(self) -> bool:
        return bool(self.verbs)

    def distance(self, pos: int) -> float:
        """Characters to the nearest act, counting one in another sentence as much further."""
        if not self.verbs:
            return float(pos)
        sentence = self.text.sentence_of(pos)
        i = bisect.bisect_left(self.verbs, pos)
        best = float("inf")
        for j in (i - 1, i):  # sentences follow positions: the nearest in the sentence is a neighbour
            if 0 <= j < len(self.verbs):
                far = 0 if self.sentences[j] == sentence else 10_000
                best = min(best, abs(pos - self.verbs[j]) + far)
        return best

    def in_sentence(self, pos: int) -> bool:
        return self.text.sentence_of(pos) in self.sentence_set

    def in_span(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.verbs, start)
        return i < len(self.verbs) and self.verbs[i] < end


def _alone(pattern: Pattern[str], text: str, start: int, end: int) -> bool:
    """Nothing but filler words (`pattern`) around text[start:end]."""
    rest = (text[:start] + " " + text[end:]).strip(" \n,.!。~")
    return bool(pattern.search(rest))


def _choose_time(text: _Text, rules: Rules, now: datetime, money: Optional[bool], paid: _Anchors,
                 short: bool, asked: Optional[str], said_yes: bool) -> Optional[TimeMention]:
    """The time of the transfer: a time phrase tied to the money leaving, or a message that is only a time.

    Tied: in a clause of the transfer, or alone in its clause in a sentence of the transfer
    ("十分钟前，我转了两万"). Failing that, a point in time elsewhere in the story ("我刚刚接到电话…
    转了6万"): the transfer came after it. Never a time of another event: how long they have
    chatted or known each other ("聊了两个多月了", "三天前认识的他"). Nothing tied: None (unknown).
    `said_yes`: the message answers "have you sent money?" with yes ("刚刚买的", "I did, an hour ago").
    """
    if money is False:
        return None
    asked_time = asked in ("minutes_since_transfer", "time_since_transfer")
    mentions = [m for m in find_times(text.norm, now, bare_spans=short or asked_time)
                if not text.in_quote(m.start)][: rules.max_matches]  # each is read against the whole text
    if not mentions:
        return None
    if paid:
        tied: List[TimeMention] = []
        loose: List[TimeMention] = []
        for mention in mentions:
            clause_start, clause_end = text.clause_of(mention.start)
            if rules.time_other_before.search(text.norm[max(clause_start, mention.start - 16):mention.start]):
                continue  # "聊了|两个多月了"
            clause = text.norm[clause_start:clause_end]
            start, end = mention.start - clause_start, mention.end - clause_start
            if paid.in_span(clause_start, clause_end) or (
                    paid.in_sentence(mention.start) and _alone(rules.time_alone, clause, start, end)):
                tied.append(mention)
            elif not mention.text.endswith("了") and not rules.time_other_event.search(clause):
                loose.append(mention)  # not a duration ("两个月了"), not when they met
        pool = tied or loose
        return min(pool, key=lambda m: paid.distance(m.start)) if pool else None
    for mention in mentions:
        rest = (text.norm[:mention.start] + " " + text.norm[mention.end:]).strip()
        if said_yes:  # "刚刚买的", "I did, about an hour ago": the yes is not another event
            rest = rules.yes.sub("", rest, count=1).strip(" \n,.!。~")
        if (asked_time and short) or rules.time_answer.search(rest):
            return mention
        if asked_time:
            # A longer message answers the question only where its clause is the time or speaks of the
            # transfer: "上个月还给我订了花" is another event, "大概上个月吧，记不清了" an answer.
            clause_start, clause_end = text.clause_of(mention.start)
            clause_rest = (text.norm[clause_start:mention.start] + " " + text.norm[mention.end:clause_end]).strip()
            if rules.time_answer.search(clause_rest) or rules.time_clause_transfer.search(clause_rest):
                return mention
    return None


def _blocked(text: _Text, rules: Rules) -> List[Tuple[int, int]]:
    spans: List[Tuple[int, int]] = []
    for pattern in rules.amount_blockers:
        spans.extend((m.start(), m.end()) for m in pattern.finditer(text.norm))
    return sorted(spans)


def _overlaps(spans: List[Tuple[int, int]], starts: List[int], ends: List[int], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of the sorted spans (`ends`: the running maximum of their ends)."""
    i = bisect.bisect_left(starts, end)  # spans starting before `end`
    return i > 0 and ends[i - 1] > start


_MAGNITUDE = re.compile(r"[万千百亿]|\d\s{0,2}(?:k|w|m)\b|thousand|million|grand", re.IGNORECASE)


def _choose_amount(text: _Text, rules: Rules, paid: _Anchors, short: bool,
                   asked: Optional[str]) -> Optional[str]:
    blocked = _blocked(text, rules)
    starts = [s for s, _ in blocked]
    ends: List[int] = []
    for _, span_end in blocked:
        ends.append(max(span_end, ends[-1]) if ends else span_end)
    candidates: List[Tuple[Tuple[int, int, float, float], AmountMention]] = []
    for mention in find_amounts(text.norm)[: rules.max_matches]:
        start, end = mention.start, mention.end
        if _overlaps(blocked, starts, ends, start, end):
            continue
        if rules.non_money_after.search(text.norm[end:end + 12]):
            continue
        clause_start, clause_end = text.clause_of(start)
        before = text.norm[max(clause_start, start - 14):start]
        after = text.norm[end:min(clause_end, end + 12)]
        digits = sum(c.isdigit() for c in mention.text)
        currency = mention.currency
        if currency and not digits and mention.value < 100 and not _MAGNITUDE.search(mention.text):
            currency = False  # "这一块", "两块" are mostly "part" or "pieces"
        marked = currency or bool(_MAGNITUDE.search(mention.text))
        context = bool(rules.amount_before.search(before) or rules.amount_after.search(after))
        answer = (short or asked == "amount") and bool(
            rules.amount_answer.search((text.norm[:start] + " " + text.norm[end:]).strip()))
        in_paid = 1 if paid.in_sentence(start) else 0
        if digits >= 9 and not currency or digits >= 7 and not marked:
            continue  # a card, phone or order number
        if not (context or answer or currency or marked and in_paid):
            continue
        total = 1 if rules.amount_total.search(before) else 0
        quoted = 0 if text.in_quote(start) else 1
        near = -paid.distance(start) if paid else -start
        candidates.append(((total, in_paid + quoted, near if not total else mention.value, mention.value),
                           mention))
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c[0])[1]
    return text.span_text(best.start, best.end)


def _choose_channel(text: _Text, rules: Rules, paid: _Anchors, short: bool,
                    asked: Optional[str]) -> Optional[str]:
    spans: List[Tuple[int, int, Any]] = []
    for name, (strong, weak) in rules.channels.items():
        for kind, pattern in (("strong", strong), ("weak", weak)):
            for count, match in enumerate(pattern.finditer(text.clauses)):
                if count >= rules.max_matches:
                    break
                if match.end() > match.start():
                    spans.append((match.start(), match.end(), (name, kind)))
    mentions: List[Tuple[int, str]] = []
    for start, end, (name, kind) in _keep_longest(spans):
        if text.in_quote(start):
            continue
        clause_start, clause_end = text.clause_of(start)
        if rules.channel_negation.search(text.clauses[max(clause_start, start - 8):start]):
            continue
        window = text.clauses[max(clause_start, start - rules.window):start]
        if _someone_elses(rules, window):
            continue
        answer = len(text.norm) <= rules.short_channel_chars or asked == "payment_channel"
        if not answer and (kind == "weak" or not paid):
            clause = text.acts[clause_start:start] + " " + text.acts[end:clause_end]
            paid_here = paid.in_span(clause_start, clause_end)
            if not (paid_here or rules.pay_words.search(clause)):
                continue
        mentions.append((start, name))
    if not mentions:
        return None
    if paid:
        return min(mentions, key=lambda m: paid.distance(m[0]))[1]
    return mentions[0][1]


# ---------------------------------------------------------------------------

def extract_facts(text: str, lang: str, now: Optional[datetime] = None, *,
                  asked: Optional[str] = None) -> Facts:
    """The facts a message states, in either language whatever `lang` says (mixed texts are common).

    `now` anchors relative times ("今天上午", "last night"); default: the current local time, to the minute.
    `asked` (optional): the field the assistant has just asked about ("money_sent", "amount",
    "payment_channel", "minutes_since_transfer", ...): then a bare "没有", "600" or "支付宝" answers it.
    Anything not said is None.
    """
    if not text or not text.strip():
        return Facts()
    # To the minute, so that the actions of one turn, each reading the same message, share one reading.
    return _read_facts(text, now or datetime.now().replace(second=0, microsecond=0), asked)


@lru_cache(maxsize=32)
def _read_facts(text: str, now: datetime, asked: Optional[str]) -> Facts:
    rules = load_rules()
    prepared = _prepare(text, rules)
    short = len(prepared.norm) <= rules.short_answer_chars
    asked_acts = _Asked()
    hits = _hits(prepared, rules, asked_acts)
    values: Dict[str, Optional[bool]] = {name: _verdict(name, hits[name]) for name in BOOL_FIELDS}

    said_yes = False
    if asked in BOOL_FIELDS and values[asked] is None:
        answer = prepared.norm.strip()
        if rules.yes.search(answer):
            values[asked] = True
            said_yes = asked == "money_sent"
        elif rules.no.search(answer):
            values[asked] = False

    money = values["money_sent"]
    paid = _Anchors(prepared, [h for h in hits["money_sent"] if h.value])
    mention = _choose_time(prepared, rules, now, money, paid, short, asked, said_yes)
    return Facts(
        money_sent=money,
        minutes_since_transfer=mention.minutes if mention else None,
        time_text=prepared.span_text(mention.start, mention.end) if mention else None,
        amount=_choose_amount(prepared, rules, paid, short, asked),
        payment_channel=None if money is False else _choose_channel(prepared, rules, paid, short, asked),
        app_installed=values["app_installed"],
        screen_shared=values["screen_shared"],
        id_given=values["id_given"],
        card_details_given=values["card_details_given"],
        code_given=values["code_given"],
        loan_taken=values["loan_taken"],
        still_in_contact=values["still_in_contact"],
        asked_for=tuple(name for name in ASKABLE_ACTS if name in asked_acts.found and values[name] is not True),
    )


# Checked when imported (the action server's start): a broken edit of facts.yml fails there, not in a chat.
load_rules()
