"""The Rasa server checks action server responses against Rasa's schema, checked once (bot/server.py)."""

from __future__ import annotations

from typing import Any, List

import pytest
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.server import check_action_responses_against_a_checked_schema

VALID = {
    "events": [{"event": "slot", "name": "scam_type", "value": "romance"}],
    "responses": [{"response": "utter_warning", "buttons": [{"title": "报警", "payload": "/report"}]}],
}
INVALID = [{"events": "not a list"}, {"events": [{"name": "an event without its kind"}]}]


@pytest.fixture
def schema_checks(monkeypatch: pytest.MonkeyPatch) -> List[Any]:
    """Rasa's check restored after the test; every check of the schema itself recorded."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    checker = validator_for(RemoteAction.action_response_format_spec())
    seen: List[Any] = []
    original = checker.check_schema
    monkeypatch.setattr(checker, "check_schema", lambda schema: seen.append(schema) or original(schema))
    return seen


def test_valid_responses_pass_without_checking_the_schema_again(schema_checks: List[Any]) -> None:
    action = RemoteAction("action_open_case", EndpointConfig("http://127.0.0.1:1"))
    assert action._validate_action_result(VALID) is True
    assert len(schema_checks) == 1  # Rasa's own check: the schema every time
    check_action_responses_against_a_checked_schema()
    assert len(schema_checks) == 2  # once, when installed
    for _ in range(3):
        assert action._validate_action_result(VALID) is True
    assert len(schema_checks) == 2


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_still_get_rasas_error(schema_checks: List[Any], response: Any) -> None:
    check_action_responses_against_a_checked_schema()
    action = RemoteAction("action_open_case", EndpointConfig("http://127.0.0.1:1"))
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(response)
