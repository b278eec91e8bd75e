"""Critical-case alerts against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.risk import ActionAssessRisk, ActionEmergencySteps
from bot import alerts
from bot.local_servers import ROOT
from tests.conftest import make_tracker

SECRET = "test-secret"


class Receiver:
    def __init__(self, statuses: List[int], location: str = "") -> None:
        self.statuses = statuses
        self.requests: List[Dict[str, Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"body": body, "signature": self.headers.get(alerts.SIGNATURE_HEADER),
                                          "delivery": self.headers.get(alerts.DELIVERY_HEADER)})
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """The settings are read once per process; each test sets its own environment."""
    alerts.alert_settings.cache_clear()
    yield
    alerts.alert_settings.cache_clear()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    instance = Receiver([200])
    monkeypatch.setenv("ALERT_WEBHOOK_URL", instance.url)
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", SECRET)
    yield instance
    instance.server.shutdown()


def test_critical_risk_sends_one_signed_summary(receiver: Receiver) -> None:
    tracker = make_tracker(slots={"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 20.0,
                                  "payment_channel": "alipay"})
    asyncio.run(ActionAssessRisk().run(CollectingDispatcher(), tracker, {}))
    assert receiver.arrived.wait(10)
    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["signature"] == expected
    summary = json.loads(request["body"])
    assert summary["event"] == "case.critical"
    assert summary["scam_type"] == "romance"
    assert (summary["risk_level"], summary["payment_channel"]) == ("critical", "alipay")
    assert summary["conversation_id"] == "test-user"
    assert "text" not in summary  # no message text leaves the assistant


def test_no_alert_for_lower_risk_or_twice(receiver: Receiver) -> None:
    asyncio.run(ActionAssessRisk().run(CollectingDispatcher(), make_tracker(slots={"scam_type": "romance",
                                                                                   "money_sent": False}), {}))
    already = make_tracker(slots={"risk_level": "critical", "money_sent": True})
    asyncio.run(ActionEmergencySteps().run(CollectingDispatcher(), already, {}))
    time.sleep(0.5)
    assert receiver.requests == []


def test_receiver_errors_are_retried_a_bounded_number_of_times() -> None:
    failing = Receiver([500, 503, 500, 500])
    try:
        settings = alerts.AlertSettings(url=failing.url, secret=SECRET, timeout_s=2, attempts=3, backoff_s=0.01)
        assert alerts.deliver(settings, {"event": "case.critical"}) is False
        assert len(failing.requests) == 3
        recovering = Receiver([503, 200])
        settings = alerts.AlertSettings(url=recovering.url, secret=SECRET, attempts=3, backoff_s=0.01)
        assert alerts.deliver(settings, {"event": "case.critical"}) is True
        assert len(recovering.requests) == 2
        recovering.server.shutdown()
    finally:
        failing.server.shutdown()


def test_an_unreachable_receiver_never_blocks_the_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", SECRET)
    started = time.monotonic()
    thread = alerts.send_case_alert({"event": "case.critical"})
    assert time.monotonic() - started < 0.5
    assert thread is not None
    thread.join(30)
    assert not thread.is_alive()


def test_alerts_need_a_secret_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/x")
    monkeypatch.delenv("ALERT_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    with pytest.raises(alerts.ConfigurationError):
        alerts.AlertSettings.from_environment()
    monkeypatch.delenv("ALERT_WEBHOOK_URL")
    assert alerts.AlertSettings.from_environment() is None


def test_the_payment_channel_is_sent_only_as_a_fixed_name(receiver: Receiver) -> None:
    """The slot may hold the person's own words (a card number, a bank and a name): never sent."""
    typed = "我用工商银行卡尾号6789转给了张三"
    tracker = make_tracker(slots={"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 5.0,
                                  "payment_channel": typed})
    asyncio.run(ActionEmergencySteps().run(CollectingDispatcher(), tracker, {}))
    assert receiver.arrived.wait(10)
    body = receiver.requests[0]["body"].decode("utf-8")
    assert json.loads(body)["payment_channel"] == "other"
    assert "6789" not in body and "张三" not in body
    assert alerts.payment_channel_name("wechat_pay") == "wechat_pay"
    assert alerts.payment_channel_name(None) is None


