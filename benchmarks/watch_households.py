"""Generated lone elderly households for the watch benchmark (data stays out of git).

Independent published models, not the project's own routine:
- occupancy and electricity: richardsonpy (Richardson et al. 2008/2010 CREST model, time-use
  data; 1 occupant, 1-minute load incl. cold appliances and lighting), run offline here for
  a few household-years, which become a library of days. Each simulated household draws
  its days from the library with its own time shift and load scale.
- water: pysimdeum 1.0.1 cannot run here (it breaks under pandas 3: '1H' frequencies and
  integer series assignments), so its published SIMDEUM end-use statistics for a senior
  (Blokker 2006/2010, the package's data/NL/*.toml) drive a Poisson end-use model per hour
  of active occupancy: toilet 7.2/day × ~7.5 L, kitchen tap ~9/day × 1.5 L, bathroom tap
  4.1/day × 1 L, shower 0.69/day × 6.5 min × 0.13 L/s, washing machine ~0.3/day × 50 L.
- doors: out of the door when active occupancy pauses for ≥ 1 h in the daytime (a passage
  out at its start and in at its end), as the project's door simulator reports passages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SLOTS_PER_DAY = 144
WATER_USES = (  # (uses per day, litres per use, spread of litres)
    (7.2, 7.5, 1.5),  # WC
    (9.0, 1.5, 0.7),  # kitchen tap
    (4.1, 1.0, 0.4),  # bathroom tap
    (0.69, 50.0, 12.0),  # shower
    (0.3, 50.0, 8.0),  # washing machine
)


@dataclass(frozen=True)
class DayLibrary:
    power_h: np.ndarray
    """(days, 24) mean electric power per hour, W."""
    active_h: np.ndarray
    """(days, 24) share of the hour with the occupant home and awake."""
    out_h: np.ndarray
    """(days, 24) bool: the occupant is out of the door (daytime pause ≥ 1 h)."""


def richardson_library(years: int, cache: Path, seed: int) -> DayLibrary:
    """years × 365 days from richardsonpy, cached as an .npz under cache."""
    path = cache / f"richardsonpy_1occ_{years}y_seed{seed}.npz"
    if path.exists():
        data = np.load(path)
        return DayLibrary(data["power_h"], data["active_h"], data["out_h"])
    import richardsonpy.classes.electric_load as eload
    import richardsonpy.classes.occupancy as occ
    import richardsonpy.functions.change_resolution as cr
    import richardsonpy.functions.load_radiation as loadrad

    # richardsonpy draws from numpy's global generator and from the random module's: seed
    # both, or the library (and every figure of the evaluation) differs from run to run
    np.random.seed(seed)
    random.seed(seed)
    q_direct, q_diffuse = loadrad.get_rad_from_try_path()
    q_direct = cr.change_resolution(q_direct, old_res=3600, new_res=60)
    q_diffuse = cr.change_resolution(q_diffuse, old_res=3600, new_res=60)
    power, active = [], []
    for _ in range(years):
        occupancy = occ.Occupancy(number_occupants=1, initial_day=1, nb_days=365)
        load = eload.ElectricLoad(
            occ_profile=occupancy.occupancy,
            total_nb_occ=1,
            q_direct=q_direct,
            q_diffuse=q_diffuse,
            timestep=60,
        )
        power.append(np.asarray(load.loadcurve, dtype=np.float32).reshape(-1, 24, 60).mean(2))
        active.append(np.asarray(occupancy.occupancy, dtype=np.float32).reshape(-1, 144))
    power_h = np.concatenate(power)
    slots = np.concatenate(active) > 0
    active_h = slots.reshape(-1, 24, 6).mean(2).astype(np.float32)
    out_h = _daytime_pauses(slots).reshape(-1, 24, 6).mean(2) >= 0.5
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, power_h=power_h, active_h=active_h, out_h=out_h)
    return DayLibrary(power_h, active_h, out_h)


def _daytime_pauses(active: np.ndarray) -> np.ndarray:
    """Inactive 10-minute slots in runs of ≥ 6 between 07:00 and 21:00 (out of the door)."""
    out = np.zeros_like(active)
    day = slice(7 * 6, 21 * 6)
    for d in range(active.shape[0]):
        run_start = None
        row = active[d, day]
        for i, on in enumerate([*row, True]):
            if not on and run_start is None:
                run_start = i
            elif on and run_start is not None:
                if i - run_start >= 6:
                    out[d, day.start + run_start : day.start + i] = True
                run_start = None
    return out


def water_litres(active_h: np.ndarray, scale: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Litres per hour from the SIMDEUM senior end uses, spread over active hours."""
    share = active_h / np.maximum(active_h.sum(axis=1, keepdims=True), 1e-6)
    litres = np.zeros_like(active_h)
    for per_day, volume, spread in WATER_USES:
        counts = rng.poisson(share * per_day * scale)
        litres += counts * np.clip(rng.normal(volume, spread, counts.shape), 0.2, None)
    return litres.astype(np.float32)


if __name__ == "__main__":  # build the library once: python benchmarks/watch_households.py
    import sys

    lib = richardson_library(int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
    print(lib.power_h.shape, lib.power_h.mean(), lib.active_h.mean(), lib.out_h.mean())
