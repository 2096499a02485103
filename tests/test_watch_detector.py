"""The watch detector on constructed histories: each kind fires on its incident and nothing
fires on an ordinary life; absences, the quiet period and open cases suppress; devices
become device tasks; fusion sets severity; the state survives serialisation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ingest.watch.findings import TITLES
from ingest.watch.readings import HourlyReadings
from ingest.watch.state import from_bytes, new_state, to_bytes
from ingest.watch.sweep import record_visit, set_away, sweep
from tests.watch_world import at, config, kinds, routine, standby
from tests.watch_world import local_hour_index as row

DAYS = 26
INCIDENT_DAY = 21


def run(change: Callable[[HourlyReadings], None] | None = None, **overrides: object):
    readings = routine(DAYS)
    if change is not None:
        change(readings)
    return sweep(new_state(1), readings, config(**overrides)).findings


def collapse_at_14(r: HourlyReadings) -> None:
    standby(r, slice(row(INCIDENT_DAY, 14), None))


def collapse_at_23(r: HourlyReadings) -> None:
    standby(r, slice(row(INCIDENT_DAY, 23), None))


def stays_in(r: HourlyReadings) -> None:
    r.exits[row(INCIDENT_DAY - 1, 0) :, 0] = 0
    r.entries[row(INCIDENT_DAY - 1, 0) :, 0] = 0


def not_back(r: HourlyReadings) -> None:
    standby(r, slice(row(INCIDENT_DAY, 10), None))
    r.exits[row(INCIDENT_DAY, 9), 0] = 1


def tap_left_on(r: HourlyReadings) -> None:
    r.water_l[row(INCIDENT_DAY, 13) : row(INCIDENT_DAY, 20), 0] = 300.0


def power_flat(r: HourlyReadings) -> None:
    r.power_w[row(INCIDENT_DAY - 1, 10) :, 0] = 45.0


def test_an_ordinary_life_raises_nothing() -> None:
    assert run() == []


@pytest.mark.parametrize(
    ("change", "kind", "signals", "onset", "within_h"),
    [
        (collapse_at_14, "no_activity", ("water", "power"), row(INCIDENT_DAY, 14), 8),
        (collapse_at_23, "not_up", ("water", "power"), row(INCIDENT_DAY, 23), 12),
        (stays_in, "no_exit", (), row(INCIDENT_DAY - 1, 0), 60),
        (not_back, "not_back", (), row(INCIDENT_DAY, 9), 15),
        (tap_left_on, "continuous_flow", ("water",), row(INCIDENT_DAY, 13), 4),
        (power_flat, "power_standby", ("power",), row(INCIDENT_DAY - 1, 10), 36),
    ],
    ids=[
        "collapse",
        "collapse_at_night_not_up",
        "stays_in_久未出",
        "not_back_久未归",
        "continuous_flow",
        "power_standby",
    ],
)
def test_each_kind_fires_once_as_a_family_notice_then_a_visit(
    change: Callable[[HourlyReadings], None],
    kind: str,
    signals: tuple[str, ...],
    onset: int,
    within_h: int,
) -> None:
    readings = routine(DAYS)
    change(readings)
    found = sweep(new_state(1), readings, config()).findings
    mine = [f for f in found if f.kind == kind]
    assert [f.level for f in mine] == ["family", "visit"]
    first = mine[0]
    assert first.signals == signals
    assert at(readings, onset) < first.at <= at(readings, onset + within_h)
    assert first.hours > first.normal_h
    assert first.reason_zh().startswith(TITLES[kind][0])
    assert first.reason_en().startswith(TITLES[kind][1])


def test_a_light_on_in_the_first_night_does_not_become_the_standby() -> None:
    def light_on(r: HourlyReadings) -> None:
        r.power_w[row(0, 1) : row(0, 3), 0] = 1500.0

    assert run(light_on) == []


def test_family_first_off_sends_the_worker_at_once() -> None:
    found = run(collapse_at_14, family_first=False)
    assert [(f.kind, f.level) for f in found if f.kind == "no_activity"] == [
        ("no_activity", "visit")
    ]


def test_water_power_and_door_all_absent_goes_straight_to_the_worker() -> None:
    def in_for_days_then_collapse(r: HourlyReadings) -> None:
        stays_in(r)
        standby(r, slice(row(INCIDENT_DAY + 1, 10), None))

    found = run(in_for_days_then_collapse)
    fused = [f for f in found if f.kind == "no_activity"]
    assert [(f.level, f.signals) for f in fused] == [("visit", ("water", "power", "door"))]


def test_one_signal_alone_does_not_wake_anyone_at_night() -> None:
    def power_flat_from_evening(r: HourlyReadings) -> None:
        r.power_w[row(INCIDENT_DAY - 1, 20) :, 0] = 45.0

    readings = routine(DAYS)
    power_flat_from_evening(readings)
    found = sweep(new_state(1), readings, config()).findings
    assert found, "power flat for days must be noticed"
    for finding in found:
        local_hour = (finding.at.hour + 8 - 1) % 24
        assert 7 <= local_hour < 22, finding


def night_out(r: HourlyReadings, day: int) -> None:
    """Out from 18:00 on day until 10:00 the next morning (not announced)."""
    standby(r, slice(row(day, 18), row(day + 1, 10)))
    r.exits[row(day, 18), 0] = 1
    r.entries[row(day + 1, 10), 0] = 1


def test_a_night_out_is_not_back_unless_this_resident_was_out_overnight_before() -> None:
    first_time = run(lambda r: night_out(r, INCIDENT_DAY))
    assert kinds(first_time) == ["not_back", "not_back"]

    def again(r: HourlyReadings) -> None:
        night_out(r, INCIDENT_DAY - 6)
        night_out(r, INCIDENT_DAY)

    found = run(again)
    assert kinds(found) == ["not_back", "not_back"]
    assert all(f.at <= at(routine(DAYS), row(INCIDENT_DAY - 5, 10)) for f in found)


def test_a_door_silent_while_out_may_have_missed_the_return() -> None:
    def back_while_the_door_was_silent(r: HourlyReadings) -> None:
        r.exits[row(INCIDENT_DAY, 11) : row(INCIDENT_DAY, 13), 0] = np.nan
        r.entries[row(INCIDENT_DAY, 11) : row(INCIDENT_DAY, 13), 0] = np.nan
        r.water_l[row(INCIDENT_DAY, 11) :, 0] = np.minimum(
            r.water_l[row(INCIDENT_DAY, 11) :, 0], 10.0
        )

    assert "not_back" not in kinds(run(back_while_the_door_was_silent))


def test_water_while_out_with_the_door_working_is_not_a_return() -> None:
    def washing_machine_while_out_all_day(r: HourlyReadings) -> None:
        standby(r, slice(row(INCIDENT_DAY, 9), row(INCIDENT_DAY, 20)))
        r.exits[row(INCIDENT_DAY, 9), 0] = 1
        r.entries[row(INCIDENT_DAY, 20), 0] = 1
        r.water_l[row(INCIDENT_DAY, 10), 0] = 120.0

    assert run(washing_machine_while_out_all_day) == []


def test_a_known_absence_raises_no_resident_alert() -> None:
    readings = routine(DAYS)
    not_back(readings)
    state = new_state(1)
    set_away(state, np.array([0]), readings.start_hour + readings.hours)
    assert sweep(state, readings, config()).findings == []


def test_no_alert_in_the_quiet_period_after_a_visit() -> None:
    readings = routine(DAYS)
    collapse_at_14(readings)
    split = row(INCIDENT_DAY, 0)
    first = sweep(new_state(1), _rows(readings, 0, split), config())
    state = first.state
    quiet_h = 48
    record_visit(
        state, np.array([0]), readings.start_hour + split, config(quiet_after_visit_h=quiet_h)
    )
    later = sweep(state, _rows(readings, split, None), config()).findings
    assert later, "an absence that outlasts the quiet period is raised after it"
    assert all(f.at > at(readings, split + quiet_h - 1) for f in later)


def test_an_open_case_is_not_raised_again() -> None:
    def stays_in_for_a_week(r: HourlyReadings) -> None:
        r.exits[row(14, 0) :, 0] = 0
        r.entries[row(14, 0) :, 0] = 0

    found = run(stays_in_for_a_week)
    assert kinds(found) == ["no_exit", "no_exit"]
    assert [f.level for f in found] == ["family", "visit"]


@pytest.mark.parametrize(
    ("device", "kind"),
    [("door", "device_offline_door"), ("water", "device_offline_water")],
)
def test_a_dead_device_is_a_device_task_even_while_the_resident_is_silent(
    device: str, kind: str
) -> None:
    def dies(r: HourlyReadings) -> None:
        if device == "door":
            r.exits[row(INCIDENT_DAY, 10) :, 0] = np.nan
            r.entries[row(INCIDENT_DAY, 10) :, 0] = np.nan
        else:
            r.water_l[row(INCIDENT_DAY, 10) :, 0] = np.nan

    found = run(dies)
    assert [(f.kind, f.level) for f in found] == [(kind, "device")]


def test_while_a_device_is_broken_nothing_is_a_resident_alert() -> None:
    def power_meter_dies_then_a_night_out(r: HourlyReadings) -> None:
        night_out(r, INCIDENT_DAY)
        r.power_w[row(INCIDENT_DAY, 10) :, 0] = np.nan

    found = run(power_meter_dies_then_a_night_out)
    assert [(f.kind, f.level) for f in found] == [("device_offline_power", "device")]


def test_a_data_gap_holds_resident_alerts_back_and_raises_no_device_task() -> None:
    gap = slice(row(INCIDENT_DAY, 15), row(INCIDENT_DAY, 20))

    def collapse_then_the_meters_are_silent(r: HourlyReadings) -> None:
        collapse_at_14(r)
        r.water_l[gap, 0] = np.nan
        r.power_w[gap, 0] = np.nan

    found = run(collapse_then_the_meters_are_silent)
    assert [(f.kind, f.level) for f in found][:1] == [("no_activity", "family")]
    assert found[0].at > at(routine(DAYS), gap.stop - 1)
    assert all(f.resident_alert for f in found)


def test_a_stuck_meter_is_a_device_task_never_a_resident_alert() -> None:
    def water_stuck(r: HourlyReadings) -> None:
        r.water_l[row(INCIDENT_DAY - 1, 10) :, 0] = 0.0

    def power_at_zero(r: HourlyReadings) -> None:
        r.power_w[row(INCIDENT_DAY, 10) :, 0] = 0.0

    assert [(f.kind, f.level) for f in run(water_stuck)] == [("meter_stuck_water", "device")]
    assert [(f.kind, f.level) for f in run(power_at_zero)] == [("meter_stuck_power", "device")]


def test_state_round_trips_through_bytes_mid_history() -> None:
    readings = routine(DAYS)
    collapse_at_14(readings)
    whole = sweep(new_state(1), readings, config()).findings
    split = row(INCIDENT_DAY, 16)
    first = sweep(new_state(1), _rows(readings, 0, split), config())
    restored = from_bytes(to_bytes(first.state))
    assert restored.tobytes() == first.state.tobytes()
    second = sweep(restored, _rows(readings, split, None), config())
    assert first.findings + second.findings == whole
    with pytest.raises(ValueError, match="not due"):
        sweep(second.state, _rows(readings, split, None), config())


def _rows(readings: HourlyReadings, start: int, stop: int | None) -> HourlyReadings:
    part = slice(start, stop)
    return HourlyReadings(
        readings.start_hour + start,
        readings.water_l[part],
        readings.power_w[part],
        readings.exits[part],
        readings.entries[part],
    )


def _fade_from(r: HourlyReadings, day: int, share: float, water: bool, power: bool) -> None:
    """From local day ``day`` on, water and/or electricity above the night-time load at
    ``share`` of what they were."""
    rows = slice(row(day, 0), None)
    night = float(np.median(r.power_w[[row(d, 3) for d in range(day)], 0]))
    if water:
        r.water_l[rows] *= share
    if power:
        r.power_w[rows] = night + (r.power_w[rows] - night).clip(0) * share


@pytest.mark.parametrize(
    ("water", "power", "declines"),
    [(True, True, True), (True, False, False), (False, True, False)],
    ids=["water_and_electricity", "water_alone", "electricity_alone"],
)
def test_a_decline_is_less_water_and_less_electricity_at_home(
    water: bool, power: bool, declines: bool
) -> None:
    readings = routine(44)
    _fade_from(readings, 30, 0.3, water, power)
    found = sweep(new_state(1), readings, config()).findings
    decline = [f for f in found if f.kind == "decline"]
    assert bool(decline) == declines
    assert all(kind == "decline" for kind in kinds(found))
    if declines:
        first = decline[0]
        assert at(readings, row(30, 0)) < first.at <= at(readings, row(38, 0))
        assert first.hours < 0.45 * first.normal_h
        assert first.reason_en().startswith(TITLES["decline"][1])


@pytest.mark.parametrize(("litres", "found"), [(6.0, []), (0.0, ["not_up"])])
def test_small_water_uses_that_add_up_in_the_morning_are_getting_up(
    litres: float, found: list[str]
) -> None:
    def quiet_morning(r: HourlyReadings) -> None:
        standby(r, slice(row(INCIDENT_DAY - 1, 22), row(INCIDENT_DAY, 12)))
        r.water_l[row(INCIDENT_DAY, 7) : row(INCIDENT_DAY, 10), 0] = litres  # each < 15 L

    assert kinds(run(quiet_morning), "family") == found
