"""The integrations' door: our REST webhook (bot/channels/rest.py) behind a shared-secret token."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.channels.channel import InputChannel
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import bearer_token_matches, error_response, sender_field
from bot.channels.rest import RestWebhookInput
from bot.settings import required_secret


class IntegrationInput(RestWebhookInput):
    """The same contract at /webhooks/integration/webhook, behind a token, with our sender format."""

    @classmethod
    def name(cls) -> str:
        return "integration"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(required_secret("INTEGRATION_TOKEN", "the integration webhook"))

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def check_sender(self, payload: Dict[str, Any]) -> None:
        sender_field(payload)

    def refusal(self, request: Request) -> Optional[HTTPResponse]:
        if not bearer_token_matches(request, self._token):
            return error_response(401, "unauthorized", "A valid integration token is required.")
        return super().refusal(request)
