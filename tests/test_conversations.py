"""Conversations written as people type them, judged turn by turn against the live assistant (issue 11, item 9).

Each conversation in tests/conversations/*.yml is one test: its messages go, one turn at a time, to the web
chat of the real assistant (`rasa run` with its action server, the `assistant` fixture of conftest.py), under a
sender id of its own. Every turn is judged on behaviour, not on exact wording:

- type: the scam type the case holds after the turn. Read from the turn's custom payloads (`case`, then
  `analysis`, then a top-level `scam_type`; the last bubble that carries one wins) and from the conversation's
  latest case record in the case database; every source present must agree with the YAML. `none` also
  passes when there is neither. `scam` means any type but none; `any` (or no type at all) is not checked.
- risk: the same two sources for the risk level (the most severe in the turn's payloads).
- must_any / must_all: at least one / every phrase in the turn's texts (any case; a phrase that starts or
  ends with a digit matches a whole number only, so "110" is not found in "96110").
- first_bubble_must_any: golden time. A phrase in the first text bubble, within its first words
  (FIRST_WORDS characters).
- must_not: none of the phrases in the turn's texts or button titles. On top of the YAML's own, every turn
  is checked for NOT_UNDERSTOOD, and every turn after a warning for NOT_A_SCAM.
- lang: the language of the turn's texts, by their share of CJK characters (each CJK character weighs 3
  Latin letters; quoted phrases and links are left out, since a reply may quote the person's words).
- length: every bubble at most 200 characters (Chinese, whitespace not counted) or 500 (English), judged by
  the bubble's own language, and at most 3 text bubbles per turn (buttons and payloads do not count).
- not_asked_again: a triage question the person has answered (this turn or earlier) is not asked again,
  recognised as tests/conversations/_questions.yml says (quick-reply payloads, response names, keywords).
- one rule on the scam app: no bubble that only says "uninstall it" in a conversation that elsewhere only
  says "don't uninstall it" (a bubble that says both, "keep it until the police have it, then uninstall", is
  one consistent rule).
- no repeats: a long bubble is not sent again word for word in a later turn.

A failing test prints the whole transcript with each failed check at its turn. At the end of the module the
results go to results/conversations/: summary.json and summary.md (pass rate by follow-up kind and language,
reply length per turn), transcripts.md (the conversations marked `showcase`) and failing.md (every
conversation with a failed check, whole).

Run alone: .venv/bin/pytest -q tests/test_conversations.py
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

import pytest
import requests
import yaml

from tests.conftest import LiveAssistant

pytestmark = pytest.mark.server

HERE = Path(__file__).resolve().parent
CONVERSATION_DIR = HERE / "conversations"
QUESTIONS_FILE = CONVERSATION_DIR / "_questions.yml"
RESULTS_DIR = HERE.parent / "results" / "conversations"

LANGS = ("zh", "en")
OPENING_KINDS = ("opening", "other", "second_story")
FOLLOW_UP_KINDS = (
    "doubt", "denial", "in_contact", "what_now", "report", "bank_number", "recovery_offer",
    "triage_answer", "thanks_bye", "lang_switch", "mixed_language", "ask_human",
)
KINDS = OPENING_KINDS + FOLLOW_UP_KINDS
RISK_ORDER = ("low", "medium", "high", "critical")
ANY, SCAM, NONE = "any", "scam", "none"

MAX_BUBBLE = {"zh": 200, "en": 500}
MAX_BUBBLES = 3
FIRST_WORDS = {"zh": 80, "en": 200}
# A bubble this long (as MAX_BUBBLE counts) sent again word for word in a later turn fails `no_repeat`.
REPEAT_MIN = {"zh": 60, "en": 150}

NOT_UNDERSTOOD = (
    "没太明白", "没明白", "没看懂", "没听懂", "不太理解您", "didn't quite understand", "didn't understand",
    "did not understand", "don't understand what", "not sure what you mean",
)
# Not "不是诈骗" / "is not a scam": a reply may rightly say that a call from 96110 is not a scam.
NOT_A_SCAM = (
    "不像诈骗", "不太像诈骗", "不像是诈骗", "没有诈骗迹象", "没发现诈骗",
    "doesn't look like a scam", "does not look like a scam", "doesn't seem like a scam", "does not seem like a scam",
    "not likely a scam", "unlikely to be a scam", "no sign of a scam",
)
# Keys a conversation and a turn may have in the YAML.
CONVERSATION_KEYS = {"name", "lang", "page_lang", "type", "note", "showcase", "turns"}
TURN_KEYS = {
    "say", "kind", "type", "risk", "lang", "page_lang", "must_any", "must_all", "first_bubble_must_any",
    "must_not", "not_asked_again",
}

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
QUOTED = re.compile(r"「[^」\n]{0,160}」|『[^』\n]{0,160}』|“[^”\n]{0,160}”|\"[^\"\n]{0,160}\"")
LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
QUESTION_SENTENCE = re.compile(r"[^。！？!?\n]*[？?]")
# The scam app: a bubble that says to uninstall it, one that says not to, and one that gives the order
# ("keep it for the police, then uninstall"), which is consistent with either. The anti-fraud app is another matter.
UNINSTALL = re.compile(
    r"卸载(?!.{0,6}反诈)|\buninstall\b(?!.{0,30}anti-fraud)"
    r"|\b(delete|remove)\b.{0,6}\b(the |that |this )?app\b(?<!anti-fraud app)",
    re.IGNORECASE,
)
KEEP_INSTALLED = re.compile(
    r"(不要|别|先别|先不要|暂时不要|暂时别|不能|不用|切勿)(急着)?卸载"
    r"|\b(don'?t|do not|not|never)\b.{0,12}\buninstall\b"
    r"|\b(don'?t|do not|never) (delete|remove) (the |that |this )?app\b",
    re.IGNORECASE,
)
IN_ORDER = re.compile(r"(之后|以后|后再|然后|再)卸载|\b(after|once|then)\b.{0,40}\buninstall\b", re.IGNORECASE)


# ----------------------------------------------------------------------------- the conversations


@dataclass(frozen=True)
class Turn:
    say: str
    kind: str
    page_lang: str
    lang: str
    types: Optional[FrozenSet[str]]  # None: not checked
    risk: Optional[FrozenSet[str]]
    must_any: Tuple[str, ...]
    must_all: Tuple[str, ...]
    first_bubble_must_any: Tuple[str, ...]
    must_not: Tuple[str, ...]
    not_asked_again: Tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    file: str
    name: str
    lang: str
    note: str
    showcase: Optional[str]
    turns: Tuple[Turn, ...]

    @property
    def test_id(self) -> str:
        return f"{self.file}:{self.name}"


@dataclass(frozen=True)
class Question:
    key: str
    slots: Tuple[str, ...]
    keywords: Tuple[Tuple[str, re.Pattern], ...]  # (as written, as matched)


def _strings(value: Any, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise ValueError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(str(v) for v in value)


def _type_set(value: Any, where: str) -> Optional[FrozenSet[str]]:
    names = _strings(value, where)
    if not names or ANY in names:
        return None
    return frozenset(names)


def _lang(value: Any, where: str) -> str:
    if value not in LANGS:
        raise ValueError(f"{where}: language must be one of {LANGS}, got {value!r}")
    return str(value)


def load_questions(path: Path = QUESTIONS_FILE) -> Dict[str, Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = {}
    for key, spec in data.items():
        keywords = _strings(spec["keywords"], f"{path.name}:{key}")
        questions[key] = Question(key, _strings(spec.get("slots"), f"{path.name}:{key}.slots"),
                                  tuple((k, phrase_pattern(k, words=True)) for k in keywords))
    return questions


def load_conversations(directory: Path = CONVERSATION_DIR) -> List[Conversation]:
    """Every conversation of the YAML files (files starting with "_" are not conversations), validated."""
    questions = load_questions()
    conversations: List[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for index, raw in enumerate(data.get("conversations") or []):
            where = f"{path.name}[{index}] {raw.get('name', '?')}"
            unknown = set(raw) - CONVERSATION_KEYS
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            lang = _lang(raw.get("lang"), where)
            page_lang = _lang(raw.get("page_lang", lang), where)
            conversation_types = _type_set(raw.get("type"), where)
            turns = []
            for number, step in enumerate(raw.get("turns") or [], start=1):
                here = f"{where} turn {number}"
                unknown = set(step) - TURN_KEYS
                if unknown:
                    raise ValueError(f"{here}: unknown keys {sorted(unknown)}")
                if not isinstance(step.get("say"), str) or not step["say"].strip():
                    raise ValueError(f"{here}: 'say' must be a non-empty string")
                if step.get("kind") not in KINDS:
                    raise ValueError(f"{here}: kind must be one of {KINDS}, got {step.get('kind')!r}")
                asked = _strings(step.get("not_asked_again"), here)
                if set(asked) - set(questions):
                    unknown_questions = sorted(set(asked) - set(questions))
                    raise ValueError(f"{here}: not_asked_again names unknown questions {unknown_questions}")
                risk = _strings(step.get("risk"), here)
                if set(risk) - set(RISK_ORDER):
                    raise ValueError(f"{here}: risk must be among {RISK_ORDER}, got {risk}")
                turns.append(Turn(
                    say=step["say"], kind=step["kind"],
                    page_lang=_lang(step.get("page_lang", page_lang), here),
                    lang=_lang(step.get("lang", lang), here),
                    types=_type_set(step["type"], here) if "type" in step else conversation_types,
                    risk=frozenset(risk) or None,
                    must_any=_strings(step.get("must_any"), here),
                    must_all=_strings(step.get("must_all"), here),
                    first_bubble_must_any=_strings(step.get("first_bubble_must_any"), here),
                    must_not=_strings(step.get("must_not"), here),
                    not_asked_again=asked,
                ))
            conversations.append(Conversation(
                file=path.stem, name=str(raw.get("name")), lang=lang, note=str(raw.get("note") or ""),
                showcase=raw.get("showcase"), turns=tuple(turns),
            ))
    return conversations


# ----------------------------------------------------------------------------- reading a reply


def phrase_pattern(phrase: str, words: bool = False) -> re.Pattern:
    """Any case; a number matches a whole number only; with `words`, English words match whole words only."""
    body = re.escape(phrase)
    if phrase[:1].isdigit() or (words and phrase[:1].isascii() and phrase[:1].isalpha()):
        body = (r"(?<!\d)" if phrase[:1].isdigit() else r"\b") + body
    if phrase[-1:].isdigit() or (words and phrase[-1:].isascii() and phrase[-1:].isalpha()):
        body += r"(?!\d)" if phrase[-1:].isdigit() else r"\b"
    return re.compile(body, re.IGNORECASE)


def found(phrase: str, text: str) -> Optional[re.Match]:
    return phrase_pattern(phrase).search(text)


def text_language(text: str) -> Optional[str]:
    """'zh' or 'en' by the share of CJK characters, quotes and links left out; None when there are no letters."""
    for candidate in (LINK.sub(" ", QUOTED.sub(" ", text)), text):
        cjk, latin = len(CJK.findall(candidate)), len(LATIN.findall(candidate))
        if cjk or latin:
            return "zh" if 3 * cjk >= latin else "en"
    return None


def bubble_length(text: str, lang: str) -> int:
    """What MAX_BUBBLE limits: characters without whitespace (Chinese), all characters (English)."""
    return len(re.sub(r"\s", "", text)) if lang == "zh" else len(text)


@dataclass
class Bubble:
    text: str
    buttons: List[Dict[str, Any]]
    custom: Dict[str, Any]
    response: Optional[str] = None  # the utter_* response it came from, read from the tracker

    @property
    def lang(self) -> str:
        return text_language(self.text) or "zh"

    @property
    def length(self) -> int:
        return bubble_length(self.text, self.lang)


def to_bubbles(replies: Sequence[Mapping[str, Any]]) -> List[Bubble]:
    return [
        Bubble(
            text=str(r.get("text") or ""),
            buttons=[b for b in (r.get("buttons") or []) if isinstance(b, dict)],
            custom=dict(r["custom"]) if isinstance(r.get("custom"), dict) else {},
        )
        for r in replies
    ]


def turn_events(assistant: LiveAssistant, sender: str) -> List[Dict[str, Any]]:
    """The tracker's events since the person's last message (best effort: [] if the API does not answer)."""
    try:
        response = requests.get(
            f"{assistant.url}/conversations/{assistant.conversation_id(sender)}/tracker",
            params={"token": assistant.api_token}, timeout=30,
        )
        if response.status_code != 200:
            return []
        events = response.json().get("events") or []
    except (requests.RequestException, ValueError):
        return []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return events[last_user + 1:]


def attach_responses(bubbles: List[Bubble], events: List[Dict[str, Any]]) -> List[str]:
    """Names each bubble's response from the tracker's bot events; returns the actions the turn ran."""
    bot = [e for e in events if e.get("event") == "bot"]
    used: Set[int] = set()
    for bubble in bubbles:
        for i, event in enumerate(bot):
            if i not in used and (event.get("text") or "") == bubble.text:
                used.add(i)
                bubble.response = (event.get("metadata") or {}).get("utter_action")
                break
    return [str(e.get("name")) for e in events if e.get("event") == "action" and e.get("name") != "action_listen"]


def payload_type_and_risk(bubbles: Sequence[Bubble]) -> Tuple[Optional[str], Optional[str]]:
    """The scam type the turn's payloads carry (last wins) and their most severe risk level."""
    scam_type: Optional[str] = None
    risks: List[str] = []
    for bubble in bubbles:
        custom = bubble.custom
        holders = [h for h in (custom.get("case"), custom.get("analysis"), custom) if isinstance(h, dict)]
        for holder in holders:
            if holder.get("scam_type") is not None:
                scam_type = str(holder["scam_type"])
                break
        for source in (custom, custom.get("case"), custom.get("analysis")):
            if isinstance(source, dict) and source.get("risk_level") in RISK_ORDER:
                risks.append(str(source["risk_level"]))
    risk = max(risks, key=RISK_ORDER.index) if risks else None
    return scam_type, risk


