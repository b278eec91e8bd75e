"""Secrets come from the environment; outside development there is no fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import read_endpoint_config

from bot.channels.hotline import HotlineInput
from bot.channels.integration import IntegrationInput
from bot.local_servers import ROOT, sqlite_url
from bot.lock_store import ConcurrentRedisLockStore
from bot.settings import ConfigurationError, required_secret
from bot.storage.cases import database_url
from bot.tracker_store import RedactingSQLTrackerStore


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


def test_production_needs_postgresql_for_cases_and_conversations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    monkeypatch.setenv("CASE_DB_URL", sqlite_url(tmp_path / "cases.db"))
    with pytest.raises(ConfigurationError, match="CASE_DB_URL"):
        database_url()
    with pytest.raises(ConfigurationError, match="tracker store"):
        RedactingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    monkeypatch.setenv("CASE_DB_URL", "postgresql://rasa:pw@db.internal:5432/antifraud")
    assert database_url() == "postgresql://rasa:pw@db.internal:5432/antifraud"
    monkeypatch.setenv("ANTIFRAUD_ENV", "test")
    monkeypatch.setenv("CASE_DB_URL", sqlite_url(tmp_path / "cases.db"))
    assert database_url().startswith("sqlite:///")


def test_the_production_endpoints_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(ROOT / "endpoints.production.yml")
    variables = {
        "ACTION_ENDPOINT_URL": "http://actions.internal:5055/webhook", "ACTION_SERVER_TOKEN": "a-long-shared-secret",
        "TRACKER_DB_HOST": "db.internal",
        "TRACKER_DB_PORT": "5432", "TRACKER_DB": "antifraud", "TRACKER_DB_USER": "rasa",
        "TRACKER_DB_PASSWORD": "pw", "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_DB": "2",
        "REDIS_PASSWORD": "", "REDIS_KEY_PREFIX": "antifraud",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    lock_store = LockStore.create(read_endpoint_config(path, "lock_store"))
    assert isinstance(lock_store, ConcurrentRedisLockStore) and lock_store.key_prefix == "antifraud:lock:"
    assert lock_store.red.connection_pool.connection_kwargs["port"] == 6380
    # An empty password sends no AUTH.
    assert not lock_store.red.connection_pool.connection_kwargs["password"]
    tracker_store = read_endpoint_config(path, "tracker_store")
    assert tracker_store is not None and tracker_store.url == "db.internal"
    assert tracker_store.kwargs["password"] == "pw" and tracker_store.kwargs["dialect"] == "postgresql"
    action_endpoint = read_endpoint_config(path, "action_endpoint")
    assert action_endpoint is not None and action_endpoint.url == variables["ACTION_ENDPOINT_URL"]
    assert action_endpoint.headers == {"Authorization": "Bearer a-long-shared-secret"}
    monkeypatch.delenv("REDIS_HOST")
    with pytest.raises(RasaException, match="REDIS_HOST"):
        read_endpoint_config(path, "lock_store")
