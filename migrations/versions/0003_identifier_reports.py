"""Add identifier_reports (reported numbers, domains and account ids as keyed hashes) and identifier_matches.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identifier_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identifier_reports"),
        sa.UniqueConstraint("kind", "key_hash", "reference", name="uq_identifier_reports_reference"),
    )
    op.create_index("ix_identifier_reports_key_hash", "identifier_reports", ["key_hash"])
    op.create_table(
        "identifier_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("matched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identifier_matches"),
    )
    op.create_index("ix_identifier_matches_matched_at", "identifier_matches", ["matched_at"])


def downgrade() -> None:
    op.drop_index("ix_identifier_matches_matched_at", "identifier_matches")
    op.drop_table("identifier_matches")
    op.drop_index("ix_identifier_reports_key_hash", "identifier_reports")
    op.drop_table("identifier_reports")