def read_case(database: Path, sender: str) -> Optional[Dict[str, Any]]:
    """The conversation's latest case record (a second story may start a second one), or None."""
    try:
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM cases WHERE substr(conversation_id, 1, ?) = ? ORDER BY {order} LIMIT 1"
            for order in ("updated_at DESC, rowid DESC", "rowid DESC"):
                try:
                    row = db.execute(query.format(order=order), (len(sender), sender)).fetchone()
                    return dict(row) if row else None
                except sqlite3.OperationalError:
                    continue
    except sqlite3.Error:
        return None
    return None


def asked(question: Question, bubble: Bubble) -> Optional[str]:
    """What shows that the bubble asks `question`, or None."""
    for button in bubble.buttons:
        payload = str(button.get("payload") or "")
        for slot in question.slots:
            if f'"{slot}"' in payload:
                return f"quick reply {payload!r}"
    if bubble.response:
        for slot in question.slots:
            if re.fullmatch(rf"utter_ask_(\w+_)?{re.escape(slot)}", bubble.response):
                return f"response {bubble.response}"
    for sentence in QUESTION_SENTENCE.findall(bubble.text):
        for keyword, pattern in question.keywords:
            if pattern.search(sentence):
                return f"question {sentence.strip()!r} (keyword {keyword!r})"
    return None


