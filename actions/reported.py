"""Reported identifiers in the chat: a match is said when it is named, and the person may add theirs.

Each message's numbers, links and account ids are kept for the rest of the conversation only as
keyed fingerprints (slot `reportable_ids`, "kind:hash", the hash in base64url): the stored
conversation has their text redacted, and the person's consent may come turns later. Nothing is
reported without it.
"""

from __future__ import annotations

import base64
import functools
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language
from bot.identifiers import identifier_knowledge
from bot.knowledge import localized
from bot.reported import chat_note, check_reported, fingerprint, hash_key, identifiers_in, keyed_hash
from bot.storage.reports import CASE, NewReport, ReportRepository

logger = structlog.get_logger()

REPORTABLE_SLOT = "reportable_ids"
OFFERED_SLOT = "report_offered"
REPORT_PAYLOAD = "/report_identifiers"
# A conversation's fingerprints kept for consent; more than this and the oldest go.
MAX_REPORTABLE = 20

# Fail at start, not at the first message: outside development REPORT_HASH_KEY must be set.
hash_key()


@functools.lru_cache(maxsize=1)
def report_repository() -> ReportRepository:
    return ReportRepository.from_environment()


def slot_entry(kind: str, key_hash: str) -> str:
    """"kind:<the hash in base64url>": shorter than hex, and no long run of digits that reads like a number."""
    return f"{kind}:{base64.urlsafe_b64encode(bytes.fromhex(key_hash)).decode('ascii').rstrip('=')}"


def _parse_entry(entry: Any) -> Optional[Tuple[str, str]]:
    kind, _, encoded = str(entry).partition(":")
    try:
        digest = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    return (kind, digest.hex()) if kind and len(digest) == 32 else None


def reported_slots(
    text: str, tracker: Tracker, dispatcher: CollectingDispatcher, lang: str, slots: Mapping[str, Any]
) -> Tuple[Dict[str, Any], bool]:
    """For the slot validation: say which newly named identifiers were reported, keep every fingerprint.

    Returns the slots to set and whether the message named a reported identifier.
    """
    found = identifiers_in(text) if text else []
    if not found:
        return {}, False
    matches = check_reported(found, report_repository(), tracker.get_latest_input_channel())
    known = [str(e) for e in slots.get(REPORTABLE_SLOT) or []]
    entries = [slot_entry(f.kind, fingerprint(f.kind, f.normalized)) for f in found]
    new_matches = [m for m in matches if slot_entry(m.found.kind, fingerprint(m.found.kind, m.found.normalized))
                   not in known]
    if new_matches:
        dispatcher.utter_message(text=chat_note(new_matches, lang), json_message={"reported": len(new_matches)})
    kept = list(dict.fromkeys([*known, *entries]))[-MAX_REPORTABLE:]
    return {REPORTABLE_SLOT: kept}, bool(matches)


def _kinds_named(entries: Sequence[Tuple[str, str]], lang: str) -> str:
    names = identifier_knowledge().reported["kinds"]
    kinds = dict.fromkeys(str(localized(names[kind], lang)) for kind, _ in entries if kind in names)
    return ("、" if lang == "zh" else ", ").join(kinds)


class ActionOfferReport(Action):
    """After the reporting steps: offer to add the other side's numbers and links to the reported list."""

    def name(self) -> str:
        return "action_offer_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        named = [str(e) for e in tracker.get_slot(REPORTABLE_SLOT) or []]
        offered = set(tracker.get_slot(OFFERED_SLOT) or [])
        entries = [e for e in map(_parse_entry, (n for n in named if n not in offered)) if e]
        if not entries:
            return []  # nothing named, or all of it offered before: the report steps alone
        lang = conversation_language(tracker)
        texts = identifier_knowledge().reported
        dispatcher.utter_message(
            text=str(localized(texts["offer"], lang)).format(kinds=_kinds_named(entries, lang)),
            buttons=[{"title": str(localized(texts["offer_yes"], lang)), "payload": REPORT_PAYLOAD}],
        )
        return [SlotSet(OFFERED_SLOT, named)]


class ActionReportIdentifiers(Action):
    """The person agreed: their conversation's identifiers are reported, once per conversation."""

    def name(self) -> str:
        return "action_report_identifiers"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        lang = conversation_language(tracker)
        texts = identifier_knowledge().reported
        entries = [e for e in map(_parse_entry, tracker.get_slot(REPORTABLE_SLOT) or []) if e]
        if not entries:
            dispatcher.utter_message(text=str(localized(texts["nothing"], lang)))
            return []
        # Keyed by the conversation: agreeing twice does not count twice.
        reference = keyed_hash(CASE, tracker.sender_id)
        try:
            added = report_repository().add([NewReport(kind, key_hash, CASE, reference) for kind, key_hash in entries])
        except Exception:
            logger.exception("reported.add_failed", conversation_id=tracker.sender_id)
            dispatcher.utter_message(text=str(localized(texts["unavailable"], lang)))
            return []
        logger.info("reported.case_added", added=added, named=len(entries))
        dispatcher.utter_message(text=str(localized(texts["added" if added else "already"], lang)))
        return [SlotSet(OFFERED_SLOT, list(tracker.get_slot(REPORTABLE_SLOT) or []))]
