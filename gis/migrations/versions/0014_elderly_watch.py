"""elderly watch: enrolment, family contacts, hourly rollup (by month), detector state

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:00:00.000000

* ``watch_enrolment``: a household opted in to the elderly watch (who gave consent, when),
  its watch settings (signals, known routines, quiet hours), the door controller that
  serves it and a known absence (``away_until``, why, who set it).
* ``watch_contact``: the family contacts told first (name, phone, relation, channel).
* ``watch_hour``: per household and hour the rollup the detector learns from (water litres,
  energy Wh and the seconds of power reports for the mean power, door exits/entries and how
  many reports each device sent). PARTITIONED BY RANGE (hour), one partition a month,
  created ahead and dropped after the retention by the sweep's maintenance
  (ingest/watch_store.py); this migration creates none.
* ``watch_device_hour``: per door controller and hour, how many times it said it was
  online (heartbeats): an hour without a passage is then a 0, not "not reported", for every
  household whose entrance it serves (``watch_enrolment.door_device_id``).
* ``watch_state``: the detector state of each enrolled household (ingest.watch STATE_DTYPE
  bytes), its layout version and the epoch hour it is due at.
* ``watch_notice``: a family notice about an open case, sent by the delivery sender through
  gis.channels; the family's "all fine" answer (signed link) is recorded on it.
* ``watch_outcome``: what the worker found on a visit (all well / needed help / away /
  device fault) or the family answered, queued for the sweep to feed into the detector
  state (``applied_at`` once it has).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "watch_enrolment",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("consent_by", sa.Text(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "signals",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{water,power,door}'"),
            nullable=False,
        ),
        sa.Column("routines", sa.Text(), nullable=True),
        sa.Column("quiet_from", sa.SmallInteger(), nullable=True),
        sa.Column("quiet_until", sa.SmallInteger(), nullable=True),
        sa.Column("door_device_id", sa.String(length=64), nullable=True),
        sa.Column("away_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("away_reason", sa.Text(), nullable=True),
        sa.Column("away_set_by", sa.Text(), nullable=True),
        sa.Column("enrolled_by", sa.Text(), nullable=False),
        _now(),
        sa.CheckConstraint(
            "signals <@ ARRAY['water', 'power', 'door']::text[]", name="watch_enrolment_signals"
        ),
        sa.CheckConstraint(
            "quiet_from IS NULL OR quiet_from BETWEEN 0 AND 23", name="watch_enrolment_quiet_from"
        ),
        sa.CheckConstraint(
            "quiet_until IS NULL OR quiet_until BETWEEN 0 AND 23",
            name="watch_enrolment_quiet_until",
        ),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["door_device_id"], ["device.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("household_id"),
    )
    op.create_index(
        "watch_enrolment_door",
        "watch_enrolment",
        ["door_device_id"],
        unique=False,
        postgresql_where=sa.text("door_device_id IS NOT NULL"),
    )
    op.create_table(
        "watch_contact",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), server_default="sms", nullable=False),
        _now(),
        sa.ForeignKeyConstraint(
            ["household_id"], ["watch_enrolment.household_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("watch_contact_household", "watch_contact", ["household_id"], unique=False)
    op.create_table(
        "watch_hour",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("water_l", sa.Float(), server_default="0", nullable=False),
        sa.Column("water_reports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("energy_wh", sa.Float(), server_default="0", nullable=False),
        sa.Column("power_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("power_reports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("door_exits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("door_entries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("door_reports", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("household_id", "hour"),
        postgresql_partition_by="RANGE (hour)",
    )
    op.create_table(
        "watch_device_hour",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("device_id", "hour"),
    )
    op.create_table(
        "watch_state",
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("due_hour", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["watch_enrolment.household_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("household_id"),
    )
    op.create_index("watch_state_due", "watch_state", ["due_hour", "household_id"], unique=False)
    op.create_table(
        "watch_notice",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _now(),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'failed', 'cancelled')", name="watch_notice_state"
        ),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["watch_contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "contact_id", name="watch_notice_once"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "watch_notice_due",
        "watch_notice",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.create_table(
        "watch_outcome",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("away_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        _now(),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('all_well', 'needed_help', 'away', 'device_fault')",
            name="watch_outcome_kind",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["watch_enrolment.household_id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "watch_outcome_pending",
        "watch_outcome",
        ["household_id"],
        unique=False,
        postgresql_where=sa.text("applied_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "watch_outcome_pending",
        table_name="watch_outcome",
        postgresql_where=sa.text("applied_at IS NULL"),
    )
    op.drop_table("watch_outcome")
    op.drop_index(
        "watch_notice_due", table_name="watch_notice", postgresql_where=sa.text("state = 'queued'")
    )
    op.drop_table("watch_notice")
    op.drop_index("watch_state_due", table_name="watch_state")
    op.drop_table("watch_state")
    op.drop_table("watch_device_hour")
    op.drop_table("watch_hour")
    op.drop_index("watch_contact_household", table_name="watch_contact")
    op.drop_table("watch_contact")
    op.drop_index(
        "watch_enrolment_door",
        table_name="watch_enrolment",
        postgresql_where=sa.text("door_device_id IS NOT NULL"),
    )
    op.drop_table("watch_enrolment")
