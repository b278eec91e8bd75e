"""The reported-identifier store: reports by keyed hash, lookups, matches counted, CSV rows in and out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.storage.cases import database_url, make_engine
from bot.storage.models import IdentifierMatch, IdentifierReport, utc_now

STAFF, IMPORT, CASE = "staff", "import", "case"


@dataclass(frozen=True)
class ReportCount:
    reports: int
    first: datetime
    last: datetime

    def as_dict(self) -> Dict[str, Any]:
        return {"reports": self.reports, "first_reported_on": self.first.date().isoformat(),
                "last_reported_on": self.last.date().isoformat()}


@dataclass(frozen=True)
class NewReport:
    kind: str
    key_hash: str
    source: str
    reference: Optional[str] = None
    reported_at: Optional[datetime] = None


class ReportRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True)

    @classmethod
    def from_environment(cls) -> ReportRepository:
        """The case database (CASE_DB_URL): reports live beside the cases."""
        return cls(make_engine(database_url()))

    def add(self, reports: Sequence[NewReport]) -> int:
        """Store the reports in one transaction; one already there under the same reference is skipped.

        Returns how many were new.
        """
        if not reports:
            return 0
        referenced = {(r.kind, r.key_hash, r.reference) for r in reports if r.reference is not None}
        with self._sessions.begin() as session:
            known = set()
            hashes = sorted({h for _, h, _ in referenced})
            for start in range(0, len(hashes), 500):
                known.update(session.execute(
                    sa.select(IdentifierReport.kind, IdentifierReport.key_hash, IdentifierReport.reference)
                    .where(IdentifierReport.key_hash.in_(hashes[start:start + 500]))
                    .where(IdentifierReport.reference.is_not(None))
                ).all())
            added = 0
            for report in reports:
                identity = (report.kind, report.key_hash, report.reference)
                if report.reference is not None:
                    if identity in known:
                        continue
                    known.add(identity)
                session.add(IdentifierReport(
                    kind=report.kind, key_hash=report.key_hash, source=report.source, reference=report.reference,
                    reported_at=report.reported_at or utc_now(),
                ))
                added += 1
        return added

    def counts(self, keys: Iterable[Tuple[str, str]]) -> Dict[Tuple[str, str], ReportCount]:
        """(kind, key_hash) -> how often and when it was reported, for the keys that were."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        found: Dict[Tuple[str, str], ReportCount] = {}
        with self._sessions() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = session.execute(
                    sa.select(IdentifierReport.kind, IdentifierReport.key_hash, sa.func.count(),
                              sa.func.min(IdentifierReport.reported_at), sa.func.max(IdentifierReport.reported_at))
                    .where(IdentifierReport.key_hash.in_([h for _, h in chunk]))
                    .group_by(IdentifierReport.kind, IdentifierReport.key_hash)
                )
                for kind, key_hash, n, first, last in rows:
                    if (kind, key_hash) in chunk:
                        found[(kind, key_hash)] = ReportCount(int(n), first, last)
        return found

    def withdraw(self, kind: str, key_hash: str) -> int:
        """Delete every report of one identifier (entered by mistake); returns how many."""
        with self._sessions.begin() as session:
            return int(session.execute(
                sa.delete(IdentifierReport).where(IdentifierReport.kind == kind)
                .where(IdentifierReport.key_hash == key_hash)
            ).rowcount)

    def record_matches(self, kinds: Sequence[str], channel: Optional[str]) -> None:
        with self._sessions.begin() as session:
            session.add_all(IdentifierMatch(kind=kind, channel=channel) for kind in kinds)

    def export_rows(self) -> List[Tuple[str, str, int, str, str]]:
        """(kind, key_hash, reports, first day, last day) for every reported identifier."""
        with self._sessions() as session:
            rows = session.execute(
                sa.select(IdentifierReport.kind, IdentifierReport.key_hash, sa.func.count(),
                          sa.func.min(IdentifierReport.reported_at), sa.func.max(IdentifierReport.reported_at))
                .group_by(IdentifierReport.kind, IdentifierReport.key_hash)
                .order_by(IdentifierReport.kind, IdentifierReport.key_hash)
            )
            return [(k, h, int(n), first.date().isoformat(), last.date().isoformat()) for k, h, n, first, last in rows]

    def stats(self, since: date, until: date) -> Dict[str, Any]:
        """Reported identifiers by kind (all time) and the matches in the period, by kind and by day."""
        window = sa.and_(
            IdentifierMatch.matched_at >= datetime.combine(since, time.min),
            IdentifierMatch.matched_at < datetime.combine(until + timedelta(days=1), time.min),
        )
        with self._sessions() as session:
            identifiers = session.execute(
                sa.select(IdentifierReport.kind, sa.func.count(sa.distinct(IdentifierReport.key_hash)))
                .group_by(IdentifierReport.kind)
            ).all()
            by_kind = session.execute(
                sa.select(IdentifierMatch.kind, sa.func.count()).where(window).group_by(IdentifierMatch.kind)
            ).all()
            by_day = session.execute(
                sa.select(sa.func.date(IdentifierMatch.matched_at), sa.func.count()).where(window)
                .group_by(sa.func.date(IdentifierMatch.matched_at))
            ).all()
        return {
            "reported_by_kind": dict(sorted((k, int(n)) for k, n in identifiers)),
            "matches": sum(int(n) for _, n in by_kind),
            "matches_by_kind": dict(sorted((k, int(n)) for k, n in by_kind)),
            # str(): SQLite's date() gives a string, PostgreSQL's a date.
            "matches_by_day": dict(sorted((str(d), int(n)) for d, n in by_day)),
        }


def count_for(found: Mapping[Tuple[str, str], ReportCount], keys: Sequence[Tuple[str, str]]) -> Optional[ReportCount]:
    """The reports of an identifier known under several keys (a host and its parent domains), summed."""
    counts = [found[k] for k in keys if k in found]
    if not counts:
        return None
    return ReportCount(sum(c.reports for c in counts), min(c.first for c in counts), max(c.last for c in counts))
