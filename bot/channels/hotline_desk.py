"""The hotline console's desk: the handoff queue, staff messages in a person's chat, case codes, feedback.

Routes on the hotline blueprint, all behind the staff token. A console names itself with a random
`console` id (the page keeps one per tab): the one that took a chat is the one that writes in it and
hands it back. The queue lives in the case database and the conversation in the tracker store, so a
chat taken on one replica is answered and handed back from any other.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Coroutine, Dict

import structlog
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import handoff
from bot.case_codes import codes_in
from bot.channels.http import RequestRejected, after_param, json_object, refuse_other_methods, text_field
from bot.channels.webchat import history_messages
from bot.knowledge import load_knowledge
from bot.storage.cases import CaseRepository
from bot.storage.feedback import NOT_A_SCAM, STAFF, FeedbackRepository, NewFeedback
from bot.storage.handoffs import HandoffRepository

logger = structlog.get_logger()

CONSOLE_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
Stored = Callable[..., Awaitable[Any]]


def console_of(payload: Dict[str, Any]) -> str:
    console = payload.get("console")
    if not isinstance(console, str) or not CONSOLE_PATTERN.fullmatch(console):
        raise RequestRejected(422, "invalid_console", "'console' must be 8 to 64 letters, digits, '-' or '_'.")
    return console


def scam_type_field(payload: Dict[str, Any], field: str, required: bool) -> Any:
    value = payload.get(field)
    if value is None and not required:
        return None
    if value != NOT_A_SCAM and value not in load_knowledge().types:
        raise RequestRejected(422, "invalid_scam_type", f"'{field}' must be a scam type or \"{NOT_A_SCAM}\".")
    return value


def scam_names(*items: Any) -> Dict[str, Dict[str, str]]:
    types = load_knowledge().types
    return {t: dict(types[t].name) for t in {i.get("scam_type") for i in items} if t in types}


def add_desk_routes(
    blueprint: Blueprint, staff_only: Callable[[Request], None], stored: Stored,
    cases: CaseRepository, handoffs: HandoffRepository, feedback: FeedbackRepository,
) -> None:
    async def held(handoff_id: int, console: str) -> str:
        """The conversation of a handoff this console holds, or RequestRejected."""
        found = await stored(handoffs.get, handoff_id)
        if found is None:
            raise RequestRejected(404, "no_such_handoff", "There is no such handoff.")
        if found["status"] != "taken" or found["console_id"] != console:
            raise RequestRejected(409, "not_yours", "This console does not hold this chat.")
        return str(await stored(handoffs.conversation_of, handoff_id))

    async def in_conversation(action: Awaitable[Any]) -> Any:
        try:
            return await action
        except handoff.ConversationMissing:
            raise RequestRejected(404, "no_such_conversation", "The conversation is no longer stored.")
        except handoff.NotWithStaff:
            raise RequestRejected(409, "not_with_staff", "The chat is not held by staff.")
        except handoff.StoreFailed:
            raise RequestRejected(503, "store_unavailable", "The conversation store is unavailable; try again.")

    def answered(route: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Coroutine[Any, Any, HTTPResponse]]:
        async def wrapped(request: Request, **kwargs: Any) -> HTTPResponse:
            try:
                staff_only(request)
                return await route(request, **kwargs)
            except RequestRejected as rejected:
                return rejected.response()
        wrapped.__name__ = route.__name__
        return wrapped

    @answered
    async def duty(request: Request) -> HTTPResponse:
        """A heartbeat while the console is on duty (every 20 s); {"on": false} goes off duty."""
        payload = json_object(request)
        console = console_of(payload)
        if payload.get("on") is False:
            await stored(handoffs.off_duty, console)
            return response.json({"on_duty": await stored(handoffs.on_duty)})
        return response.json({"on_duty": await stored(handoffs.heartbeat, console)})

    @answered
    async def queue(request: Request) -> HTTPResponse:
        listed = await stored(handoffs.queue)
        on_duty = await stored(handoffs.on_duty)
        return response.json({**listed, "on_duty": on_duty,
                              "scam_names": scam_names(*listed["waiting"], *listed["taken"])})

    @answered
    async def take(request: Request, handoff_id: int) -> HTTPResponse:
        console = console_of(json_object(request))
        if not await stored(handoffs.take, handoff_id, console):
            found = await stored(handoffs.get, handoff_id)
            if found is None:
                raise RequestRejected(404, "no_such_handoff", "There is no such handoff.")
            raise RequestRejected(409, "already_taken", "Another console took this chat, or it was closed.")
        conversation = str(await stored(handoffs.conversation_of, handoff_id))
        try:
            await in_conversation(handoff.take(request.app.ctx.agent, conversation))
        except RequestRejected:
            await stored(handoffs.reopen, handoff_id)  # back in the queue: the chat was not paused
            raise
        logger.info("handoff.taken", handoff_id=handoff_id)
        return response.json(await stored(handoffs.get, handoff_id))

    @answered
    async def messages(request: Request, handoff_id: int) -> HTTPResponse:
        console = console_of({"console": request.args.get("console")})
        after = after_param(request.args)
        conversation = await held(handoff_id, console)
        tracker = await in_conversation(handoff.read_messages(request.app.ctx.agent, conversation))
        return response.json({"handoff": await stored(handoffs.get, handoff_id),
                              "messages": history_messages(list(tracker.events), after)})

    @answered
    async def write(request: Request, handoff_id: int) -> HTTPResponse:
        payload = json_object(request)
        conversation = await held(handoff_id, console_of(payload))
        text = text_field(payload, "text")[:handoff.MAX_STAFF_MESSAGE_CHARS]
        await in_conversation(handoff.send_staff_message(request.app.ctx.agent, conversation, text))
        return response.json({"sent": True}, status=201)

    @answered
    async def release(request: Request, handoff_id: int) -> HTTPResponse:
        console = console_of(json_object(request))
        conversation = await held(handoff_id, console)
        await in_conversation(handoff.hand_back(request.app.ctx.agent, conversation))
        await stored(handoffs.close, handoff_id, console)
        logger.info("handoff.handed_back", handoff_id=handoff_id)
        return response.json(await stored(handoffs.get, handoff_id))

    @answered
    async def find_case(request: Request, code: str) -> HTTPResponse:
        found = codes_in(code)
        case = await stored(cases.find, found[0]) if found else None
        if case is None:
            raise RequestRejected(404, "no_such_case", "No case has this code.")
        case.pop("conversation_id")
        return response.json({**case, "scam_names": scam_names(case)})

    @answered
    async def add_feedback(request: Request) -> HTTPResponse:
        payload = json_object(request)
        text = text_field(payload, "text")
        comment = payload.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise RequestRejected(422, "invalid_text", "'comment' must be a string.")
        code = payload.get("case_code")
        codes = codes_in(code) if isinstance(code, str) else []
        if code is not None and not codes:
            raise RequestRejected(422, "invalid_case_code", "'case_code' is not a case code.")
        stored_id = await stored(feedback.add, NewFeedback(
            source=STAFF, judged_type=scam_type_field(payload, "judged_type", True),
            right_type=scam_type_field(payload, "right_type", False), text=text, comment=comment or None,
            channel="hotline", case_code=codes[0] if codes else None,
        ))
        logger.info("hotline.feedback", feedback_id=stored_id)
        return response.json({"id": stored_id}, status=201)

    blueprint.add_route(duty, "/handoffs/duty", methods=["POST"])
    blueprint.add_route(queue, "/handoffs", methods=["GET"])
    blueprint.add_route(take, "/handoffs/<handoff_id:int>/take", methods=["POST"])
    blueprint.add_route(messages, "/handoffs/<handoff_id:int>/messages", methods=["GET"])
    blueprint.add_route(write, "/handoffs/<handoff_id:int>/messages", methods=["POST"], name="write")
    blueprint.add_route(release, "/handoffs/<handoff_id:int>/release", methods=["POST"])
    blueprint.add_route(find_case, "/cases/<code:str>", methods=["GET"])
    blueprint.add_route(add_feedback, "/feedback", methods=["POST"])
    for uri in ("/handoffs/duty", "/feedback"):
        refuse_other_methods(blueprint, uri)

