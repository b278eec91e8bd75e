"""Who can reach what (issue 12, Access): the action server, Rasa's HTTP API, one namespace per door.

Real processes on 127.0.0.1: the action server alone (`python -m bot.action_server`, as
bot/local_servers.py and scripts/run.sh start it), the live assistant of conftest.py, and
`scripts/run.sh` itself on free ports, as a user starts it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import sqlalchemy as sa

from bot.channels.rest import rest_door_enabled
from bot.local_servers import (
    MODEL,
    ROOT,
    Server,
    base_environment,
    free_port,
    new_tokens,
    sqlite_url,
    start_action_server,
    wait_until_ready,
)
from bot.senders import conversation_id, sender_id_key
from bot.settings import ConfigurationError
from bot.storage.migrate import upgrade
from tests.conftest import LiveAssistant

PYTHON = sys.executable
LOOPBACK_V4 = "0100007F"
LOOPBACK_V6 = {"00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
PHONE_SENDER = "+86 139 0000 1111"
POLICE_STORY = "自称公安局的民警打电话说我的身份证涉嫌洗钱，要我把存款转到安全账户配合调查"
TO_CRITICAL = (POLICE_STORY, "/affirm", "半小时前", "两万块", '/inform{"payment_channel": "bank_transfer"}', "/deny")


# ---------------------------------------------------------------- helpers


def listening_addresses(port: int) -> List[str]:
    """The local addresses (hex, as /proc/net/tcp* has them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


def non_loopback_address() -> Optional[str]:
    """This machine's address on its outward interface (a UDP connect sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def assert_loopback_only(port: int) -> None:
    addresses = listening_addresses(port)
    assert addresses, f"nothing listens on {port}"
    assert all(a == LOOPBACK_V4 or a in LOOPBACK_V6 for a in addresses), addresses
    outward = non_loopback_address()
    if outward:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{outward}:{port}/health", timeout=5)


def forged_call(sender: str) -> Dict[str, Any]:
    """What an attacker would POST: Rasa's action call for action_emergency_steps with a made-up tracker."""
    return {
        "next_action": "action_emergency_steps",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"scam_type": "impersonate_official", "language": "zh"},
            "latest_message": {"text": "我已经转账了", "intent": {"name": "already_paid", "confidence": 1.0}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def cases_of(case_url: str, conversation: str) -> List[Any]:
    engine = sa.create_engine(case_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(
                sa.text("SELECT conversation_id, risk_level FROM cases WHERE conversation_id = :c"),
                {"c": conversation},
            ))
    finally:
        engine.dispose()


def visible_in_ps(*secrets: str) -> List[str]:
    """The secrets `ps` shows in any process's arguments."""
    listing = subprocess.run(["ps", "-eo", "args", "ww"], capture_output=True, text=True, check=True).stdout
    return [secret for secret in secrets if secret in listing]


def exits_refusing(module: str, env: Dict[str, str], *args: str) -> str:
    """Runs `python -m module args`; it must exit with an error at once: its stderr."""
    run = subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stdout + run.stderr
    return run.stderr


# ---------------------------------------------------------------- the action server


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """The action server started as bot/local_servers.py starts it: no --interface given."""
    workdir = tmp_path_factory.mktemp("actions")
    case_url = sqlite_url(workdir / "cases.db")
    upgrade(case_url)
    tokens = new_tokens()
    port = free_port()
    log = workdir / "actions.log"
    with log.open("wb") as out:
        server = start_action_server(base_environment(port, case_url, tokens), out, port)
        try:
            wait_until_ready([server], None, log)
            yield {"server": server, "token": tokens["actions"], "case_url": case_url, "log": log}
        finally:
            server.stop()


def test_a_forged_action_call_without_the_secret_is_refused_and_writes_no_case(
    action_server: Dict[str, Any],
) -> None:
    server: Server = action_server["server"]
    sender = f"forged-{uuid.uuid4().hex}"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "},
                    {"Authorization": action_server["token"]}):
        refused = requests.post(f"{server.url}/webhook", json=forged_call(sender), headers=headers, timeout=30)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "unauthorized"
    assert requests.get(f"{server.url}/actions", timeout=30).status_code == 401
    assert cases_of(action_server["case_url"], sender) == []
    # The same call with the secret runs: the refusal above is the token's doing.
    accepted = requests.post(f"{server.url}/webhook", json=forged_call(sender),
                             headers={"Authorization": f"Bearer {action_server['token']}"}, timeout=30)
    assert accepted.status_code == 200, accepted.text
    assert cases_of(action_server["case_url"], sender) == [(sender, "critical")]


def test_the_action_server_keeps_an_idle_connection_longer_than_rasas_client_does(
    action_server: Dict[str, Any],
) -> None:
    """Rasa's aiohttp client reuses an idle connection for up to 15 s; closed by the server before that,
    a turn fails with "Cannot write to closing transport". One connection, 6 s idle, still served."""
    server: Server = action_server["server"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/health")
        assert connection.getresponse().read() is not None
        time.sleep(6)  # past Sanic's default keep-alive of 5 s
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_the_action_server_refuses_bodies_that_are_not_a_json_object(action_server: Dict[str, Any]) -> None:
    server: Server = action_server["server"]
    auth = {"Authorization": f"Bearer {action_server['token']}"}
    bomb = zlib.compress(b"{" + b" " * (40 * 1024 * 1024) + b"}", 9)
    for body, headers, status, code in [
        (b"next_action=action_emergency_steps", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         "unsupported_media_type"),
        (b"{not json", {"Content-Type": "application/json"}, 400, "invalid_json"),
        (b"\xff\xfe{}", {"Content-Type": "application/json"}, 400, "invalid_encoding"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 422, "invalid_body"),
        (b"", {"Content-Type": "application/json"}, 400, "invalid_json"),
        (b"not deflate", {"Content-Type": "application/json", "Content-Encoding": "deflate"}, 400, "invalid_encoding"),
        (bomb, {"Content-Type": "application/json", "Content-Encoding": "deflate"}, 413, "body_too_large"),
    ]:
        response = requests.post(f"{server.url}/webhook", data=body, headers={**auth, **headers}, timeout=30)
        assert (response.status_code, response.json()["error"]) == (status, code), (body[:40], response.text)
    # Rasa's deflated calls (COMPRESS_ACTION_SERVER_REQUEST) still work.
    sender = f"deflated-{uuid.uuid4().hex}"
    deflated = zlib.compress(json.dumps(forged_call(sender)).encode())
    response = requests.post(f"{server.url}/webhook", data=deflated, timeout=30, headers={
        **auth, "Content-Type": "application/json", "Content-Encoding": "deflate"})
    assert response.status_code == 200, response.text


def test_the_action_server_listens_on_loopback_only_by_default(action_server: Dict[str, Any]) -> None:
    server: Server = action_server["server"]
    assert requests.get(f"{server.url}/health", timeout=30).json() == {"status": "ok"}
    assert_loopback_only(server.port)


def test_the_action_server_refuses_to_start_without_its_secret_outside_development(tmp_path: Path) -> None:
    env = {**base_environment(free_port(), sqlite_url(tmp_path / "cases.db"), new_tokens()),
           "ANTIFRAUD_ENV": "production"}
    env.pop("ACTION_SERVER_TOKEN")
    assert "ACTION_SERVER_TOKEN" in exits_refusing("bot.action_server", env, "--actions", "actions")
    env["ACTION_SERVER_TOKEN"] = "short"
    assert "ACTION_SERVER_TOKEN" in exits_refusing("bot.action_server", env, "--actions", "actions")


# ---------------------------------------------------------------- Rasa's HTTP API


def test_the_staff_token_cannot_use_rasa_api(assistant: LiveAssistant) -> None:
    sender = assistant.conversation_id(uuid.uuid4().hex)
    for token in (assistant.hotline_token, assistant.integration_token, ""):
        assert requests.get(f"{assistant.url}/status", params={"token": token}, timeout=30).status_code == 401
        tracker = requests.get(f"{assistant.url}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
        assert tracker.status_code == 401
    assert requests.get(f"{assistant.url}/status", params={"token": assistant.api_token}, timeout=30).status_code == 200


def test_no_token_is_on_a_command_line(assistant: LiveAssistant) -> None:
    cmdline = Path(f"/proc/{assistant.server_pid}/cmdline").read_bytes().decode()
    assert "bot.server" in cmdline
    assert visible_in_ps(assistant.api_token, assistant.hotline_token, assistant.integration_token,
                         assistant.sender_key) == []


def test_the_server_takes_no_api_option_and_no_shared_token(tmp_path: Path) -> None:
    env = {**base_environment(free_port(), sqlite_url(tmp_path / "cases.db"), new_tokens()), "ANTIFRAUD_ENV": "test"}
    for option in ("--enable-api", "--auth-token=abc", "--auth", "--jwt-secret=x"):
        assert "RASA_API_TOKEN" in exits_refusing("bot.server", env, "--model", str(MODEL), option)
    env["RASA_API_TOKEN"] = env["HOTLINE_TOKEN"]
    assert "HOTLINE_TOKEN" in exits_refusing("bot.server", env, "--model", str(MODEL))


# ---------------------------------------------------------------- one namespace per door


def integration(assistant: LiveAssistant, sender: str, message: str) -> requests.Response:
    return assistant.post("/webhooks/integration/webhook", json={"sender": sender, "message": message},
                          headers={"Authorization": f"Bearer {assistant.integration_token}"})


def tracker_events(assistant: LiveAssistant, stored_id: str) -> List[Dict[str, Any]]:
    response = requests.get(f"{assistant.url}/conversations/{stored_id}/tracker",
                            params={"token": assistant.api_token}, timeout=30)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def test_an_integration_conversation_cannot_be_read_or_driven_from_other_doors(assistant: LiveAssistant) -> None:
    sender = f"crm-{uuid.uuid4().hex}"
    started = integration(assistant, sender, POLICE_STORY)
    assert started.status_code == 200, started.text
    assert all(reply["recipient_id"] == sender for reply in started.json())
    stored_id = assistant.conversation_id(sender, "integration")
    before = tracker_events(assistant, stored_id)
    assert [e["text"] for e in before if e["event"] == "user"] == [POLICE_STORY]

    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": sender}, timeout=30)
    assert history.status_code == 200 and history.json()["messages"] == [], history.text
    for door, body in (("rest", {"sender": sender, "message": "/affirm"}),
                       ("webchat", {"sender": sender, "message": "/affirm", "metadata": {"lang": "zh"}})):
        pushed = assistant.post(f"/webhooks/{door}/webhook", json=body)
        assert pushed.status_code == 200, pushed.text
        # each door's own conversation got the message ...
        assert [e["text"] for e in tracker_events(assistant, assistant.conversation_id(sender, door))
                if e["event"] == "user"] == ["/affirm"]
    # ... and the integration's is as it was.
    assert tracker_events(assistant, stored_id) == before


def test_stored_conversation_ids_are_keyed_hashes_of_door_and_sender(assistant: LiveAssistant) -> None:
    """A phone number as REST sender id, through to a critical case: nowhere stored or logged as sent."""
    sender = f"{PHONE_SENDER} {uuid.uuid4().hex[:6]}"
    replies = []
    for text in TO_CRITICAL:
        response = assistant.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert response.status_code == 200, response.text
        replies = response.json()
        assert replies and all(reply["recipient_id"] == sender for reply in replies)  # Rasa's contract
    stored_id = conversation_id("rest", sender, assistant.sender_key)
    assert stored_id.startswith("rest-") and len(stored_id) == len("rest-") + 32
    # what alerts and case records call the conversation, for the client to match them
    assert response.headers["X-Conversation-Id"] == stored_id
    with sqlite3.connect(assistant.database) as db:
        senders = {s for (s,) in db.execute("SELECT DISTINCT sender_id FROM events")}
        events = "\n".join(data for (data,) in db.execute("SELECT data FROM events WHERE sender_id = ?", (stored_id,)))
    assert stored_id in senders and events
    with sqlite3.connect(assistant.case_database) as db:
        case = db.execute("SELECT risk_level FROM cases WHERE conversation_id = ?", (stored_id,)).fetchone()
        cases = "\n".join(db.iterdump())
    assert case == ("critical",)
    raw = ("139 0000 1111", "13900001111", sender.split()[-1])
    for place, text in (("events", events), ("sender ids", "\n".join(senders)), ("cases", cases),
                        ("log", assistant.log.read_text(errors="replace"))):
        assert not [r for r in raw if r in text], place
    # Another key, another id: the hash is keyed.
    assert conversation_id("rest", sender, "another-key-of-sixteen") != stored_id


def test_the_conversation_id_key_is_required_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    sender_id_key.cache_clear()
    try:
        monkeypatch.setenv("ANTIFRAUD_ENV", "production")
        monkeypatch.delenv("SENDER_ID_KEY", raising=False)
        with pytest.raises(ConfigurationError, match="SENDER_ID_KEY"):
            sender_id_key()
        monkeypatch.setenv("SENDER_ID_KEY", "too-short")
        with pytest.raises(ConfigurationError, match="SENDER_ID_KEY"):
            sender_id_key()
    finally:
        sender_id_key.cache_clear()
    assert conversation_id("webchat", "a", "k" * 16) != conversation_id("rest", "a", "k" * 16)
    with pytest.raises(ValueError):
        conversation_id("hotline", "a", "k" * 16)


def test_the_rest_door_switch_takes_true_or_false(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, enabled in (("", True), ("true", True), ("FALSE", False), ("0", False), ("off", False)):
        monkeypatch.setenv("REST_WEBHOOK_ENABLED", value)
        assert rest_door_enabled() is enabled
    monkeypatch.setenv("REST_WEBHOOK_ENABLED", "nope")
    with pytest.raises(ConfigurationError, match="REST_WEBHOOK_ENABLED"):
        rest_door_enabled()


# ---------------------------------------------------------------- scripts/run.sh as a user runs it


@pytest.fixture(scope="module")
def alert_receiver() -> Iterator[Dict[str, Any]]:
    """An HTTP server on 127.0.0.1 keeping the alert bodies it receives."""
    received: List[Dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}/alerts", "received": received}
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def run_script(tmp_path_factory: pytest.TempPathFactory, alert_receiver: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    """`scripts/run.sh` on free ports, with its defaults but the stores in a temporary folder, no
    RASA_API_TOKEN, the anonymous REST door switched off, and alerts to `alert_receiver`."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make model` first (make test does).")
    workdir = tmp_path_factory.mktemp("run-sh")
    tokens = new_tokens()
    rasa_port, action_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in (
        "RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "ACTION_ENDPOINT_URL", "ANTIFRAUD_ENV")}
    env.update({
        "HOTLINE_TOKEN": tokens["hotline"], "INTEGRATION_TOKEN": tokens["integration"],
        "SENDER_ID_KEY": tokens["sender_key"], "RASA_PORT": str(rasa_port), "ACTION_SERVER_PORT": str(action_port),
        "TRACKER_DB": str(workdir / "tracker.db"), "CASE_DB_URL": sqlite_url(workdir / "cases.db"),
        "REST_WEBHOOK_ENABLED": "false", "ALERT_WEBHOOK_URL": alert_receiver["url"],
    })
    log = workdir / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{rasa_port}"
            deadline = time.monotonic() + 300
            while True:
                assert process.poll() is None, log.read_text()[-3000:]
                with contextlib.suppress(requests.RequestException):
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(1)
            yield {"url": url, "action_port": action_port, "tokens": tokens, "log": log}
        finally:
            # run.sh, its action server and its Rasa server: the process group this test started.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def test_run_sh_keeps_rasa_api_closed_and_the_action_server_on_loopback(run_script: Dict[str, Any]) -> None:
    url, tokens = run_script["url"], run_script["tokens"]
    for path in ("/status", "/conversations/x/tracker", "/model/parse"):
        response = requests.get(url + path, params={"token": tokens["hotline"]}, timeout=30)
        assert response.status_code == 404, (path, response.status_code)
    assert_loopback_only(run_script["action_port"])
    forged = requests.post(f"http://127.0.0.1:{run_script['action_port']}/webhook",
                           json=forged_call("forged"), timeout=30)
    assert forged.status_code == 401
    assert visible_in_ps(tokens["hotline"], tokens["integration"], tokens["sender_key"]) == []
    # the chat works: Rasa calls the action server with the secret run.sh made up
    analysis = requests.post(url + "/webhooks/integration/webhook", json={"sender": "s1", "message": POLICE_STORY},
                             headers={"Authorization": f"Bearer {tokens['integration']}"}, timeout=60)
    assert analysis.status_code == 200 and any("custom" in reply for reply in analysis.json()), analysis.text


def test_production_can_switch_the_anonymous_rest_door_off(run_script: Dict[str, Any]) -> None:
    url = run_script["url"]
    for method, path in (("POST", "/webhooks/rest/webhook"), ("GET", "/webhooks/rest/")):
        response = requests.request(method, url + path, json={"sender": "a", "message": "hi"}, timeout=30)
        assert response.status_code == 404 and response.json()["error"] == "door_closed", response.text


def test_an_alert_names_the_conversation_by_its_keyed_hash(
    run_script: Dict[str, Any], alert_receiver: Dict[str, Any]
) -> None:
    sender, tokens = "8613900001111", run_script["tokens"]
    for text in TO_CRITICAL:
        response = requests.post(run_script["url"] + "/webhooks/integration/webhook",
                                 json={"sender": sender, "message": text},
                                 headers={"Authorization": f"Bearer {tokens['integration']}"}, timeout=60)
        assert response.status_code == 200, response.text
    stored_id = conversation_id("integration", sender, tokens["sender_key"])
    assert response.headers["X-Conversation-Id"] == stored_id
    deadline = time.monotonic() + 20
    while not alert_receiver["received"] and time.monotonic() < deadline:
        time.sleep(0.2)
    alerts = [a for a in alert_receiver["received"] if a.get("conversation_id") == stored_id]
    assert len(alerts) == 1, alert_receiver["received"]
    assert "13900001111" not in json.dumps(alert_receiver["received"])
