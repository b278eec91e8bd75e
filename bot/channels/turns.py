"""One chat turn through Rasa for our REST-style channels, with the failures made visible.

Rasa keeps going when a custom action fails (the action server is down): it drops the
action's events, and the person gets no reply, or a fixed reply predicted from a
conversation that lacks the action's work (a "tell me more" where a warning was due). And Rasa's REST channel answers
`200 []` when the lock store fails, and a 200 reply built on an empty conversation when the
tracker store fails (bot/tracker_store.py). Here a turn in which a custom action failed, or
without a reply, gets the `service_unavailable` message from the knowledge instead, and a store
failure a 503 JSON error.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, List, Optional

import structlog
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from redis.exceptions import RedisError
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.http import error_response
from bot.knowledge import load_knowledge, localized
from bot.language import SUPPORTED, resolve_language
from bot.tracker_store import collecting, watch_store_failures

logger = structlog.get_logger()

STORE_ERRORS = (SQLAlchemyError, RedisError, LockError)
CONVERSATION_HEADER = "X-Conversation-Id"
HANDOFF_HEADER = "X-Handoff"
# Rasa's processor reports a custom action that raised (e.g. the action server is unreachable) only
# in its log, with this message, then carries on without the action's events.
ACTION_FAILED = "Encountered an exception while running action"
_action_failures: ContextVar[Optional[List[str]]] = ContextVar("action_failures", default=None)


class _ActionFailureListener(logging.Handler):
    """Records, for the turn running in this context, the custom actions Rasa's processor lost."""

    def emit(self, record: logging.LogRecord) -> None:
        failures = _action_failures.get()
        if failures is not None and str(record.msg).startswith(ACTION_FAILED):
            failures.append(record.getMessage())


logging.getLogger("rasa.core.processor").addHandler(_ActionFailureListener(level=logging.ERROR))


def store_unavailable() -> HTTPResponse:
    return error_response(503, "store_unavailable", "The conversation store is unavailable; try again shortly.")


async def reply_language(request: Request, message: UserMessage) -> str:
    """The conversation's language slot, else the one the request asks for or the text shows."""
    tracker = await request.app.ctx.agent.tracker_store.retrieve(message.sender_id)
    kept = tracker.get_slot("language") if tracker else None
    if kept in SUPPORTED:
        return str(kept)
    return resolve_language(message.text or "", (message.metadata or {}).get("lang"))


async def held_by_staff(request: Request, message: UserMessage) -> bool:
    """Whether hotline staff hold this conversation (bot/handoff.py paused it)."""
    tracker = await request.app.ctx.agent.tracker_store.retrieve(message.sender_id)
    return bool(tracker and tracker.is_paused())


async def run_turn(
    request: Request,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    collector: CollectingOutputChannel,
) -> HTTPResponse:
    """The turn's replies (collected by `collector`, the message's output channel) as JSON,
    the fallback reply when there are none, or a JSON error."""
    with watch_store_failures() as failures, collecting(_action_failures) as lost_actions:
        try:
            await on_new_message(message)
        except STORE_ERRORS:
            logger.exception("turn.store_unavailable", sender_id=message.sender_id)
            return store_unavailable()
        except Exception:
            logger.exception("turn.failed", sender_id=message.sender_id)
            return error_response(500, "internal_error", "The message could not be processed.")
    if failures:
        logger.error("turn.store_unavailable", sender_id=message.sender_id, error=str(failures[0]))
        return store_unavailable()
    if not lost_actions and not collector.messages and await held_by_staff(request, message):
        # Rasa logged the message and, the conversation being paused, said nothing: staff answer it.
        return response.json([], headers={CONVERSATION_HEADER: message.sender_id, HANDOFF_HEADER: "with_staff"})
    if lost_actions or not collector.messages:
        logger.warning("turn.no_reply", sender_id=message.sender_id, lost_actions=len(lost_actions))
        collector.messages.clear()
        text = localized(load_knowledge().chat["service_unavailable"], await reply_language(request, message))
        await collector.send_text_message(message.sender_id, str(text))
    # The stored conversation id (bot/senders.py), as case records and alerts name the conversation.
    return response.json(collector.messages, headers={CONVERSATION_HEADER: message.sender_id})
