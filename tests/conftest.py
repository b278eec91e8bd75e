"""Shared fixtures: real rasa-sdk trackers for the actions, and the live assistant.

The live assistant is the real thing: the trained model served by `rasa run`
with our channels and a SQLite tracker store, and the real action server, on
free ports of 127.0.0.1, started once per test session (bot/local_servers.py starts
them, for the replica tests and the load script too). Each has its own migrated
SQLite case database, so no test writes to var/.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NoReturn, Optional

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright
from rasa_sdk import Tracker

from actions.common import case_repository
from actions.reported import report_repository
from bot.local_servers import (
    MODEL,
    Deployment,
    ServiceUnavailable,
    base_environment,
    free_port,
    new_tokens,
    production_deployment,
    sqlite_url,
    start_action_server,
    start_rasa,
    start_service,
    wait_until_ready,
)
from bot.senders import conversation_id
from bot.storage.migrate import upgrade


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = "test-user",
) -> Tracker:
    """A rasa-sdk tracker as the action server builds it from Rasa's request."""
    intent_ranking = ranking or ([{"name": intent, "confidence": 0.95}] if intent else [])
    latest = {
        "text": text,
        "intent": intent_ranking[0] if intent_ranking else {},
        "intent_ranking": intent_ranking,
        "entities": entities or [],
    }
    all_slots = {"language": "zh", **(slots or {})}
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@dataclass
class LiveAssistant:
    url: str
    hotline_token: str
    integration_token: str
    api_token: str
    database: Path
    case_database: Path
    log: Path
    server_pid: int  # the Rasa server's process, for memory measurements
    sender_key: str  # SENDER_ID_KEY: the stored conversation ids are keyed with it

    def conversation_id(self, sender: str, door: str = "webchat") -> str:
        """The id the server stores (tracker, case) for `sender` of `door`."""
        return conversation_id(door, sender, self.sender_key)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=60, **kwargs)

    def analyze(self, text: str, lang: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"text": text}
        if lang:
            body["lang"] = lang
        response = self.post(
            "/webhooks/hotline/analyze", json=body,
            headers={"Authorization": f"Bearer {self.hotline_token}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def chat(self, sender: str, message: str, lang: str = "zh") -> List[Dict[str, Any]]:
        response = self.post(
            "/webhooks/webchat/webhook",
            json={"sender": sender, "message": message, "metadata": {"lang": lang}},
        )
        assert response.status_code == 200, response.text
        return response.json()


def fail_in_ci_else_skip(message: str) -> NoReturn:
    """Missing PostgreSQL or Redis: a failure in CI (CI=true), a skip on a developer's machine."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message + " -- skipped outside CI; with CI=true this fails.")


def _throwaway_service(kind: str) -> Iterator[str]:
    try:
        service = start_service(kind)
    except ServiceUnavailable as error:
        fail_in_ci_else_skip(str(error))
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster from scripts/postgres.sh: its URL."""
    yield from _throwaway_service("postgres")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway Redis from scripts/redis.sh: its URL."""
    yield from _throwaway_service("redis")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of one kind, each call a new one: their URLs."""
    made: List[str] = []
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if server is None:
            return sqlite_url(tmp_path / f"{name}.db")
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        made.append(name)
        return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)

    yield make
    if server is not None and made:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in made:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def migrated_url(new_database: Callable[[], str]) -> str:
    """A fresh database at the latest schema, on SQLite and on PostgreSQL."""
    url = new_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session", autouse=True)
def case_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The case database the actions write to when run in this process."""
    url = sqlite_url(tmp_path_factory.mktemp("cases") / "cases.db")
    upgrade(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASE_DB_URL", url)
        case_repository.cache_clear()
        report_repository.cache_clear()
        yield url
    case_repository.cache_clear()
    report_repository.cache_clear()


def afternoon_time_zone(now: Optional[datetime] = None) -> str:
    """A POSIX TZ under which the servers' local time is 15:xx now. The conversations are told as if in
    the afternoon ("this morning", "今天上午", "昨晚"): read at 1 a.m., "this morning" has not begun
    yet and is no time at all. Only the reading of relative times uses local time; records are in UTC."""
    hours_east = (15 - (now or datetime.now(timezone.utc)).hour) % 24
    if hours_east > 14:
        hours_east -= 24
    return f"AFT{-hours_east:+d}"


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make model` first (make test does).")
    workdir = tmp_path_factory.mktemp("assistant")
    tokens = new_tokens()
    database = workdir / "tracker.db"
    case_database = workdir / "cases.db"
    upgrade(sqlite_url(case_database))
    log = workdir / "servers.log"
    action_port = free_port()
    env = {
        **base_environment(action_port, sqlite_url(case_database), tokens),
        "TZ": afternoon_time_zone(),
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB": str(database),
    }
    with log.open("wb") as out:
        servers = [start_action_server(env, out, action_port), start_rasa(env, out, "endpoints.yml", tokens["api"])]
        try:
            wait_until_ready(servers, tokens["api"], log)
            yield LiveAssistant(
                servers[1].url, tokens["hotline"], tokens["integration"], tokens["api"], database, case_database, log,
                servers[1].process.pid, tokens["sender_key"],
            )
        finally:
            for server in reversed(servers):
                server.stop()


# A crashed replica's lock holds its conversation this long (Rasa's default is 60 s): test_replicas crashes one.
LOCK_LIFETIME_S = 20


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two Rasa replicas on PostgreSQL and Redis (endpoints.production.yml), one action server: started once.
    test_handoff_live runs on it before test_replicas (file order), whose failures come last."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make model` first (make test does).")
    try:
        with production_deployment(2, tmp_path_factory.mktemp("replicas"), LOCK_LIFETIME_S) as started:
            yield started
    except ServiceUnavailable as error:
        fail_in_ci_else_skip(str(error))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run scripts/system_deps.sh (make test does)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
