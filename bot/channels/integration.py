"""The integrations' doors: Rasa's REST webhook with clean 4xx errors, and a copy behind a token."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import (
    RequestRejected,
    bearer_token_matches,
    error_response,
    is_unicode,
    json_object,
    metadata_field,
    refuse_other_methods,
    sender_field,
    text_field,
)
from bot.settings import required_secret

# Rasa's SQL tracker store keeps sender ids in a 255-character column.
MAX_REST_SENDER_CHARS = 255


class CheckedRestInput(RestInput):
    """Rasa's REST contract at /webhooks/rest/webhook; bodies Rasa would answer with a 500 get a JSON 4xx."""

    @classmethod
    def name(cls) -> str:
        return "rest"

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
        """The JSON error for a message Rasa's handler must not see, or None."""
        try:
            payload = json_object(request)
            self.check_sender(payload)
            text_field(payload, "message")
            metadata_field(payload)
        except RequestRejected as rejected:
            return rejected.response()
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_request(request: Request) -> Optional[HTTPResponse]:
            return self.refusal(request) if request.method == "POST" else None

        refuse_other_methods(blueprint, "/webhook")
        return blueprint


class IntegrationInput(CheckedRestInput):
    """The same contract at /webhooks/integration/webhook, behind a shared-secret token."""

    @classmethod
    def name(cls) -> str:
        return "integration"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(required_secret("INTEGRATION_TOKEN", "the integration webhook"))

    def __init__(self, token: str) -> None:
        self._token = token

    def check_sender(self, payload: Dict[str, Any]) -> None:
        sender_field(payload)

    def refusal(self, request: Request) -> Optional[HTTPResponse]:
        if not bearer_token_matches(request, self._token):
            return error_response(401, "unauthorized", "A valid integration token is required.")
        return super().refusal(request)
