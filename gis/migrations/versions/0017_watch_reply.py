"""watch_reply: families' SMS replies to elderly-watch notices

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:40:00.000000

* ``watch_reply``: one row per reply a provider pushed (Aliyun SmsUp, Tencent 短信回复),
  unique per provider key (``watch_reply_once``: providers retry, a second delivery is
  no second reply): the number, the text, what it was understood as (``fine`` / ``away``
  with ``away_days``), the notice it answered and its household, and the outcome
  (``answered`` / ``not_understood`` / ``no_notice``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_reply",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("provider_key", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("understood", sa.Text(), nullable=True),
        sa.Column("away_days", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('answered', 'not_understood', 'no_notice')", name="watch_reply_outcome"
        ),
        sa.CheckConstraint("understood IN ('fine', 'away')", name="watch_reply_understood"),
        sa.ForeignKeyConstraint(["notice_id"], ["watch_notice.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_key", name="watch_reply_once"),
    )
    op.create_index(
        "watch_reply_household", "watch_reply", ["household_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("watch_reply_household", table_name="watch_reply")
    op.drop_table("watch_reply")
