"""The action server: rasa-sdk's app on loopback, behind a shared secret.

rasa-sdk 3.6 has no authentication and binds 0.0.0.0, so anyone who reaches port 5055 could run
any action with a forged tracker (write a critical case, send an alert). This entry point runs the
same app (`rasa_sdk.endpoint.create_app`) with three differences:

- it listens on `--interface` (default 127.0.0.1), not on every interface;
- every call but `GET /health` needs `Authorization: Bearer $ACTION_SERVER_TOKEN` (Rasa sends it:
  `headers` of `action_endpoint` in endpoints*.yml), else 401;
- a body that is not a JSON object (wrong content type, bad encoding, not JSON, too large) gets a
  JSON 4xx before any action runs, and an action's failure a JSON 500 that does not echo the request.

Outside development (ANTIFRAUD_ENV) it refuses to start without ACTION_SERVER_TOKEN or with one
shorter than 16 characters.

    python -m bot.action_server --actions actions --port 5055 [--interface 127.0.0.1]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from typing import Any, List, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.alerts import alert_settings
from bot.channels.http import bearer_token_matches, error_response
from bot.settings import ConfigurationError, is_development, required_secret

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
MIN_TOKEN_CHARS = 16
DEFAULT_INTERFACE = "127.0.0.1"
# Rasa sends the whole conversation with every call: far more than a chat message.
MAX_BODY_BYTES = 16 * 1024 * 1024
# Longer than the 15 s for which Rasa's aiohttp client keeps an idle connection: with Sanic's 5 s the
# server could close a connection the client was just reusing ("Cannot write to closing transport").
KEEP_ALIVE_SECONDS = 30


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def action_server_token() -> str:
    """ACTION_SERVER_TOKEN; ConfigurationError outside development when it is missing or short."""
    token = required_secret(TOKEN_VARIABLE, "the action server")
    if len(token) < MIN_TOKEN_CHARS and not is_development():
        raise ConfigurationError(f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN_CHARS} characters.")
    return token


def _inflated(body: bytes) -> bytes:
    """A deflated body (Rasa's COMPRESS_ACTION_SERVER_REQUEST), at most MAX_BODY_BYTES once inflated."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error:
        raise BodyRefused(400, "invalid_encoding", "The body is not valid deflate data.")
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise BodyRefused(413, "body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return data


def check_action_call(request: Request) -> None:
    """BodyRefused unless the body is one JSON object, as Rasa sends it."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BodyRefused(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise BodyRefused(413, "body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    encoding = (request.headers.get("content-encoding") or "").strip().lower()
    if encoding == "deflate":
        body = _inflated(body)
    elif encoding not in ("", "identity"):
        raise BodyRefused(415, "unsupported_encoding", "Send the body uncompressed or deflated.")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BodyRefused(400, "invalid_encoding", "The body is not valid UTF-8.")
    except (json.JSONDecodeError, RecursionError):
        raise BodyRefused(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        raise BodyRefused(422, "invalid_body", "The body must be a JSON object.")


def protect(app: Sanic, token: str) -> Sanic:
    """The shared secret and the body checks in front of every route of rasa-sdk's app."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_SECONDS

    @app.middleware("request")
    async def authorize(request: Request) -> Optional[HTTPResponse]:
        if request.method == "GET" and request.path == "/health":
            return None
        if not bearer_token_matches(request, token):
            return error_response(401, "unauthorized", "A valid action server token is required.")
        if request.method == "POST":
            try:
                check_action_call(request)
            except BodyRefused as refused:
                return error_response(refused.status, refused.code, refused.message)
        return None

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        # rasa-sdk's own handler answers every error with a 500 that echoes the request body.
        if isinstance(exception, SanicException):
            status = int(exception.status_code or 500)
            return error_response(status, "request_failed", str(exception) if status < 500 else "Server error.")
        logger.error("action_server.failed: %s", type(exception).__name__, exc_info=exception)
        return error_response(500, "internal_error", "The action failed.")

    app.error_handler.add(Exception, failed)
    return app


def argument_parser() -> argparse.ArgumentParser:
    parser = create_argument_parser()
    parser.add_argument(
        "--interface", default=DEFAULT_INTERFACE,
        help=f"address to listen on (default {DEFAULT_INTERFACE}; 0.0.0.0 for every interface)",
    )
    return parser


def main(argv: Optional[List[str]] = None) -> None:
    args: Any = argument_parser().parse_args(argv)
    try:
        token = action_server_token()
        alert_settings()  # ALERT_WEBHOOK_*: checked once, here, not inside a chat
    except ConfigurationError as error:
        sys.exit(f"The action server cannot start: {error}")
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    app = protect(create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload), token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action server on %s:%s", args.interface, args.port)
    app.run(args.interface, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
