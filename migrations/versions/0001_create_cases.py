"""Create the cases table.

Revision ID: 0001
Revises:
Create Date: 2025-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("scam_type", sa.String(length=64), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column("money_sent", sa.Boolean(), nullable=True),
        sa.Column("amount_band", sa.String(length=16), nullable=True),
        sa.Column("minutes_since_transfer", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_cases_conversation_id")),
    )
    op.create_index(op.f("ix_cases_created_at"), "cases", ["created_at"])
    op.create_index(op.f("ix_cases_updated_at"), "cases", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_updated_at"), table_name="cases")
    op.drop_index(op.f("ix_cases_created_at"), table_name="cases")
    op.drop_table("cases")
