"""Turn the triage answers into a risk level and the steps for it."""

from __future__ import annotations

import time
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import chat_text, knowledge, numbered, record_case, reply_language
from bot.alerts import send_case_alert
from bot.amounts import amount_band
from bot.analysis import NO_SCAM, risk_level
from bot.knowledge import localized


def alert_if_newly_critical(tracker: Tracker, level: str) -> None:
    """Tell the integrating system once per conversation that it turned critical."""
    if level != "critical" or tracker.get_slot("risk_level") == "critical":
        return
    send_case_alert(
        {
            "event": "case.critical",
            "conversation_id": tracker.sender_id,
            "channel": tracker.get_latest_input_channel(),
            "language": reply_language(tracker),
            "scam_type": tracker.get_slot("scam_type") or NO_SCAM,
            "risk_level": level,
            "money_sent": tracker.get_slot("money_sent"),
            "minutes_since_transfer": tracker.get_slot("minutes_since_transfer"),
            "payment_channel": tracker.get_slot("payment_channel"),
            "reported_at": time.time(),
        }
    )


def utter_risk(dispatcher: CollectingDispatcher, level: str, lang: str) -> None:
    kb = knowledge()
    steps = kb.risk_levels[level]
    dispatcher.utter_message(
        text=chat_text(
            kb, "risk", lang, title=localized(steps["title"], lang),
            items=numbered(localized(steps["steps"], lang)),
        ),
        json_message={"risk_level": level},
    )


def escalate_to_critical(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Money has left: the stop-payment steps now, and the alert if this is new."""
    utter_risk(dispatcher, "critical", reply_language(tracker))
    alert_if_newly_critical(tracker, "critical")


def record_risk(tracker: Tracker, level: str, money_sent: Any) -> None:
    """The triage answers, as a case record keeps them: the amount only as a band."""
    record_case(
        tracker,
        risk_level=level,
        money_sent=money_sent,
        amount_band=amount_band(tracker.get_slot("amount")),
        credentials_shared=tracker.get_slot("credentials_shared"),
        minutes_since_transfer=tracker.get_slot("minutes_since_transfer"),
    )


class ActionAssessRisk(Action):
    def name(self) -> str:
        return "action_assess_risk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        level = risk_level(
            tracker.get_slot("scam_type") or NO_SCAM,
            tracker.get_slot("money_sent"),
            tracker.get_slot("minutes_since_transfer"),
            tracker.get_slot("credentials_shared"),
        )
        utter_risk(dispatcher, level, reply_language(tracker))
        alert_if_newly_critical(tracker, level)
        record_risk(tracker, level, tracker.get_slot("money_sent"))
        return [SlotSet("risk_level", level)]


class ActionEmergencySteps(Action):
    """Money has already left: the stop-payment steps come before any question."""

    def name(self) -> str:
        return "action_emergency_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        escalate_to_critical(dispatcher, tracker)
        record_risk(tracker, "critical", True)
        return [SlotSet("money_sent", True), SlotSet("risk_level", "critical")]
