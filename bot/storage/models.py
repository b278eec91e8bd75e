"""The case table: one row per conversation, a summary without any message text or personal data."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

# Named constraints, so that migrations create the same names on SQLite and PostgreSQL.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
# Any: SQLAlchemy 1.4 has no type information for the declarative base.
Base: Any = declarative_base(metadata=metadata)

def utc_now() -> datetime:
    """Naive UTC: the same value on SQLite (no time zones) and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Case(Base):
    __tablename__ = "cases"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, unique=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utc_now, index=True)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utc_now, index=True)
    channel = sa.Column(sa.String(64))
    language = sa.Column(sa.String(8))
    scam_type = sa.Column(sa.String(64))
    risk_level = sa.Column(sa.String(16))
    # None: not asked yet or not answered.
    money_sent = sa.Column(sa.Boolean)
    amount_band = sa.Column(sa.String(16))  # bot.amounts: "<1k" … ">=100k", "unknown"
    credentials_shared = sa.Column(sa.Boolean)
    minutes_since_transfer = sa.Column(sa.Float)


class IdentifierReport(Base):
    """One report of a phone number, domain or account id, kept only as a keyed hash (bot/reported.py)."""

    __tablename__ = "identifier_reports"
    # One report per source reference: a case that agrees twice, or a list imported twice, counts once.
    __table_args__ = (sa.UniqueConstraint("kind", "key_hash", "reference", name="uq_identifier_reports_reference"),)

    id = sa.Column(sa.Integer, primary_key=True)
    kind = sa.Column(sa.String(16), nullable=False)
    key_hash = sa.Column(sa.String(64), nullable=False, index=True)
    source = sa.Column(sa.String(16), nullable=False)  # staff, import, case
    # None for a staff entry (each one counts); else a keyed hash of the case or of the imported row.
    reference = sa.Column(sa.String(64))
    reported_at = sa.Column(sa.DateTime, nullable=False, default=utc_now)


class IdentifierMatch(Base):
    """A message that named a reported identifier: counted on the statistics page, nothing else kept."""

    __tablename__ = "identifier_matches"

    id = sa.Column(sa.Integer, primary_key=True)
    kind = sa.Column(sa.String(16), nullable=False)
    channel = sa.Column(sa.String(64))
    matched_at = sa.Column(sa.DateTime, nullable=False, default=utc_now, index=True)
