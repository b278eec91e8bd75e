"""Conversation ids: one namespace per door, and never the id the client sent.

A client names its conversation (`sender`: the web page's random id, an integration's own id, which
may be a phone number). What Rasa keeps as the conversation's id (its `sender_id`: the stored events,
the lock, the case record, the alert, the logs) is a keyed hash of the door and that name:

    <door>-<first 32 hex digits of HMAC-SHA256(SENDER_ID_KEY, door + NUL + sender)>

So the same `sender` sent to two doors is two conversations (a conversation started through the
integration door cannot be read from the web chat's history or driven through REST), and nothing
stored or logged can be read back as a phone number without the key. Outside development
(ANTIFRAUD_ENV) the key must be set (16 characters at least); a new key starts every conversation
afresh.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Optional

from bot.settings import ConfigurationError, is_development, required_secret

KEY_VARIABLE = "SENDER_ID_KEY"
MIN_KEY_CHARS = 16
DOORS = ("webchat", "rest", "integration")
DIGEST_CHARS = 32


@functools.lru_cache(maxsize=1)
def sender_id_key() -> str:
    """SENDER_ID_KEY; ConfigurationError outside development when it is missing or short."""
    key = required_secret(KEY_VARIABLE, "conversation ids")
    if len(key) < MIN_KEY_CHARS and not is_development():
        raise ConfigurationError(f"{KEY_VARIABLE} must be at least {MIN_KEY_CHARS} characters.")
    return key


def conversation_id(door: str, sender: str, key: Optional[str] = None) -> str:
    """The id Rasa stores for `sender` of `door`."""
    if door not in DOORS:
        raise ValueError(f"unknown door {door!r}")
    message = door.encode() + b"\x00" + sender.encode("utf-8")
    digest = hmac.new((key or sender_id_key()).encode(), message, hashlib.sha256).hexdigest()
    return f"{door}-{digest[:DIGEST_CHARS]}"