CONVERSATIONS = load_conversations()
QUESTIONS = load_questions()


# ----------------------------------------------------------------------------- judging a turn


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class TurnResult:
    number: int
    turn: Turn
    bubbles: List[Bubble] = field(default_factory=list)
    actions: List[str] = field(default_factory=list)
    payload_type: Optional[str] = None
    payload_risk: Optional[str] = None
    case: Optional[Dict[str, Any]] = None
    reply_lang: Optional[str] = None
    checks: List[Check] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def texts(self) -> List[str]:
        return [b.text for b in self.bubbles if b.text.strip()]

    @property
    def length(self) -> int:
        lang = self.reply_lang or self.turn.lang
        return sum(bubble_length(t, lang) for t in self.texts)


@dataclass
class ConversationResult:
    conversation: Conversation
    sender: str
    turns: List[TurnResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.turns) == len(self.conversation.turns) and all(t.ok for t in self.turns)

    def failures(self) -> List[Tuple[TurnResult, Check]]:
        return [(t, c) for t in self.turns for c in t.checks if not c.ok]


@dataclass
class ConversationState:
    answered: Set[str] = field(default_factory=set)
    warned: bool = False
    uninstall_only: List[str] = field(default_factory=list)  # bubbles saying "uninstall it" without a condition
    keep_only: List[str] = field(default_factory=list)  # bubbles saying "don't uninstall it"
    app_rule_flagged: bool = False
    long_bubbles: Dict[str, int] = field(default_factory=dict)  # text -> turn it was first sent in


