"""Redistricting benchmark: Wangge's engine against PySAL spopt's max-p and GerryChain's ReCom.

All three partition the very same units — Wangge's road-bounded building tessellation and
its adjacency graph, households as weights — and every plan is measured by the same code
(gis.redistrict.metrics, cells dissolved by assignment): share of grids in [300, 500]
(a grid that is one building above 500 counts as in range and is reported apart as
oversize), Polsby-Popper, runtime (wall clock, and CPU time of the process, which is what
a shared machine does not distort), peak memory (max RSS of the run's own process). The anchors differ only in the partition
step, and their runtime counts only that step; Wangge's counts all of ``propose``
(tessellation, graph, partition, polygons, metrics).

- spopt: ``MaxPHeuristic`` with the household floor (300) as threshold and the unit
  centroids as attributes (compact regions); it has no ceiling.
- GerryChain: an initial plan by ``recursive_tree_part`` with k = households / 450 and the
  band as population tolerance, then ReCom with a short-bursts optimiser minimising cut
  edges (its compactness proxy). It needs every unit below the band's upper bound.

Data sets: the real Lujiazui OSM buildings (households estimated; the whole area as one
problem), generated Kundulun communities (gis.demo, ≥ 100k households, clearly generated;
each community solved on its own inside its boundary), and synthetic lattices of 10k and
100k buildings (communities of 8 × 8 blocks of 10 buildings between streets, 20..120
households each, solved community by community) for runtime. Each run is a child
process with a time cap; an anchor that fails or hits the cap says so; on the 100k lattice
the anchors are not run (their cost on 10k already exceeds the cap).

    .venv/bin/python benchmarks/redistrict.py [--kundulun-households 100000] [--sizes 10000 100000]
        [--cap-s 300] [--skip-anchors]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue as queue_module
import resource
import sys
import time
from functools import partial

import geopandas as gpd
import numpy as np
import shapely

from gis.redistrict import inputs as planner_files
from gis.redistrict.graph import UnitGraph, build_graph
from gis.redistrict.inputs import PlannerInputs
from gis.redistrict.propose import Plan, ProposeOptions, plan_from_labels, propose
from gis.redistrict.targets import Targets
from gis.redistrict.tessellation import Tessellation, tessellate
from gis.settings import PROJECT_ROOT

TARGETS = Targets()
OSM = PROJECT_ROOT / "data" / "osm"
BOUNDARIES = PROJECT_ROOT / "data" / "boundaries"
SEED = 20261201
GERRYCHAIN_BURSTS = 40
GERRYCHAIN_BURST_LENGTH = 8
GERRYCHAIN_SEED_PLAN_TRIES = 3
"""Seeds tried for GerryChain's initial plan on a community before it counts as failed."""


# --- data sets --------------------------------------------------------------------------


def lujiazui() -> list[PlannerInputs]:
    buildings = planner_files.read_buildings(OSM / "shanghai_lujiazui_buildings.geojson")
    roads = planner_files.read_roads(OSM / "shanghai_lujiazui_roads.geojson")
    return [planner_files.assemble(buildings, roads)]


def kundulun(households: int) -> list[PlannerInputs]:
    """Generated communities in the real Kundulun boundary, one input per community."""
    from gis.demo.generate import generate_city

    city = generate_city(households, SEED, BOUNDARIES)
    buildings = city.layers["buildings"]
    out = []
    for community in city.layers["communities"].itertuples():
        own = buildings[buildings["community_code"] == community.code]
        frame = gpd.GeoDataFrame(
            {
                "building_id": own["code"].astype(str).to_numpy(),
                "households": own["households"].to_numpy(),
                "assumption": "generated",
            },
            geometry=own.geometry.to_numpy(),
            crs=buildings.crs,
        )
        boundary = gpd.GeoDataFrame(geometry=[community.geometry], crs=buildings.crs)
        out.append(planner_files.assemble(frame, boundary=boundary))
    return out


COMMUNITY_BLOCKS = 8
"""A lattice community is 8 × 8 blocks (640 buildings, ~45k households)."""


