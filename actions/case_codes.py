"""A case code from an earlier chat: this chat adds to that case (its facts, and each message as a redacted note)."""

from __future__ import annotations

from typing import Any, Dict, Mapping

import structlog
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import case_repository, knowledge
from bot.case_codes import codes_in, shown
from bot.knowledge import localized
from bot.privacy import redact

logger = structlog.get_logger()
PERSON = "person"
# What a linked chat takes over from the case record (the amount is kept only as a band there).
CARRIED_FACTS = ("risk_level", "money_sent", "credentials_shared", "minutes_since_transfer")


def linked_case_slots(
    text: str, dispatcher: CollectingDispatcher, lang: str, slots: Mapping[str, Any]
) -> Dict[str, Any]:
    """The slots of the case whose code `text` quotes (said so), or {} (an unknown code is said so too)."""
    codes = [code for code in codes_in(text) if code != slots.get("case_code")]
    if not codes:
        return {}
    try:
        case = case_repository().find(codes[0])
    except Exception:
        logger.exception("cases.lookup_failed")
        return {}
    chat = knowledge().chat
    if case is None:
        dispatcher.utter_message(text=str(localized(chat["case_code_unknown"], lang)).format(code=shown(codes[0])))
        return {}
    dispatcher.utter_message(text=str(localized(chat["case_linked"], lang)).format(code=shown(codes[0])))
    found: Dict[str, Any] = {"case_code": codes[0], "case_linked": True}
    if case.get("scam_type") in knowledge().types:
        found["scam_type"] = case["scam_type"]
        found["case_flags"] = []
    found.update({name: case[name] for name in CARRIED_FACTS if case.get(name) is not None})
    return found


def add_to_linked_case(tracker: Tracker, text: str, slots: Mapping[str, Any]) -> None:
    """In a chat linked to an earlier case, the message goes into that case as a redacted note."""
    code = slots.get("case_code")
    if not (text.strip() and code and slots.get("case_linked")):
        return
    try:
        case_repository().add_note(str(code), PERSON, redact(text))
    except Exception:
        logger.exception("cases.note_failed", conversation_id=tracker.sender_id)
