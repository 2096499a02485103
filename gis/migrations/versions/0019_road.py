"""roads: the lines a redistricting proposal prefers to cut along

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 05:30:00.000000

* ``road``: one road or railway line (``wangge load roads``, or the demo city's streets):
  its class (OSM ``highway``/``railway`` value), name, whether it is a tunnel, a
  MultiLineString and its source. ``code`` is the file's id or a digest of the line, so a
  reload updates instead of duplicating. The GiST index serves "the roads crossing this
  community" (``community_inputs``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "road",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("class", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("tunnel", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name="road_geom_valid"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_road_geom",
        "road",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    op.drop_geospatial_index(
        "idx_road_geom", table_name="road", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("road")
