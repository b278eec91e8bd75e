"""Shared fixtures: real rasa-sdk trackers for the actions, and the live assistant.

The live assistant is the real thing: the trained model served by `rasa run`
with our channels and a SQLite tracker store, and the real action server, on
free ports of 127.0.0.1, started once per test session. Each has its own
migrated SQLite case database, so no test writes to var/.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
import sqlalchemy as sa
from rasa_sdk import Tracker

from actions.common import case_repository
from bot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
BIN = Path(sys.executable).parent
SERVER_START_TIMEOUT_S = 240


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def _wait_until_ready(url: str, token: str, processes: List[subprocess.Popen], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server exited early; see {log}:\n{log.read_text()[-3000:]}")
        try:
            status = requests.get(f"{url}/status", params={"token": token}, timeout=2)
            if status.status_code == 200 and status.json().get("model_file"):
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"the assistant did not start within {SERVER_START_TIMEOUT_S} s; see {log}")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster from scripts/postgres.sh: its URL."""
    # Not under pytest's tmp dir: that is private to root, and the server runs as "postgres".
    directory = tempfile.mkdtemp(prefix="antifraud-pg.")
    script = str(ROOT / "scripts" / "postgres.sh")
    started = subprocess.run([script, "start", directory], capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        subprocess.run([script, "stop", directory], capture_output=True, timeout=60)
        message = f"PostgreSQL could not be started (scripts/postgres.sh start): {started.stderr.strip()[-2000:]}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message + " -- skipped outside CI; with CI=true this fails.")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop", directory], capture_output=True, timeout=60)


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


@pytest.fixture(scope="session", autouse=True)
def case_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The case database the actions write to when run in this process."""
    url = sqlite_url(tmp_path_factory.mktemp("cases") / "cases.db")
    upgrade(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASE_DB_URL", url)
        case_repository.cache_clear()
        yield url
    case_repository.cache_clear()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make model` first (make test does).")
    workdir = tmp_path_factory.mktemp("assistant")
    rasa_port, action_port = _free_port(), _free_port()
    tokens = {name: secrets.token_urlsafe(16) for name in ("hotline", "integration", "api")}
    database = workdir / "tracker.db"
    case_database = workdir / "cases.db"
    upgrade(sqlite_url(case_database))
    log = workdir / "servers.log"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "ANTIFRAUD_ENV": "test",
        "HOTLINE_TOKEN": tokens["hotline"],
        "INTEGRATION_TOKEN": tokens["integration"],
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB": str(database),
        "CASE_DB_URL": sqlite_url(case_database),
    }
    with log.open("wb") as out:
        actions = subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        # "--auth-token=…": a token starting with "-" would read as an option.
        server = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--model", str(MODEL), "--interface", "127.0.0.1",
             "--port", str(rasa_port), "--credentials", "credentials.yml",
             "--endpoints", "endpoints.yml", "--enable-api", f"--auth-token={tokens['api']}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{rasa_port}"
        try:
            _wait_until_ready(url, tokens["api"], [actions, server], log)
            yield LiveAssistant(
                url, tokens["hotline"], tokens["integration"], tokens["api"], database, case_database, log,
                server.pid,
            )
        finally:
            for process in (server, actions):
                process.terminate()
            for process in (server, actions):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
