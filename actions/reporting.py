"""Where to report, what evidence to keep, and the warning about "recovery" scams."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import chat_text, knowledge, numbered, reply_language
from bot.analysis import report_steps
from bot.knowledge import localized


class ActionReportSteps(Action):
    def name(self) -> str:
        return "action_report_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        lang = reply_language(tracker)
        kb = knowledge()
        scam = kb.types.get(tracker.get_slot("scam_type") or "")
        dispatcher.utter_message(
            text=chat_text(kb, "report", lang, channels=numbered(report_steps(scam, lang, kb)))
        )
        evidence = list(localized(kb.reporting["evidence"], lang))
        if scam is not None:
            evidence = list(localized(scam.evidence, lang)) + evidence
        dispatcher.utter_message(text=chat_text(kb, "evidence", lang, items=numbered(evidence)))
        dispatcher.utter_message(
            text=chat_text(
                kb, "recovery_warning", lang, text=localized(kb.reporting["recovery_warning"], lang)
            )
        )
        return []