def test_every_delivery_has_an_id_that_stays_over_retries() -> None:
    recovering = Receiver([503, 200])
    try:
        settings = alerts.AlertSettings(url=recovering.url, secret=SECRET, attempts=3, backoff_s=0.01)
        assert alerts.deliver(settings, {"event": "case.critical"}) is True
        first, second = recovering.requests
        assert first["delivery"] and first["delivery"] == second["delivery"]
        assert json.loads(first["body"])["delivery_id"] == first["delivery"]
        assert first["signature"] == alerts.signature(first["body"], SECRET)
        again = Receiver([200])
        settings = alerts.AlertSettings(url=again.url, secret=SECRET)
        alerts.deliver(settings, {"event": "case.critical"})
        assert again.requests[0]["delivery"] != first["delivery"]
        again.server.shutdown()
    finally:
        recovering.server.shutdown()


def test_redirects_are_not_followed() -> None:
    """The signed summary goes only where it was configured to, not where a 30x points."""
    elsewhere = Receiver([200])
    redirecting = Receiver([307], location=elsewhere.url)
    try:
        settings = alerts.AlertSettings(url=redirecting.url, secret=SECRET, attempts=2, backoff_s=0.01)
        assert alerts.deliver(settings, {"event": "case.critical"}) is False
        time.sleep(0.3)
        assert len(redirecting.requests) == 1 and elsewhere.requests == []
    finally:
        redirecting.server.shutdown()
        elsewhere.server.shutdown()


@pytest.mark.parametrize("env, setting", [
    ({"ANTIFRAUD_ENV": "production", "ALERT_WEBHOOK_URL": "http://alerts.example.org/x"}, "https"),
    ({"ALERT_WEBHOOK_URL": "ftp://alerts.example.org/x"}, "https"),
    ({"ALERT_WEBHOOK_URL": "https:///no-host"}, "host"),
    ({"ALERT_WEBHOOK_TIMEOUT_S": "3s"}, "ALERT_WEBHOOK_TIMEOUT_S"),
    ({"ALERT_WEBHOOK_TIMEOUT_S": "-1"}, "ALERT_WEBHOOK_TIMEOUT_S"),
    ({"ALERT_WEBHOOK_ATTEMPTS": "2.5"}, "ALERT_WEBHOOK_ATTEMPTS"),
    ({"ALERT_WEBHOOK_ATTEMPTS": "1000"}, "ALERT_WEBHOOK_ATTEMPTS"),
])
def test_unusable_settings_are_refused_when_read(
    monkeypatch: pytest.MonkeyPatch, env: Dict[str, str], setting: str
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "https://alerts.example.org/x")
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(alerts.ConfigurationError, match=setting):
        alerts.alert_settings()


def test_https_alerts_are_fine_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "https://alerts.example.org/x")
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", SECRET)
    settings = alerts.alert_settings()
    assert settings is not None and settings.url.startswith("https://")


def test_the_action_server_refuses_to_start_with_broken_alert_settings() -> None:
    env = {**os.environ, "ANTIFRAUD_ENV": "development", "ACTION_SERVER_TOKEN": "a-long-enough-token-here",
           "ALERT_WEBHOOK_URL": "https://alerts.example.org/x", "ALERT_WEBHOOK_SECRET": SECRET,
           "ALERT_WEBHOOK_TIMEOUT_S": "three", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "ALERT_WEBHOOK_TIMEOUT_S" in done.stderr


@pytest.mark.parametrize("action", [ActionEmergencySteps, ActionAssessRisk])
def test_an_alert_failure_never_touches_the_chat(monkeypatch: pytest.MonkeyPatch, action: Any) -> None:
    """Settings that break at alert time (here: a malformed timeout read inside the action) used to
    raise inside the action after the stop-payment steps were queued: "service unavailable" instead."""
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "https://alerts.example.org/x")
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ALERT_WEBHOOK_TIMEOUT_S", "three")
    tracker = make_tracker(slots={"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 5.0})
    events = asyncio.run(action().run(CollectingDispatcher(), tracker, {}))
    assert {"event": "slot", "name": "risk_level", "value": "critical", "timestamp": None} in [
        dict(e) for e in events
    ]
