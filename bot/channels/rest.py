"""Rasa's REST webhook (/webhooks/rest/webhook) with visible failures (bot/channels/turns.py)."""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.turns import run_turn


class RestWebhookInput(RestInput):
    """Rasa's REST contract, request and reply alike; only failures differ: a turn without a
    reply gets the fallback message, a store failure a 503 JSON error instead of `200 []`.
    Streaming (`?stream=true`) is not offered."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", inspect.getmodule(self).__name__)  # type: ignore[union-attr]

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

        return blueprint
