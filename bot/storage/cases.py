"""The one way to read and write case records: upsert per conversation, statistics, retention."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.case_codes import new_code
from bot.settings import require_postgresql
from bot.storage.models import Case, CaseNote, utc_now

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'cases.db'}"
UNKNOWN = "unknown"
FIELDS = frozenset(
    {"channel", "language", "scam_type", "risk_level", "money_sent", "amount_band",
     "credentials_shared", "minutes_since_transfer"}
)


def database_url() -> str:
    url = (os.environ.get("CASE_DB_URL") or "").strip() or DEFAULT_URL
    require_postgresql("CASE_DB_URL", url)
    return url


def owner_only_sqlite(url: Any) -> None:
    """A SQLite file database is created readable and writable by its owner only (0600), or made so.

    SQLite gives its journal and WAL files the database file's permissions.
    """
    parsed = sa.engine.make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # never truncates an existing file
    os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    options: Dict[str, Any] = {"future": True, "pool_pre_ping": True}
    owner_only_sqlite(parsed)
    if parsed.get_backend_name() == "postgresql":
        # An unreachable database must fail fast, not hold up the chat.
        options["connect_args"] = {"connect_timeout": 5}
    return sa.create_engine(url, **options)


@dataclass(frozen=True)
class CaseStats:
    since: date
    until: date
    total: int
    by_scam_type: Dict[str, int]
    by_risk_level: Dict[str, int]
    by_day: Dict[str, int]

    def as_dict(self) -> Dict[str, Any]:
        return {
            "from": self.since.isoformat(), "to": self.until.isoformat(), "total": self.total,
            "by_scam_type": self.by_scam_type, "by_risk_level": self.by_risk_level, "by_day": self.by_day,
        }

    def rows(self) -> List[Tuple[str, str, int]]:
        """(dimension, value, count), the CSV export's rows."""
        return [
            (dimension, value, count)
            for dimension, counts in (
                ("scam_type", self.by_scam_type), ("risk_level", self.by_risk_level), ("day", self.by_day)
            )
            for value, count in counts.items()
        ]


class CaseRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True)

    @classmethod
    def from_environment(cls) -> CaseRepository:
        """CASE_DB_URL (any SQLAlchemy URL), by default the SQLite file var/cases.db."""
        return cls(make_engine(database_url()))

    def upsert(self, conversation_id: str, **fields: Any) -> str:
        """Create the conversation's case or update the given fields of it; returns the case's code."""
        unknown = set(fields) - FIELDS
        if unknown:
            raise ValueError(f"not case fields: {sorted(unknown)}")
        # Rasa's lock store runs one conversation's actions one at a time, so
        # select-then-insert does not race with itself for a conversation.
        with self._sessions.begin() as session:
            case = session.execute(
                sa.select(Case).where(Case.conversation_id == conversation_id)
            ).scalar_one_or_none()
            if case is None:
                case = Case(conversation_id=conversation_id)
                session.add(case)
            self._update(session, case, fields)
            return str(case.case_code)

    def update_by_code(self, code: str, **fields: Any) -> bool:
        """Update the case with this code (a later chat that quoted it); False when there is none."""
        unknown = set(fields) - FIELDS
        if unknown:
            raise ValueError(f"not case fields: {sorted(unknown)}")
        with self._sessions.begin() as session:
            case = session.execute(sa.select(Case).where(Case.case_code == code)).scalar_one_or_none()
            if case is None:
                return False
            self._update(session, case, fields)
            return True

    @staticmethod
    def _update(session: Any, case: Case, fields: Dict[str, Any]) -> None:
        for name, value in fields.items():
            setattr(case, name, value)
        case.updated_at = utc_now()
        if case.case_code is None:
            case.case_code = CaseRepository._unused_code(session)

    @staticmethod
    def _unused_code(session: Any) -> str:
        # 31^8 codes: a clash is rare, and checked rather than left to the unique constraint.
        while True:
            code = new_code()
            if session.execute(sa.select(Case.id).where(Case.case_code == code)).first() is None:
                return code

    def find(self, code: str) -> Optional[Dict[str, Any]]:
        """The case with this code as a summary (no message text but its redacted notes), or None."""
        with self._sessions() as session:
            case = session.execute(sa.select(Case).where(Case.case_code == code)).scalar_one_or_none()
            if case is None:
                return None
            notes = session.execute(
                sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.added_at, CaseNote.id)
            ).scalars()
            summary = {name: getattr(case, name) for name in sorted(FIELDS)}
            return {
                **summary, "case_code": case.case_code, "conversation_id": case.conversation_id,
                "created_at": case.created_at.isoformat(timespec="seconds") + "Z",
                "updated_at": case.updated_at.isoformat(timespec="seconds") + "Z",
                "notes": [{"added_at": n.added_at.isoformat(timespec="seconds") + "Z", "source": n.source,
                           "text": n.text} for n in notes],
            }

    def add_note(self, code: str, source: str, text: str) -> bool:
        """A redacted note added to the case with this code; False when there is none."""
        with self._sessions.begin() as session:
            case_id = session.execute(sa.select(Case.id).where(Case.case_code == code)).scalar_one_or_none()
            if case_id is None:
                return False
            session.add(CaseNote(case_id=case_id, source=source, text=text))
            session.execute(sa.update(Case).where(Case.id == case_id).values(updated_at=utc_now()))
            return True

    def stats(self, since: date, until: date) -> CaseStats:
        """Cases created from `since` to `until` (both whole UTC days), counted three ways."""
        window = sa.and_(
            Case.created_at >= datetime.combine(since, time.min),
            Case.created_at < datetime.combine(until + timedelta(days=1), time.min),
        )
        with self._sessions() as session:
            def counts(column: Any) -> Dict[str, int]:
                rows = session.execute(sa.select(column, sa.func.count()).where(window).group_by(column))
                # str(): SQLite's date() gives a string, PostgreSQL's a date.
                return dict(sorted((UNKNOWN if key is None else str(key), n) for key, n in rows))

            by_day = counts(sa.func.date(Case.created_at))
            return CaseStats(
                since=since, until=until, total=sum(by_day.values()),
                by_scam_type=counts(Case.scam_type), by_risk_level=counts(Case.risk_level), by_day=by_day,
            )

    def delete_older_than(self, days: int) -> int:
        """Delete the cases not updated for `days` days; returns how many."""
        cutoff = utc_now() - timedelta(days=days)
        with self._sessions.begin() as session:
            # SQLite enforces no foreign keys unless asked: the notes go first, explicitly.
            stale = sa.select(Case.id).where(Case.updated_at < cutoff)
            session.execute(sa.delete(CaseNote).where(CaseNote.case_id.in_(stale)),
                            execution_options={"synchronize_session": False})
            return int(session.execute(sa.delete(Case).where(Case.updated_at < cutoff)).rowcount)
