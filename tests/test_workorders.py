"""The work-order state machine: legal paths pass and are logged, illegal ones are refused."""

from __future__ import annotations

import pytest

from gis.db import connect
from gis.workorders import (
    AUTO_DISPATCH_PATH,
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    transition,
)


def _new_task(conn) -> int:
    return conn.execute(
        "INSERT INTO task (category, title, state) VALUES ('fire', '烟雾', 'reported') RETURNING id"
    ).fetchone()[0]


def test_workorder_full_loop_is_logged_in_order(database_url: str) -> None:
    path = [*AUTO_DISPATCH_PATH[1:], "accepted", "in_progress", "handled", "evaluating"]
    path += ["reopened", "in_progress", "handled", "evaluating", "closed"]
    with connect(database_url) as conn:
        task_id = _new_task(conn)
        for state in path:
            transition(conn, task_id, state, actor="tester")
        logged = conn.execute(
            "SELECT from_state, to_state FROM task_transition WHERE task_id = %s ORDER BY id",
            (task_id,),
        ).fetchall()
        final = conn.execute("SELECT state FROM task WHERE id = %s", (task_id,)).fetchone()[0]
    assert [to for _, to in logged] == path
    assert [frm for frm, _ in logged] == ["reported", *path[:-1]]
    assert final == "closed"


def test_workorder_refuses_illegal_transition_and_changes_nothing(database_url: str) -> None:
    with connect(database_url) as conn:
        task_id = _new_task(conn)
        with pytest.raises(IllegalTransition, match="cannot become closed"):
            transition(conn, task_id, "closed", actor="tester")
        state = conn.execute("SELECT state FROM task WHERE id = %s", (task_id,)).fetchone()[0]
        logged = conn.execute("SELECT count(*) FROM task_transition").fetchone()[0]
    assert (state, logged) == ("reported", 0)


@pytest.mark.parametrize("terminal", ["closed", "invalid", "duplicate"])
def test_workorder_terminal_states_allow_nothing(terminal: str) -> None:
    for target in TRANSITIONS:
        with pytest.raises(IllegalTransition):
            check_transition(1, terminal, target)
