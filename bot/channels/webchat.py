"""The citizens' door: a WeChat-style chat page, its message endpoint and its history.

The page's `sender` names the conversation; Rasa keeps it as the web chat's keyed hash of it
(bot/senders.py), so the history serves web chat conversations only."""

from __future__ import annotations

import inspect
import json
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import (
    MAX_TEXT_CHARS,
    RequestRejected,
    after_param,
    content_type,
    json_object,
    known_metadata,
    limit_request_size,
    optional_lang,
    refuse_other_methods,
    sender_field,
    static_file,
    streamed_body,
    text_field,
)
from bot.channels.ratelimit import RateLimits, rate_limited, shared_rate_limits
from bot.channels.turns import run_turn, store_unavailable
from bot.handoff import STAFF_AUTHOR
from bot.ocr import IMAGE_SOURCE, IMAGE_TYPES, MAX_IMAGE_BYTES, read_image
from bot.senders import conversation_id, sender_id_key
from bot.storage.handoffs import HANDOFF_SLOT
from bot.tracker_store import watch_store_failures

MESSAGE_PARTS = ("text", "buttons", "custom", "image", "attachment")


class WebchatOutput(CollectingOutputChannel):
    """Keeps a reply's text, buttons and custom payload in one message.

    The stock collector splits a custom payload into a separate message; the
    page needs them together to mark a critical warning in red. Replies name the page's
    `sender`, not the stored conversation id.
    """

    def __init__(self, client_sender: str) -> None:
        super().__init__()
        self.client_sender = client_sender

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        merged = {"recipient_id": self.client_sender}
        merged.update({k: message[k] for k in MESSAGE_PARTS if message.get(k)})
        self.messages.append(merged)


def history_messages(events: List[Any], after: float = 0.0) -> List[Dict[str, Any]]:
    """What the person saw, rebuilt from the tracker's events (those later than `after`, a timestamp);
    hotline staff's messages have the role "staff"."""
    messages: List[Dict[str, Any]] = []
    for event in events:
        if event.timestamp <= after:
            continue
        if isinstance(event, UserUttered) and event.text:
            shown = (event.metadata or {}).get("display") or event.text
            said: Dict[str, Any] = {"role": "user", "text": shown, "timestamp": event.timestamp}
            if (event.metadata or {}).get("source") == IMAGE_SOURCE:
                said["source"] = IMAGE_SOURCE
            messages.append(said)
        elif isinstance(event, BotUttered):
            staff = (event.metadata or {}).get("author") == STAFF_AUTHOR
            message: Dict[str, Any] = {"role": "staff" if staff else "bot", "timestamp": event.timestamp}
            if event.text:
                message["text"] = event.text
            for key in ("buttons", "custom"):
                if (event.data or {}).get(key):
                    message[key] = event.data[key]
            messages.append(message)
    return messages


class WebchatInput(InputChannel):
    """The page at /webhooks/webchat/, POST webhook and GET history."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(shared_rate_limits())

    def __init__(self, limit: RateLimits) -> None:
        self._limit = limit

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("webchat", inspect.getmodule(self).__name__)  # type: ignore[union-attr]
        limit_request_size(blueprint)
        sender_id_key()  # fails at start-up, not at the first message

        @blueprint.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return static_file("webchat", "index.html")

        @blueprint.route("/static/<name:path>", methods=["GET"])
        async def assets(request: Request, name: str) -> HTTPResponse:
            return static_file("webchat", name)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                payload = json_object(request)
                sender = sender_field(payload)
                text = text_field(payload, "message")
                metadata = known_metadata(payload)
            except RequestRejected as rejected:
                return rejected.response()
            retry_after = self._limit.retry_after(request, self.name(), sender)
            if retry_after is not None:
                return rate_limited(retry_after, metadata.get("lang"))
            collector = WebchatOutput(sender)
            message = UserMessage(
                text, collector, conversation_id(self.name(), sender), input_channel=self.name(), metadata=metadata
            )
            return await run_turn(request, on_new_message, message, collector)

        refuse_other_methods(blueprint, "/webhook")

        # A screenshot: POST the image itself (image/png, image/jpeg…) to /image?sender=…&lang=…. Its text
        # goes through the same turn as a typed message; the page shows what was read in the person's bubble.
        @blueprint.route("/image", methods=["POST"], stream=True)
        async def receive_image(request: Request) -> HTTPResponse:
            try:
                sender = sender_field({"sender": request.args.get("sender")})
                lang = optional_lang({"lang": request.args.get("lang")})
                if content_type(request) not in IMAGE_TYPES:
                    raise RequestRejected(415, "unsupported_media_type", "Send a PNG, JPEG, WebP, BMP or GIF image.")
            except RequestRejected as rejected:
                return rejected.response()
            retry_after = self._limit.retry_after(request, self.name(), sender)
            if retry_after is not None:
                return rate_limited(retry_after, lang)
            try:
                read = await read_image(await streamed_body(request, MAX_IMAGE_BYTES))
            except RequestRejected as rejected:
                return rejected.response()
            metadata: Dict[str, Any] = {"display": read.text[:MAX_TEXT_CHARS], "source": IMAGE_SOURCE,
                                        "image_lines": len(read.lines)}
            if lang:
                metadata["lang"] = lang
            collector = WebchatOutput(sender)
            message = UserMessage(
                read.flowing, collector, conversation_id(self.name(), sender), input_channel=self.name(),
                metadata=metadata,
            )
            replies = await run_turn(request, on_new_message, message, collector)
            if replies.status != 200:
                return replies
            # What was read, for the person's own bubble, beside the replies.
            return response.json({"read": {**read.as_dict(), "text": read.text},
                                  "messages": json.loads(replies.body or b"[]")},
                                 headers=dict(replies.headers))

        @blueprint.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            try:
                sender = sender_field({"sender": request.args.get("sender")})
                after = after_param(request.args)
            except RequestRejected as rejected:
                return rejected.response()
            with watch_store_failures() as failures:
                tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation_id(self.name(), sender))
            if failures:
                # Rasa's fail-safe store would have answered with an empty history.
                return store_unavailable()
            events = list(tracker.events) if tracker else []
            # "waiting" or "with_staff" while the page should look for staff messages (it polls with ?after=).
            handoff = tracker.get_slot(HANDOFF_SLOT) if tracker else None
            return response.json({"sender": sender, "messages": history_messages(events, after), "handoff": handoff})

        return blueprint