def _sources_check(name: str, expected: FrozenSet[str], sources: Dict[str, Optional[str]],
                   matches: Any) -> Check:
    present = {where: value for where, value in sources.items() if value is not None}
    shown = ", ".join(f"{where}={value}" for where, value in present.items())
    shown = shown or f"no {name} in the payloads or the case"
    if not present:
        return Check(name, NONE in expected, f"expected {sorted(expected)}; {shown}")
    wrong = {where: value for where, value in present.items() if not matches(value)}
    return Check(name, not wrong, f"expected {sorted(expected)}; {shown}")


def check_type(expected: FrozenSet[str], result: TurnResult) -> Check:
    def normal(value: Any) -> Optional[str]:
        return None if value is None else (str(value) or NONE)

    sources = {"reply payload": normal(result.payload_type)}
    if result.case is not None:
        sources["case record"] = normal(result.case.get("scam_type")) or NONE

    def matches(value: str) -> bool:
        return value in expected or (SCAM in expected and value != NONE)

    return _sources_check("type", expected, sources, matches)


def check_risk(expected: FrozenSet[str], result: TurnResult) -> Check:
    sources = {"reply payload": result.payload_risk,
               "case record": (result.case or {}).get("risk_level")}
    return _sources_check("risk", expected, sources, lambda value: value in expected)


