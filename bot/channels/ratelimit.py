"""Limits on chat messages, per conversation and per client address, counted in one place for all replicas.

Two limits, each "at most N messages within W seconds of the first" (the `limits` library's fixed
window; N = 0 switches a limit off):

- per conversation, web chat: WEBCHAT_RATE_MESSAGES (default 20) per WEBCHAT_RATE_WINDOW_S (default 60).
  Rasa runs one conversation's turns one at a time, so a flood from one sender id would queue up.
- per client address, web chat and the anonymous REST door together: CLIENT_RATE_MESSAGES (default
  120) per CLIENT_RATE_WINDOW_S (default 60). The client chooses its sender ids; it does not choose
  its address, so a new sender id does not reset this one. The integration door (behind its token)
  is not limited per address: one partner system speaks for many people.

Where the counts live: in this process's memory, or, when REDIS_HOST is set (production,
endpoints.production.yml), in that Redis (REDIS_PORT, REDIS_DB, REDIS_PASSWORD, REDIS_KEY_PREFIX,
as the lock store), so every replica counts the same messages. Counters are named by a keyed hash
(SENDER_ID_KEY) of the address or sender id, never the address itself, and expire with their
window. A Redis that does not answer lets the message through (logged): the lock store then refuses
the turn anyway, with a 503.

The client address is the connection's peer. Behind load balancers or proxies every peer is a
proxy: TRUSTED_PROXY_HOPS=N (default 0) says that N proxies of ours each append the address they
saw to X-Forwarded-For, and the client is then the N-th address from the right. With 0, the header
is ignored, since a client can write anything in it; with N set, the proxies must overwrite or
append to it (they do by default in nginx with $proxy_add_x_forwarded_for, and in HAProxy with
`option forwardfor`). RATE_LIMIT_EXEMPT lists addresses never limited per client (a monitoring
probe, the test client). Several people behind one carrier-grade NAT share an address: set
CLIENT_RATE_MESSAGES with that in mind.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, FrozenSet, Optional
from urllib.parse import quote

import structlog
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import error_response
from bot.knowledge import load_knowledge, localized
from bot.language import SUPPORTED
from bot.senders import sender_id_key
from bot.settings import ConfigurationError

logger = structlog.get_logger()

DEFAULT_MESSAGES = 20
DEFAULT_WINDOW_S = 60
DEFAULT_CLIENT_MESSAGES = 120
DEFAULT_CLIENT_WINDOW_S = 60
# The doors limited per client address.
CLIENT_LIMITED_DOORS = ("webchat", "rest")


def _number(variable: str, default: float, minimum: float) -> float:
    raw = (os.environ.get(variable) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value >= minimum or math.isinf(value):
        raise ConfigurationError(f"{variable} must be a number >= {minimum:g}, got {raw!r}.")
    return value


@dataclass(frozen=True)
class Limit:
    """At most `messages` messages within `window_s` seconds; 0 messages: no limit."""

    messages: int
    window_s: int

    @classmethod
    def from_environment(cls, messages: str, window: str, default_messages: int, default_window_s: int) -> Limit:
        count = _number(messages, default_messages, 0)
        if count != int(count):
            raise ConfigurationError(f"{messages} must be a whole number, got {count:g}.")
        window_s = _number(window, default_window_s, 0)
        if window_s <= 0:
            raise ConfigurationError(f"{window} must be a number of seconds > 0, got {window_s:g}.")
        return cls(int(count), math.ceil(window_s))  # whole seconds, as Redis expiries count


def storage_uri() -> str:
    """`memory://`, or the Redis of the lock store when REDIS_HOST is set."""
    host = (os.environ.get("REDIS_HOST") or "").strip()
    if not host:
        return "memory://"
    port = (os.environ.get("REDIS_PORT") or "6379").strip()
    db = (os.environ.get("REDIS_DB") or "0").strip()
    if not port.isdigit() or not db.isdigit():
        raise ConfigurationError("REDIS_PORT and REDIS_DB must be numbers.")
    password = os.environ.get("REDIS_PASSWORD") or ""
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def client_address(request: Request, proxy_hops: int) -> str:
    """The peer's address, or with `proxy_hops` trusted proxies the one the outermost of them saw."""
    peer = str(request.ip or "")
    if proxy_hops <= 0:
        return peer
    forwarded = [
        part.strip() for header in request.headers.getall("x-forwarded-for", []) for part in header.split(",")
    ]
    if len(forwarded) < proxy_hops:
        return peer  # not through all our proxies: the peer is all we know
    claimed = forwarded[-proxy_hops]
    try:
        return str(ipaddress.ip_address(claimed))
    except ValueError:
        return peer  # our proxy would have written an address: someone else wrote this one


