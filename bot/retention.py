"""Delete conversations, cases, closed handoffs and feedback older than N days: `python -m bot.retention --days 90`.

A conversation goes whole once its latest event is older than that; a case once it
has not been updated for that long. The stores are found as the server finds them:
TRACKER_DB_DIALECT, TRACKER_DB_HOST and TRACKER_DB (endpoints.yml; the defaults of
scripts/run.sh), and CASE_DB_URL.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bot.storage.cases import CaseRepository, owner_only_sqlite
from bot.storage.feedback import FeedbackRepository
from bot.storage.handoffs import HandoffRepository
from bot.storage.migrate import upgrade


def tracker_store_url() -> Any:
    """The tracker store's URL, built as Rasa builds it from endpoints.yml."""
    return SQLTrackerStore.get_db_url(
        dialect=os.environ.get("TRACKER_DB_DIALECT") or "sqlite",
        host=os.environ.get("TRACKER_DB_HOST") or None,
        db=os.environ.get("TRACKER_DB") or "var/tracker.db",
    )


def delete_old_conversations(engine: sa.engine.Engine, days: int) -> Tuple[int, int]:
    """(conversations, events) deleted: every event of each sender whose latest event is older than `days`."""
    if not sa.inspect(engine).has_table("events"):
        return 0, 0
    events = SQLTrackerStore.SQLEvent.__table__
    cutoff = time.time() - days * 86400
    stale = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    with engine.begin() as connection:
        conversations = connection.execute(sa.select(sa.func.count()).select_from(stale.subquery())).scalar_one()
        deleted = connection.execute(sa.delete(events).where(events.c.sender_id.in_(stale))).rowcount
    return int(conversations), int(deleted)


def positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return days


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=positive_days, required=True, help="keep the last DAYS days")
    args = parser.parse_args(argv)

    url = tracker_store_url()
    owner_only_sqlite(url)  # a first run creates the file: owner-only, like the server's
    engine = sa.create_engine(url, future=True)
    try:
        conversations, events = delete_old_conversations(engine, args.days)
    finally:
        engine.dispose()
    upgrade()  # as at start-up: the job also works before the server first ran
    cases = CaseRepository.from_environment().delete_older_than(args.days)
    handoffs = HandoffRepository.from_environment().delete_older_than(args.days)
    feedback = FeedbackRepository.from_environment().delete_older_than(args.days)
    print(f"retention: deleted {conversations} conversations ({events} events), {cases} cases, "
          f"{handoffs} closed handoffs and {feedback} feedback notes older than {args.days} days")


if __name__ == "__main__":
    main()
