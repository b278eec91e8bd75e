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
    # What the person quotes on the phone or brings back to a new chat (bot/case_codes.py).
    case_code = sa.Column(sa.String(8), unique=True)


class CaseNote(Base):
    """Something added to a case later: a new transfer or number from a chat that quoted its code, redacted."""

    __tablename__ = "case_notes"

    id = sa.Column(sa.Integer, primary_key=True)
    case_id = sa.Column(sa.Integer, sa.ForeignKey("cases.id", name="fk_case_notes_case_id", ondelete="CASCADE"),
                        nullable=False, index=True)
    added_at = sa.Column(sa.DateTime, nullable=False, default=utc_now)
    source = sa.Column(sa.String(16), nullable=False)  # person, staff
    text = sa.Column(sa.Text, nullable=False)


class Handoff(Base):
    """A chat waiting for, held by, or handed back by hotline staff. The queue is what `waiting` rows say."""

    __tablename__ = "handoffs"

    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    case_code = sa.Column(sa.String(8))
    channel = sa.Column(sa.String(64))
    language = sa.Column(sa.String(8))
    scam_type = sa.Column(sa.String(64))
    risk_level = sa.Column(sa.String(16))
    # The triage facts so far, as JSON: money sent, amount band, minutes since, details given away.
    facts = sa.Column(sa.Text, nullable=False, default="{}")
    status = sa.Column(sa.String(16), nullable=False, index=True)  # waiting, taken, closed
    requested_at = sa.Column(sa.DateTime, nullable=False, default=utc_now)
    taken_at = sa.Column(sa.DateTime)
    closed_at = sa.Column(sa.DateTime)
    console_id = sa.Column(sa.String(64))  # the console that took it


class StaffOnDuty(Base):
    """A console marked on duty, seen at its last heartbeat."""

    __tablename__ = "staff_on_duty"

    console_id = sa.Column(sa.String(64), primary_key=True)
    seen_at = sa.Column(sa.DateTime, nullable=False, default=utc_now)


class VerdictFeedback(Base):
    """A verdict the person or staff said was wrong, with the redacted text it was about."""

    __tablename__ = "verdict_feedback"

    id = sa.Column(sa.Integer, primary_key=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utc_now, index=True)
    source = sa.Column(sa.String(16), nullable=False)  # person, staff
    channel = sa.Column(sa.String(64))
    case_code = sa.Column(sa.String(8))
    judged_type = sa.Column(sa.String(64), nullable=False)  # a scam type, or "none"
    right_type = sa.Column(sa.String(64))  # a scam type, "none" (not a scam), or None (not said)
    text = sa.Column(sa.Text, nullable=False)
    comment = sa.Column(sa.Text)


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
