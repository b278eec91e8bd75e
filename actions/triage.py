"""The triage form: what has already happened, when, how much and how.

Its questions are the responses utter_ask_<slot> in domain.yml. Every slot can
also be filled from any message (actions/slots.py), so the form asks only what
is still unknown.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.interruptions import slots_filled_this_turn
from actions.questions import times_asked_in_this_case
from bot.timeparse import minutes_ago

# Values sent by the quick-reply buttons of utter_ask_time_since_transfer.
BUTTON_MINUTES = {"within_hour": 30.0, "today": 240.0, "before_today": 2880.0}
MAX_ANSWER_CHARS = 200
MAX_TIMES_ASKED = 2


def minutes_since(answer: str) -> Optional[float]:
    if answer in BUTTON_MINUTES:
        return BUTTON_MINUTES[answer]
    return minutes_ago(answer)


def _short(value: Any) -> Optional[str]:
    text = str(value).strip() if value is not None else ""
    return text[:MAX_ANSWER_CHARS] or None


class ValidateTriageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_triage_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        # The transfer details only matter once money has left.
        if tracker.get_slot("money_sent"):
            slots = ["money_sent", "time_since_transfer", "amount", "payment_channel", "credentials_shared"]
        else:
            slots = ["money_sent", "credentials_shared"]
        # A question asked and reminded of, still unanswered, is let go: a third time is nagging, and
        # the person is busy with something more pressing (the scammer calling, the bank, doubt).
        return [
            slot for slot in slots
            if tracker.get_slot(slot) is not None or times_asked_in_this_case(tracker, slot) < MAX_TIMES_ASKED
        ]

    def validate_time_since_transfer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        answer = _short(value)
        if answer is None:
            return {"time_since_transfer": None}
        # Minutes read this turn from the whole message (actions/slots.py: "昨天下午" is 26 hours) win over
        # a second reading of the extracted words alone ("昨天": 24 hours, inside the stop-payment window).
        minutes = tracker.get_slot("minutes_since_transfer")
        if "minutes_since_transfer" not in slots_filled_this_turn(tracker):
            read = minutes_since(answer)
            minutes = read if read is not None else minutes
        return {"time_since_transfer": answer, "minutes_since_transfer": minutes}

    def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        said = tracker.get_slot("amount_said")
        if said and (tracker.latest_message.get("intent") or {}).get("name") == "affirm":
            return {"amount": said}  # "对" to "was it the 2万8 you mentioned?"
        return {"amount": _short(value)}

    def validate_payment_channel(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"payment_channel": _short(value)}
