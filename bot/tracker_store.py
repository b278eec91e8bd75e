"""Rasa's SQL tracker store, writing conversations with personal data redacted.

The running conversation keeps the original text for the rest of the turn (the
actions see it); only what is written to the events table is redacted, so the next
turn, the history page and any export see placeholders. Events sent to an event
broker, when one is configured, are not redacted.

Rasa wraps every tracker store in its FailSafeTrackerStore, which swallows errors: a failed
read becomes an empty conversation and a failed write goes to the replica's memory, while
the person gets a 200 reply built on nothing. So each turn watches its store calls
(`watch_store_failures`): the channel answers 503 when one failed, and a turn whose read
failed is never written over the real conversation.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Awaitable, Dict, Iterator, List, Optional, TypeVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact
from bot.settings import require_postgresql
from bot.storage.cases import owner_only_sqlite

T = TypeVar("T")
_failures: ContextVar[Optional[List[Exception]]] = ContextVar("tracker_store_failures", default=None)


@contextlib.contextmanager
def collecting(var: ContextVar[Optional[List[Any]]]) -> Iterator[List[Any]]:
    """A list that `var` points to while the code inside runs (a turn's failures, filled in as they happen)."""
    items: List[Any] = []
    token = var.set(items)
    try:
        yield items
    finally:
        var.reset(token)


def watch_store_failures() -> contextlib.AbstractContextManager[List[Any]]:
    """The tracker store errors of the turn run inside."""
    return collecting(_failures)


class StoreReadFailed(RuntimeError):
    """This turn could not read its conversation; saving it would overwrite the real one."""


# Entities whose whole value is personal, whatever the extractor caught.
PERSONAL_ENTITIES = {"phone_number": "[PHONE]", "bank_card": "[BANK_CARD]"}


# Ids Rasa makes itself (uuid hex): never personal, and digits inside them must not become a [PHONE].
_TECHNICAL = frozenset({"message_id"})


def _redact_strings(value: Any, texts: Dict[str, str], redacted: Dict[str, str]) -> Any:
    """`redacted`: the strings done so far (an event repeats its text: parse data, metadata)."""
    if isinstance(value, str):
        if value not in redacted:
            redacted[value] = redact(texts.get(value, value))
        return redacted[value]
    if isinstance(value, list):
        return [_redact_strings(item, texts, redacted) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key in _TECHNICAL else _redact_strings(item, texts, redacted) for key, item in value.items()
        }
    return value


def mask_entities(text: str, entities: Any) -> str:
    """`text` with the span of every personal entity the NLU extracted replaced by its placeholder
    (when the span holds personal data: a 400 number or an order number found as one stays)."""
    spans = []
    for entity in entities if isinstance(entities, list) else []:
        start, end = (entity.get("start"), entity.get("end")) if isinstance(entity, dict) else (None, None)
        name = entity.get("entity") if isinstance(entity, dict) else None
        if name not in PERSONAL_ENTITIES or not isinstance(start, int) or not isinstance(end, int):
            continue
        if 0 <= start < end <= len(text) and redact(text[start:end]) != text[start:end]:
            spans.append((start, end, PERSONAL_ENTITIES[name]))
    parts: List[str] = []
    position = 0
    for start, end, placeholder in sorted(spans):
        if start >= position:  # overlapping spans: the first one wins
            parts += [text[position:start], placeholder]
            position = end
    return "".join(parts) + text[position:]


def redact_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A serialised event with every string value redacted: texts, parse data, slot values, metadata.

    The message text (wherever the event repeats it, e.g. the web chat's `metadata.display`) first
    loses the spans of the personal entities the NLU extracted, then goes through `redact`.
    """
    texts: Dict[str, str] = {}
    parse = data.get("parse_data")
    if isinstance(parse, dict) and isinstance(parse.get("text"), str) and parse.get("entities"):
        texts[parse["text"]] = mask_entities(parse["text"], parse["entities"])
    # A new structure: as_dict() shares its dicts with the live event, which must stay as it is.
    redacted = _redact_strings(data, texts, {})
    for entity in (redacted.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") in PERSONAL_ENTITIES:
            entity["value"] = PERSONAL_ENTITIES[entity["entity"]]
    return redacted


class _RedactedEvent:
    """The two things `SQLTrackerStore.save` reads from an event, redacted."""

    def __init__(self, event: Event) -> None:
        self.type_name = event.type_name
        self._data = redact_event(event.as_dict())

    def as_dict(self) -> Dict[str, Any]:
        return self._data


class RedactingSQLTrackerStore(SQLTrackerStore):
    """endpoints.yml `type: bot.tracker_store.RedactingSQLTrackerStore`, with the SQL store's settings."""

    def __init__(
        self, domain: Any = None, dialect: str = "sqlite", host: Optional[str] = None, port: Any = None,
        db: str = "rasa.db", **kwargs: Any,
    ) -> None:
        if dialect == "sqlite" or (host or "").startswith("sqlite"):
            owner_only_sqlite(self.get_db_url(dialect, host, None, db))
        super().__init__(domain, dialect, host, port, db, **kwargs)
        require_postgresql("The tracker store (TRACKER_DB_*)", str(self.engine.url))

    async def _watched(self, operation: Awaitable[T]) -> T:
        try:
            return await operation
        except Exception as error:
            failures = _failures.get()
            if failures is not None:
                failures.append(error)
            raise

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self._watched(super().retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await self._watched(super().retrieve_full_tracker(conversation_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        if _failures.get():
            raise StoreReadFailed(f"not saving {tracker.sender_id}: this turn's store access failed")
        await self._watched(super().save(tracker))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        # `save` serialises exactly the events returned here: the narrowest place to redact.
        return (_RedactedEvent(event) for event in super()._additional_events(session, tracker))
