"""Outgoing case alerts: when a conversation reaches `critical`, tell the integrating system.

The alert is a JSON case summary (no message text, no personal data) POSTed to
ALERT_WEBHOOK_URL with an HMAC-SHA256 signature of the body in the
`X-Antifraud-Signature` header, keyed with ALERT_WEBHOOK_SECRET. It is sent from a
background thread with a timeout and a bounded number of retries, so a slow or
broken receiver never delays or breaks the chat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

import requests
import structlog

from bot.settings import ConfigurationError, is_development

logger = structlog.get_logger()

SIGNATURE_HEADER = "X-Antifraud-Signature"


@dataclass(frozen=True)
class AlertSettings:
    url: str
    secret: str
    timeout_s: float = 3.0
    attempts: int = 3
    backoff_s: float = 0.5

    @classmethod
    def from_environment(cls) -> Optional[AlertSettings]:
        url = (os.environ.get("ALERT_WEBHOOK_URL") or "").strip()
        if not url:
            return None
        secret = (os.environ.get("ALERT_WEBHOOK_SECRET") or "").strip()
        if not secret:
            if not is_development():
                raise ConfigurationError("ALERT_WEBHOOK_URL is set but ALERT_WEBHOOK_SECRET is not.")
            logger.warning("alerts.unsigned_in_development")
        return cls(
            url=url,
            secret=secret,
            timeout_s=float(os.environ.get("ALERT_WEBHOOK_TIMEOUT_S", 3.0)),
            attempts=max(1, int(os.environ.get("ALERT_WEBHOOK_ATTEMPTS", 3))),
        )


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(settings: AlertSettings, summary: Dict[str, Any]) -> bool:
    """POST the summary, retrying on errors and 5xx; True when the receiver took it."""
    body = json.dumps(summary, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, settings.secret)}
    for attempt in range(1, settings.attempts + 1):
        try:
            response = requests.post(settings.url, data=body, headers=headers, timeout=settings.timeout_s)
            if response.status_code < 500:
                ok = response.status_code < 300
                logger.info("alerts.delivered" if ok else "alerts.refused", status=response.status_code)
                return ok
            logger.warning("alerts.receiver_error", status=response.status_code, attempt=attempt)
        except requests.RequestException as error:
            logger.warning("alerts.unreachable", error=type(error).__name__, attempt=attempt)
        if attempt < settings.attempts:
            time.sleep(settings.backoff_s * attempt)
    return False


def send_case_alert(summary: Dict[str, Any]) -> Optional[threading.Thread]:
    """Send in the background when alerts are configured; returns the thread (for tests)."""
    settings = AlertSettings.from_environment()
    if settings is None:
        return None
    thread = threading.Thread(target=deliver, args=(settings, summary), name="case-alert", daemon=True)
    thread.start()
    return thread
