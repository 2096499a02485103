"""What a sweep reports: resident alerts (a family notice or a visit task) and device tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Level = Literal["family", "visit", "device"]

KINDS = (
    # resident kinds, most serious first: one open case hides the ones after it
    "no_activity",  # water and/or power absent longer than normal, nobody went out
    "not_up",  # no sign of getting up by this household's latest usual first use + margin
    "continuous_flow",  # water running longer than this household's longest normal run
    "not_back",  # 久未归: out past the usual return time
    "no_exit",  # 久未出: no door exit for longer than normal for this person
    "power_standby",  # electricity flat at standby for long while water is used
    "decline",  # water and electricity of the last week well below the weeks before
    "device_offline_water",
    "device_offline_power",
    "device_offline_door",
    "meter_stuck_water",  # water at zero for long while the resident is clearly active
    "meter_stuck_power",  # power meter at 0 W: not even the fridge
)
KIND = {name: i for i, name in enumerate(KINDS)}
DEVICE_KINDS = frozenset(k for k in KINDS if k.startswith(("device_", "meter_")))
RESIDENT_KINDS = frozenset(KINDS) - DEVICE_KINDS

TITLES: dict[str, tuple[str, str]] = {
    "no_activity": ("长时间无用水用电迹象", "No sign of water or electricity use for too long"),
    "not_up": ("早晨迟迟无起床迹象", "No sign of getting up this morning"),
    "power_standby": ("用电长时间处于待机水平", "Electricity flat at standby for too long"),
    "continuous_flow": ("持续用水不停", "Water running without a break"),
    "no_exit": ("久未出门", "Has not gone out for longer than usual"),
    "not_back": ("夜间久未归家", "Not back home at the usual time"),
    "decline": ("近一周用水用电明显减少", "Water and electricity use well below normal this week"),
    "device_offline_water": ("水表离线", "Water meter offline"),
    "device_offline_power": ("电表离线", "Electricity meter offline"),
    "device_offline_door": ("门禁离线", "Door controller offline"),
    "meter_stuck_water": ("水表读数停滞 (疑似故障)", "Water meter reading stuck (suspected fault)"),
    "meter_stuck_power": (
        "电表读数为零 (疑似故障或断电)",
        "Power meter at zero (fault or cut off)",
    ),
}


@dataclass(frozen=True)
class Finding:
    household: int
    """Index of the household in the swept batch (callers map it to their id)."""
    at: datetime
    """End of the hour in which it was found (event time)."""
    kind: str
    level: Level
    hours: float
    """How long the condition has lasted (the gap, run or absence), in hours; for not_up
    the local time (hour) it was found; for decline the litres of water a day at home in
    the last week."""
    normal_h: float
    """The household's threshold it passed, in hours (0 for device findings); for not_up
    the local hour by which this household is normally up; for decline the litres a day at
    home in the weeks before."""
    signals: tuple[str, ...]
    """The signals that are abnormal (water, power, door)."""

    @property
    def resident_alert(self) -> bool:
        return self.level != "device"

    def reason_zh(self) -> str:
        title = TITLES[self.kind][0]
        if self.kind == "not_up":
            return (
                f"{title}: 已到 {self.hours:.0f} 点 (该户通常 {self.normal_h:.0f} 点前已有用水用电)"
            )
        if self.kind == "decline":
            return f"{title}: 本周每天用水 {self.hours:.0f} 升 (此前每天 {self.normal_h:.0f} 升), 用电同样偏低"
        return f"{title}: 已持续 {self.hours:.0f} 小时 (该户正常不超过 {self.normal_h:.0f} 小时)"

    def reason_en(self) -> str:
        title = TITLES[self.kind][1]
        if self.kind == "not_up":
            return f"{title}: {self.hours:.0f}:00 (normally up by {self.normal_h:.0f}:00)"
        if self.kind == "decline":
            return (
                f"{title}: {self.hours:.0f} L of water a day this week "
                f"(before: {self.normal_h:.0f} L), electricity as low"
            )
        return (
            f"{title}: {self.hours:.0f} h (normal for this household: up to {self.normal_h:.0f} h)"
        )
