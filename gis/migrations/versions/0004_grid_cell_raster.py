"""grid cell raster: which current grid covers each cell, for the batched PostGIS join

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 22:30:00.000000

The current grids' extent is cut into about CELLS_PER_GRID square cells per grid
(``grid_raster``, one row). ``grid_cell`` lists, per cell, every current grid intersecting
it; ``covers`` marks a cell that exactly one grid intersects and that grid covers, so every
point of the cell belongs to that grid. The batched join computes a point's cell
arithmetically and hash-joins it here instead of probing the GiST index per point.

The tables are derived: a statement trigger on ``grid`` rebuilds them inside the
transaction that changed the grids, so they can never disagree with the grid table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELLS_PER_GRID = 16
"""As gis/spatial_join/cells.py: finer cells cover more points but the table grows with
their square, and every batch hashes the whole table."""
CELL_MARGIN_DEG = 1e-9
"""Each cell is tested grown by this margin (about 0.1 mm), so a point that floating-point
rounding puts into a neighbouring cell is still inside the cell it is looked up in."""

REFRESH_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_refresh_grid_cells() RETURNS void
LANGUAGE plpgsql
SET jit = off
SET work_mem = '64MB'
AS $$
DECLARE
    margin CONSTANT double precision := {CELL_MARGIN_DEG};
    extent box2d;
    current_grids bigint;
    side_m double precision;
    metres_per_degree_x double precision;
    metres_per_degree_y CONSTANT double precision := 110574.0;
    raster grid_raster;
BEGIN
    -- One refresh at a time: a second writer waits here, then sees the first one's rows.
    LOCK TABLE grid_raster IN EXCLUSIVE MODE;
    DELETE FROM grid_cell;
    DELETE FROM grid_raster;
    SELECT ST_Extent(geom), count(*) INTO extent, current_grids FROM grid WHERE valid_to IS NULL;
    IF current_grids = 0 THEN
        RETURN;
    END IF;
    metres_per_degree_x := 111320.0 * cos(radians((ST_YMin(extent) + ST_YMax(extent)) / 2));
    side_m := sqrt((ST_XMax(extent) - ST_XMin(extent)) * metres_per_degree_x
                   * (ST_YMax(extent) - ST_YMin(extent)) * metres_per_degree_y
                   / ({CELLS_PER_GRID} * current_grids));
    raster.x0 := ST_XMin(extent);
    raster.y0 := ST_YMin(extent);
    raster.nx := greatest(1, ceil((ST_XMax(extent) - raster.x0) * metres_per_degree_x / side_m));
    raster.ny := greatest(1, ceil((ST_YMax(extent) - raster.y0) * metres_per_degree_y / side_m));
    raster.dx := (ST_XMax(extent) - raster.x0) / raster.nx;
    raster.dy := (ST_YMax(extent) - raster.y0) / raster.ny;
    -- From this moment on, the grids valid at any time are exactly the current ones.
    SELECT max(greatest(valid_from, valid_to)) INTO raster.valid_since FROM grid;
    INSERT INTO grid_raster SELECT raster.*;

    INSERT INTO grid_cell (cell, grid_id, grid_code, covers)
    SELECT cell, grid_id, grid_code, covers AND count(*) OVER (PARTITION BY cell) = 1
    FROM (
        SELECT cell.id AS cell, g.id AS grid_id, g.code AS grid_code,
               ST_Covers(g.geom, cell.box) AS covers
        FROM grid AS g
        CROSS JOIN LATERAL generate_series(
            greatest(0, floor((ST_XMin(g.geom) - margin - raster.x0) / raster.dx)::integer),
            least(raster.nx - 1, floor((ST_XMax(g.geom) + margin - raster.x0) / raster.dx)::integer)
        ) AS cell_column
        CROSS JOIN LATERAL generate_series(
            greatest(0, floor((ST_YMin(g.geom) - margin - raster.y0) / raster.dy)::integer),
            least(raster.ny - 1, floor((ST_YMax(g.geom) + margin - raster.y0) / raster.dy)::integer)
        ) AS cell_row
        CROSS JOIN LATERAL (
            SELECT cell_row::bigint * raster.nx + cell_column AS id,
                   ST_MakeEnvelope(raster.x0 + cell_column * raster.dx - margin,
                                   raster.y0 + cell_row * raster.dy - margin,
                                   raster.x0 + (cell_column + 1) * raster.dx + margin,
                                   raster.y0 + (cell_row + 1) * raster.dy + margin,
                                   ST_SRID(g.geom)) AS box
        ) AS cell
        WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, cell.box)
    ) AS candidate;
    ANALYZE grid_cell;  -- batches plan their hash join on the new statistics at once
END;
$$
"""
TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION wangge_grid_cells_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wangge_refresh_grid_cells();
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.execute(
        "CREATE TABLE grid_raster ("
        " x0 double precision NOT NULL, y0 double precision NOT NULL,"
        " dx double precision NOT NULL CHECK (dx > 0), dy double precision NOT NULL CHECK (dy > 0),"
        " nx integer NOT NULL CHECK (nx > 0), ny integer NOT NULL CHECK (ny > 0),"
        " valid_since timestamptz NOT NULL)"
    )
    op.execute("CREATE UNIQUE INDEX grid_raster_one_row ON grid_raster ((true))")
    op.execute(
        "CREATE TABLE grid_cell ("
        " cell bigint NOT NULL, grid_id bigint NOT NULL, grid_code varchar(15) NOT NULL,"
        " covers boolean NOT NULL)"
    )
    op.execute(REFRESH_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER grid_cells_refresh"
        " AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF code, geom, valid_from, valid_to"
        " ON grid FOR EACH STATEMENT EXECUTE FUNCTION wangge_grid_cells_refresh()"
    )
    op.execute("SELECT wangge_refresh_grid_cells()")  # for grids already in the database


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS grid_cells_refresh ON grid")
    op.execute("DROP FUNCTION IF EXISTS wangge_grid_cells_refresh()")
    op.execute("DROP FUNCTION IF EXISTS wangge_refresh_grid_cells()")
    op.execute("DROP TABLE IF EXISTS grid_cell")
    op.execute("DROP TABLE IF EXISTS grid_raster")
