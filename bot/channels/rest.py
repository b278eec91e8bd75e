"""Rasa's REST webhook (/webhooks/rest/webhook) with clean 4xx errors and visible failures.

Bodies Rasa's own handler would answer with a 500 or a silent `200 []` get a JSON 4xx;
a turn without a reply gets the fallback message, a store failure a 503 JSON error
(bot/channels/turns.py).
"""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import (
    RequestRejected,
    is_unicode,
    json_object,
    metadata_field,
    refuse_other_methods,
    text_field,
)
from bot.channels.turns import run_turn

# Rasa's SQL tracker store keeps sender ids in a 255-character column.
MAX_REST_SENDER_CHARS = 255


class RestWebhookInput(RestInput):
    """Rasa's REST contract, request and reply alike; only failures differ. Streaming
    (`?stream=true`) is not offered."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def check_sender(self, payload: Dict[str, Any]) -> None:
        sender = payload.get("sender")
        if not isinstance(sender, str) or not 0 < len(sender) <= MAX_REST_SENDER_CHARS or not is_unicode(sender):
            raise RequestRejected(
                422, "invalid_sender", f"'sender' must be a string of 1-{MAX_REST_SENDER_CHARS} characters."
            )

    def refusal(self, request: Request) -> Optional[HTTPResponse]:
        """The JSON error for a message the turn must not see, or None."""
        try:
            payload = json_object(request)
            self.check_sender(payload)
            text_field(payload, "message")
            metadata_field(payload)
        except RequestRejected as rejected:
            return rejected.response()
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", inspect.getmodule(self).__name__)  # type: ignore[union-attr]

        @blueprint.middleware("request")
        async def check_request(request: Request) -> Optional[HTTPResponse]:
            return self.refusal(request) if request.method == "POST" else None

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            collector = CollectingOutputChannel()
            message = UserMessage(
                self._extract_message(request), collector, await self._extract_sender(request),
                input_channel=self._extract_input_channel(request), metadata=self.get_metadata(request),
            )
            return await run_turn(request, on_new_message, message, collector)

        refuse_other_methods(blueprint, "/webhook")
        return blueprint
