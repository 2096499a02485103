"""The detector's thresholds, taken once from Settings (library code never reads them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from gis.settings import Settings


@dataclass(frozen=True)
class WatchConfig:
    """Mirror of the ``watch_*`` settings (see gis/settings.py for what each means)."""

    waking_hours: tuple[int, int]
    gap_factor: float
    gap_margin_h: float
    min_samples: int
    default_gap_h: float
    min_gap_h: float
    no_activity_night_until: int
    morning_margin_h: float
    default_first_use_hour: int
    up_water_l: float
    default_exit_gap_h: float
    min_exit_gap_h: float
    exit_factor: float
    default_out_h: float
    out_margin_h: float
    not_back_hours: tuple[int, int]
    night_out_memory_days: float
    night_out_h: float
    default_run_h: float
    water_min_l: float
    flow_min_l: float
    power_active_w: float
    standby_quantile: float
    unattended_hours: tuple[int, int]
    single_factor: float
    single_min_h: float
    device_offline_h: float
    door_doubt_h: float
    power_stuck_h: float
    family_first: bool
    family_wait_h: float
    quiet_after_visit_h: float
    decline_ratio: float
    timezone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> WatchConfig:
        values: dict[str, object] = {
            f.name: getattr(settings, f"watch_{f.name}")
            for f in fields(cls)
            if f.name != "timezone"
        }
        values["timezone"] = ZoneInfo(settings.local_timezone)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
