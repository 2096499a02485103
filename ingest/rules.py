"""What each kind of situation becomes: category, urgency, merge scope, who else is told.

Event types not listed here (door passages) are stored and feed the elderly watch's hourly
rollup, but do not open incidents. The watch's own cases (``watch.<kind>``, e.g.
``watch.no_exit``, 久未出) are raised by its sweep (ingest/watch_job.py), not by a device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Urgency = Literal["urgent", "normal"]
MergeScope = Literal["fire", "household"]
"""fire: same camera or same place within the fire window (spatial, under an advisory
lock); household: one open incident per household and type (the merge_key)."""


@dataclass(frozen=True)
class Rule:
    type: str
    category: str
    """As in gis.deadlines (fire, elderly, water_leak, …), which sets the due time."""
    merge: MergeScope
    urgent_always: bool
    """Urgent whoever it concerns; otherwise urgent only for a resident living alone."""
    alert_local_leaders: bool
    """Tell the grid head and the community cadres at once, besides the assignee."""
    escalates: bool
    """Escalate on the escalation_minutes timer until someone accepts."""
    notify_family: bool
    """Tell a lone resident's family contacts (ingest.family_notices)."""
    department: str | None
    """The department called at the last escalation level (社区吹哨、部门报到)."""
    title_zh: str
    title_en: str

    def urgency(self, lives_alone: bool) -> Urgency:
        return "urgent" if self.urgent_always or lives_alone else "normal"


def _fire(type_: str, what_zh: str, what_en: str) -> Rule:
    return Rule(
        type=type_,
        category="fire",
        merge="fire",
        urgent_always=True,
        alert_local_leaders=True,
        escalates=True,
        notify_family=False,
        department="消防",
        title_zh=f"疑似火情({what_zh})——请立即核实",
        title_en=f"Suspected fire ({what_en}): verify now",
    )


def visit_titles(what_zh: str, what_en: str) -> tuple[str, str]:
    """A case's task title when the grid worker is to go and see (zh, en)."""
    return f"{what_zh}——请上门探访", f"{what_en}: visit the household"


def household_rule(
    type_: str, category: str, title_zh: str, title_en: str, *, notify_family: bool
) -> Rule:
    """A case of one household (a meter's alert, the elderly watch's findings): one open
    incident per household, urgent only for a resident living alone, for the grid worker
    alone and without escalation."""
    return Rule(
        type=type_,
        category=category,
        merge="household",
        urgent_always=False,
        alert_local_leaders=False,
        escalates=False,
        notify_family=notify_family,
        department=None,
        title_zh=title_zh,
        title_en=title_en,
    )


def _meter(type_: str, category: str, what_zh: str, what_en: str) -> Rule:
    return household_rule(type_, category, *visit_titles(what_zh, what_en), notify_family=True)


RULES: dict[str, Rule] = {
    rule.type: rule
    for rule in (
        _fire("fire.smoke", "烟雾", "smoke"),
        _fire("fire.flame", "明火", "flame"),
        _meter("meter.water.no_usage", "elderly", "长时间未用水", "No water used for too long"),
        _meter(
            "meter.power.no_usage", "elderly", "长时间未用电", "No electricity used for too long"
        ),
        _meter(
            "meter.water.continuous_flow",
            "water_leak",
            "持续用水不停",
            "Water running without a break",
        ),
    )
}


def rule_for(event_type: str) -> Rule | None:
    return RULES.get(event_type)


def household_key_prefix(event_type: str) -> str:
    return f"{event_type}:household:"


def household_merge_key(event_type: str, household_id: int | None, device_id: str) -> str:
    """One open incident per household and situation (per device if it serves none)."""
    if household_id is None:
        return f"{event_type}:device:{device_id}"
    return f"{household_key_prefix(event_type)}{household_id}"
