"""``wangge demo ensure`` on a demo city loaded before the demo had roads: the dataset is
made again (same seed, now with its roads layer) and only the roads are added."""

from __future__ import annotations

from pathlib import Path

import pyogrio

from gis.db import connect
from gis.demo.dataset import write_dataset
from gis.demo.ensure import DemoPlan, ensure_demo
from gis.demo.generate import generate_city
from gis.loaders import load_dataset, load_layer
from gis.settings import Settings
from tests.conftest import BOUNDARIES

HOUSEHOLDS = 8_000
SEED = 7


def test_ensure_adds_the_roads_to_a_demo_city_loaded_without_them(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "boundaries").symlink_to(BOUNDARIES)
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        demo_households=HOUSEHOLDS,
        demo_seed=SEED,
    )
    folder = DemoPlan.from_settings(settings).dataset_dir
    city = generate_city(HOUSEHOLDS, SEED, BOUNDARIES)
    lanes_and_main_roads = len(city.layers.pop("roads"))
    write_dataset(folder, city.meta, city.layers, city.tables)  # as the demo was before roads
    districts = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
    assert load_layer(database_url, "district", districts, progress=False).ok
    assert load_dataset(database_url, folder, progress=False).ok

    done = ensure_demo(settings, progress=False)
    assert any("roads" in step for step in done), done
    assert "roads" in {name for name, _ in pyogrio.list_layers(folder / "city.gpkg")}
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM road").fetchone()[0] == lanes_and_main_roads
        assert conn.execute("SELECT count(*) FROM household").fetchone()[0] == HOUSEHOLDS
    assert not any("roads" in step for step in ensure_demo(settings, progress=False))