class RateLimits:
    """The per-conversation and per-client limits over one `limits` storage."""

    def __init__(
        self,
        conversation: Limit,
        client: Limit,
        uri: str = "memory://",
        proxy_hops: int = 0,
        exempt: FrozenSet[str] = frozenset(),
        prefix: str = "antifraud",
    ) -> None:
        self._storage = storage_from_string(uri)  # the limiter holds it by a weak reference only
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._conversation = (
            RateLimitItemPerSecond(conversation.messages, conversation.window_s, namespace=f"{prefix}-conversation")
            if conversation.messages else None
        )
        self._client = (
            RateLimitItemPerSecond(client.messages, client.window_s, namespace=f"{prefix}-client")
            if client.messages else None
        )
        self.proxy_hops = proxy_hops
        self.exempt = exempt
        self.shared = not uri.startswith("memory://")

    @classmethod
    def from_environment(cls) -> RateLimits:
        """The settings named in this module's docstring; ConfigurationError when one is unfit."""
        hops = _number("TRUSTED_PROXY_HOPS", 0, 0)
        exempt = frozenset(a.strip() for a in (os.environ.get("RATE_LIMIT_EXEMPT") or "").split(",") if a.strip())
        for address in exempt:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigurationError(f"RATE_LIMIT_EXEMPT: {address!r} is not an IP address.") from None
        return cls(
            Limit.from_environment("WEBCHAT_RATE_MESSAGES", "WEBCHAT_RATE_WINDOW_S", DEFAULT_MESSAGES,
                                   DEFAULT_WINDOW_S),
            Limit.from_environment("CLIENT_RATE_MESSAGES", "CLIENT_RATE_WINDOW_S", DEFAULT_CLIENT_MESSAGES,
                                   DEFAULT_CLIENT_WINDOW_S),
            storage_uri(),
            int(hops),
            exempt,
            (os.environ.get("REDIS_KEY_PREFIX") or "antifraud").strip(),
        )

    def _wait(self, item: Optional[RateLimitItemPerSecond], key: str) -> Optional[int]:
        if item is None:
            return None
        try:
            if self._limiter.hit(item, key):
                return None
            reset, _ = self._limiter.get_window_stats(item, key)
        except RedisError as error:
            logger.warning("ratelimit.storage_unavailable", error=str(error))
            return None
        return max(1, math.ceil(reset - time.time()))

    def retry_after(self, request: Request, door: str, conversation: Optional[str] = None) -> Optional[int]:
        """None, counting the message, if it may be taken now; else the seconds to wait."""
        if door in CLIENT_LIMITED_DOORS:
            address = client_address(request, self.proxy_hops)
            if address not in self.exempt:
                wait = self._wait(self._client, _counter("client", address))
                if wait is not None:
                    return wait
        if conversation is not None:
            return self._wait(self._conversation, _counter(door, conversation))
        return None


def _counter(kind: str, value: str) -> str:
    """The counter's name: a keyed hash (SENDER_ID_KEY), so no address or sender id sits in Redis."""
    message = kind.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(sender_id_key().encode(), message, hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=1)
def shared_rate_limits() -> RateLimits:
    """One set of limits for every door of this process (read at start-up, when the channels are made)."""
    return RateLimits.from_environment()


def rate_limited(retry_after: int, lang: Any) -> HTTPResponse:
    """429 with the chat's own words (knowledge/messages.yml) and a Retry-After header."""
    text = localized(load_knowledge().chat["rate_limited"], lang if lang in SUPPORTED else "zh")
    refusal = error_response(429, "rate_limited", str(text).format(seconds=retry_after))
    refusal.headers["Retry-After"] = str(retry_after)
    return refusal
