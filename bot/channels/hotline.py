"""The hotline staff door: a script-aid console, its stateless analysis API and the case statistics."""

from __future__ import annotations

import asyncio
import csv
import inspect
import io
from datetime import date, datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import structlog
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.analysis import analyze
from bot.channels.http import (
    RequestRejected,
    bearer_token_matches,
    error_response,
    json_object,
    optional_lang,
    refuse_other_methods,
    static_file,
    text_field,
)
from bot.knowledge import load_knowledge
from bot.language import resolve_language
from bot.settings import required_secret
from bot.storage.cases import CaseRepository, CaseStats

logger = structlog.get_logger()

STATS_DAYS = 30
# The periods statistics can ask for: the case records' dates, with room on both sides.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
UNAUTHORIZED = "A valid staff token is required (Authorization: Bearer <token>)."


def stats_window(args: Any) -> Tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, each optional: by default the last 30 days, today (UTC) included."""

    def day(name: str, default: date) -> date:
        value = args.get(name)
        if not value:
            return default
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise RequestRejected(422, "invalid_date", f"'{name}' must be a date as YYYY-MM-DD.")
        if not FIRST_DAY <= parsed <= LAST_DAY:
            # 0001-01-05 or 9999-12-31 used to overflow into a 500.
            raise RequestRejected(
                400, "date_out_of_range", f"'{name}' must be from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."
            )
        return parsed

    until = day("to", datetime.now(timezone.utc).date())
    since = day("from", max(FIRST_DAY, until - timedelta(days=STATS_DAYS - 1)))
    if since > until:
        raise RequestRejected(422, "invalid_range", "'from' is after 'to'.")
    return since, until


def stats_csv(stats: CaseStats) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["dimension", "value", "count"])
    writer.writerows(stats.rows())
    return out.getvalue()


class HotlineInput(InputChannel):
    """POST /webhooks/hotline/analyze, the console at /webhooks/hotline/, the statistics at .../stats."""

    @classmethod
    def name(cls) -> str:
        return "hotline"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(required_secret("HOTLINE_TOKEN", "the hotline API"), CaseRepository.from_environment())

    def __init__(self, token: str, cases: CaseRepository) -> None:
        self._token = token
        self._cases = cases

    async def _stats(self, request: Request) -> CaseStats:
        """The statistics a staff request asks for, or RequestRejected."""
        if not bearer_token_matches(request, self._token):
            raise RequestRejected(401, "unauthorized", UNAUTHORIZED)
        since, until = stats_window(request.args)
        try:
            # The query blocks: off the event loop, so chats go on meanwhile.
            return await asyncio.to_thread(self._cases.stats, since, until)
        except SQLAlchemyError:
            logger.exception("hotline.stats.failed")
            raise RequestRejected(503, "storage_unavailable", "The case database cannot be read; try again later.")

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
                return error_response(401, "unauthorized", UNAUTHORIZED)
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

        refuse_other_methods(blueprint, "/analyze")

        # strict_slashes: "/stats" (the JSON) and "/stats/" (the page) are different routes.
        @blueprint.route("/stats", methods=["GET"], strict_slashes=True)
        async def stats_json(request: Request) -> HTTPResponse:
            try:
                stats = await self._stats(request)
            except RequestRejected as rejected:
                return rejected.response()
            types = load_knowledge().types
            names = {t: dict(types[t].name) for t in stats.by_scam_type if t in types}
            return response.json({**stats.as_dict(), "scam_names": names})

        @blueprint.route("/stats.csv", methods=["GET"])
        async def stats_export(request: Request) -> HTTPResponse:
            try:
                stats = await self._stats(request)
            except RequestRejected as rejected:
                return rejected.response()
            filename = f"cases_{stats.since.isoformat()}_{stats.until.isoformat()}.csv"
            return response.text(
                stats_csv(stats), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )

        @blueprint.route("/stats/", methods=["GET"], strict_slashes=True)
        async def stats_page(request: Request) -> HTTPResponse:
            return static_file("stats", "stats.html")

        @blueprint.route("/stats/static/<name:path>", methods=["GET"])
        async def stats_assets(request: Request, name: str) -> HTTPResponse:
            return static_file("stats", name)

        return blueprint
