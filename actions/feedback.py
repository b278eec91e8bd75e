"""The person says the verdict was wrong ("这其实不是诈骗"): stored, redacted, for the team to review.

The reply itself stays the safety answer (`utter_not_a_scam_ack`); this only records and says so.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language, knowledge, message_text
from bot.knowledge import localized
from bot.storage.feedback import NOT_A_SCAM, PERSON, FeedbackRepository, NewFeedback

logger = structlog.get_logger()


@functools.lru_cache(maxsize=1)
def feedback_repository() -> FeedbackRepository:
    return FeedbackRepository.from_environment()


def judged_story(tracker: Tracker) -> Optional[str]:
    """The message the verdict was about: the one that opened the case, else the one before this."""
    texts: List[str] = []
    story: Optional[str] = None
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text") and not str(event["text"]).startswith("/"):
            texts.append(str(event["text"]))
        elif event.get("event") == "slot" and event.get("name") == "scam_type" and event.get("value") and texts:
            story = texts[-1]
    return story or (texts[-2] if len(texts) > 1 else None)


def judged_type(tracker: Tracker) -> Optional[str]:
    """What the assistant said: the case's type, or the likely type of an unsure answer; None when it
    said "not a scam" (then "it isn't a scam" agrees with it)."""
    if tracker.get_slot("scam_type"):
        return str(tracker.get_slot("scam_type"))
    if tracker.get_slot("verdict") == "unsure":
        return str(tracker.get_slot("likely_type") or "other")
    return None


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        judged, story = judged_type(tracker), judged_story(tracker)
        if judged is None or story is None:
            return []
        try:
            feedback_repository().add(NewFeedback(
                source=PERSON, judged_type=judged, right_type=NOT_A_SCAM, text=story, comment=message_text(tracker),
                channel=tracker.get_latest_input_channel(), case_code=tracker.get_slot("case_code"),
            ))
        except Exception:
            logger.exception("feedback.write_failed", conversation_id=tracker.sender_id)
            return []
        dispatcher.utter_message(text=localized(knowledge().chat["feedback_noted"], conversation_language(tracker)))
        return []
