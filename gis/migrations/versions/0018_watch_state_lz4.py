"""watch state: its bytes compressed with lz4, not pglz

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 05:30:00.000000

* ``watch_state.state`` (STATE_DTYPE, 2,112 bytes) is just over the TOAST threshold, so
  PostgreSQL compresses every state it writes; with the default pglz the sweep's UPDATE of
  the new states was about half of a swept hour (benchmarks/watch_sweep_db.py: 0.67 s of
  1.31 s for 10k households). lz4 compresses several times faster, a little less tightly
  (a learned state in ~820 bytes instead of ~590, still inline). Rows written before keep
  pglz until the sweep rewrites them (within the hour). A server built without lz4 keeps
  pglz (the sweep works the same, only slower).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IF_LZ4 = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings
             WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))
  THEN
    ALTER TABLE watch_state ALTER COLUMN state SET COMPRESSION {compression};
  END IF;
END $$
"""


def upgrade() -> None:
    op.execute(_IF_LZ4.format(compression="lz4"))


def downgrade() -> None:
    op.execute(_IF_LZ4.format(compression="default"))
