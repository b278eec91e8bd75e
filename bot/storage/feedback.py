"""Verdicts the person or staff said were wrong: stored redacted, counted, exported for the team's data work."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.privacy import redact
from bot.storage.cases import UNKNOWN, database_url, make_engine
from bot.storage.models import VerdictFeedback, utc_now

PERSON, STAFF = "person", "staff"
NOT_A_SCAM = "none"
# Enough to read the case again; a pasted chat log beyond this is cut.
MAX_TEXT_CHARS = 4000
EXPORT_COLUMNS = ("created_at", "source", "channel", "case_code", "judged_type", "right_type", "text", "comment")


@dataclass(frozen=True)
class NewFeedback:
    source: str
    judged_type: str
    text: str
    right_type: Optional[str] = None
    comment: Optional[str] = None
    channel: Optional[str] = None
    case_code: Optional[str] = None


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (a pasted scam text may start with "=")."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _redacted(text: Optional[str]) -> Optional[str]:
    # Redacted before it is cut: a number cut in two would no longer be recognised.
    return redact(text)[:MAX_TEXT_CHARS] if text else None


class FeedbackRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True)

    @classmethod
    def from_environment(cls) -> FeedbackRepository:
        """The case database (CASE_DB_URL)."""
        return cls(make_engine(database_url()))

    def add(self, feedback: NewFeedback) -> int:
        """Store it with its texts redacted (whatever the caller did); returns its id."""
        row = VerdictFeedback(
            source=feedback.source, judged_type=feedback.judged_type, right_type=feedback.right_type,
            text=_redacted(feedback.text) or "", comment=_redacted(feedback.comment), channel=feedback.channel,
            case_code=feedback.case_code, created_at=utc_now(),
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def _window(self, since: date, until: date) -> Any:
        return sa.and_(
            VerdictFeedback.created_at >= datetime.combine(since, time.min),
            VerdictFeedback.created_at < datetime.combine(until + timedelta(days=1), time.min),
        )

    def stats(self, since: date, until: date) -> Dict[str, Any]:
        """How many verdicts were called wrong, by whom and from which type to which."""
        with self._sessions() as session:
            rows = session.execute(
                sa.select(VerdictFeedback.source, VerdictFeedback.judged_type, VerdictFeedback.right_type,
                          sa.func.count())
                .where(self._window(since, until))
                .group_by(VerdictFeedback.source, VerdictFeedback.judged_type, VerdictFeedback.right_type)
            ).all()
        by_source: Dict[str, int] = {}
        pairs: Dict[str, int] = {}
        for source, judged, right, count in rows:
            by_source[source] = by_source.get(source, 0) + count
            key = f"{judged}->{right or UNKNOWN}"
            pairs[key] = pairs.get(key, 0) + count
        return {"total": sum(by_source.values()), "by_source": dict(sorted(by_source.items())),
                "by_correction": dict(sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])))}

    def export_csv(self, since: date, until: date) -> str:
        with self._sessions() as session:
            rows: List[VerdictFeedback] = list(session.execute(
                sa.select(VerdictFeedback).where(self._window(since, until)).order_by(VerdictFeedback.id)
            ).scalars())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([row.created_at.isoformat(timespec="seconds") + "Z", row.source, row.channel or "",
                             row.case_code or "", row.judged_type, row.right_type or "",
                             spreadsheet_safe(row.text), spreadsheet_safe(row.comment or "")])
        return out.getvalue()

    def delete_older_than(self, days: int) -> int:
        cutoff = utc_now() - timedelta(days=days)
        with self._sessions.begin() as session:
            return int(session.execute(sa.delete(VerdictFeedback).where(VerdictFeedback.created_at < cutoff)).rowcount)