def judge(result: TurnResult, state: ConversationState) -> List[Check]:
    turn, bubbles = result.turn, result.bubbles
    texts = [b for b in bubbles if b.text.strip()]
    body = "\n".join(b.text for b in texts)
    with_buttons = body + "\n" + "\n".join(str(btn.get("title") or "") for b in bubbles for btn in b.buttons)
    checks: List[Check] = []

    if not texts:
        checks.append(Check("reply", False, "no text in the reply"))
    if turn.types is not None:
        checks.append(check_type(turn.types, result))
        if turn.types != frozenset({NONE}):
            state.warned = True
    if turn.risk is not None:
        checks.append(check_risk(turn.risk, result))

    if turn.must_any:
        hit = next((p for p in turn.must_any if found(p, body)), None)
        checks.append(Check("must_any", hit is not None, f"found {hit!r}" if hit else f"none of {list(turn.must_any)}"))
    if turn.must_all:
        missing = [p for p in turn.must_all if not found(p, body)]
        checks.append(Check("must_all", not missing, f"missing {missing}" if missing else ""))
    if turn.first_bubble_must_any:
        first = texts[0].text if texts else ""
        limit = FIRST_WORDS[turn.lang]
        hits = [(m.start(), p) for p in turn.first_bubble_must_any for m in [found(p, first)] if m]
        early = [p for start, p in hits if start < limit]
        detail = (f"found {early[0]!r}" if early else
                  f"none of {list(turn.first_bubble_must_any)} in the first {limit} characters of the first bubble "
                  f"{first[:limit + 40]!r}")
        checks.append(Check("first_bubble_must_any", bool(early), detail))

    forbidden = list(turn.must_not) + list(NOT_UNDERSTOOD) + (list(NOT_A_SCAM) if state.warned else [])
    forbidden_hits = [p for p in forbidden if found(p, with_buttons)]
    checks.append(Check("must_not", not forbidden_hits, f"found {forbidden_hits}" if forbidden_hits else ""))

    lang = text_language(body)
    result.reply_lang = lang
    checks.append(Check("lang", lang == turn.lang, f"expected {turn.lang}, replies read as {lang}"))

    too_long = [f"bubble {i} has {b.length} characters ({b.lang}, limit {MAX_BUBBLE[b.lang]})"
                for i, b in enumerate(texts, start=1) if b.length > MAX_BUBBLE[b.lang]]
    if len(texts) > MAX_BUBBLES:
        too_long.append(f"{len(texts)} text bubbles (limit {MAX_BUBBLES})")
    checks.append(Check("length", not too_long, "; ".join(too_long)))

    state.answered.update(turn.not_asked_again)
    if state.answered:
        repeats = [f"{key}: {how}" for key in sorted(state.answered) for b in bubbles
                   for how in [asked(QUESTIONS[key], b)] if how]
        checks.append(Check("not_asked_again", not repeats, "; ".join(repeats)))

    for b in texts:
        if IN_ORDER.search(b.text):
            continue
        says_uninstall, says_keep = bool(UNINSTALL.search(b.text)), bool(KEEP_INSTALLED.search(b.text))
        if says_keep and not UNINSTALL.search(KEEP_INSTALLED.sub("", b.text)):
            state.keep_only.append(b.text)
        elif says_uninstall and not says_keep:
            state.uninstall_only.append(b.text)
    if state.uninstall_only and state.keep_only and not state.app_rule_flagged:
        state.app_rule_flagged = True
        checks.append(Check("app_rule", False, f"says uninstall {state.uninstall_only[0][:80]!r} and also "
                                               f"don't uninstall {state.keep_only[0][:80]!r}"))
    else:
        checks.append(Check("app_rule", True))

    repeated = []
    for b in texts:
        if b.length >= REPEAT_MIN[b.lang]:
            if b.text in state.long_bubbles and state.long_bubbles[b.text] < result.number:
                repeated.append(f"bubble sent again from turn {state.long_bubbles[b.text]}: {b.text[:60]!r}")
            state.long_bubbles.setdefault(b.text, result.number)
    checks.append(Check("no_repeat", not repeated, "; ".join(repeated)))
    return checks


