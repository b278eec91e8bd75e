"""Request checks and JSON errors shared by our HTTP channels.

Every refusal is a JSON body {"error": code, "message": text} with a 4xx status,
so callers never have to parse HTML error pages.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_CHARS = 5000
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
# Our pages load only their own scripts, styles and images, talk only to this server, are never framed,
# and send no Referer anywhere (a scam site must not learn that its victim used the assistant).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class RequestRejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> HTTPResponse:
        return error_response(self.status, self.code, self.message)


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


def json_object(request: Request) -> Dict[str, Any]:
    """The request body as a JSON object, or RequestRejected saying what is wrong."""
    if content_type(request) != "application/json":
        raise RequestRejected(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    if not body.strip():
        raise RequestRejected(400, "empty_body", "The body is empty.")
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "invalid_encoding", "The body is not valid UTF-8.")
    try:
        payload = json.loads(decoded)
    except (json.JSONDecodeError, RecursionError):
        raise RequestRejected(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        raise RequestRejected(422, "invalid_body", "The body must be a JSON object.")
    return payload


def after_param(args: Any) -> float:
    """?after=<timestamp in seconds>: only later events (0, all of them, when absent)."""
    try:
        after = float(args.get("after") or 0)
    except ValueError:
        after = math.nan
    if not math.isfinite(after):
        raise RequestRejected(422, "invalid_after", "'after' must be a timestamp (seconds).")
    return after


def text_field(payload: Dict[str, Any], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str):
        raise RequestRejected(422, "invalid_text", f"'{field}' must be a string.")
    if not value.strip():
        raise RequestRejected(422, "empty_text", f"'{field}' is empty.")
    if len(value) > MAX_TEXT_CHARS:
        raise RequestRejected(
            413, "text_too_long", f"'{field}' is longer than {MAX_TEXT_CHARS} characters."
        )
    if "\x00" in value:
        raise RequestRejected(422, "invalid_text", f"'{field}' contains a NUL character.")
    if not is_unicode(value):
        raise RequestRejected(422, "invalid_text", f"'{field}' contains an unpaired surrogate (\\ud800-\\udfff).")
    return value


def is_unicode(value: str) -> bool:
    """False for JSON's escaped lone surrogates ("\\ud800"): the NLU and storage cannot encode them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def sender_field(payload: Dict[str, Any]) -> str:
    value = payload.get("sender")
    if not isinstance(value, str) or not SENDER_PATTERN.fullmatch(value):
        raise RequestRejected(422, "invalid_sender", "'sender' must be 1-64 letters, digits, '-' or '_'.")
    return value


def metadata_field(payload: Dict[str, Any]) -> Dict[str, Any]:
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise RequestRejected(422, "invalid_metadata", "'metadata' must be an object.")
    return metadata


def known_metadata(payload: Dict[str, Any]) -> Dict[str, str]:
    """The metadata a turn keeps: the page language ("zh"/"en") and the text the page showed for the
    message (`display`, at most MAX_TEXT_CHARS). Any other key, type or longer value is dropped, so
    nothing else reaches the stored conversation, its redaction or the actions."""
    metadata = metadata_field(payload)
    kept: Dict[str, str] = {}
    if metadata.get("lang") in ("zh", "en"):
        kept["lang"] = metadata["lang"]
    display = metadata.get("display")
    if isinstance(display, str) and display.strip() and len(display) <= MAX_TEXT_CHARS and is_unicode(display):
        kept["display"] = display
    return kept


def content_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def streamed_body(request: Request, limit: int) -> bytes:
    """The body of a route declared with stream=True (Sanic lifts the server's limit for it), refused
    with a JSON 413 as soon as it is declared or found larger than `limit`."""
    declared = (request.headers.get("content-length") or "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, "body_too_large", f"The body is larger than {limit} bytes.")
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()  # type: ignore[union-attr]
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise RequestRejected(413, "body_too_large", f"The body is larger than {limit} bytes.")
        chunks.append(chunk)


def limit_request_size(blueprint: Blueprint) -> None:
    """Sanic refuses a body over MAX_BODY_BYTES itself, from its Content-Length or while a chunked
    body arrives, before buffering it (Sanic's default limit, REQUEST_MAX_SIZE, is 100 MB), with
    the same JSON 413 as json_object. The limit is the whole server's, Rasa's API included."""

    @blueprint.listener("before_server_start")
    async def set_limit(app: Any, _: Any) -> None:
        if app.config.REQUEST_MAX_SIZE > MAX_BODY_BYTES:
            app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
        app.error_handler.add(PayloadTooLarge, _body_too_large)


def _too_large() -> RequestRejected:
    return RequestRejected(413, "body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")


def _body_too_large(request: Request, exception: Exception) -> HTTPResponse:
    return _too_large().response()


def refuse_other_methods(blueprint: Blueprint, uri: str) -> None:
    """Other methods on a POST-only endpoint get a JSON 405, not Sanic's HTML page."""

    async def wrong_method(request: Request) -> HTTPResponse:
        return response.json(
            {"error": "method_not_allowed", "message": "Use POST."}, status=405, headers={"Allow": "POST"}
        )

    blueprint.add_route(
        wrong_method, uri, methods=["GET", "PUT", "PATCH", "DELETE"], name=f"{uri.strip('/')}_wrong_method"
    )


def bearer_token_matches(request: Request, expected: str) -> bool:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def static_file(folder: str, name: str) -> HTTPResponse:
    """A file of bot/static/<folder>, refusing anything outside it."""
    root = (STATIC_ROOT / folder).resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file() or path.suffix not in _CONTENT_TYPES:
        return error_response(404, "not_found", "No such file.")
    return response.raw(
        path.read_bytes(), content_type=_CONTENT_TYPES[path.suffix],
        headers={"Cache-Control": "no-cache", **PAGE_HEADERS},
    )


def optional_lang(payload: Dict[str, Any]) -> Optional[str]:
    lang = payload.get("lang")
    if lang is None or lang == "":
        return None
    if lang not in ("zh", "en"):
        raise RequestRejected(422, "invalid_lang", "'lang' must be \"zh\" or \"en\".")
    return lang
