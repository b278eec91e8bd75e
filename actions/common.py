"""What every action needs: the conversation's language, the knowledge, the case record."""

from __future__ import annotations

import functools
from typing import Any, Iterable, List, Mapping, Optional

import structlog
from rasa_sdk import Tracker

from bot.knowledge import Knowledge, load_knowledge
from bot.language import DEFAULT, SUPPORTED
from bot.storage.cases import CaseRepository

logger = structlog.get_logger()


def conversation_language(tracker: Tracker) -> str:
    """The language the chat replies in: the `language` slot (actions/slots.py keeps it)."""
    language = tracker.get_slot("language")
    return language if language in SUPPORTED else DEFAULT


def numbered(items: Iterable[str]) -> str:
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))


def knowledge() -> Knowledge:
    return load_knowledge()


def parse_of(tracker: Tracker) -> Mapping[str, Any]:
    return tracker.latest_message or {}


def message_text(tracker: Tracker) -> str:
    """The person's words; empty for a quick reply's payload ("/affirm")."""
    text = str(parse_of(tracker).get("text") or "")
    return "" if text.startswith("/") else text


def sent_last_turn(tracker: Tracker) -> List[str]:
    """The actions the bot ran on the turn before this message."""
    names: List[str] = []
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif users == 1 and event.get("event") == "action":
            names.append(str(event.get("name")))
    return names


def said_before_this_message(tracker: Tracker, response: str) -> bool:
    """Whether the bot sent this response (by a rule, or from a custom action) before the latest message."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest = True
        elif seen_latest and (
            (event.get("event") == "action" and event.get("name") == response)
            or (event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response)
        ):
            return True
    return False


def intent_of(tracker: Tracker) -> Optional[str]:
    return (parse_of(tracker).get("intent") or {}).get("name")


def verdict_of(tracker: Tracker) -> Mapping[str, Any]:
    """The verdict the NLU pipeline wrote into the parse; {} when an older pipeline wrote none."""
    verdict = parse_of(tracker).get("verdict")
    return verdict if isinstance(verdict, Mapping) else {}


@functools.lru_cache(maxsize=1)
def case_repository() -> CaseRepository:
    return CaseRepository.from_environment()


def case_key(tracker: Tracker, number: Optional[float] = None) -> str:
    """The case record's id: the conversation's id for its first case, `<id>#<n>` after that."""
    n = int(number if number is not None else (tracker.get_slot("case_number") or 1))
    return tracker.sender_id if n <= 1 else f"{tracker.sender_id}#{n}"


def record_case(tracker: Tracker, number: Optional[float] = None, **fields: Any) -> Optional[str]:
    """Update the case record and return its code (None when it could not be written). A chat that
    quoted an earlier case's code (slot `case_linked`) updates that case. The chat matters more than
    the record: a storage failure is logged and the action goes on."""
    try:
        code = tracker.get_slot("case_code")
        if number is None and code and tracker.get_slot("case_linked"):
            return str(code) if case_repository().update_by_code(str(code), **fields) else None
        return case_repository().upsert(case_key(tracker, number), **fields)
    except Exception:
        logger.exception("cases.write_failed", conversation_id=tracker.sender_id, fields=sorted(fields))
        return None
