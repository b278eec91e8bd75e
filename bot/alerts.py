"""Outgoing case alerts: when a conversation reaches `critical`, tell the integrating system.

The alert is a JSON case summary (no message text, no personal data: the payment channel only
as one of the fixed names of knowledge/facts.yml, never the words the person typed) POSTed to
ALERT_WEBHOOK_URL with an HMAC-SHA256 signature of the body in the `X-Antifraud-Signature` header,
keyed with ALERT_WEBHOOK_SECRET, and a delivery id (`delivery_id` in the body, the
`X-Antifraud-Delivery` header) that stays the same over the retries, so the receiver can drop
duplicates. Redirects are not followed (the signed summary goes only where it was configured to).

The settings are read and checked once, when the action server starts (`alert_settings()`,
called by `bot.action_server` and when `actions.risk` is imported): outside development the URL
must be https:// and a secret must be set; a malformed timeout or attempt count stops the start.
The alert is sent from a background thread with a timeout and a bounded number of retries, and
`send_case_alert` never raises: a slow, broken or misconfigured receiver never delays or breaks
the chat (the person who has just lost money still gets the stop-payment steps).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

import requests
import structlog

from bot.settings import ConfigurationError, is_development

logger = structlog.get_logger()

SIGNATURE_HEADER = "X-Antifraud-Signature"
DELIVERY_HEADER = "X-Antifraud-Delivery"
MAX_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 10


def _number(variable: str, default: float, low: float, high: float, whole: bool = False) -> float:
    raw = (os.environ.get(variable) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ConfigurationError(f"{variable}={raw!r} is not a {'whole ' if whole else ''}number.")
    if not low <= value <= high:
        raise ConfigurationError(f"{variable} must be between {low:g} and {high:g}, not {raw}.")
    return value


@dataclass(frozen=True)
class AlertSettings:
    url: str
    secret: str
    timeout_s: float = 3.0
    attempts: int = 3
    backoff_s: float = 0.5

    @classmethod
    def from_environment(cls) -> Optional[AlertSettings]:
        """The alert settings, None when alerts are off; ConfigurationError when they are unusable."""
        url = (os.environ.get("ALERT_WEBHOOK_URL") or "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigurationError("ALERT_WEBHOOK_URL must be an https:// URL with a host.")
        if parts.scheme == "http" and not is_development():
            raise ConfigurationError("ALERT_WEBHOOK_URL must be https:// outside development.")
        secret = (os.environ.get("ALERT_WEBHOOK_SECRET") or "").strip()
        if not secret:
            if not is_development():
                raise ConfigurationError("ALERT_WEBHOOK_URL is set but ALERT_WEBHOOK_SECRET is not.")
            logger.warning("alerts.unsigned_in_development")
        return cls(
            url=url,
            secret=secret,
            timeout_s=_number("ALERT_WEBHOOK_TIMEOUT_S", 3.0, 0.1, MAX_TIMEOUT_S),
            attempts=int(_number("ALERT_WEBHOOK_ATTEMPTS", 3, 1, MAX_ATTEMPTS, whole=True)),
        )


@functools.lru_cache(maxsize=1)
def alert_settings() -> Optional[AlertSettings]:
    """The settings, read once per process (at the action server's start); ConfigurationError there."""
    return AlertSettings.from_environment()


@functools.lru_cache(maxsize=1)
def payment_channels() -> frozenset:
    """The fixed names a payment channel may have in an alert (knowledge/facts.yml `channels`)."""
    from bot.facts import load_rules

    return frozenset(load_rules().channels)


def payment_channel_name(value: Any) -> Optional[str]:
    """One of the fixed names, "other" for anything else the person said, None when nothing was said."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) and value in payment_channels() else "other"


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(settings: AlertSettings, summary: Dict[str, Any]) -> bool:
    """POST the summary, retrying on errors and 5xx; True when the receiver took it (2xx)."""
    delivery_id = str(summary.get("delivery_id") or uuid.uuid4())
    body = json.dumps({**summary, "delivery_id": delivery_id}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, settings.secret),
        DELIVERY_HEADER: delivery_id,
    }
    for attempt in range(1, settings.attempts + 1):
        try:
            response = requests.post(
                settings.url, data=body, headers=headers, timeout=settings.timeout_s, allow_redirects=False
            )
            if response.status_code < 500:
                ok = response.status_code < 300
                event = "alerts.delivered" if ok else (
                    "alerts.redirect_refused" if response.status_code < 400 else "alerts.refused"
                )
                logger.info(event, status=response.status_code, delivery_id=delivery_id)
                return ok
            logger.warning("alerts.receiver_error", status=response.status_code, attempt=attempt,
                           delivery_id=delivery_id)
        except requests.RequestException as error:
            logger.warning("alerts.unreachable", error=type(error).__name__, attempt=attempt, delivery_id=delivery_id)
        if attempt < settings.attempts:
            time.sleep(settings.backoff_s * attempt)
    return False


def send_case_alert(summary: Dict[str, Any]) -> Optional[threading.Thread]:
    """Send in the background when alerts are configured; returns the thread (for tests).

    Never raises: whatever goes wrong is logged and the chat goes on.
    """
    try:
        settings = alert_settings()
        if settings is None:
            return None
        summary = {**summary, "payment_channel": payment_channel_name(summary.get("payment_channel"))}
        thread = threading.Thread(target=deliver, args=(settings, summary), name="case-alert", daemon=True)
        thread.start()
        return thread
    except Exception as error:
        logger.error("alerts.not_sent", error=type(error).__name__)
        return None