def lattice(buildings: int) -> list[PlannerInputs]:
    """Communities of 8 × 8 blocks, each block 2 rows × 5 buildings between streets, 20..120
    households a building (UTM 49N), ``buildings`` in all; a district is solved community
    by community, as the product does."""
    rng = np.random.default_rng(SEED)
    per_community = COMMUNITY_BLOCKS * COMMUNITY_BLOCKS * 10
    out = []
    for index, start in enumerate(range(0, buildings, per_community)):
        count = min(per_community, buildings - start)
        out.append(_lattice_community(count, index, rng))
    return out


def _lattice_community(buildings: int, index: int, rng: np.random.Generator) -> PlannerInputs:
    pitch = 120.0
    side = COMMUNITY_BLOCKS
    x0 = 400_000.0 + (index % 20) * side * pitch
    y0 = 4_500_000.0 + (index // 20) * side * pitch
    blocks = -(-buildings // 10)
    by, bx = np.divmod(np.arange(blocks), side)
    footprints = []
    for row in range(2):
        for col in range(5):
            left = x0 + bx * pitch + 4 + col * 20
            bottom = y0 + by * pitch + 6 + row * 50
            footprints.append(shapely.box(left, bottom, left + 14, bottom + 36))
    geoms = np.stack(footprints, axis=1).ravel()[:buildings]
    rows = int(by.max()) + 1
    top = y0 + rows * pitch - 8
    right = x0 + side * pitch - 8
    lines = [
        shapely.LineString([(x0 + i * pitch - 8, y0 - 8), (x0 + i * pitch - 8, top)])
        for i in range(1, side)
    ] + [
        shapely.LineString([(x0 - 8, y0 + i * pitch - 8), (right, y0 + i * pitch - 8)])
        for i in range(1, rows)
    ]
    crs = "EPSG:32649"
    frame = gpd.GeoDataFrame(
        {
            "building_id": [f"L{index}-{i}" for i in range(len(geoms))],
            "households": rng.integers(20, 121, len(geoms)),
            "assumption": "synthetic",
        },
        geometry=geoms,
        crs=crs,
    )
    roads = gpd.GeoDataFrame(geometry=lines, crs=crs)
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(x0 - 8, y0 - 8, right, top)], crs=crs)
    return planner_files.assemble(frame, roads, boundary)


def load(name: str, size: int) -> list[PlannerInputs]:
    if name == "lujiazui":
        return lujiazui()
    if name == "kundulun":
        return kundulun(size)
    return lattice(size)


# --- methods ----------------------------------------------------------------------------


def _units(inputs: PlannerInputs, options: ProposeOptions) -> tuple[Tessellation, UnitGraph]:
    households = inputs.buildings["households"].to_numpy().astype(np.int64)
    tess = tessellate(
        inputs.boundary, inputs.roads, inputs.buildings.geometry.to_numpy(), households,
        step_m=options.sample_step_m,
    )  # fmt: skip
    return tess, build_graph(tess, road_factor=options.road_factor)


def spopt_labels(tess: Tessellation, graph: UnitGraph, seed: int) -> np.ndarray:
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    np.random.seed(seed)  # spopt draws from numpy's global generator
    centroids = shapely.get_coordinates(shapely.centroid(tess.cells))
    frame = gpd.GeoDataFrame(
        {"households": tess.households, "x": centroids[:, 0], "y": centroids[:, 1]},
        geometry=tess.cells,
    )
    neighbours = {u: graph.neighbours(u).tolist() for u in range(graph.size)}
    weights = W(neighbours, silence_warnings=True)
    model = MaxPHeuristic(
        frame, weights, ["x", "y"], "households", TARGETS.minimum, top_n=2,
        max_iterations_construction=99, max_iterations_sa=10,
    )  # fmt: skip
    model.solve()
    labels = np.asarray(model.labels_)
    # max-p numbers regions from 1; units it leaves out (0) each become a grid of their own.
    unassigned = labels <= 0
    labels = np.where(unassigned, labels.max() + 1 + np.arange(len(labels)), labels)
    return np.unique(labels, return_inverse=True)[1]


