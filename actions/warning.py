"""Warn about the recognised scam: what it is, the red flags in the text, what to do now."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import chat_text, knowledge, numbered, parse_of, record_case, reply_language
from bot.analysis import NO_SCAM, analyze, scam_type_of_intent
from bot.knowledge import localized

TRIAGE_SLOTS = (
    "money_sent",
    "credentials_shared",
    "time_since_transfer",
    "minutes_since_transfer",
    "amount",
    "payment_channel",
    "risk_level",
)


class ActionWarnScam(Action):
    def name(self) -> str:
        return "action_warn_scam"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        lang = reply_language(tracker)
        kb = knowledge()
        parse = parse_of(tracker)
        text = parse.get("text") or ""
        analysis = analyze(parse, text, lang, kb)
        # The rule ran because the classifier's top intent is a scam: when the red
        # flags tip the combined score to "not a scam", still warn about that type.
        scam_type = analysis.scam_type
        if scam_type == NO_SCAM:
            scam_type = scam_type_of_intent((parse.get("intent") or {}).get("name")) or "other"
        scam = kb.types[scam_type]

        dispatcher.utter_message(
            text=chat_text(
                kb, "warning", lang, name=localized(scam.name, lang),
                summary=localized(scam.summary, lang),
            ),
            json_message={"analysis": {**analysis.as_dict(), "scam_type": scam_type}},
        )
        related = [t for t in analysis.related_types if t != scam_type]
        if related:
            names = "、" if lang == "zh" else ", "
            dispatcher.utter_message(
                text=chat_text(
                    kb, "also_signs", lang,
                    names=names.join(localized(kb.types[t].name, lang) for t in related),
                )
            )
        if analysis.red_flags:
            items = [
                chat_text(kb, "red_flag_item", lang, phrase=f["phrase"], why=f["why"])
                for f in analysis.red_flags
            ]
            dispatcher.utter_message(text=chat_text(kb, "red_flags", lang, items=numbered(items)))
        dispatcher.utter_message(
            text=chat_text(kb, "do_now", lang, items=numbered(localized(scam.do_now, lang)))
        )

        record_case(tracker, scam_type=scam_type, language=lang, channel=tracker.get_latest_input_channel())
        events: List[EventType] = [SlotSet("scam_type", scam_type)]
        if not tracker.active_loop_name:
            # A new story starts a new triage.
            dispatcher.utter_message(text=chat_text(kb, "triage_intro", lang))
            events += [SlotSet(slot, None) for slot in TRIAGE_SLOTS]
        return events
