"""Critical-case alerts against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.risk import ActionAssessRisk, ActionEmergencySteps
from bot import alerts
from tests.conftest import make_tracker

SECRET = "test-secret"


class Receiver:
    def __init__(self, statuses: List[int]) -> None:
        self.statuses = statuses
        self.requests: List[Dict[str, Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"body": body, "signature": self.headers.get(alerts.SIGNATURE_HEADER)})
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


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
