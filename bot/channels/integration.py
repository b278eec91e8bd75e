"""The integrations' door: our REST webhook (bot/channels/rest.py) behind a shared-secret token."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import (
    RequestRejected,
    bearer_token_matches,
    error_response,
    json_object,
    text_field,
)
from bot.channels.rest import RestWebhookInput
from bot.settings import required_secret


class IntegrationInput(RestWebhookInput):
    """Rasa's REST contract at /webhooks/integration/webhook, with a token and clean 4xx errors."""

    @classmethod
    def name(cls) -> str:
        return "integration"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(required_secret("INTEGRATION_TOKEN", "the integration webhook"))

    def __init__(self, token: str) -> None:
        self._token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_request(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            if not bearer_token_matches(request, self._token):
                return error_response(401, "unauthorized", "A valid integration token is required.")
            try:
                payload = json_object(request)
                text_field(payload, "message")
            except RequestRejected as rejected:
                return rejected.response()
            return None

        return blueprint