def gerrychain_labels(tess: Tessellation, graph: UnitGraph, seed: int) -> np.ndarray:
    import networkx as nx
    from gerrychain import Graph, Partition
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.optimization import SingleMetricOptimizer
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import PopulationBalanceError
    from gerrychain.updaters import Tally, cut_edges

    total = int(tess.households.sum())
    # The most slack GerryChain's symmetric tolerance can have: the feasible grid count
    # whose average is nearest the middle of the band.
    middle = (TARGETS.minimum + TARGETS.maximum) / 2
    counts = TARGETS.grid_counts(total) or [TARGETS.best_count(total)]
    k = min(counts, key=lambda c: abs(total / c - middle))
    target = total / k
    epsilon = min(TARGETS.maximum - target, target - TARGETS.minimum) / target
    nx_graph = nx.Graph()
    for u in range(graph.size):
        nx_graph.add_node(u, population=int(tess.households[u]))
    for u in range(graph.size):
        for v in graph.neighbours(u).tolist():
            if u < v:
                nx_graph.add_edge(u, v)
    chain_graph = Graph.from_networkx(nx_graph)
    assignment = None
    for attempt in range(GERRYCHAIN_SEED_PLAN_TRIES):
        try:
            assignment = recursive_tree_part(
                chain_graph, range(k), target, "population", epsilon, rng=seed + attempt
            )
            break
        except PopulationBalanceError:
            if attempt == GERRYCHAIN_SEED_PLAN_TRIES - 1:
                raise
    initial = Partition(
        chain_graph, assignment,
        updaters={"population": Tally("population"), "cut_edges": cut_edges},
    )  # fmt: skip
    proposal = partial(recom, pop_col="population", pop_target=target, epsilon=epsilon,
                       node_repeats=2, rng=seed)  # fmt: skip
    optimizer = SingleMetricOptimizer(
        proposal, [within_percent_of_ideal_population(initial, epsilon)], initial,
        lambda p: len(p["cut_edges"]), maximize=False, rng=seed,
    )  # fmt: skip
    for _ in optimizer.short_bursts(GERRYCHAIN_BURST_LENGTH, GERRYCHAIN_BURSTS):
        pass
    best = optimizer.best_part.assignment
    return np.asarray([best[u] for u in range(graph.size)], dtype=np.int64)


# --- one run in a child process ---------------------------------------------------------


def _run(method: str, name: str, size: int, queue: mp.Queue) -> None:
    """One method on one data set; after each community the figures so far go to
    ``queue`` (so a run stopped at the time cap still reports the subset it finished)."""
    try:
        communities = load(name, size)
        options = ProposeOptions(targets=TARGETS, seed=SEED)
        plans: list[Plan] = []
        seconds = 0.0
        cpu = 0.0
        units = 0
        failures: list[str] = []
        for inputs in communities:
            if method == "wangge":
                started, started_cpu = time.perf_counter(), time.process_time()
                plans.append(propose(inputs, options))
                seconds += time.perf_counter() - started
                cpu += time.process_time() - started_cpu
                units += len(inputs.buildings)
            else:
                tess, graph = _units(inputs, options)
                started, started_cpu = time.perf_counter(), time.process_time()
                chooser = spopt_labels if method == "spopt" else gerrychain_labels
                try:
                    labels = chooser(tess, graph, SEED)
                except Exception as exc:  # the anchor fails on this community: count it
                    failures.append(f"{type(exc).__name__}: {exc}"[:120])
                    labels = None
                seconds += time.perf_counter() - started
                cpu += time.process_time() - started_cpu
                if labels is not None:
                    units += graph.size
                    plans.append(plan_from_labels(inputs, options, tess, graph, labels))
            tried = len(plans) + len(failures)
            if not plans:
                continue
            queue.put({"ok": True, "done": tried == len(communities), **_summary(plans),
                       "communities": f"{len(plans)}/{len(communities)}",
                       **({"failed": f"{len(failures)} communities, e.g. {failures[0]}"}
                          if failures else {}),
                       "runtime_s": round(seconds, 2), "cpu_s": round(cpu, 2), "units": units,
                       "peak_mb": _peak_mb()})  # fmt: skip
        if not plans:
            raise RuntimeError(f"failed on every community, e.g. {failures[0]}")
    except Exception as exc:  # reported, not raised: the benchmark goes on
        queue.put({"ok": False, "done": True, "error": f"{type(exc).__name__}: {exc}"[:300],
                   "peak_mb": _peak_mb()})  # fmt: skip


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _summary(plans: list[Plan]) -> dict:
    grids = gpd.pd.concat([plan.grids for plan in plans], ignore_index=True)
    oversize = grids["flag"].str.contains("oversize_building")
    return {
        "grids": len(grids),
        "households": int(grids["households"].sum()),
        "in_range_share": round(float(grids["in_range"].mean()), 4),
        "mean_polsby_popper": round(float(grids["polsby_popper"].mean()), 4),
        "min_polsby_popper": round(float(grids["polsby_popper"].min()), 4),
        "max_households": int(grids.loc[~oversize, "households"].max()),
        "oversize_buildings": int(oversize.sum()),
        "contiguous_share": round(
            float((shapely.get_num_geometries(grids.geometry.to_numpy()) == 1).mean()), 4
        ),
    }


