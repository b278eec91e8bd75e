"""Starts the assistant's processes on 127.0.0.1 for the tests and the load script.

PostgreSQL and Redis come from scripts/postgres.sh and scripts/redis.sh; the action server
and the Rasa replicas are `python -m bot.action_server` and `python -m bot.server` (`rasa run`)
processes on free ports, all writing to one log file; their secrets go in the environment, never in
their arguments, and Rasa's HTTP API is on only when `start_rasa` is given a token.
`production_deployment` puts them together on endpoints.production.yml.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from bot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
# ASSISTANT_MODEL: another trained model for the tests (e.g. one measured before a retrain).
MODEL = Path(os.environ.get("ASSISTANT_MODEL") or ROOT / "models" / "assistant.tar.gz")
# The per-client rate limit of the test servers (bot/channels/ratelimit.py): small, so a test reaches it.
# The test client is 127.0.0.1, exempt; a test names another client in X-Forwarded-For (one trusted hop).
TEST_CLIENT_RATE_MESSAGES = 10
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 20
# Letters and digits only, or Rasa ignores it.
LOCK_KEY_PREFIX = "antifraud"


class ServiceUnavailable(RuntimeError):
    """PostgreSQL or Redis could not be started on this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass
class Service:
    """A PostgreSQL or Redis server started by scripts/<kind>.sh: its URL and directory."""

    kind: str
    directory: str
    url: str

    def _script(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "scripts" / f"{self.kind}.sh"), *args, self.directory],
            capture_output=True, text=True, timeout=180,
        )

    def halt(self) -> None:
        """Stop the server, keeping its data (PostgreSQL only): an outage."""
        self._script("halt").check_returncode()

    def resume(self) -> None:
        self._script("resume").check_returncode()

    def stop(self) -> None:
        self._script("stop")


def start_service(kind: str) -> Service:
    """`kind` is "postgres" or "redis"; ServiceUnavailable says why it could not start."""
    # Not under pytest's tmp dir: that is private to root, and PostgreSQL runs as "postgres".
    service = Service(kind, tempfile.mkdtemp(prefix=f"antifraud-{kind}."), "")
    started = service._script("start")
    if started.returncode != 0:
        service.stop()
        raise ServiceUnavailable(
            f"{kind} could not be started (scripts/{kind}.sh start): {started.stderr.strip()[-2000:]}"
        )
    service.url = started.stdout.strip().splitlines()[-1]
    return service


@dataclass
class Server:
    """A Rasa server or action server process on 127.0.0.1:port."""

    name: str
    port: int
    process: subprocess.Popen
    killed: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        # `killed` first: poll() answers None while another thread waits for the process.
        return not self.killed and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        self.killed = True
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        """The process's peak resident memory (VmHWM), while it still runs."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no VmHWM for {self.name}")


def start_action_server(env: Dict[str, str], log: IO[bytes], port: Optional[int] = None) -> Server:
    port = port or free_port()
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    return Server("actions", port, process)


def start_rasa(
    env: Dict[str, str], log: IO[bytes], endpoints: str, api_token: Optional[str], name: str = "rasa",
    port: Optional[int] = None, model: Path = MODEL,
) -> Server:
    """Rasa's HTTP API is on with `api_token` (RASA_API_TOKEN), off with None."""
    port = port or free_port()
    env = {key: value for key, value in env.items() if key != "RASA_API_TOKEN"}
    if api_token:
        env["RASA_API_TOKEN"] = api_token
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.server", "--model", str(model), "--interface", "127.0.0.1",
         "--port", str(port), "--credentials", "credentials.yml", "--endpoints", endpoints],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    return Server(name, port, process)


def _ready(server: Server, api_token: Optional[str]) -> bool:
    try:
        if server.name == "actions":
            return requests.get(f"{server.url}/health", timeout=2).status_code == 200
        if not api_token:
            # Rasa listens once the model is loaded.
            return requests.get(server.url, timeout=2).status_code == 200
        status = requests.get(f"{server.url}/status", params={"token": api_token}, timeout=2)
        return status.status_code == 200 and bool(status.json().get("model_file"))
    except requests.RequestException:
        return False


