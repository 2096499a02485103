"""plan jobs: the API's propose jobs (progress, cancel, result) kept in the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:00:00.000000

* ``plan_job``: one ``POST /api/plans/propose`` — who asked, for which community or
  street, with which parameters; its state (queued → running → done | failed |
  cancelled), stage and share done, the draft plans it made and their metrics, or why it
  failed. Kept in the database so that a job survives as a record: a job still queued or
  running when the API starts again is marked failed ("the API restarted"), never lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_job",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("stage", sa.Text(), server_default="queued", nullable=False),
        sa.Column("fraction", sa.Float(), server_default="0", nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name="plan_job_status",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("plan_job_open", "plan_job", ["status"])


def downgrade() -> None:
    op.drop_index("plan_job_open", table_name="plan_job")
    op.drop_table("plan_job")
