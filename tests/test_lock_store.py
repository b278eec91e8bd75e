"""The lock store the replicas share (bot/lock_store.py), against a real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import ConcurrentRedisLockStore


def store(redis_url: str) -> ConcurrentRedisLockStore:
    parts = urlsplit(redis_url)
    return ConcurrentRedisLockStore(EndpointConfig(
        url=parts.hostname, port=parts.port, db=1, password=parts.password, key_prefix="test"
    ))


def test_tickets_taken_at_once_from_many_clients_are_all_different(redis_server: str) -> None:
    # One store per thread: like replicas, they share nothing but Redis.
    stores = [store(redis_server) for _ in range(24)]
    conversation = uuid.uuid4().hex
    with ThreadPoolExecutor(len(stores)) as pool:
        tickets = list(pool.map(lambda s: s.issue_ticket(conversation, 30), stores))
    assert sorted(tickets) == list(range(len(stores)))
    lock = stores[0].get_lock(conversation)
    assert lock is not None and sorted(t.number for t in lock.tickets) == list(range(len(stores)))


async def _wait_behind_a_dead_ticket(lock_store: RedisLockStore, conversation: str) -> float:
    # A crashed replica's ticket (never released), then a request that waits behind it long
    # enough for its own ticket to expire too: it polls at 0, 1 and 2 s; both are gone by 2 s.
    lock_store.issue_ticket(conversation, 1.2)
    started = time.monotonic()
    async with lock_store.lock(conversation, lock_lifetime=1.5, wait_time_in_seconds=1):
        return time.monotonic() - started


def test_a_request_whose_ticket_expired_behind_a_crashed_one_goes_on(redis_server: str) -> None:
    lock_store = store(redis_server)
    conversation = uuid.uuid4().hex
    waited = asyncio.run(asyncio.wait_for(_wait_behind_a_dead_ticket(lock_store, conversation), timeout=15))
    assert 1.0 <= waited < 5
    # Its (new) ticket was released with it: the next turn does not wait.
    assert lock_store.get_lock(conversation) is None


def test_rasas_own_store_waits_forever_there(redis_server: str) -> None:
    """Why bot/lock_store.py exists: the same wait never ends with Rasa's RedisLockStore."""
    parts = urlsplit(redis_server)
    rasa_store = RedisLockStore(host=parts.hostname or "", port=parts.port or 0, db=1,
                                password=parts.password, key_prefix="test")
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(_wait_behind_a_dead_ticket(rasa_store, uuid.uuid4().hex), timeout=6))
