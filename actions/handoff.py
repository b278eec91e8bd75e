"""The person asks for a human: a place in the hotline staff's queue, or, with nobody on duty, who to call.

`utter_handoff` says which (its variants follow `handoff_answer`). The case record is made or
brought up to date first, so the queue shows its code, type, risk and triage facts.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language, record_case
from bot.amounts import amount_band
from bot.storage.handoffs import HANDOFF_SLOT, WAITING, HandoffRepository

logger = structlog.get_logger()
NOBODY_ANSWERS = ("nobody", "nobody_again")


@functools.lru_cache(maxsize=1)
def handoff_repository() -> HandoffRepository:
    return HandoffRepository.from_environment()


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if tracker.is_paused():
            return []  # staff hold the chat: Rasa predicts no action then; this guards a replayed one
        # Asked again with nobody on duty: the short answer, not the same bubble twice.
        nobody = [SlotSet("handoff_answer", "nobody_again" if tracker.get_slot("handoff_answer") in NOBODY_ANSWERS
                          else "nobody")]
        queue = handoff_repository()
        try:
            if queue.on_duty() == 0:
                return nobody
            code = tracker.get_slot("case_code") or record_case(tracker)
            place = queue.request(tracker.sender_id, {
                "case_code": code,
                "channel": tracker.get_latest_input_channel(),
                "language": conversation_language(tracker),
                "scam_type": tracker.get_slot("scam_type"),
                "risk_level": tracker.get_slot("risk_level"),
                "money_sent": tracker.get_slot("money_sent"),
                "amount_band": amount_band(tracker.get_slot("amount")) if tracker.get_slot("amount") else None,
                "minutes_since_transfer": tracker.get_slot("minutes_since_transfer"),
                "credentials_shared": tracker.get_slot("credentials_shared"),
            })
        except Exception:
            # No queue to put them in is, for the person, nobody to talk to: 110 and 96110 instead.
            logger.exception("handoff.request_failed", conversation_id=tracker.sender_id)
            return nobody
        logger.info("handoff.requested", conversation_id=tracker.sender_id, position=place.position)
        estimate = place.typical_wait_minutes
        return [
            SlotSet(HANDOFF_SLOT, WAITING),
            SlotSet("handoff_answer", "queued" if estimate is None else "queued_estimate"),
            SlotSet("handoff_position", str(place.position)),
            SlotSet("handoff_wait", None if estimate is None else str(estimate)),
            SlotSet("case_code", code),
        ]
