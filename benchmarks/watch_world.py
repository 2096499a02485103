"""Households, false-alarm causes and incidents for the watch benchmark, as hourly arrays.

Start: a Monday 00:00 in Shanghai. The first learn_days are history (no incidents, not
scored); the scored days follow. Every household lives alone. False-alarm causes, as the
deployments report them: late waking, nights away, trips of 1–2 weeks (the family sets
"away" for most), hospital stays (set "away" a few hours late), frugal users, fridge
baseload (richardsonpy's cold appliances), cleaning spikes, 10-litre meter resolution,
data gaps and dead batteries. Nights away happen in the history too (a household that
often stays away can learn it); announced absences are only in the scored days. "Baseload" everywhere (nobody home, asleep, collapsed) is the
household's own night-time load of that day, so an empty flat looks like a sleeping one.
Incidents, at most one per household: collapse (baseload
continues), a fall with water running, not back at night, staying in for days, gradual
decline, device outages (a meter or door controller dead, a water meter stuck).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from benchmarks.watch_households import DayLibrary, water_litres
from ingest.watch.backtest import Absence
from ingest.watch.readings import HourlyReadings, epoch_hour

START = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=8)
RESIDENT_INCIDENTS = ("collapse", "fall_water_running", "not_back", "stays_in", "decline")
DEVICE_INCIDENTS = ("water_meter_dead", "power_meter_dead", "door_dead", "water_meter_stuck")
DEADLINE_H = {"collapse": 12, "fall_water_running": 12, "not_back": 12}
"""Detected means within this many hours; other kinds: while the incident lasts."""
CAUSES = (
    "none",
    "late_waking",
    "night_away",
    "trip",
    "hospital",
    "cleaning",
    "data_gap",
)


@dataclass
class Incident:
    household: int
    kind: str
    start: int
    """Row (hour index) it begins."""
    end: int
    """Row it is over (exclusive): later rows of this household are not scored."""
    normal_run_h: float = 0.0
    """For a fall with water running: the household's longest run of water hours in its
    history (the yardstick of "within 60 min of passing the normal longest run")."""


@dataclass
class World:
    readings: HourlyReadings
    incidents: list[Incident]
    absences: list[Absence]
    cause: np.ndarray
    """(hours, households) CAUSES index of what is going on (for the false-alarm table)."""
    scored: np.ndarray
    """(hours, households) bool: counted for false alarms (scored days, no incident)."""
    learn_hours: int
    active: np.ndarray = field(repr=False)
    """(hours, households, 3) water, power and door activity (for the Inactivity Score)."""
    reported: np.ndarray = field(repr=False)


def build_world(
    library: DayLibrary,
    households: int,
    learn_days: int,
    days: int,
    seed: int,
    incident_share: float = 0.3,
) -> World:
    rng = np.random.default_rng(seed)
    n, total_days = households, learn_days + days
    hours = total_days * 24
    pick = rng.integers(0, library.power_h.shape[0], size=(total_days, n))
    shift = rng.choice([-1, 0, 0, 1, 2], size=n)
    hod = (np.arange(24)[:, None] - shift[None, :]) % 24  # (24, n)
    power = library.power_h[pick[:, None, :], hod[None, :, :]]  # (days, 24, n)
    active = library.active_h[pick[:, None, :], hod[None, :, :]]
    out = library.out_h[pick[:, None, :], hod[None, :, :]].copy()
    power = power * rng.lognormal(0.0, 0.25, size=n)[None, None, :]
    # what the flat draws with nobody using it (fridge cycling, standby): that day's
    # night-time load (01:00-05:00), drawn hour by hour
    night = power[:, 1:5, :]
    unattended = np.take_along_axis(night, rng.integers(0, 4, size=power.shape), axis=1)
    frugal = rng.random(n) < 0.15
    scale = np.where(frugal, 0.35, rng.normal(1.0, 0.2, size=n).clip(0.5, 1.6))
    cause = np.zeros((total_days, 24, n), dtype=np.int8)

    # late waking: the night goes on 2–4 h past the first active hour
    late = rng.random((total_days, n)) < 0.05
    first_active = np.argmax(active > 0, axis=1)  # (days, n)
    for d, h in zip(*np.nonzero(late), strict=True):
        stop = min(23, first_active[d, h] + rng.integers(2, 5))
        active[d, :stop, h] = 0.0
        power[d, :stop, h] = unattended[d, :stop, h]
        out[d, :stop, h] = False
        cause[d, :stop, h] = CAUSES.index("late_waking")
    activity = active.transpose(0, 2, 1).reshape(-1, 24)  # (days*n, 24)
    water = water_litres(activity, np.repeat(scale[None, :], total_days, 0).reshape(-1, 1), rng)
    water = water.reshape(total_days, n, 24).transpose(0, 2, 1)
    water[out] = 0.0
    power = np.where(out, unattended, power)

    flat = lambda a: a.reshape(hours, n)  # noqa: E731 - (days, 24, n) -> (hours, n)
    water, power, out, cause = flat(water), flat(power), flat(out), flat(cause)
    base_h = flat(unattended)
    dead = np.zeros((hours, n, 3), dtype=bool)  # water, power, door silent
    absences: list[Absence] = []
    start_hour = epoch_hour(START)
    learn_h = learn_days * 24

    def standby(rows: slice, h: int, why: str | None = None) -> None:
        water[rows, h] = 0.0
        power[rows, h] = base_h[rows, h]
        if why is not None:
            cause[rows, h] = CAUSES.index(why)

    # cleaning spikes: 2–3 hours of heavy water use in the daytime
    for d, h in zip(*np.nonzero(rng.random((total_days, n)) < 0.03), strict=True):
        begin = d * 24 + int(rng.integers(9, 16))
        span = slice(begin, begin + int(rng.integers(2, 4)))
        water[span, h] += rng.uniform(60, 150)
        cause[span, h] = CAUSES.index("cleaning")

    incident_of = rng.random(n) < incident_share
    incidents: list[Incident] = []
    kinds = RESIDENT_INCIDENTS + DEVICE_INCIDENTS
    for h in np.flatnonzero(incident_of):
        kind = kinds[int(rng.integers(0, len(kinds)))]
        incidents.append(_incident(kind, h, learn_h, hours, rng, water, power, out, dead, base_h))
    free = np.flatnonzero(~incident_of)

    # trips (family sets "away" for 80 %), hospital stays (set a few hours late)
    for h in free[rng.random(free.size) < 0.12]:
        begin = learn_h + int(rng.integers(0, hours - learn_h - 24 * 5))
        end = min(hours, begin + int(rng.integers(5, 15)) * 24 + int(rng.integers(-6, 6)))
        out[begin:end, h] = True
        standby(slice(begin, end), h, "trip")
        if rng.random() < 0.8:
            absences.append(Absence(int(h), int(start_hour + begin), int(start_hour + end)))
    for h in free[rng.random(free.size) < 0.03]:
        begin = learn_h + int(rng.integers(0, hours - learn_h - 24 * 3))
        end = min(hours, begin + int(rng.integers(3, 11)) * 24)
        out[begin:end, h] = True
        standby(slice(begin, end), h, "hospital")
        told = begin + int(rng.integers(2, 25))
        absences.append(Absence(int(h), start_hour + told, start_hour + end))
    # nights away: a fifth of the residents often stay with family (6 % of nights), the
    # others rarely (0.5 %); the family sets "away" for half of them
    often = rng.random(n) < 0.2
    night_rate = np.where(often, 0.06, 0.005)[None, :]
    for d, h in zip(*np.nonzero(rng.random((total_days, n)) < night_rate), strict=True):
        if d == total_days - 1 or incident_of[h]:
            continue
        begin, end = d * 24 + int(rng.integers(16, 21)), (d + 1) * 24 + int(rng.integers(9, 13))
        out[begin:end, h] = True
        standby(slice(begin, end), h, "night_away")
        if d * 24 >= learn_h and rng.random() < 0.5:
            absences.append(Absence(int(h), int(start_hour + begin), int(start_hour + end)))

    # data gaps of 1–4 hours on any device
    for device in range(3):
        for t, h in zip(*np.nonzero(rng.random((hours, n)) < 0.003), strict=True):
            dead[t : t + int(rng.integers(1, 5)), h, device] = True
            cause[t : t + 4, h] = np.maximum(cause[t : t + 4, h], CAUSES.index("data_gap"))

    # 10-litre meters: the register moves in whole steps of 10 L
    coarse = rng.random(n) < 0.2
    register = np.floor(np.cumsum(water[:, coarse], axis=0) / 10.0) * 10.0
    water[:, coarse] = np.diff(register, axis=0, prepend=0.0)

    exits = (out & ~np.vstack([out[:1], out[:-1]])).astype(np.float32)
    entries = (~out & np.vstack([out[:1], out[:-1]])).astype(np.float32)
    for inc in incidents:
        if inc.kind == "stays_in":
            exits[inc.start : inc.end, inc.household] = 0.0
            entries[inc.start : inc.end, inc.household] = 0.0
        if inc.kind == "not_back":
            exits[inc.start, inc.household] = 1.0
            entries[inc.start :, inc.household] = 0.0
            exits[inc.start + 1 :, inc.household] = 0.0
        if inc.kind in ("collapse", "fall_water_running"):
            # it happens at home: one who was out comes back first
            was_out = bool(out[inc.start - 1, inc.household])
            exits[inc.start :, inc.household] = 0.0
            entries[inc.start :, inc.household] = 0.0
            entries[inc.start, inc.household] = float(was_out)
    used_w = water >= 1.0
    used_p = power > np.median(base_h, axis=0) + 25.0
    door = (exits + entries) > 0
    water = np.where(dead[:, :, 0], np.nan, water).astype(np.float32)
    power = np.where(dead[:, :, 1], np.nan, power).astype(np.float32)
    exits = np.where(dead[:, :, 2], np.nan, exits).astype(np.float32)
    entries = np.where(dead[:, :, 2], np.nan, entries).astype(np.float32)
    for inc in incidents:
        if inc.kind == "fall_water_running":
            inc.normal_run_h = _longest_run(used_w[:learn_h, inc.household])

    scored = np.zeros((hours, n), dtype=bool)
    scored[learn_h:] = True
    for inc in incidents:
        scored[inc.start :, inc.household] = False  # the incident and what follows
    return World(
        readings=HourlyReadings(start_hour, water, power, exits, entries),
        incidents=incidents,
        absences=absences,
        cause=cause,
        scored=scored,
        learn_hours=learn_h,
        active=np.stack([used_w, used_p, door], axis=2) & ~dead,
        reported=~dead,
    )


def _longest_run(flags: np.ndarray) -> float:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return float(best)


def _incident(
    kind: str,
    h: int,
    learn_h: int,
    hours: int,
    rng: np.random.Generator,
    water: np.ndarray,
    power: np.ndarray,
    out: np.ndarray,
    dead: np.ndarray,
    base_h: np.ndarray,
) -> Incident:
    start = learn_h + int(rng.integers(0, hours - learn_h - 24 * 7))
    end = min(hours, start + 48)
    if kind == "collapse":
        water[start:, h] = 0.0
        power[start:, h] = base_h[start:, h]
        out[start:, h] = False
    elif kind == "fall_water_running":
        water[start:, h] = rng.uniform(240, 480)
        power[start:, h] = base_h[start:, h]
        out[start:, h] = False
    elif kind == "not_back":
        start = (start // 24) * 24 + int(rng.integers(14, 20))
        end = min(hours, start + 48)
        water[start:, h] = 0.0
        power[start:, h] = base_h[start:, h]
        out[start:, h] = True
    elif kind == "stays_in":
        start = (start // 24) * 24
        end = min(hours, start + int(rng.integers(4, 7)) * 24)
        out[start:end, h] = False
    elif kind == "decline":
        end = hours
        fade = np.linspace(1.0, 0.25, end - start)[:, None].squeeze(1)
        water[start:end, h] *= fade
        power[start:end, h] = (
            base_h[start:end, h] + (power[start:end, h] - base_h[start:end, h]) * fade
        )
    else:
        end = min(hours, start + 72)
        device = {"water_meter_dead": 0, "power_meter_dead": 1, "door_dead": 2}.get(kind)
        if device is None:  # stuck water meter: reports, always 0 L
            water[start:end, h] = 0.0
        else:
            dead[start:end, h, device] = True
    return Incident(int(h), kind, start, end)