def run_capped(method: str, name: str, size: int, cap_s: float) -> dict:
    """The run's figures; at the cap the child is stopped and the communities it finished
    are reported as a subset (or the cap as its error when it finished none)."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run, args=(method, name, size, queue))
    started = time.perf_counter()
    child.start()
    latest: dict | None = None
    while True:
        try:
            latest = queue.get(timeout=1.0)
            if latest.pop("done"):
                break
        except queue_module.Empty:
            if not child.is_alive():
                break
            if time.perf_counter() - started > cap_s:
                child.terminate()
                if latest is None:
                    latest = {"ok": False, "error": f"time cap: stopped after {cap_s:.0f} s"}
                else:
                    latest["subset"] = f"time cap {cap_s:.0f} s: {latest['communities']} done"
                break
    child.join()
    return latest or {"ok": False, "error": f"child exited with {child.exitcode}"}


# --- main -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kundulun-households", type=int, default=100_000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--cap-s", type=float, default=300.0, help="time cap per anchor run")
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        metavar="METHOD:DATASET",
        help="run only these, e.g. gerrychain:kundulun",
    )
    args = parser.parse_args()

    datasets = [("lujiazui", "lujiazui", 0), ("kundulun", "kundulun", args.kundulun_households)]
    datasets += [(f"lattice_{size}", "lattice", size) for size in args.sizes]
    figures: dict[str, dict] = {}
    for key, name, size in datasets:
        row: dict = {}
        methods = ["wangge"]
        if not args.skip_anchors and not (name == "lattice" and size > 10_000):
            methods += ["spopt", "gerrychain"]
        for method in ["wangge", "spopt", "gerrychain"]:
            prefix = "" if method == "wangge" else f"{method}_"
            if method not in methods:
                row[f"{prefix}status"] = "not run (its cost on 10k units exceeds the cap)"
                continue
            if args.only and f"{method}:{key}" not in args.only:
                continue
            cap = args.cap_s if method != "wangge" else max(args.cap_s, 600.0)
            result = run_capped(method, name, size, cap)
            status = "ok" if result.pop("ok") else result.pop("error")
            result.pop("trace", None)
            row[f"{prefix}status"] = status
            row.update({f"{prefix}{k}": v for k, v in result.items()})
            print(f"{key:>16} {method:>10}: {status} "
                  + " ".join(f"{k}={v}" for k, v in result.items()), file=sys.stderr, flush=True)  # fmt: skip
        figures[key] = row
    for key, row in figures.items():
        print(f"== {key}")
        for field, value in row.items():
            print(f"   {field:>32}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
