"""Rasa's RedisLockStore, repaired for several replicas (endpoints.production.yml).

Rasa 3.6's ticket lock reads a conversation's lock from Redis, changes it and writes it
back in separate commands: two replicas taking a ticket at the same moment can both get
the same number and run the same conversation's turns at once ("far from atomic",
RasaHQ/rasa#3933; the concurrent store of #11256 went to Rasa Pro only). And a request whose
own ticket expires while it waits (behind a crashed replica's ticket, say) waits forever:
with no tickets left, "now serving" is 0 and never its number (tests/test_lock_store.py).

Here every read-change-write of a lock holds a short Redis mutex (redis-py's Lock), and a
waiter whose ticket expired takes a new one. Everything else is Rasa's.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Holding the mutex takes two Redis round trips; this only bounds a holder that died.
MUTEX_TIMEOUT_S = 5


class TicketExpired(Exception):
    """The waiting request's own ticket expired before its turn came."""


class ConcurrentRedisLockStore(RedisLockStore):
    """endpoints.yml `lock_store: type: bot.lock_store.ConcurrentRedisLockStore`, with
    RedisLockStore's settings (url, port, db, password, use_ssl, key_prefix, ...)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_TIMEOUT_S, blocking_timeout=MUTEX_TIMEOUT_S
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                try:
                    acquired = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
                    break
                except TicketExpired:
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
            yield acquired
        finally:
            self.cleanup(conversation_id, ticket)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is not None:
                lock.remove_expired_tickets()
            if lock is None or all(t.number != ticket for t in lock.tickets):
                raise TicketExpired(conversation_id)
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
