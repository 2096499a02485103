"""The sweep: state + the hourly rollups since the last sweep → findings + new state.

Pure and in event time: the same code runs in the ingest processes (state in PostgreSQL),
in ``wangge watch backtest`` and in the benchmark. Each hour is processed for the whole
batch at once with numpy; nothing here is per household in Python except building the
few findings that fire.

Decisions, per household and hour (docs/elderly-watch.md explains why):
- in-home life signals are water and electricity above the learned standby; door passages
  say whether the resident is home or out. An absence is judged against what this
  household's value is at this hour of day and day type (baseline.py).
- not_up: no sign of getting up by this household's latest usual first use + a margin
  (this is how a collapse in the evening or at night is found).
- no_activity (waking hours): no water, electricity or door passage for longer than is
  normal at this hour for this household once it was up, the resident not out. With water, power and door all beyond normal it goes straight
  to the grid worker; otherwise the family is asked first (family_first).
- one signal absent while another shows life never wakes anyone at night: power flat at
  standby is a daytime family notice, water at zero is a stuck meter (a device task).
- an offline device or a power meter at 0 W is a device task, and its signal is then no
  evidence either way. Known absences (away_until) and the quiet period after a visit
  raise no resident alert; an open case is never raised again, only escalated once, and
  it hides the less serious kinds (KINDS order) so one situation is one case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.watch import baseline
from ingest.watch.config import WatchConfig
from ingest.watch.findings import DEVICE_KINDS, KIND, KINDS, Finding, Level
from ingest.watch.readings import HourlyReadings, hour_start, slot_of
from ingest.watch.state import DAY_START, HOME, NEVER, OUT, WEEK

WATER, POWER, DOOR = 1, 2, 4
"""Bits of state["seen"] (devices that ever reported)."""
LEVELS: tuple[Level, ...] = ("family", "visit", "device")
FAMILY, VISIT, DEVICE = 1, 2, 3
"""case_level values (0: no case)."""
LIFE_H = 6.0
"""Electricity used within this many hours: the resident is clearly up and about."""
NIGHT_HOUR = 3
"""Local hour that makes an absence a night out (out at 03:00)."""
HOME_DAY_H = 12.0
"""A day with at least this many hours at home (devices reporting) teaches how much is used."""
MONTH_DAYS = 28.0
"""Span (days at home) of the forgotten mean of use before the last week."""
DECLINE_MIN_DAYS = 21
"""Days at home learned before decline is judged."""
DECLINE_RECOVERED = 0.8
"""A decline case closes once water or electricity is back at this share of the month's."""
NIGHT_ESCALATION = frozenset({"no_activity", "not_up", "not_back"})
"""Kinds whose family notice may turn into a visit during quiet hours."""


@dataclass(frozen=True)
class SweepResult:
    findings: list[Finding]
    state: np.ndarray


def sweep(state: np.ndarray, readings: HourlyReadings, config: WatchConfig) -> SweepResult:
    """Process every hour of readings; the state must be due at readings.start_hour.

    The state is updated in place (copying 100k records would cost more than the sweep)
    and returned in the result."""
    if readings.water_l.shape[1] != state.shape[0]:
        raise ValueError("readings and state cover a different number of households")
    due = (state["hour"] == NEVER) | (state["hour"] == readings.start_hour)
    if not due.all():
        raise ValueError(
            f"{int((~due).sum())} households are not due at hour {readings.start_hour}"
        )
    findings: list[Finding] = []
    for i in range(readings.hours):
        hour = readings.start_hour + i
        findings += _step(
            state,
            hour,
            readings.water_l[i],
            readings.power_w[i],
            readings.exits[i],
            readings.entries[i],
            config,
        )
    state["hour"] = readings.start_hour + readings.hours
    return SweepResult(findings, state)


def set_away(state: np.ndarray, rows: np.ndarray, until_hour: int) -> None:
    """A known absence (with family, in hospital) until until_hour: no resident alerts."""
    state["away_until"][rows] = np.maximum(state["away_until"][rows], until_hour)


def record_visit(state: np.ndarray, rows: np.ndarray, hour: int, config: WatchConfig) -> None:
    """The worker found all well: close resident cases and start the quiet period."""
    state["open"][rows] &= ~_resident_mask()
    state["quiet_until"][rows] = hour + int(round(config.quiet_after_visit_h))


