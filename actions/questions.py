"""The triage form's questions (action_ask_<slot>), with quick-reply buttons, from the knowledge.

A question the form asks again, because the person answered something else in
between (a doubt, a question of their own), comes back as a one-line reminder with
the same buttons, not as the full question word for word.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Set

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.case import OPEN_CASE
from actions.common import conversation_language, knowledge
from bot.knowledge import TRIAGE_SLOTS_ASKED, localized


def _times_said_in_this_case(tracker: Tracker, texts: Set[str]) -> int:
    """How often the bot said one of these texts since the current case was opened.

    The form runs its ask actions itself, so only their messages are in the tracker. A story
    read as a follow-up of the same case runs action_open_case too, without a new case number.
    """
    said = 0
    numbered = False  # the open-case action seen next (in time) set a case number
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text") in texts:
            said += 1
        if event.get("event") == "slot" and event.get("name") == "case_number":
            numbered = True
        if event.get("event") == "action" and event.get("name") == OPEN_CASE and numbered:
            break
    return said


def _asked_in_this_case(tracker: Tracker, texts: Set[str]) -> bool:
    return _times_said_in_this_case(tracker, texts) > 0


def times_asked_in_this_case(tracker: Tracker, slot: str) -> int:
    """How often the form has asked for `slot` in this case: the question, its confirming form, its reminder."""
    question = knowledge().triage_questions[slot]
    texts = {str(t) for key in ("text", "reminder") for t in question[key].values()}
    said = tracker.get_slot(f"{slot}_said") if "confirm" in question else None
    if said:
        texts |= {str(t).format(**{slot: said}) for t in question["confirm"].values()}
    return _times_said_in_this_case(tracker, texts)


class AskTriageQuestion(Action):
    """Base for one action per triage slot; `slot` is set by each subclass below."""

    slot: str = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        lang = conversation_language(tracker)
        question = knowledge().triage_questions[self.slot]
        buttons = [
            {"title": localized(b["title"], lang), "payload": b["payload"]} for b in question.get("buttons") or []
        ]
        said = tracker.get_slot(f"{self.slot}_said") if "confirm" in question else None
        if said:
            confirm = {k: str(v).format(**{self.slot: said}) for k, v in question["confirm"].items()}
            if not _asked_in_this_case(tracker, set(question["text"].values()) | set(confirm.values())):
                entity = json.dumps({self.slot: said}, ensure_ascii=False)
                title = str(localized(question["confirm_button"], lang)).format(**{self.slot: said})
                dispatcher.utter_message(
                    text=localized(confirm, lang), buttons=[{"title": title, "payload": f"/inform{entity}"}, *buttons]
                )
                return []
        # Asked already (in full, or as the confirming form above): the one-line reminder.
        asked_before = bool(said) or _asked_in_this_case(tracker, set(question["text"].values()))
        text = localized(question["reminder" if asked_before else "text"], lang)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


# rasa-sdk registers every Action subclass it can instantiate: one per slot.
ASK_ACTIONS = {
    slot: type(f"Ask{slot.title().replace('_', '')}", (AskTriageQuestion,), {"slot": slot})
    for slot in TRIAGE_SLOTS_ASKED
}