# ----------------------------------------------------------------------------- running and reporting


def sender_for(conversation: Conversation) -> str:
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", conversation.name)[:40]
    return f"{readable}-{uuid.uuid4().hex[:12]}"


def run_conversation(assistant: LiveAssistant, conversation: Conversation) -> ConversationResult:
    result = ConversationResult(conversation, sender_for(conversation))
    state = ConversationState()
    for number, turn in enumerate(conversation.turns, start=1):
        turn_result = TurnResult(number, turn)
        result.turns.append(turn_result)
        try:
            replies = assistant.chat(result.sender, turn.say, turn.page_lang)
        except (AssertionError, requests.RequestException, ValueError) as error:
            turn_result.error = f"the chat did not answer: {error}"
            turn_result.checks.append(Check("reply", False, turn_result.error))
            break
        turn_result.bubbles = to_bubbles(replies)
        turn_result.actions = attach_responses(turn_result.bubbles, turn_events(assistant, result.sender))
        turn_result.payload_type, turn_result.payload_risk = payload_type_and_risk(turn_result.bubbles)
        turn_result.case = read_case(assistant.case_database, assistant.conversation_id(result.sender))
        turn_result.checks = judge(turn_result, state)
    return result


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix


def transcript(result: ConversationResult, markdown: bool = False) -> str:
    conversation = result.conversation
    lines = [f"{conversation.test_id} ({conversation.lang}) sender={result.sender}"]
    if conversation.note:
        lines.append(f"  {conversation.note}")
    for t in result.turns:
        lines.append("")
        lines.append(f"--- turn {t.number} [{t.turn.kind}] page={t.turn.page_lang}")
        lines.append(_indent(t.turn.say, "  > "))
        for i, bubble in enumerate(t.bubbles, start=1):
            name = f" ({bubble.response})" if bubble.response else ""
            if bubble.text:
                lines.append(f"  bot {i}{name}:")
                lines.append(_indent(bubble.text, "      "))
            if bubble.buttons:
                shown_buttons = " | ".join(f"{b.get('title')} [{b.get('payload')}]" for b in bubble.buttons)
                lines.append("      buttons: " + shown_buttons)
            if bubble.custom:
                lines.append("      custom: " + json.dumps(_custom_summary(bubble.custom), ensure_ascii=False))
        if t.actions:
            lines.append("  actions: " + ", ".join(t.actions))
        if t.case is not None:
            shown = {k: t.case.get(k) for k in ("scam_type", "risk_level", "money_sent", "amount_band",
                                               "credentials_shared", "minutes_since_transfer") if k in t.case}
            lines.append("  case: " + json.dumps(shown, ensure_ascii=False))
        for check in t.checks:
            mark = "ok  " if check.ok else "FAIL"
            if not check.ok or not markdown:
                lines.append(f"  {mark} {check.name}" + (f": {check.detail}" if check.detail else ""))
    missing = len(conversation.turns) - len(result.turns)
    if missing:
        lines.append(f"\n({missing} turn(s) not sent after the chat failed)")
    return "\n".join(lines)


def _custom_summary(custom: Mapping[str, Any]) -> Dict[str, Any]:
    summary: Dict[str, Any] = {}
    for key, value in custom.items():
        if isinstance(value, dict):
            kept = {k: value[k] for k in ("scam_type", "risk_level", "confidence", "lang") if k in value}
            summary[key] = kept or "{…}"
        elif isinstance(value, (str, int, float, bool)) or value is None:
            summary[key] = value
        else:
            summary[key] = "…"
    return summary


RUN: List[ConversationResult] = []


@pytest.fixture(scope="module", autouse=True)
def conversation_summary() -> Iterator[List[ConversationResult]]:
    """Collects every conversation run in this module; writes the summary when the module is done."""
    RUN.clear()
    yield RUN
    if RUN:
        write_summary(RUN, RESULTS_DIR)