def wait_until_ready(servers: List[Server], api_token: Optional[str], log: Path) -> None:
    """Until every server answers; RuntimeError with the log's tail if one exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    waiting = list(servers)
    while waiting and time.monotonic() < deadline:
        for server in servers:
            if not server.alive():
                raise RuntimeError(f"{server.name} exited early; see {log}:\n{log.read_text()[-3000:]}")
        waiting = [server for server in waiting if not _ready(server, api_token)]
        if waiting:
            time.sleep(1)
    if waiting:
        names = ", ".join(server.name for server in waiting)
        raise RuntimeError(f"{names} did not start within {START_TIMEOUT_S} s; see {log}")


def base_environment(action_port: int, case_db_url: str, tokens: Dict[str, str]) -> Dict[str, str]:
    """What every server process gets, as `scripts/run.sh` sets it, with the test tokens."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "ANTIFRAUD_ENV": "test",
        "HOTLINE_TOKEN": tokens["hotline"],
        "INTEGRATION_TOKEN": tokens["integration"],
        "ACTION_SERVER_TOKEN": tokens["actions"],
        "SENDER_ID_KEY": tokens["sender_key"],
        "REPORT_HASH_KEY": tokens["report_key"],
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "CASE_DB_URL": case_db_url,
        "CLIENT_RATE_MESSAGES": str(TEST_CLIENT_RATE_MESSAGES),
        "TRUSTED_PROXY_HOPS": "1",
        "RATE_LIMIT_EXEMPT": "127.0.0.1",
    }


def production_variables(postgres_url: str, redis_url: str) -> Dict[str, str]:
    """The variables endpoints.production.yml reads, from the two servers' URLs."""
    database = sa.engine.make_url(postgres_url)
    redis = urlsplit(redis_url)
    return {
        "TRACKER_DB_HOST": database.host or "",
        "TRACKER_DB_PORT": str(database.port),
        "TRACKER_DB": database.database or "",
        "TRACKER_DB_USER": database.username or "",
        "TRACKER_DB_PASSWORD": database.password or "",
        "REDIS_HOST": redis.hostname or "",
        "REDIS_PORT": str(redis.port),
        "REDIS_DB": "1",
        "REDIS_PASSWORD": redis.password or "",
        "REDIS_KEY_PREFIX": LOCK_KEY_PREFIX,
    }


def new_tokens() -> Dict[str, str]:
    """The staff, integration, Rasa API and action server tokens, the conversation id and reported-identifier keys."""
    return {name: secrets.token_urlsafe(16)
            for name in ("hotline", "integration", "api", "actions", "sender_key", "report_key")}


@dataclass
class Deployment:
    """PostgreSQL, Redis, one action server and N Rasa replicas on endpoints.production.yml."""

    postgres: Service
    redis: Service
    actions: Server
    replicas: List[Server]
    tokens: Dict[str, str]
    env: Dict[str, str]
    log: Path
    log_file: IO[bytes]

    def restart_actions(self) -> None:
        """A new action server on the same port (after `actions.stop()`), once it answers."""
        self.actions = start_action_server(self.env, self.log_file, self.actions.port)
        wait_until_ready([self.actions], self.tokens["api"], self.log)

    def processes(self) -> List[Server]:
        return [*self.replicas, self.actions]


def _stop_all(items: List[Any]) -> None:
    for item in items:
        item.stop()


@contextlib.contextmanager
def production_deployment(
    replicas: int, workdir: Path, lock_lifetime_s: Optional[int] = None
) -> Iterator[Deployment]:
    """Everything started (replicas in parallel), the case database migrated; all stopped after.

    ServiceUnavailable when PostgreSQL or Redis cannot start. `lock_lifetime_s` sets Rasa's
    TICKET_LOCK_LIFETIME: how long a crashed replica's lock holds up its conversation.
    """
    log = workdir / "servers.log"
    started: List[Service] = []
    servers: List[Server] = []
    with contextlib.ExitStack() as stack, log.open("wb") as log_file:
        # Stopped in reverse: the servers first, then PostgreSQL and Redis.
        stack.callback(_stop_all, started)
        stack.callback(_stop_all, servers)
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(start_service, kind) for kind in ("postgres", "redis")]
            errors = []
            for future in futures:
                try:
                    started.append(future.result())
                except ServiceUnavailable as error:
                    errors.append(str(error))
            if errors:
                raise ServiceUnavailable("\n".join(errors))
        postgres, redis = started
        upgrade(postgres.url)
        tokens = new_tokens()
        action_port = free_port()
        env = {**base_environment(action_port, postgres.url, tokens), **production_variables(postgres.url, redis.url)}
        if lock_lifetime_s:
            env["TICKET_LOCK_LIFETIME"] = str(lock_lifetime_s)
        actions = start_action_server(env, log_file, action_port)
        servers.append(actions)
        for number in range(1, replicas + 1):
            servers.append(start_rasa(env, log_file, "endpoints.production.yml", tokens["api"], f"rasa-{number}"))
        wait_until_ready(servers, tokens["api"], log)
        deployment = Deployment(postgres, redis, actions, servers[1:], tokens, env, log, log_file)
        try:
            yield deployment
        finally:
            # The action server may have been replaced by restart_actions.
            servers.append(deployment.actions)
