"""What every action needs: the reply language, the knowledge, list formatting."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from rasa_sdk import Tracker

from bot.knowledge import Knowledge, load_knowledge, localized
from bot.language import DEFAULT, SUPPORTED


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
