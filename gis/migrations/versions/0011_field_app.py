"""field app: idempotency keys, resumable uploads, on-site check-ins, household visits

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:10:00.000000

* ``idempotency_key``: the first response to a state-changing request, per (user, key),
  written in the request's own transaction, so a retry is answered without acting again.
* ``upload``: a resumable upload (the field app's photos) — how many bytes have arrived.
* ``task_checkin``: a worker's GPS check-in at a task, with the distance to the incident.
* ``household_visit``: 走访 records of a grid worker's households.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("response_type", sa.Text()),
        sa.Column("response_body", sa.LargeBinary()),
    )
    op.create_index("idempotency_key_expires", "idempotency_key", ["expires_at"])
    op.create_table(
        "upload",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("extension", sa.Text()),
        sa.Column("task_id", sa.BigInteger(), sa.ForeignKey("task.id", ondelete="SET NULL")),
        _now(),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("received >= 0 AND received <= size", name="upload_received_in_size"),
    )
    op.create_table(
        "task_checkin",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "task_id",
            sa.BigInteger(),
            sa.ForeignKey("task.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(64), sa.ForeignKey("worker.id")),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("accuracy_m", sa.Float()),
        sa.Column("distance_m", sa.Float()),
    )
    op.create_table(
        "household_visit",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "household_id",
            sa.BigInteger(),
            sa.ForeignKey("household.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(64), sa.ForeignKey("worker.id")),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.CheckConstraint(
            "outcome IN ('ok', 'needs_help', 'not_home')", name="household_visit_outcome"
        ),
    )
    op.create_index("household_visit_recent", "household_visit", ["household_id", "at"])


def downgrade() -> None:
    op.drop_table("household_visit")
    op.drop_table("task_checkin")
    op.drop_table("upload")
    op.drop_table("idempotency_key")
