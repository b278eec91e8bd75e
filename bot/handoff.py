"""Hotline staff in a chat, the Rasa way: events written into the conversation the bot keeps.

Taking a chat pauses it (`ConversationPaused`: Rasa logs the person's messages but predicts nothing),
a staff message is a bot utterance marked as the staff's, handing back resumes it. Each write holds
the conversation's lock (the Redis lock store across replicas), so it never interleaves with a turn.
"""

from __future__ import annotations

from typing import Any, Callable, List

from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge import load_knowledge, localized
from bot.language import DEFAULT, SUPPORTED
from bot.storage.handoffs import HANDOFF_SLOT, WITH_STAFF
from bot.tracker_store import watch_store_failures

STAFF_AUTHOR = "staff"
MAX_STAFF_MESSAGE_CHARS = 2000


class ConversationMissing(LookupError):
    """No stored conversation under this id."""


class NotWithStaff(RuntimeError):
    """The conversation is not held by staff: a staff message would go to a chat the bot answers."""


class StoreFailed(RuntimeError):
    """The tracker store could not be read or written."""


def _language(tracker: DialogueStateTracker) -> str:
    language = tracker.get_slot("language")
    return str(language) if language in SUPPORTED else DEFAULT


def _announcement(key: str, tracker: DialogueStateTracker, state: str) -> BotUttered:
    text = str(localized(load_knowledge().chat[key], _language(tracker)))
    return BotUttered(text, data={"custom": {HANDOFF_SLOT: state}}, metadata={"knowledge": f"chat.{key}"})


async def _write(agent: Any, conversation_id: str,
                 events_for: Callable[[DialogueStateTracker], List[Event]]) -> DialogueStateTracker:
    async with agent.lock_store.lock(conversation_id):
        tracker = await read_messages(agent, conversation_id)
        for event in events_for(tracker):
            tracker.update(event, agent.domain)
        with watch_store_failures() as failures:
            await agent.tracker_store.save(tracker)
        if failures:
            raise StoreFailed(str(failures[0]))
        return tracker


async def take(agent: Any, conversation_id: str) -> None:
    """Staff hold the chat: the bot stops answering, the person is told a person has joined."""
    await _write(agent, conversation_id, lambda tracker: [
        ConversationPaused(), SlotSet(HANDOFF_SLOT, WITH_STAFF), _announcement("handoff_taken", tracker, WITH_STAFF),
    ])


async def send_staff_message(agent: Any, conversation_id: str, text: str) -> None:
    def events(tracker: DialogueStateTracker) -> List[Event]:
        if not tracker.is_paused():
            raise NotWithStaff(conversation_id)
        return [BotUttered(text, metadata={"author": STAFF_AUTHOR})]

    await _write(agent, conversation_id, events)


async def hand_back(agent: Any, conversation_id: str) -> None:
    """The bot answers again from the next message; the person is told so."""
    await _write(agent, conversation_id, lambda tracker: [
        ConversationResumed(), SlotSet(HANDOFF_SLOT, None), _announcement("handoff_returned", tracker, "ended"),
    ])


async def read_messages(agent: Any, conversation_id: str) -> DialogueStateTracker:
    """The stored conversation, or ConversationMissing / StoreFailed."""
    with watch_store_failures() as failures:
        tracker = await agent.tracker_store.retrieve(conversation_id)
    if failures:
        raise StoreFailed(str(failures[0]))
    if tracker is None:
        raise ConversationMissing(conversation_id)
    return tracker
