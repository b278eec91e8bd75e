"""Rasa's SQL tracker store, writing conversations with personal data redacted.

The running conversation keeps the original text for the rest of the turn (the
actions see it); only what is written to the events table is redacted, so the next
turn, the history page and any export see placeholders. Events sent to an event
broker, when one is configured, are not redacted.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact
from bot.settings import require_postgresql

# Entities whose whole value is personal, whatever the extractor caught.
PERSONAL_ENTITIES = {"phone_number": "[PHONE]", "bank_card": "[BANK_CARD]"}


def _redact_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_strings(item) for key, item in value.items()}
    return value


def redact_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A serialised event with every string value redacted: texts, parse data, slot values, metadata."""
    # A new structure: as_dict() shares its dicts with the live event, which must stay as it is.
    redacted = _redact_strings(data)
    for entity in (redacted.get("parse_data") or {}).get("entities") or []:
        if entity.get("entity") in PERSONAL_ENTITIES:
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        require_postgresql("The tracker store (TRACKER_DB_*)", str(self.engine.url))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        # `save` serialises exactly the events returned here: the narrowest place to redact.
        return (_RedactedEvent(event) for event in super()._additional_events(session, tracker))
