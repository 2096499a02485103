"""deliveries: one row per message × recipient × channel, and when a recipient saw a task

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 21:10:00.000000

* ``delivery``: what the urgent ladder queued for whom on which channel (gis.channels),
  its state (queued → sent → seen → acknowledged, or failed / cancelled), the provider's
  message id, attempts, when it may be tried next, the last error and its timings.
  ``delivery_once`` makes the ladder's sweep safe in several processes at once;
  ``delivery_due`` serves the sender's claim (queued rows by next_attempt_at).
* ``outbox_task``: the task detail lists a task's MQTT pushes with its deliveries.
* ``task_notification.seen_at``: the app's receipt (POST /api/tasks/{id}/seen), which
  stops the ladder's SMS step for that recipient.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "state IN ('queued', 'sent', 'failed', 'seen', 'acknowledged', 'cancelled')"
STEPS = "step IN ('instant', 'sms', 'voice')"


def upgrade() -> None:
    op.add_column(
        "task_notification", sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "task_notification_open",
        "task_notification",
        ["notified_at"],
        unique=False,
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_index("outbox_task", "outbox", ["task_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(STATES, name="delivery_state"),
        sa.CheckConstraint(STEPS, name="delivery_step"),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "task_id", "worker_id", "level", "step", "channel", name="delivery_once"
        ),
    )
    op.create_index(
        "delivery_due",
        "delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index(
        "delivery_due", table_name="delivery", postgresql_where=sa.text("state = 'queued'")
    )
    op.drop_table("delivery")
    op.drop_index(
        "task_notification_open",
        table_name="task_notification",
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.drop_column("task_notification", "seen_at")
    op.drop_index("outbox_task", table_name="outbox")
