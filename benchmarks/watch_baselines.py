"""The detectors Wangge is compared with, on the same hourly readings.

- deployed fixed rules (naive_): "< 0.01 m³ of water in 12 h" (Shanghai Changning, Shenzhen
  Longgang), "< 10 L in 24 h or > 1,000 L" (Liaocheng), and the Japanese water-meter trial's
  "8 h without water or 2 h continuous flow" (at hourly resolution: 8 hours under 1 L, or 2
  hours each ≥ 30 L). A silent meter reads as no water, as it does for those services.
  One alert when a rule starts to hold; it re-arms when the rule stops holding.
- Inactivity Score (Wilhelm & Wahl 2024, reimplemented from the paper's description): per
  household, sensor and hour of day the distribution of inactivity durations is learned
  from all history; the score is the reliability-weighted mean over sensors of how unusual
  each current inactivity is (its empirical CDF), reliability being the share of hours the
  sensor reported; one alarm when the score crosses the threshold (tuned on other
  households), re-armed when it falls back.
"""

from __future__ import annotations

import numpy as np

BINS = 49


def _rising(condition: np.ndarray) -> list[tuple[int, int]]:
    """(hour, household) where condition becomes true."""
    before = np.vstack([np.zeros((1, condition.shape[1]), dtype=bool), condition[:-1]])
    hours, households = np.nonzero(condition & ~before)
    return list(zip(hours.tolist(), households.tolist(), strict=True))


def _window_sum(values: np.ndarray, hours: int) -> np.ndarray:
    total = np.cumsum(values, axis=0, dtype=np.float64)
    shifted = np.vstack([np.zeros((hours, values.shape[1])), total[:-hours]])
    out = total - shifted
    out[: hours - 1] = np.nan  # not a full window yet
    return out


def naive_rules(water_l: np.ndarray) -> dict[str, list[tuple[int, int]]]:
    water = np.nan_to_num(water_l)
    in12 = _window_sum(water, 12)
    in24 = _window_sum(water, 24)
    dry = _window_sum((water < 1.0).astype(np.float64), 8)
    heavy = _window_sum((water >= 30.0).astype(np.float64), 2)
    with np.errstate(invalid="ignore"):
        return {
            "naive_12h": _rising(in12 < 10.0),
            "naive_24h": _rising((in24 < 10.0) | (in24 > 1000.0)),
            "naive": _rising((dry >= 8) | (heavy >= 2)),
        }


def inactivity_scores(
    active: np.ndarray, reported: np.ndarray, local_hour: np.ndarray
) -> np.ndarray:
    """(hours, households) score from active/reported arrays of shape (hours, households,
    sensors); local_hour is the hour of day of each row."""
    hours, households, sensors = active.shape
    hist = np.zeros((households, sensors, 24, BINS), dtype=np.uint32)
    duration = np.zeros((households, sensors), dtype=np.int32)
    seen = np.zeros((households, sensors), dtype=np.float32)
    scores = np.zeros((hours, households), dtype=np.float32)
    rows = np.arange(households)[:, None]
    cols = np.arange(sensors)[None, :]
    for t in range(hours):
        h = int(local_hour[t])
        duration = np.where(active[t], 0, duration + 1)
        seen += reported[t]
        counts = hist[:, :, h, :]
        total = counts.sum(axis=-1)
        capped = np.minimum(duration, BINS - 1)
        below = np.cumsum(counts, axis=-1)[rows, cols, capped]
        cdf = np.where(total > 0, below / np.maximum(total, 1), 0.0)
        weight = seen / (t + 1)
        scores[t] = (weight * cdf).sum(axis=1) / np.maximum(weight.sum(axis=1), 1e-6)
        hist[rows, cols, h, capped] += 1
    return scores


def inactivity_alarms(scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    return _rising(scores >= threshold)
