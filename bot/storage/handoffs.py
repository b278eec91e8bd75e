"""The hotline handoff queue and who is on duty, in the case database: every replica reads the same queue.

Taking a chat is one conditional UPDATE (waiting -> taken), so two staff on two replicas cannot both take it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.storage.cases import database_url, make_engine
from bot.storage.models import Handoff, StaffOnDuty, utc_now

WAITING, TAKEN, CLOSED = "waiting", "taken", "closed"
# The chat's slot: "waiting" (in the queue) or "with_staff" (taken; the bot stays quiet).
HANDOFF_SLOT, WITH_STAFF = "handoff", "with_staff"
# A console that has not sent its heartbeat for this long is no longer on duty.
ON_DUTY_WITHIN = timedelta(seconds=60)
# The wait quoted to a person: the median of the last takes, when there are enough of them.
RECENT_TAKES = 20
RECENT_DAYS = 7
MIN_TAKES_FOR_ESTIMATE = 3
FACT_NAMES = ("money_sent", "amount_band", "minutes_since_transfer", "credentials_shared")


@dataclass(frozen=True)
class QueuePlace:
    handoff_id: int
    position: int  # 1: next to be taken
    typical_wait_minutes: Optional[int]  # None: too few recent takes to say


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def as_dict(handoff: Handoff, now: datetime) -> Dict[str, Any]:
    """What the console lists: the case's type, risk and facts, never message text."""
    started = handoff.taken_at if handoff.status != WAITING and handoff.taken_at else now
    return {
        "id": handoff.id, "status": handoff.status, "case_code": handoff.case_code, "channel": handoff.channel,
        "language": handoff.language, "scam_type": handoff.scam_type, "risk_level": handoff.risk_level,
        "facts": json.loads(handoff.facts or "{}"), "requested_at": _iso(handoff.requested_at),
        "taken_at": _iso(handoff.taken_at), "closed_at": _iso(handoff.closed_at),
        "waited_seconds": int((started - handoff.requested_at).total_seconds()),
        "console_id": handoff.console_id,
    }


def queue_order(handoff: Handoff) -> Tuple[bool, datetime, int]:
    """The order staff see and people are told: critical chats first, then the oldest."""
    return handoff.risk_level != "critical", handoff.requested_at, handoff.id


class HandoffRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True)

    @classmethod
    def from_environment(cls) -> HandoffRepository:
        """The case database (CASE_DB_URL)."""
        return cls(make_engine(database_url()))

    # Staff on duty

    def heartbeat(self, console_id: str) -> int:
        """This console is on duty now; returns how many consoles are."""
        now = utc_now()
        with self._sessions.begin() as session:
            present = session.get(StaffOnDuty, console_id)
            if present is None:
                session.add(StaffOnDuty(console_id=console_id, seen_at=now))
            else:
                present.seen_at = now
        return self.on_duty()

    def off_duty(self, console_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(sa.delete(StaffOnDuty).where(StaffOnDuty.console_id == console_id))

    def on_duty(self) -> int:
        with self._sessions() as session:
            return int(session.execute(
                sa.select(sa.func.count()).select_from(StaffOnDuty)
                .where(StaffOnDuty.seen_at >= utc_now() - ON_DUTY_WITHIN)
            ).scalar_one())

    # The person's side

    def request(self, conversation_id: str, case: Mapping[str, Any]) -> QueuePlace:
        """Queue the conversation (once: asking again keeps its place, with the case's facts brought up to date)."""
        facts = json.dumps({k: case.get(k) for k in FACT_NAMES if case.get(k) is not None}, ensure_ascii=False)
        with self._sessions.begin() as session:
            handoff = session.execute(
                sa.select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == WAITING)
            ).scalars().first()
            if handoff is None:
                handoff = Handoff(conversation_id=conversation_id, status=WAITING, requested_at=utc_now())
                session.add(handoff)
            for name in ("case_code", "channel", "language", "scam_type", "risk_level"):
                setattr(handoff, name, case.get(name))
            handoff.facts = facts
            session.flush()
            waiting = session.execute(sa.select(Handoff).where(Handoff.status == WAITING)).scalars().all()
            position = [h.id for h in sorted(waiting, key=queue_order)].index(handoff.id) + 1
            return QueuePlace(handoff.id, position, self._typical_wait(session))

    @staticmethod
    def _typical_wait(session: Any) -> Optional[int]:
        rows = session.execute(
            sa.select(Handoff.requested_at, Handoff.taken_at)
            .where(Handoff.taken_at.is_not(None), Handoff.taken_at >= utc_now() - timedelta(days=RECENT_DAYS))
            .order_by(Handoff.taken_at.desc()).limit(RECENT_TAKES)
        ).all()
        if len(rows) < MIN_TAKES_FOR_ESTIMATE:
            return None
        seconds = statistics.median((taken - asked).total_seconds() for asked, taken in rows)
        return max(1, round(seconds / 60))

    def current(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        """The conversation's handoff that is waiting or taken, if any."""
        with self._sessions() as session:
            handoff = session.execute(
                sa.select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status != CLOSED)
                .order_by(Handoff.id.desc())
            ).scalars().first()
            return as_dict(handoff, utc_now()) if handoff else None

    # The staff's side

    def queue(self) -> Dict[str, List[Dict[str, Any]]]:
        """Waiting (oldest first, the critical ones before the rest) and taken handoffs."""
        now = utc_now()
        with self._sessions() as session:
            rows = sorted(session.execute(sa.select(Handoff).where(Handoff.status != CLOSED)).scalars().all(),
                          key=queue_order)
            return {"waiting": [as_dict(h, now) for h in rows if h.status == WAITING],
                    "taken": [as_dict(h, now) for h in rows if h.status == TAKEN]}

    def get(self, handoff_id: int) -> Optional[Dict[str, Any]]:
        with self._sessions() as session:
            handoff = session.get(Handoff, handoff_id)
            return as_dict(handoff, utc_now()) if handoff else None

    def conversation_of(self, handoff_id: int) -> Optional[str]:
        with self._sessions() as session:
            handoff = session.get(Handoff, handoff_id)
            return str(handoff.conversation_id) if handoff else None

    def take(self, handoff_id: int, console_id: str) -> bool:
        """Whether this console took the waiting handoff (False: gone, or another console was first)."""
        with self._sessions.begin() as session:
            updated = session.execute(
                sa.update(Handoff).where(Handoff.id == handoff_id, Handoff.status == WAITING)
                .values(status=TAKEN, taken_at=utc_now(), console_id=console_id)
            ).rowcount
            return bool(updated)

    def reopen(self, handoff_id: int) -> None:
        """Back to waiting: taking it failed before the chat was paused."""
        with self._sessions.begin() as session:
            session.execute(sa.update(Handoff).where(Handoff.id == handoff_id, Handoff.status == TAKEN)
                            .values(status=WAITING, taken_at=None, console_id=None))

    def close(self, handoff_id: int, console_id: str) -> bool:
        """Whether this console handed back the chat it held."""
        with self._sessions.begin() as session:
            updated = session.execute(
                sa.update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == TAKEN, Handoff.console_id == console_id)
                .values(status=CLOSED, closed_at=utc_now())
            ).rowcount
            return bool(updated)

    def delete_older_than(self, days: int) -> int:
        cutoff = utc_now() - timedelta(days=days)
        with self._sessions.begin() as session:
            return int(session.execute(
                sa.delete(Handoff).where(Handoff.requested_at < cutoff, Handoff.status == CLOSED)
            ).rowcount)
