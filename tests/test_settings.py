"""Secrets come from the environment; outside development there is no fallback."""

from __future__ import annotations

import pytest

from bot.channels.hotline import HotlineInput
from bot.channels.integration import IntegrationInput
from bot.settings import ConfigurationError, required_secret


@pytest.mark.parametrize(
    "channel, variable", [(HotlineInput, "HOTLINE_TOKEN"), (IntegrationInput, "INTEGRATION_TOKEN")]
)
def test_channels_refuse_to_start_without_a_token_outside_development(
    monkeypatch: pytest.MonkeyPatch, channel: type, variable: str
) -> None:
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError, match=variable):
        channel.from_credentials(None)
    monkeypatch.setenv(variable, "  ")
    with pytest.raises(ConfigurationError):
        channel.from_credentials(None)


def test_the_token_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    monkeypatch.setenv("HOTLINE_TOKEN", "s3cret-token")
    assert required_secret("HOTLINE_TOKEN", "test") == "s3cret-token"


def test_development_makes_up_a_random_secret_instead_of_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTIFRAUD_ENV", raising=False)
    monkeypatch.delenv("HOTLINE_TOKEN", raising=False)
    first, second = required_secret("HOTLINE_TOKEN", "test"), required_secret("HOTLINE_TOKEN", "test")
    assert first != second and len(first) >= 24
