"""The triage form: what has already happened, when, how much and how."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.risk import escalate_to_critical
from bot.timeparse import minutes_ago

# Values sent by the quick-reply buttons of utter_ask_time_since_transfer.
BUTTON_MINUTES = {"within_hour": 30.0, "today": 240.0, "before_today": 2880.0}
MAX_ANSWER_CHARS = 200


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
            return ["money_sent", "time_since_transfer", "amount", "payment_channel", "credentials_shared"]
        return ["money_sent", "credentials_shared"]

    def validate_money_sent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        # Minutes matter: the stop-payment steps come before the remaining questions.
        if value and tracker.get_slot("risk_level") != "critical":
            escalate_to_critical(dispatcher, tracker)
            return {"money_sent": True, "risk_level": "critical"}
        return {"money_sent": value}

    def validate_time_since_transfer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        answer = _short(value)
        if answer is None:
            return {"time_since_transfer": None}
        return {"time_since_transfer": answer, "minutes_since_transfer": minutes_since(answer)}

    def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"amount": _short(value)}

    def validate_payment_channel(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"payment_channel": _short(value)}
