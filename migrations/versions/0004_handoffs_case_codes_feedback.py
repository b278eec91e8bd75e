"""Add case codes and case notes, the hotline handoff queue and staff on duty, and verdict feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("case_code", sa.String(8), nullable=True))
        batch.create_unique_constraint("uq_cases_case_code", ["case_code"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_notes"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_notes_case_id", ondelete="CASCADE"),
    )
    op.create_index("ix_case_notes_case_id", "case_notes", ["case_id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("case_code", sa.String(8), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("scam_type", sa.String(64), nullable=True),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("console_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    op.create_table(
        "staff_on_duty",
        sa.Column("console_id", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("console_id", name="pk_staff_on_duty"),
    )
    op.create_table(
        "verdict_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("case_code", sa.String(8), nullable=True),
        sa.Column("judged_type", sa.String(64), nullable=False),
        sa.Column("right_type", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_verdict_feedback"),
    )
    op.create_index("ix_verdict_feedback_created_at", "verdict_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_verdict_feedback_created_at", "verdict_feedback")
    op.drop_table("verdict_feedback")
    op.drop_table("staff_on_duty")
    op.drop_index("ix_handoffs_status", "handoffs")
    op.drop_index("ix_handoffs_conversation_id", "handoffs")
    op.drop_table("handoffs")
    op.drop_index("ix_case_notes_case_id", "case_notes")
    op.drop_table("case_notes")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_case_code", type_="unique")
        batch.drop_column("case_code")
