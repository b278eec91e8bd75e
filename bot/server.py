"""The Rasa server (`rasa run`), with Rasa's HTTP API off unless asked for and no secret in its arguments.

`rasa run --enable-api --auth-token …` would put the API's admin token (read or rewrite any
conversation, replace the model) on the command line, where `ps` shows it to every user of the
machine. Here the API is enabled only when RASA_API_TOKEN is set, with that token, read from the
environment; it must differ from the staff, integration and action server tokens. Every other
argument is `rasa run`'s:

    python -m bot.server --model models/assistant.tar.gz --interface 127.0.0.1 --port 5005 \\
        --credentials credentials.yml --endpoints endpoints.yml
"""

from __future__ import annotations

import functools
import gc
import sys
from typing import Any, Dict, List, Optional

from bot.settings import ConfigurationError, is_development, optional_secret

API_TOKEN_VARIABLE = "RASA_API_TOKEN"
MIN_TOKEN_CHARS = 16
# The API's switches and secrets come from the environment only (argparse also takes abbreviations).
REFUSED_OPTIONS = ("--enable-a", "--auth", "--jwt")
OTHER_SECRETS = ("HOTLINE_TOKEN", "INTEGRATION_TOKEN", "ACTION_SERVER_TOKEN", "SENDER_ID_KEY", "REPORT_HASH_KEY")


def api_token() -> Optional[str]:
    """RASA_API_TOKEN, or None (the API stays off); ConfigurationError when it is unfit."""
    token = optional_secret(API_TOKEN_VARIABLE)
    if token is None:
        return None
    if len(token) < MIN_TOKEN_CHARS and not is_development():
        raise ConfigurationError(f"{API_TOKEN_VARIABLE} must be at least {MIN_TOKEN_CHARS} characters.")
    for other in OTHER_SECRETS:
        if optional_secret(other) == token:
            raise ConfigurationError(f"{API_TOKEN_VARIABLE} must differ from {other}.")
    return token


def serve_with_api_from_environment(token: Optional[str]) -> None:
    """Rasa's serve_application, with the API switched and keyed from `token` whatever the arguments say,
    and what start-up loaded frozen out of the garbage collector once the server runs."""
    import rasa.core.run

    original = rasa.core.run.serve_application

    @functools.wraps(original)
    def serve(*args: Any, **kwargs: Any) -> None:
        kwargs.update(enable_api=token is not None, auth_token=token, jwt_secret=None, jwt_private_key=None)
        kwargs["server_listeners"] = [*(kwargs.get("server_listeners") or []),
                                      (freeze_what_start_up_loaded, "after_server_start")]
        original(*args, **kwargs)

    rasa.core.run.serve_application = serve


async def freeze_what_start_up_loaded(app: Any, loop: Any) -> None:
    """Moves what start-up built (the model, Rasa, TensorFlow) out of the collector's generations: each
    full collection walked all of it, 0.3 s of CPU landing on whichever request triggered it (measured
    3 December 2026; gc.collect() after Agent.load). Sanic runs after_server_start listeners after every
    before_server_start one, Rasa's model loading included."""
    gc.collect()
    gc.freeze()


def check_action_responses_against_a_checked_schema() -> None:
    """Rasa checks every action server response with `jsonschema.validate`, which first checks Rasa's
    own constant schema against the 2020-12 meta-schema: about 50 ms of CPU per custom action call,
    two or three calls a turn. Here the schema is checked once; a response that fails still goes to
    Rasa's own check, which raises its error."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    checker = validator_for(schema)
    checker.check_schema(schema)
    validator = checker(schema)
    rasa_check = RemoteAction._validate_action_result

    @functools.wraps(rasa_check)
    def check(action: RemoteAction, result: Dict[str, Any]) -> bool:
        return validator.is_valid(result) or rasa_check(action, result)

    RemoteAction._validate_action_result = check


def main(argv: Optional[List[str]] = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    refused = [a for a in arguments if a.startswith(REFUSED_OPTIONS)]
    if refused:
        sys.exit(
            f"{refused[0].split('=')[0]} is not taken here: the API is on when {API_TOKEN_VARIABLE} "
            "is set in the environment, with that token."
        )
    try:
        token = api_token()
    except ConfigurationError as error:
        sys.exit(f"The Rasa server cannot start: {error}")
    serve_with_api_from_environment(token)
    check_action_responses_against_a_checked_schema()
    import rasa.__main__

    # In this process only: /proc/<pid>/cmdline (what `ps` shows) keeps the arguments it was started with.
    sys.argv = ["rasa", "run", *arguments, *(["--enable-api"] if token else [])]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
