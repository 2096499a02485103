"""grid plans: drafts of a community's new grids, applied as new grid versions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:15:00.000000

* ``grid_plan``: one plan of one community (draft → applied → superseded), its targets,
  parameters and metrics, who applied it from when, and ``version`` for optimistic
  concurrency (every PUT must name the version it read).
* ``grid_plan_grid``: the plan's grid polygons with codes, household and building counts
  and the planner's worker assignments for the grid (overriding the automatic ones).
* ``grid_plan_building``: each building's grid in the plan, and whether the planner locked it.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grid_plan",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
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
        sa.Column("target_min", sa.Integer(), server_default="300", nullable=False),
        sa.Column("target_max", sa.Integer(), server_default="500", nullable=False),
        sa.Column("target", sa.Integer(), server_default="450", nullable=False),
        sa.Column(
            "params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "metrics", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("status IN ('draft', 'applied', 'superseded')", name="grid_plan_status"),
        sa.CheckConstraint(
            "0 < target_min AND target_min <= target AND target <= target_max",
            name="grid_plan_targets_order",
        ),
        sa.ForeignKeyConstraint(["community_code"], ["community.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("grid_plan_community", "grid_plan", ["community_code", "status"])
    op.create_table(
        "grid_plan_grid",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False
            ),
            nullable=False,
        ),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("buildings", sa.Integer(), server_default="0", nullable=False),
        sa.Column("assignments", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_plan_grid_code_format"),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "code"),
    )
    op.create_table(
        "grid_plan_building",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("building_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("locked", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plan.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "building_id"),
    )


def downgrade() -> None:
    op.drop_table("grid_plan_building")
    op.drop_table("grid_plan_grid")
    op.drop_index("grid_plan_community", table_name="grid_plan")
    op.drop_table("grid_plan")
