"""push_subscription: a field-app device session's Web Push subscription

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:10:00.000000

* ``push_subscription``: what the field app's service worker got from
  ``PushManager.subscribe`` (endpoint and the p256dh/auth keys), one per device session
  (``session_sha256``, deleted with the session), for the worker of that login. The urgent
  ladder's ``web_push`` step sends to a worker's newest subscription
  (``push_subscription_worker``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_subscription",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.Text(), nullable=False),
        sa.Column("auth", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["session_sha256"], ["app_session.token_sha256"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_sha256"),
    )
    op.create_index(
        "push_subscription_worker",
        "push_subscription",
        ["worker_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("push_subscription_worker", table_name="push_subscription")
    op.drop_table("push_subscription")