def _rate(passed: int, total: int) -> Dict[str, Any]:
    return {"passed": passed, "total": total, "rate": round(passed / total, 3) if total else None}


def summarise(results: Sequence[ConversationResult]) -> Dict[str, Any]:
    by_kind: Dict[str, Dict[str, List[bool]]] = defaultdict(lambda: defaultdict(list))
    by_check: Dict[str, List[bool]] = defaultdict(list)
    conversations: Dict[str, List[bool]] = defaultdict(list)
    lengths: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
    bubbles_per_turn: Dict[str, List[int]] = defaultdict(list)
    longest_bubble: Dict[str, Tuple[int, str]] = {}
    failures = []
    not_sent = 0
    for result in results:
        conversation = result.conversation
        conversations[conversation.lang].append(result.ok)
        conversations["all"].append(result.ok)
        not_sent += len(conversation.turns) - len(result.turns)
        for t in result.turns:
            for group in (conversation.lang, "all"):
                by_kind[t.turn.kind][group].append(t.ok)
            for check in t.checks:
                by_check[check.name].append(check.ok)
                if not check.ok:
                    failures.append({"conversation": conversation.test_id, "turn": t.number, "kind": t.turn.kind,
                                     "check": check.name, "detail": check.detail})
            if t.error:
                continue
            where = f"{conversation.test_id} turn {t.number}"
            lang = t.reply_lang or t.turn.lang
            lengths[lang].append((t.length, where))
            bubbles_per_turn[lang].append(len(t.texts))
            for b in t.bubbles:
                if b.text.strip() and b.length > longest_bubble.get(b.lang, (-1, ""))[0]:
                    longest_bubble[b.lang] = (b.length, where)
    reply_length = {}
    for lang, values in sorted(lengths.items()):
        counts = [n for n, _ in values]
        longest = max(values)
        reply_length[lang] = {
            "unit": "characters without whitespace" if lang == "zh" else "characters",
            "turns": len(values),
            "median_per_turn": statistics.median(counts),
            "longest_per_turn": longest[0], "longest_turn": longest[1],
            "median_bubbles_per_turn": statistics.median(bubbles_per_turn[lang]),
            "most_bubbles_per_turn": max(bubbles_per_turn[lang]),
            "longest_bubble": longest_bubble.get(lang, (0, ""))[0],
            "longest_bubble_turn": longest_bubble.get(lang, (0, ""))[1],
        }
    return {
        "conversations": {group: _rate(sum(v), len(v)) for group, v in sorted(conversations.items())},
        "turns_by_kind": {
            kind: {group: _rate(sum(v), len(v)) for group, v in sorted(groups.items())}
            for kind, groups in sorted(by_kind.items(), key=lambda item: KINDS.index(item[0]))
        },
        "checks": {name: _rate(sum(v), len(v)) for name, v in sorted(by_check.items())},
        "reply_length": reply_length,
        "turns_not_sent": not_sent,
        "failures": failures,
    }


def _percent(rate: Dict[str, Any]) -> str:
    return "–" if not rate or not rate["total"] else f"{rate['passed']}/{rate['total']} ({100 * rate['rate']:.0f}%)"


def summary_markdown(summary: Dict[str, Any]) -> str:
    lines = ["# Conversation suite: summary", "",
             "Written by tests/test_conversations.py after a run against the live assistant.", "",
             "## Conversations passed", "", "| | passed |", "|---|---|"]
    lines += [f"| {group} | {_percent(rate)} |" for group, rate in summary["conversations"].items()]
    lines += ["", "## Turns passed, by follow-up kind and language", "",
              "A turn passes when every check of that turn passes.", "",
              "| kind | zh | en | all |", "|---|---|---|---|"]
    for kind, groups in summary["turns_by_kind"].items():
        lines.append(f"| {kind} | {_percent(groups.get('zh', {}))} | {_percent(groups.get('en', {}))} | "
                     f"{_percent(groups.get('all', {}))} |")
    lines += ["", "## Checks", "", "| check | passed |", "|---|---|"]
    lines += [f"| {name} | {_percent(rate)} |" for name, rate in summary["checks"].items()]
    lines += ["", "## Reply length per turn", "",
              "| reply language | turns | median | longest | median bubbles | most bubbles | longest bubble |",
              "|---|---|---|---|---|---|---|"]
    for lang, data in summary["reply_length"].items():
        lines.append(f"| {lang} ({data['unit']}) | {data['turns']} | {data['median_per_turn']} | "
                     f"{data['longest_per_turn']} ({data['longest_turn']}) | {data['median_bubbles_per_turn']} | "
                     f"{data['most_bubbles_per_turn']} | {data['longest_bubble']} ({data['longest_bubble_turn']}) |")
    if summary["turns_not_sent"]:
        lines += ["", f"{summary['turns_not_sent']} turn(s) were not sent because the chat failed before them."]
    if summary["failures"]:
        lines += ["", "## Failed checks", "",
                  "| conversation | turn | kind | check | detail |", "|---|---|---|---|---|"]
        for f in summary["failures"]:
            detail = str(f["detail"]).replace("|", "\\|").replace("\n", " ")[:300]
            lines.append(f"| {f['conversation']} | {f['turn']} | {f['kind']} | {f['check']} | {detail} |")
    return "\n".join(lines) + "\n"


