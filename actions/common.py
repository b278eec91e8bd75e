"""What every action needs: the reply language, the knowledge, list formatting, the case record."""

from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping

import structlog
from rasa_sdk import Tracker

from bot.knowledge import Knowledge, load_knowledge, localized
from bot.language import DEFAULT, SUPPORTED
from bot.storage.cases import CaseRepository

logger = structlog.get_logger()


def reply_language(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in SUPPORTED else DEFAULT


def numbered(items: Iterable[str]) -> str:
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))


def chat_text(knowledge: Knowledge, key: str, lang: str, **values: Any) -> str:
    """A chat message template from the knowledge, filled in."""
    return str(localized(knowledge.chat[key], lang)).format(**values)


def knowledge() -> Knowledge:
    return load_knowledge()


def parse_of(tracker: Tracker) -> Mapping[str, Any]:
    return tracker.latest_message or {}


@functools.lru_cache(maxsize=1)
def case_repository() -> CaseRepository:
    return CaseRepository.from_environment()


def record_case(tracker: Tracker, **fields: Any) -> None:
    """Update the conversation's case record. The chat matters more than the record:
    a storage failure is logged and the action goes on."""
    try:
        case_repository().upsert(tracker.sender_id, **fields)
    except Exception:
        logger.exception("cases.write_failed", conversation_id=tracker.sender_id, fields=sorted(fields))
