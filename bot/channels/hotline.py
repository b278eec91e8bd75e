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

from bot.analysis import add_reported, analyze
from bot.channels.hotline_desk import add_desk_routes
from bot.channels.http import (
    MAX_BODY_BYTES,
    RequestRejected,
    bearer_token_matches,
    content_type,
    error_response,
    json_object,
    optional_lang,
    refuse_other_methods,
    static_file,
    streamed_body,
    text_field,
)
from bot.knowledge import load_knowledge
from bot.language import resolve_language
from bot.ocr import IMAGE_TYPES, MAX_IMAGE_BYTES, ReadText, read_image
from bot.reported import Found as FoundIdentifier
from bot.reported import (
    InvalidIdentifier,
    check_reported,
    fingerprint,
    hash_key,
    identifiers_in,
    is_official,
    lookup_hashes,
    normalize,
)
from bot.reported_csv import ImportRejected, export_csv, plan_import
from bot.settings import required_secret
from bot.storage.cases import CaseRepository, CaseStats
from bot.storage.feedback import FeedbackRepository
from bot.storage.handoffs import HandoffRepository
from bot.storage.reports import STAFF, NewReport, ReportRepository, count_for

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
        hash_key()  # fails at start-up, not at the first lookup
        return cls(required_secret("HOTLINE_TOKEN", "the hotline API"), CaseRepository.from_environment(),
                   ReportRepository.from_environment(), HandoffRepository.from_environment(),
                   FeedbackRepository.from_environment())

    def __init__(self, token: str, cases: CaseRepository, reports: ReportRepository, handoffs: HandoffRepository,
                 feedback: FeedbackRepository) -> None:
        self._token = token
        self._cases = cases
        self._reports = reports
        self._handoffs = handoffs
        self._feedback = feedback

    def _staff_only(self, request: Request) -> None:
        if not bearer_token_matches(request, self._token):
            raise RequestRejected(401, "unauthorized", UNAUTHORIZED)

    async def _stored(self, call: Callable[..., Any], *args: Any) -> Any:
        """A blocking store call off the event loop (chats go on meanwhile); a database failure is a 503."""
        try:
            return await asyncio.to_thread(call, *args)
        except SQLAlchemyError:
            logger.exception("hotline.storage_failed", call=getattr(call, "__name__", "?"))
            raise RequestRejected(503, "storage_unavailable", "The case database cannot be read; try again later.")

    def _identifier(self, request: Request) -> FoundIdentifier:
        """The {kind, value} a staff request names, normalised; an official line or site is refused."""
        self._staff_only(request)
        payload = json_object(request)
        value = payload.get("value")
        if not isinstance(payload.get("kind"), str) or not isinstance(value, str):
            raise RequestRejected(422, "invalid_identifier", "'kind' and 'value' must be strings.")
        try:
            kind, normalized = normalize(payload["kind"], value)
        except InvalidIdentifier as invalid:
            raise RequestRejected(422, "invalid_identifier", str(invalid))
        if is_official(kind, normalized):
            raise RequestRejected(
                422, "official_identifier", "This is an official number or site (knowledge/identifiers.yml)."
            )
        return FoundIdentifier(kind, value, 0, len(value), normalized)

    async def _report_state(self, item: FoundIdentifier) -> Dict[str, Any]:
        keys = [(item.kind, h) for h in lookup_hashes(item)]
        count = count_for(await self._stored(self._reports.counts, keys), keys)
        state: Dict[str, Any] = {"kind": item.kind, "normalized": item.normalized, "reported": count is not None,
                                 "reports": 0}
        return {**state, **count.as_dict()} if count else state

    async def _stats(self, request: Request) -> CaseStats:
        """The statistics a staff request asks for, or RequestRejected."""
        self._staff_only(request)
        since, until = stats_window(request.args)
        stats: CaseStats = await self._stored(self._cases.stats, since, until)
        return stats

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("hotline", inspect.getmodule(self).__name__)  # type: ignore[union-attr]

        @blueprint.route("/", methods=["GET"])
        async def console(request: Request) -> HTTPResponse:
            return static_file("console", "index.html")

        @blueprint.route("/static/<name:path>", methods=["GET"])
        async def assets(request: Request, name: str) -> HTTPResponse:
            return static_file("console", name)

        # stream=True: a screenshot may be larger than the server's 64 KB limit; JSON keeps that limit.
        @blueprint.route("/analyze", methods=["POST"], stream=True)
        async def analyze_text(request: Request) -> HTTPResponse:
            if not bearer_token_matches(request, self._token):
                return error_response(401, "unauthorized", UNAUTHORIZED)
            read: Optional[ReadText] = None
            try:
                if content_type(request) in IMAGE_TYPES:
                    read = await read_image(await streamed_body(request, MAX_IMAGE_BYTES))
                    text = read.flowing
                    lang = resolve_language(text, optional_lang({"lang": request.args.get("lang")}))
                else:
                    request.body = await streamed_body(request, MAX_BODY_BYTES)
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
            matches = await asyncio.to_thread(lambda: check_reported(identifiers_in(text), self._reports, self.name()))
            add_reported(result, [m.as_dict(lang) for m in matches])
            logger.info(
                "hotline.analyze", scam_type=result.scam_type, risk_level=result.risk_level,
                chars=len(text), image=read is not None,
            )
            body = result.as_dict()
            if read is not None:
                body["ocr"] = read.as_dict()
            return response.json(body)

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
            try:
                reported = await self._stored(self._reports.stats, stats.since, stats.until)
                feedback = await self._stored(self._feedback.stats, stats.since, stats.until)
            except RequestRejected as rejected:
                return rejected.response()
            return response.json({**stats.as_dict(), "scam_names": names, "reported": reported,
                                  "feedback": feedback})

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

        @blueprint.route("/feedback.csv", methods=["GET"])
        async def feedback_export(request: Request) -> HTTPResponse:
            """Verdicts called wrong (redacted texts), for the team to write new examples from."""
            try:
                self._staff_only(request)
                since, until = stats_window(request.args)
                rows = await self._stored(self._feedback.export_csv, since, until)
            except RequestRejected as rejected:
                return rejected.response()
            filename = f"feedback_{since.isoformat()}_{until.isoformat()}.csv"
            return response.text(rows, content_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{filename}"'})

        add_desk_routes(blueprint, self._staff_only, self._stored, self._cases, self._handoffs, self._feedback)

        @blueprint.route("/reported", methods=["POST"])
        async def report_identifier(request: Request) -> HTTPResponse:
            """Staff add one report of a number, domain or account id."""
            try:
                item = self._identifier(request)
                await self._stored(self._reports.add, [NewReport(item.kind, fingerprint(item.kind, item.normalized),
                                                                 STAFF)])
                state = await self._report_state(item)
            except RequestRejected as rejected:
                return rejected.response()
            logger.info("hotline.reported.added", kind=item.kind)
            return response.json(state, status=201)

        @blueprint.route("/reported/lookup", methods=["POST"])
        async def lookup_identifier(request: Request) -> HTTPResponse:
            """How often one identifier was reported (POST: a number never goes into a URL or an access log)."""
            try:
                return response.json(await self._report_state(self._identifier(request)))
            except RequestRejected as rejected:
                return rejected.response()

        @blueprint.route("/reported/withdraw", methods=["POST"])
        async def withdraw_identifier(request: Request) -> HTTPResponse:
            """Every report of one identifier removed: it was entered by mistake."""
            try:
                item = self._identifier(request)
                removed = await self._stored(self._reports.withdraw, item.kind,
                                             fingerprint(item.kind, item.normalized))
            except RequestRejected as rejected:
                return rejected.response()
            logger.info("hotline.reported.withdrawn", kind=item.kind, reports=removed)
            return response.json({"kind": item.kind, "withdrawn": removed})

        for uri in ("/reported", "/reported/lookup", "/reported/withdraw"):
            refuse_other_methods(blueprint, uri)

        @blueprint.route("/reported.csv", methods=["POST"])
        async def import_reported(request: Request) -> HTTPResponse:
            try:
                self._staff_only(request)
                plan = plan_import(request.body or b"")
                added = await self._stored(self._reports.add, plan.reports)
            except ImportRejected as rejected:
                return response.json({
                    "error": "invalid_csv",
                    "message": "Nothing was imported: correct these rows and send the file again.",
                    "rows": [{"line": line, "message": message} for line, message in rejected.errors],
                }, status=422)
            except RequestRejected as rejected:
                return rejected.response()
            logger.info("hotline.reported.imported", rows=plan.rows, added=added)
            return response.json({"rows": plan.rows, "added": added, "already_there": len(plan.reports) - added})

        @blueprint.route("/reported.csv", methods=["GET"])
        async def export_reported(request: Request) -> HTTPResponse:
            try:
                self._staff_only(request)
                rows = await self._stored(self._reports.export_rows)
            except RequestRejected as rejected:
                return rejected.response()
            return response.text(
                export_csv(rows), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="reported_identifiers.csv"'},
            )

        @blueprint.route("/stats/", methods=["GET"], strict_slashes=True)
        async def stats_page(request: Request) -> HTTPResponse:
            return static_file("stats", "stats.html")

        @blueprint.route("/stats/static/<name:path>", methods=["GET"])
        async def stats_assets(request: Request, name: str) -> HTTPResponse:
            return static_file("stats", name)

        return blueprint
