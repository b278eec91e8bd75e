"""The scam taxonomy and its texts, read from `knowledge/scam_types.yml`.

Everything a user reads about a scam type lives in that file; code only
selects and formats it. It is loaded once per process and validated on load,
so a broken edit fails at start-up, not in a conversation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Pattern, Tuple

import yaml

from bot.facts import ASKABLE_ACTS, EXPOSURES, expand_defs
from bot.language import SUPPORTED

SCAM_TYPE_IDS: Tuple[str, ...] = (
    "order_brushing",
    "investment",
    "fake_shopping",
    "customer_service",
    "fake_loan",
    "fake_credit",
    "impersonate_acquaintance",
    "impersonate_official",
    "romance",
    "game_trading",
    "other",
)
RISK_LEVELS: Tuple[str, ...] = ("critical", "high", "medium", "low")
LOSS_SIGNALS: Tuple[str, ...] = ("money_sent", "credential_shared", "loan_taken", "recent")

TRIAGE_SLOTS_ASKED: Tuple[str, ...] = (
    "money_sent",
    "time_since_transfer",
    "amount",
    "payment_channel",
    "credentials_shared",
)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"
STORY_CUES: Tuple[str, ...] = ("new_story", "same_case")
CHAT_MESSAGES: Tuple[str, ...] = (
    "risk", "golden_time_still_open", "rate_limited", "service_unavailable", "read_from_image", "handoff_taken",
    "handoff_returned", "feedback_noted", "case_code_line", "case_linked", "case_code_unknown",
)

Localized = Mapping[str, Any]


class KnowledgeError(ValueError):
    """The knowledge file is missing something the assistant relies on."""


def localized(value: Localized, lang: str) -> Any:
    """The text for `lang`, falling back to Chinese."""
    return value.get(lang) or value["zh"]


@dataclass(frozen=True)
class RedFlag:
    id: str
    patterns: Tuple[Pattern[str], ...]
    why: Localized
    # A step of its own for a case that shows this flag (a link: do not open it), put first.
    do_now: Optional[Localized] = None

    def matches(self, text: str) -> List[re.Match]:
        return [m for p in self.patterns for m in p.finditer(text) if m.group(0).strip()]


@dataclass(frozen=True)
class ScamType:
    id: str
    name: Localized
    summary: Localized
    red_flags: Tuple[RedFlag, ...]
    genuine_way: Localized
    do_now: Localized
    next_questions: Localized
    script: Localized
    evidence: Localized
    report_notes: Localized


@dataclass(frozen=True)
class Knowledge:
    types: Dict[str, ScamType]
    shared_red_flags: Tuple[RedFlag, ...]
    loss_signals: Dict[str, Tuple[Pattern[str], ...]]
    risk_levels: Dict[str, Mapping[str, Localized]]
    reporting: Mapping[str, Localized]
    general: Mapping[str, Localized]
    chat: Mapping[str, Localized]
    triage_questions: Mapping[str, Mapping[str, Any]]
    story_cues: Dict[str, Tuple[Pattern[str], ...]]


def _check_localized(value: Any, where: str) -> Localized:
    if not isinstance(value, Mapping) or any(not value.get(lang) for lang in SUPPORTED):
        raise KnowledgeError(f"{where}: needs non-empty 'zh' and 'en' texts")
    return value


def _defs(raw: Any) -> Dict[str, str]:
    if not isinstance(raw, Mapping):
        raise KnowledgeError("defs: needs a mapping of names to patterns")
    return {str(name): str(value) for name, value in raw.items()}


def _compile(patterns: Any, where: str, defs: Mapping[str, str]) -> Tuple[Pattern[str], ...]:
    if not isinstance(patterns, list) or not patterns:
        raise KnowledgeError(f"{where}: needs a non-empty list of patterns")
    try:
        expanded = [expand_defs(str(p), defs) for p in patterns]
    except ValueError as error:
        raise KnowledgeError(f"{where}: {error}") from error
    try:
        return tuple(re.compile(p, re.IGNORECASE) for p in expanded)
    except re.error as error:
        raise KnowledgeError(f"{where}: bad pattern: {error}") from error


def _red_flags(raw: Any, where: str, defs: Mapping[str, str]) -> Tuple[RedFlag, ...]:
    return tuple(
        RedFlag(
            id=str(flag["id"]),
            patterns=_compile(flag.get("patterns"), f"{where}.{flag['id']}", defs),
            why=_check_localized(flag.get("why"), f"{where}.{flag['id']}.why"),
            do_now=_check_localized(flag["do_now"], f"{where}.{flag['id']}.do_now") if "do_now" in flag else None,
        )
        for flag in raw or []
    )


def _scam_type(raw: Mapping[str, Any], defs: Mapping[str, str]) -> ScamType:
    where = f"types.{raw.get('id')}"
    texts = {
        key: _check_localized(raw.get(key), f"{where}.{key}")
        for key in (
            "name",
            "summary",
            "genuine_way",
            "do_now",
            "next_questions",
            "script",
            "evidence",
            "report_notes",
        )
    }
    return ScamType(
        id=str(raw["id"]),
        red_flags=_red_flags(raw.get("red_flags"), f"{where}.red_flags", defs),
        **texts,
    )


def parse_knowledge(document: Mapping[str, Any], messages: Mapping[str, Any]) -> Knowledge:
    """Validate the loaded scam types and chat messages and build the typed view of them."""
    # Regex pieces several patterns share, named once (`<<name>>`, as in knowledge/facts.yml).
    defs = _defs(document.get("defs") or {})
    types = {str(t["id"]): _scam_type(t, defs) for t in document.get("types") or []}
    if tuple(types) != SCAM_TYPE_IDS:
        raise KnowledgeError(f"types must be exactly {SCAM_TYPE_IDS}, got {tuple(types)}")
    signals = document.get("loss_signals") or {}
    risk_levels = document.get("risk_levels") or {}
    for level in RISK_LEVELS:
        for key in ("title", "steps"):
            _check_localized((risk_levels.get(level) or {}).get(key), f"risk_levels.{level}.{key}")
    reporting = document.get("reporting") or {}
    for key in ("channels", "evidence", "recovery_warning"):
        _check_localized(reporting.get(key), f"reporting.{key}")
    general = messages.get("general") or {}
    for key in ("next_questions", "script"):
        _check_localized(general.get(key), f"general.{key}")
    chat = messages.get("chat") or {}
    for key in CHAT_MESSAGES:
        _check_localized(chat.get(key), f"chat.{key}")
    for kind in EXPOSURES:  # each detail one can give away has its own step
        _check_localized((chat.get("exposure_steps") or {}).get(kind), f"chat.exposure_steps.{kind}")
    for act in ASKABLE_ACTS:  # and each act they can ask for, its "don't"
        _check_localized((chat.get("request_steps") or {}).get(act), f"chat.request_steps.{act}")
    questions = messages.get("triage_questions") or {}
    for slot in TRIAGE_SLOTS_ASKED:
        question = questions.get(slot) or {}
        _check_localized(question.get("text"), f"triage_questions.{slot}.text")
        _check_localized(question.get("reminder"), f"triage_questions.{slot}.reminder")
        for key in ("confirm", "confirm_button"):
            if key in question:
                _check_localized(question[key], f"triage_questions.{slot}.{key}")
        for button in question.get("buttons") or []:
            _check_localized(button.get("title"), f"triage_questions.{slot}.buttons")
    cues = messages.get("story_cues") or {}
    knowledge = Knowledge(
        types=types,
        shared_red_flags=_red_flags(document.get("shared_red_flags"), "shared_red_flags", defs),
        loss_signals={s: _compile(signals.get(s), f"loss_signals.{s}", defs) for s in LOSS_SIGNALS},
        risk_levels=risk_levels,
        reporting=reporting,
        general=general,
        chat=chat,
        triage_questions=questions,
        story_cues={kind: _compile(cues.get(kind), f"story_cues.{kind}", defs) for kind in STORY_CUES},
    )
    flag_ids = [f.id for f in knowledge.shared_red_flags] + [
        f.id for t in types.values() for f in t.red_flags
    ]
    duplicated = sorted({i for i in flag_ids if flag_ids.count(i) > 1})
    if duplicated:
        raise KnowledgeError(f"red flag ids used twice: {duplicated}")
    return knowledge


def _read_yaml(path: Path) -> Mapping[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@lru_cache(maxsize=4)
def load_knowledge(directory: Optional[str] = None) -> Knowledge:
    """The knowledge in `directory`, `$KNOWLEDGE_DIR` or the repository's `knowledge/`."""
    source = Path(directory or os.environ.get("KNOWLEDGE_DIR") or DEFAULT_DIR)
    return parse_knowledge(
        _read_yaml(source / "scam_types.yml"), _read_yaml(source / "messages.yml")
    )
