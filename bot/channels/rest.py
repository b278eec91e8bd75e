"""Rasa's REST webhook (/webhooks/rest/webhook) with clean 4xx errors and visible failures.

Bodies Rasa's own handler would answer with a 500 or a silent `200 []` get a JSON 4xx;
a turn without a reply gets the fallback message, a store failure a 503 JSON error
(bot/channels/turns.py). The conversation Rasa keeps is the door's keyed hash of `sender`
(bot/senders.py); replies still name the client's `sender`. REST_WEBHOOK_ENABLED=false closes
this anonymous door (404 `door_closed`); the integration door stays.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import (
    RequestRejected,
    error_response,
    is_unicode,
    json_object,
    known_metadata,
    limit_request_size,
    metadata_field,
    refuse_other_methods,
    text_field,
)
from bot.channels.ratelimit import rate_limited, shared_rate_limits
from bot.channels.turns import run_turn
from bot.senders import conversation_id, sender_id_key
from bot.settings import ConfigurationError

# Rasa's SQL tracker store keeps sender ids in a 255-character column.
MAX_REST_SENDER_CHARS = 255
ENABLED_VARIABLE = "REST_WEBHOOK_ENABLED"
_SWITCH = {"": True, "1": True, "true": True, "yes": True, "on": True,
           "0": False, "false": False, "no": False, "off": False}


def rest_door_enabled() -> bool:
    """REST_WEBHOOK_ENABLED (default true); ConfigurationError for anything but true/false."""
    raw = (os.environ.get(ENABLED_VARIABLE) or "").strip().lower()
    if raw not in _SWITCH:
        raise ConfigurationError(f"{ENABLED_VARIABLE} must be true or false, got {raw!r}.")
    return _SWITCH[raw]


class ClientCollector(CollectingOutputChannel):
    """Replies addressed to the `sender` the client sent, not to the stored conversation id."""

    def __init__(self, client_sender: str) -> None:
        super().__init__()
        self.client_sender = client_sender

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        await super()._persist_message({**message, "recipient_id": self.client_sender})


class RestWebhookInput(RestInput):
    """Rasa's REST contract, request and reply alike; only failures differ. Streaming
    (`?stream=true`) is not offered."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(enabled=rest_door_enabled())

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled

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

    def _extract_input_channel(self, req: Request) -> str:
        """This door's name. Rasa's REST input takes `input_channel` from the body: a client could
        set any JSON there (a dict made the case write fail and the case go missing from statistics)."""
        return self.name()

    def get_metadata(self, request: Request) -> Dict[str, Any]:
        """Only the metadata keys a turn uses, within their caps (bot/channels/http.py)."""
        return known_metadata(request.json)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", inspect.getmodule(self).__name__)  # type: ignore[union-attr]
        sender_id_key()  # fails at start-up, not at the first message
        limits = shared_rate_limits()  # likewise
        limit_request_size(blueprint)

        @blueprint.middleware("request")
        async def check_request(request: Request) -> Optional[HTTPResponse]:
            if not self._enabled:
                return error_response(404, "door_closed", f"This webhook is switched off ({ENABLED_VARIABLE}).")
            return self.refusal(request) if request.method == "POST" else None

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            metadata = self.get_metadata(request)
            retry_after = limits.retry_after(request, self.name())  # per client address, not per sender
            if retry_after is not None:
                return rate_limited(retry_after, metadata.get("lang"))
            sender = str(await self._extract_sender(request))
            collector = ClientCollector(sender)
            message = UserMessage(
                self._extract_message(request), collector, conversation_id(self.name(), sender),
                input_channel=self._extract_input_channel(request), metadata=metadata,
            )
            return await run_turn(request, on_new_message, message, collector)

        refuse_other_methods(blueprint, "/webhook")
        return blueprint