def _advance(gap: np.ndarray, reset: np.ndarray, observed: np.ndarray) -> None:
    """gap = 0 where reset, +1 where observed, unchanged where the device was silent."""
    gap += observed.astype(np.float32)
    gap[reset] = 0.0


def _new_day(state: np.ndarray, learnable: np.ndarray) -> None:
    baseline.push_run(state, learnable)
    # how much water and electricity a day at home uses, per hour at home (a walk or a
    # night out does not look like a decline; a day mostly away teaches nothing)
    # the day leaves the last week after WEEK days and is then forgotten slowly in the
    # mean of the month before, so a decline is the last week against the weeks before it
    home = np.flatnonzero(learnable & (state["home_today"] >= HOME_DAY_H))
    pos = state["use_week_pos"][home]
    older = state["use_week"][home, pos]
    before = state["use_before"][home]
    before = np.where(np.isnan(before), older, before + (older - before) / np.float32(MONTH_DAYS))
    state["use_before"][home] = np.where(np.isnan(older), state["use_before"][home], before)
    state["use_week"][home, pos] = state["use_today"][home] / state["home_today"][home, None]
    state["use_week_pos"][home] = (pos + 1) % WEEK
    state["days"][home] += 1
    state["run_today"] = 0.0
    state["use_today"] = 0.0
    state["home_today"] = 0.0


