"""resident_report: a resident's report (居民随手拍 / Open311 POST) behind a task

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:50:00.000000

* ``resident_report``: one row per report accepted from the public (/report or Open311
  POST requests.json), beside the task it became. The follow-up secret is stored only as
  its SHA-256 (``token_hash``, unique: the follow page looks it up). The reporter's email
  and phone are for the desk's call back only and never leave the staff API.
* ``resident_report_address`` and ``resident_report_phone`` serve the rate limits
  (reports of one client address / one phone within the window).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resident_report",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("address_string", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("client_address", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "resident_report_address",
        "resident_report",
        ["client_address", "created_at"],
        unique=False,
    )
    op.create_index(
        "resident_report_phone",
        "resident_report",
        ["phone", "created_at"],
        unique=False,
        postgresql_where=sa.text("phone IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "resident_report_phone",
        table_name="resident_report",
        postgresql_where=sa.text("phone IS NOT NULL"),
    )
    op.drop_index("resident_report_address", table_name="resident_report")
    op.drop_table("resident_report")