def write_summary(results: Sequence[ConversationResult], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    (directory / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (directory / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    showcased = [r for r in results if r.conversation.showcase]
    parts = ["# Conversation suite: transcripts", ""]
    for result in showcased:
        parts += [f"## {result.conversation.showcase}", "", "```text", transcript(result, markdown=True), "```", ""]
    if not showcased:
        parts.append("(none of the showcased conversations ran)")
    (directory / "transcripts.md").write_text("\n".join(parts) + "\n", encoding="utf-8")
    # Every conversation with a failed check, for reading what went wrong.
    failing = [r for r in results if not r.ok]
    parts = ["# Conversation suite: conversations with a failed check", ""]
    for result in failing:
        parts += ["```text", transcript(result, markdown=True), "```", ""]
    (directory / "failing.md").write_text("\n".join(parts) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- the tests


def test_the_suite_covers_what_issue_11_asks() -> None:
    """Without the assistant: enough conversations of the right shape, every follow-up kind often enough."""
    from bot.knowledge import load_knowledge

    known_types = set(load_knowledge().types) | {NONE, SCAM}
    assert len(CONVERSATIONS) >= 60
    names = [c.name for c in CONVERSATIONS]
    assert len(names) == len(set(names)), "conversation names must be unique"
    problems = []
    counts: Dict[Tuple[str, str], int] = defaultdict(int)
    for conversation in CONVERSATIONS:
        if not 3 <= len(conversation.turns) <= 7:
            problems.append(f"{conversation.test_id}: {len(conversation.turns)} turns")
        for turn in conversation.turns:
            counts[(turn.kind, conversation.lang)] += 1
            if turn.types and turn.types - known_types:
                problems.append(f"{conversation.test_id}: unknown types {sorted(turn.types - known_types)}")
    for kind in FOLLOW_UP_KINDS:
        for lang in LANGS:
            if counts[(kind, lang)] < 3:
                problems.append(f"{kind} in {lang}: {counts[(kind, lang)]} turns, fewer than 3")
    assert not problems, "\n".join(problems)
    assert len(SHOWCASES) == 3, SHOWCASES


SHOWCASES = [c.test_id for c in CONVERSATIONS if c.showcase]


# Conversations measured failing (tests/conversations/_known_failing.yml, each with its first failed check):
# they still run and count in the summary, and pass as XPASS once fixed; any other conversation must pass.
KNOWN_FAILING: Dict[str, str] = yaml.safe_load(
    (CONVERSATION_DIR / "_known_failing.yml").read_text(encoding="utf-8")) or {}


def _param(conversation: Conversation) -> Any:
    reason = KNOWN_FAILING.get(conversation.test_id)
    marks = [pytest.mark.xfail(reason=f"known failing: {reason}", strict=False)] if reason else []
    return pytest.param(conversation, id=conversation.test_id, marks=marks)


@pytest.mark.parametrize("conversation", [_param(c) for c in CONVERSATIONS])
def test_conversation(assistant: LiveAssistant, conversation_summary: List[ConversationResult],
                      conversation: Conversation) -> None:
    result = run_conversation(assistant, conversation)
    conversation_summary.append(result)
    if not result.ok:
        failures = result.failures()
        first = failures[0] if failures else None
        headline = (f"turn {first[0].number} [{first[0].turn.kind}] {first[1].name}: {first[1].detail}"
                    if first else "not every turn was sent")
        pytest.fail(f"{len(failures)} failed check(s); first: {headline}\n\n{transcript(result)}", pytrace=False)
