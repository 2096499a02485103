"""Meter firmware detectors: one event per episode, re-armed when the episode ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_sim.meters import ContinuousFlowDetector, NoUsageDetector

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def test_continuous_flow_fires_once_per_episode() -> None:
    detector = ContinuousFlowDetector(threshold_s=2 * 3600)
    fired = [
        h
        for h in range(0, 12)
        if detector.observe(_hours(h), flowing=h < 4 or 6 <= h < 10) is not None
    ]
    assert fired == [3, 9]  # more than 2 h after the flow started at 0 h and again at 6 h


def test_no_usage_threshold_is_learned_from_the_household() -> None:
    detector = NoUsageDetector(min_threshold_s=6 * 3600, factor=1.5, learning_s=24 * 3600)
    # Uses at 8:00 and 22:00 every day: gaps of 14 h and 10 h, so the normal is 1.5 × 14 h.
    # The last use is on day 2 at 8:00 (hour 56); the alarm comes once, 22 h later.
    uses = {d * 24 + h for d in range(3) for h in (8, 22)}
    events = []
    for h in range(0, 5 * 24):
        anomaly = detector.observe(_hours(h), in_use=h in uses and h <= 56)
        if anomaly is not None:
            events.append((h, anomaly.since, anomaly.threshold_s))
    assert events == [(56 + 22, _hours(56), 21 * 3600)]
