"""Water and electricity meter firmware: register, telemetry, edge-detected anomalies.

The detectors fire once when a condition starts to exceed its threshold and re-arm when it
ends, as docs/mqtt-contract.md section 7.2 describes. The no-usage threshold is learned
from the household's own history, so a night owl and an early riser each get their normal.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from firmware_sim import messages

STANDBY_W = 80.0
"""Average load at or below this is standby (a fridge), not somebody using electricity."""
CHINA_TIME = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Anomaly:
    since: datetime
    threshold_s: float


@dataclass
class NoUsageDetector:
    """No use for longer than factor × the longest gap of the last window, at least minimum.

    Silent during the first learning_s after the first use: it does not know the normal yet.
    """

    min_threshold_s: float = 6 * 3600
    factor: float = 1.5
    window_s: float = 14 * 86400
    learning_s: float = 86400
    first_use: datetime | None = None
    last_use: datetime | None = None
    gaps: deque[tuple[datetime, float]] = field(default_factory=deque)
    fired: bool = False

    def threshold_s(self, now: datetime) -> float:
        while self.gaps and (now - self.gaps[0][0]).total_seconds() > self.window_s:
            self.gaps.popleft()
        longest = max((gap for _, gap in self.gaps), default=0.0)
        return max(self.min_threshold_s, self.factor * longest)

    def observe(self, ts: datetime, in_use: bool) -> Anomaly | None:
        if in_use:
            # A gap that raised an alarm is not "normal" and must not teach the threshold.
            if self.last_use is not None and not self.fired:
                self.gaps.append((ts, (ts - self.last_use).total_seconds()))
            self.first_use = self.first_use or ts
            self.last_use, self.fired = ts, False
            return None
        if self.first_use is None or self.last_use is None or self.fired:
            return None
        if (ts - self.first_use).total_seconds() < self.learning_s:
            return None
        threshold = self.threshold_s(ts)
        if (ts - self.last_use).total_seconds() > threshold:
            self.fired = True
            return Anomaly(self.last_use, threshold)
        return None


@dataclass
class ContinuousFlowDetector:
    """Water flowing without a break for longer than threshold_s."""

    threshold_s: float = 2 * 3600
    flowing_since: datetime | None = None
    fired: bool = False

    def observe(self, ts: datetime, flowing: bool) -> Anomaly | None:
        if not flowing:
            self.flowing_since, self.fired = None, False
            return None
        if self.flowing_since is None:
            self.flowing_since = ts
        if not self.fired and (ts - self.flowing_since).total_seconds() > self.threshold_s:
            self.fired = True
            return Anomaly(self.flowing_since, self.threshold_s)
        return None


class MeterFirmware:
    """Integrates the register from the measured rate, reports and detects.

    ``rate`` is litres per hour for a water meter and watts for an electricity meter,
    averaged over the ``dt_s`` seconds that end at ``ts``.
    """

    def __init__(self, device_id: str, water: bool, interval_s: int = 900, total: float = 0.0):
        self.device_id = device_id
        self.water = water
        self.interval_s = interval_s
        self.total = total
        self.no_usage = NoUsageDetector()
        self.flow = ContinuousFlowDetector()
        self._next_report: datetime | None = None

    def _readings(self, rate: float) -> messages.Message:
        if self.water:
            return messages.water_readings(self.total, rate)
        return messages.power_readings(self.total, rate)

    def step(self, ts: datetime, rate: float, dt_s: float) -> list[messages.Message]:
        self.total += rate * dt_s / 3600 / 1000  # L -> m³, Wh -> kWh
        out = []
        in_use = rate > 0 if self.water else rate > STANDBY_W
        anomalies = [("no_usage", self.no_usage.observe(ts, in_use))]
        if self.water:
            anomalies.append(("continuous_flow", self.flow.observe(ts, rate > 0)))
        prefix = "meter.water." if self.water else "meter.power."
        for name, anomaly in anomalies:
            if anomaly is not None:
                out.append(
                    messages.meter_anomaly(
                        self.device_id,
                        ts,
                        prefix + name,
                        anomaly.since,
                        anomaly.threshold_s,
                        self._readings(rate),
                    )
                )
        if self._next_report is None or ts >= self._next_report:
            self._next_report = ts + timedelta(seconds=self.interval_s)
            out.append(
                messages.telemetry(
                    self.device_id, ts, self.water, self.interval_s, self._readings(rate)
                )
            )
        return out


WATER_USES = ((7.0, 0.5), (12.0, 0.3), (18.5, 0.5), (21.5, 0.25))
"""(local hour, duration h) of an elderly resident's daily water use."""
ACTIVE_HOURS = ((6.5, 9.0), (11.0, 13.0), (17.0, 22.0))
FRIDGE_W = 45.0


def household_use(ts: datetime, rng: random.Random) -> tuple[float, float]:
    """(water L/h, electricity W) of an ordinary day at ts, with some noise."""
    local = ts.astimezone(CHINA_TIME)
    hour = local.hour + local.minute / 60
    water = 0.0
    for start, duration in WATER_USES:
        if start <= hour < start + duration:
            water = rng.uniform(150, 450)
    active = any(a <= hour < b for a, b in ACTIVE_HOURS)
    power = FRIDGE_W + (rng.uniform(150, 900) if active else 0.0)
    return water, power
