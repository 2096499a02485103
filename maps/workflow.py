"""Which work-order buttons the task panel offers, derived from the state machine.

The API decides (gis.workorders and api.actions refuse with 409/403); this table only keeps
the panel from offering moves that cannot succeed. ``who`` is checked in the browser against
the logged-in user: ``desk`` (admin, operator, cadre), ``assignee`` (the task's assignee),
``notified`` (told of the task by an escalation), or a combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gis.workorders import OPEN_STATES, TRANSITIONS

DESK_ROLES = ("admin", "operator", "cadre")
Who = Literal["desk", "assignee", "notified", "assignee_or_notified", "desk_or_assignee"]
Form = Literal[
    "none", "worker", "note", "required_note", "handled", "evaluate", "escalate", "duplicate"
]


@dataclass(frozen=True)
class UiAction:
    name: str
    """The API action: POST /api/tasks/{id}/{name}."""
    targets: frozenset[str]
    """The states it moves a task to; empty for actions that change no state."""
    who: Who
    form: Form

    def from_states(self) -> list[str]:
        if not self.targets:
            return sorted(OPEN_STATES)
        return sorted(state for state, nxt in TRANSITIONS.items() if nxt & self.targets)


UI_ACTIONS = (
    UiAction("file", frozenset({"filed"}), "desk", "none"),
    UiAction("dispatch", frozenset({"dispatched"}), "desk", "worker"),
    UiAction("accept", frozenset({"accepted"}), "assignee_or_notified", "none"),
    UiAction("acknowledge", frozenset(), "notified", "none"),
    UiAction("start", frozenset({"in_progress"}), "assignee", "none"),
    UiAction("handled", frozenset({"handled"}), "assignee", "handled"),
    # evaluate moves handled → evaluating → closed/reopened in one call.
    UiAction("evaluate", frozenset({"evaluating", "closed", "reopened"}), "desk", "evaluate"),
    UiAction("escalate", frozenset({"escalated"}), "desk_or_assignee", "escalate"),
    UiAction("return", frozenset({"returned"}), "assignee", "required_note"),
    UiAction("invalid", frozenset({"invalid"}), "desk", "required_note"),
    UiAction("duplicate", frozenset({"duplicate"}), "desk", "duplicate"),
)


def action_table() -> list[dict]:
    """The table the page gets in its configuration."""
    return [
        {"name": a.name, "who": a.who, "form": a.form, "from_states": a.from_states()}
        for a in UI_ACTIONS
    ]
