"""The hotline staff door: a script-aid console and its stateless analysis API."""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Dict, Optional

import structlog
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.analysis import analyze
from bot.channels.http import (
    RequestRejected,
    bearer_token_matches,
    error_response,
    json_object,
    optional_lang,
    static_file,
    text_field,
)
from bot.language import resolve_language
from bot.settings import required_secret

logger = structlog.get_logger()


class HotlineInput(InputChannel):
    """POST /webhooks/hotline/analyze and the console at /webhooks/hotline/."""

    @classmethod
    def name(cls) -> str:
        return "hotline"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(required_secret("HOTLINE_TOKEN", "the hotline API"))

    def __init__(self, token: str) -> None:
        self._token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("hotline", inspect.getmodule(self).__name__)  # type: ignore[union-attr]

        @blueprint.route("/", methods=["GET"])
        async def console(request: Request) -> HTTPResponse:
            return static_file("console", "index.html")

        @blueprint.route("/static/<name:path>", methods=["GET"])
        async def assets(request: Request, name: str) -> HTTPResponse:
            return static_file("console", name)

        @blueprint.route("/analyze", methods=["POST"])
        async def analyze_text(request: Request) -> HTTPResponse:
            if not bearer_token_matches(request, self._token):
                return error_response(
                    401, "unauthorized", "A valid staff token is required (Authorization: Bearer <token>)."
                )
            try:
                payload = json_object(request)
                text = text_field(payload, "text")
                lang = resolve_language(text, optional_lang(payload))
            except RequestRejected as rejected:
                return rejected.response()
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return error_response(503, "not_ready", "The model is still loading; try again shortly.")
            parse = await agent.parse_message(text)
            result = analyze(parse, text, lang)
            logger.info(
                "hotline.analyze", scam_type=result.scam_type, risk_level=result.risk_level,
                chars=len(text),
            )
            return response.json(result.as_dict())

        return blueprint
