"""task: English title for the worker task message, and deadlines that are estimates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:30:00.000000

* ``title_en``: the task's English title, written where the task is made (the rules know
  it), so the one task-message builder (gis.task_messages) reads both languages from the row.
* ``due_estimated``: the deadline needed a day past the working calendar's coverage and
  was counted by weekday only (gis.work_calendar).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("task", sa.Column("title_en", sa.Text(), nullable=True))
    op.add_column(
        "task",
        sa.Column("due_estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("task", "due_estimated")
    op.drop_column("task", "title_en")
