"""The risk level of a case, the stop-payment escalation, and what the case record keeps of them."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language, record_case
from bot.alerts import alert_settings, send_case_alert
from bot.amounts import amount_band
from bot.analysis import CRITICAL_WINDOW_MINUTES, NO_SCAM, risk_level

__all__ = ["CRITICAL_WINDOW_MINUTES", "ActionAssessRisk", "ActionEmergencySteps"]

# The alert settings are read and checked when the action server imports the actions: a broken
# ALERT_WEBHOOK_* stops the start instead of failing inside a chat.
alert_settings()


def alert_if_newly_critical(tracker: Tracker, level: str) -> None:
    """Tell the integrating system once per conversation that it turned critical."""
    if level != "critical" or tracker.get_slot("risk_level") == "critical":
        return
    send_case_alert(
        {
            "event": "case.critical",
            "conversation_id": tracker.sender_id,
            "channel": tracker.get_latest_input_channel(),
            "language": conversation_language(tracker),
            "scam_type": tracker.get_slot("scam_type") or NO_SCAM,
            "risk_level": level,
            "money_sent": tracker.get_slot("money_sent"),
            "minutes_since_transfer": tracker.get_slot("minutes_since_transfer"),
            "payment_channel": tracker.get_slot("payment_channel"),
            "reported_at": time.time(),
        }
    )


def record_risk(
    tracker: Tracker, level: str, money_sent: Any, slots: Optional[Mapping[str, Any]] = None
) -> None:
    """The triage answers, as a case record keeps them: the amount only as a band."""
    values: Mapping[str, Any] = slots if slots is not None else tracker.current_slot_values()
    record_case(
        tracker,
        risk_level=level,
        money_sent=money_sent,
        amount_band=amount_band(values.get("amount")),
        credentials_shared=values.get("credentials_shared"),
        minutes_since_transfer=values.get("minutes_since_transfer"),
    )


class ActionAssessRisk(Action):
    """The triage is done: the risk level (utter_triage_done then says what it means)."""

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
        alert_if_newly_critical(tracker, level)
        record_risk(tracker, level, tracker.get_slot("money_sent"))
        events: List[EventType] = [SlotSet("risk_level", level)]
        if tracker.get_slot("scam_type"):
            events.append(SlotSet("case_state", "critical" if level == "critical" else "open"))
        return events


class ActionEmergencySteps(Action):
    """"I already paid": utter_critical_steps came first (its rule); this records the escalation."""

    def name(self) -> str:
        return "action_emergency_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        alert_if_newly_critical(tracker, "critical")
        record_risk(tracker, "critical", True)
        events: List[EventType] = [SlotSet("money_sent", True), SlotSet("risk_level", "critical")]
        if tracker.get_slot("scam_type"):
            events.append(SlotSet("case_state", "critical"))
        return events