def _step(
    state: np.ndarray,
    hour: int,
    water_l: np.ndarray,
    power_w: np.ndarray,
    exits: np.ndarray,
    entries: np.ndarray,
    c: WatchConfig,
) -> list[Finding]:
    local_hour, day_type = slot_of(hour, c.timezone)
    slot, other_slot = day_type * 24 + local_hour, (1 - day_type) * 24 + local_hour
    waking = c.waking_hours[0] <= local_hour < c.waking_hours[1]
    night = c.not_back_hours[0] <= local_hour < c.not_back_hours[1]
    away = hour < state["away_until"]
    back = state["away_until"] == hour
    resident_open = (state["open"] & _resident_mask()) != 0
    learnable = ~away & ~resident_open
    if local_hour == 0:
        _new_day(state, learnable)
    if local_hour == DAY_START:
        state["up"] = False
        state["water_since_up"] = 0.0

    # devices
    reported = np.stack([~np.isnan(water_l), ~np.isnan(power_w), ~np.isnan(exits)], axis=1)
    state["seen"] |= (
        (reported * np.array([WATER, POWER, DOOR], dtype=np.uint8)).sum(axis=1).astype(np.uint8)
    )
    since = state["since_report"]
    since += 1.0
    since[reported] = 0.0
    seen = state["seen"]
    online = ((seen[:, None] & np.array([WATER, POWER, DOOR], dtype=np.uint8)) != 0) & (
        since < c.device_offline_h
    )
    ok_w, ok_p, ok_d = online[:, 0].copy(), online[:, 1], online[:, 2]
    has_w, has_p, has_d = reported[:, 0], reported[:, 1], reported[:, 2]

    # standby: what the flat draws while its resident sleeps (fridge cycling, standby
    # appliances, now and then a light at night): a high quantile of the power of the last
    # unattended hours, so a fridge or a timer never looks like a person
    standby = state["standby_w"]
    positive = has_p & (power_w > 0)
    if c.unattended_hours[0] <= local_hour < c.unattended_hours[1]:
        baseline.learn_standby(state, power_w, positive & ~resident_open)
        baseline.update_standby(state, c.standby_quantile)
    zero_power = state["zero_power_h"]
    zero_power += (has_p & (power_w <= 0)).astype(np.float32)
    zero_power[positive] = 0.0
    power_ok = ok_p & (zero_power < c.power_stuck_h) & ~_is_open(state, "meter_stuck_power")
    ok_w &= ~_is_open(state, "meter_stuck_water")

    # use and whereabouts
    water = np.nan_to_num(water_l)
    used_w = has_w & (water >= c.water_min_l)
    flowing = has_w & (water >= c.flow_min_l)
    used_p = positive & (power_w > np.nan_to_num(standby) + c.power_active_w)
    n_exit, n_entry = np.nan_to_num(exits), np.nan_to_num(entries)
    place = state["place"]
    was_out = place == OUT
    # a silent door may have missed a passage: where the resident is stays uncertain
    # until the door or use at home says it. Real water use then shows somebody is home
    # (electricity does not: a fridge or a timer switches on by itself); with the door
    # working, water while out is an appliance or a leak, not a return the door missed.
    missed = state["door_missed"]
    missed |= ((seen & DOOR) != 0) & ~has_d
    back_in = missed & has_w & (water >= c.up_water_l)
    place[back_in] = HOME
    place[n_exit > n_entry] = OUT
    place[(n_entry > 0) & (n_entry >= n_exit)] = HOME
    missed[back_in | (n_exit + n_entry > 0) | (~was_out & has_d & (used_w | used_p))] = False
    # not for ever: after door_doubt_h, a resident still unseen is judged as at home
    # (their gaps kept counting), where a silent flat is found
    missed_h = state["missed_h"]
    missed_h += missed.astype(np.float32)
    expired = missed & (missed_h > c.door_doubt_h)
    place[expired] = 0
    missed[expired] = False
    missed_h[~missed] = 0.0
    # back from a night out (out at NIGHT_HOUR, not announced): this resident does stay
    # out overnight, so a night out is not 久未归 for them for a while
    overnight = state["out_h"] >= (local_hour - NIGHT_HOUR) % 24 + 1
    state["night_out"][was_out & (place == HOME) & overnight & ~away] = hour
    sign_of_life = used_w | used_p | (n_exit + n_entry > 0)
    # up for the day: electricity, a passage or real water use (one flush at night or a
    # 10-litre meter step is not getting up)
    # (a flush, then the kettle, then washing: small uses that add up are getting up too)
    morning_water = state["water_since_up"]
    morning_water += np.where(has_w & (place != OUT), water, 0.0).astype(np.float32)
    got_up = used_p | (n_exit + n_entry > 0) | (has_w & (morning_water >= c.up_water_l))
    if local_hour >= DAY_START:
        woke = ~state["up"] & got_up & learnable
        baseline.learn_first_use(state, day_type, local_hour - DAY_START, woke)
    up = state["up"]
    up |= got_up

    # absences count only hours at home: a walk does not make the flat look empty
    out = place == OUT
    _advance(state["quiet_gap"], sign_of_life | back, (has_w | (has_p & power_ok)) & ~out)
    _advance(state["water_gap"], used_w | back, has_w & ~out)
    _advance(state["power_gap"], used_p | back, has_p & power_ok & ~out)
    _advance(state["exit_gap"], (n_exit > 0) | back, has_d & ~out)
    state["out_h"] = np.where(out & ~back & (n_exit == 0), state["out_h"] + 1, 0).astype(np.float32)
    # a known absence is over; unless the door saw them leave and not come back, where
    # the resident is is unknown (judged as at home)
    place[back & ~out] = 0
    counted = ~out & ~away & has_w & has_p
    state["home_today"] += counted.astype(np.float32)
    use = state["use_today"]
    use[counted, 0] += water[counted]
    use[counted, 1] += np.maximum(power_w - np.nan_to_num(standby), 0.0)[counted]
    run = state["run_h"]
    run += 1.0
    run[~flowing] = 0.0
    np.maximum(state["run_today"], run, out=state["run_today"])

    # what is normal here and now
    learned = baseline.slot_thresholds(state, slot, other_slot, c.min_samples)
    thr = c.gap_factor * learned + c.gap_margin_h
    thr_q = np.maximum(np.where(np.isnan(thr[:, 0]), c.default_gap_h, thr[:, 0]), c.min_gap_h)
    thr_p = np.where(np.isnan(thr[:, 1]), c.default_gap_h, thr[:, 1])
    latest_up = baseline.latest_first_use(state, day_type, c.min_samples)
    up_by = DAY_START + np.where(
        np.isnan(latest_up),
        c.default_first_use_hour - DAY_START,
        latest_up + c.morning_margin_h,
    )
    exit_learned = c.exit_factor * learned[:, 2] + c.gap_margin_h
    thr_exit = np.maximum(
        np.where(np.isnan(exit_learned), c.default_exit_gap_h, exit_learned), c.min_exit_gap_h
    )
    out_learned = c.gap_factor * learned[:, 3] + c.out_margin_h
    thr_out = np.where(np.isnan(out_learned), c.default_out_h, out_learned)
    stays_out = (state["night_out"] != NEVER) & (
        hour - state["night_out"] <= c.night_out_memory_days * 24
    )
    thr_out = np.where(stays_out, np.maximum(thr_out, c.night_out_h), thr_out)
    run_normal = baseline.longest_run(state, c.min_samples)
    thr_run = np.fmax(run_normal, c.default_run_h)

    # learn this hour's values (not while away or while a case is open; in-home gaps only
    # once the resident was up today), and only values within what would raise a case: an
    # absence that is developing must not teach that it is normal
    at_home = ~out
    up_at_home = at_home & up
    quiet, power_gap, exit_gap, out_h = (
        state[name] for name in ("quiet_gap", "power_gap", "exit_gap", "out_h")
    )
    power_cap = c.single_factor * thr_p
    baseline.learn(
        state, 0, slot, quiet, learnable & up_at_home & (ok_w | power_ok) & (quiet <= thr_q)
    )
    baseline.learn(
        state, 1, slot, power_gap, learnable & up_at_home & power_ok & (power_gap <= power_cap)
    )
    baseline.learn(state, 2, slot, exit_gap, learnable & ok_d & (exit_gap <= thr_exit))
    baseline.learn(state, 3, slot, out_h, learnable & ok_d & (out_h <= thr_out))

    # a dead or stuck device is a device task, never a resident alert: absences are judged
    # only while every device the household has is working
    all_ok = (
        (((seen & WATER) == 0) | ok_w)
        & (((seen & POWER) == 0) | power_ok)
        & (((seen & DOOR) == 0) | ok_d)
    )

    # conditions
    quiet_gap, water_gap, power_gap = state["quiet_gap"], state["water_gap"], state["power_gap"]
    ab_q = (ok_w | power_ok) & (quiet_gap > thr_q)
    ab_p = power_ok & (power_gap > thr_p)
    ab_d = ok_d & (state["exit_gap"] > thr_exit)
    n_ok = ok_w.astype(np.int8) + power_ok
    home_known = at_home & ~missed
    no_activity = all_ok & up & home_known & ab_q
    not_up = (
        all_ok & ~up & home_known & (n_ok >= 1) & (local_hour >= DAY_START) & (local_hour >= up_by)
    )
    strong = (no_activity | not_up) & (n_ok == 2) & ab_d
    single_p = power_gap > np.maximum(c.single_factor * thr_p, c.single_min_h)
    single_w = water_gap > np.maximum(c.single_factor * thr_q, c.single_min_h)
    power_standby = at_home & ok_w & ~ab_q & ab_p & single_p
    stuck_water = at_home & power_ok & (power_gap <= LIFE_H) & ok_w & single_w
    flow = run > thr_run
    not_back = out & ok_d & ~missed & (state["out_h"] > thr_out)
    week, month = state["use_week"].mean(axis=1), state["use_before"]
    declined = (state["days"] >= DECLINE_MIN_DAYS) & (week < c.decline_ratio * month).all(axis=1)
    seen_w, seen_p, seen_d = ((seen & bit) != 0 for bit in (WATER, POWER, DOOR))
    door_passage = n_exit + n_entry > 0

    # kind: (abnormal now, may be raised now, resolved, hours, normal hours)
    conditions: dict[
        str, tuple[np.ndarray, np.ndarray | bool, np.ndarray, np.ndarray, np.ndarray | None]
    ] = {
        "no_activity": (
            no_activity,
            waking | (local_hour < c.no_activity_night_until),
            used_w | used_p | door_passage | out,
            quiet_gap,
            thr_q,
        ),
        "not_up": (
            not_up,
            True,
            sign_of_life,
            np.full(state.shape, local_hour + 1, dtype=np.float32),  # the hour's end
            up_by,
        ),
        "power_standby": (power_standby, waking, used_p, power_gap, thr_p),
        "continuous_flow": (flow, True, ~flowing, run, thr_run),
        "no_exit": (at_home & ab_d, waking, n_exit > 0, state["exit_gap"], thr_exit),
        "not_back": (not_back, night, ~out, state["out_h"], thr_out),
        "decline": (
            declined,
            True,
            (week >= DECLINE_RECOVERED * month).any(axis=1),
            week[:, 0] * 24.0,
            month[:, 0] * 24.0,
        ),
        "device_offline_water": (seen_w & ~online[:, 0], True, has_w, since[:, 0], None),
        "device_offline_power": (seen_p & ~online[:, 1], True, has_p, since[:, 1], None),
        "device_offline_door": (seen_d & ~online[:, 2], True, has_d, since[:, 2], None),
        "meter_stuck_water": (stuck_water, True, used_w, water_gap, None),
        "meter_stuck_power": (
            ok_p & (zero_power >= c.power_stuck_h),
            True,
            positive,
            zero_power,
            None,
        ),
    }
    signals = {
        "no_activity": [("water", ok_w), ("power", power_ok), ("door", ab_d)],
        "not_up": [("water", ok_w), ("power", power_ok), ("door", ab_d)],
        "power_standby": [("power", ab_p)],
        "continuous_flow": [("water", flow), ("power", ab_p)],
    }
    # while a device is broken the household is a device case: nothing it shows (or does
    # not show) is taken as a resident problem until the device works again; a device
    # silent this hour (a data gap, not yet a device case) holds resident alerts back too
    silent = ((seen[:, None] & np.array([WATER, POWER, DOOR], dtype=np.uint8)) != 0) & ~reported
    device_trouble = ~all_ok | ((state["open"] & _device_mask()) != 0) | silent.any(axis=1)
    suppressed = away | (hour < state["quiet_until"]) | device_trouble
    start_level = np.full(state.shape, FAMILY if c.family_first else VISIT, dtype=np.int8)
    start_level[strong] = VISIT
    found: list[Finding] = []
    for kind, (abnormal, may_raise, resolved, hours, normal) in conditions.items():
        k = KIND[kind]
        bit = np.uint16(1 << k)
        device = kind in DEVICE_KINDS
        level = state["case_level"][:, k]
        # a case closes when the signal shows life again (a visit starts the quiet period)
        ended = ((state["open"] & bit) != 0) & resolved
        if not device:
            visited = ended & (level == VISIT)
            state["quiet_until"][visited] = hour + int(round(c.quiet_after_visit_h))
        state["open"][ended] &= ~bit
        level[ended] = 0
        is_open = (state["open"] & bit) != 0
        raised = abnormal & may_raise & ~is_open
        escalate = np.zeros_like(raised)
        if not device:
            graver_open = (state["open"] & np.uint16((1 << (k + 1)) - 1)) != 0
            raised &= ~suppressed & ~graver_open
            if waking or kind in NIGHT_ESCALATION:
                waited = hour - state["case_since"][:, k] >= c.family_wait_h
                escalate = abnormal & ~suppressed & is_open & (level == FAMILY) & waited
        rows_new = np.flatnonzero(raised)
        state["open"][rows_new] |= bit
        state["case_since"][rows_new, k] = hour
        level[rows_new] = DEVICE if device else start_level[rows_new]
        level[escalate] = VISIT
        for rows in (rows_new, np.flatnonzero(escalate)):
            for row in rows:
                names = tuple(name for name, mask in signals.get(kind, []) if mask[row])
                found.append(
                    Finding(
                        household=int(row),
                        at=hour_start(hour + 1),
                        kind=kind,
                        level=LEVELS[int(level[row]) - 1],
                        hours=float(hours[row]),
                        normal_h=0.0 if normal is None else float(normal[row]),
                        signals=names,
                    )
                )
    return found


def _is_open(state: np.ndarray, kind: str) -> np.ndarray:
    return (state["open"] & np.uint16(1 << KIND[kind])) != 0


def _device_mask() -> np.uint16:
    return np.uint16(sum(1 << KIND[k] for k in DEVICE_KINDS))


def _resident_mask() -> np.uint16:
    return np.uint16(sum(1 << KIND[k] for k in KINDS if k not in DEVICE_KINDS))
