"""``wangge watch backtest`` end to end on small CSV and Parquet files: every detection is
written with its time and reason, known absences are honoured, bad files are refused with
what is wrong."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.cli import main
from ingest.watch.readings import hour_start
from tests.test_watch_detector import INCIDENT_DAY, collapse_at_14, not_back
from tests.watch_world import at, one_household, routine
from tests.watch_world import local_hour_index as row

HOUSEHOLDS = ["H-calm", "H-collapse", "H-away"]


def _telemetry(naive_local: bool) -> pd.DataFrame:
    readings = routine(24, households=3)
    collapse_at_14(one_household(readings, 1))
    not_back(one_household(readings, 2))
    frames = []
    for col, household in enumerate(HOUSEHOLDS):
        stamps = pd.DatetimeIndex(
            [hour_start(readings.start_hour + i) for i in range(readings.hours)]
        )
        if naive_local:
            stamps = stamps.tz_convert("Asia/Shanghai").tz_localize(None)
        # two readings per hour: the rollup must sum litres and passages, average power
        for half in (0, 30):
            frames.append(
                pd.DataFrame(
                    {
                        "household": household,
                        "timestamp": stamps + pd.Timedelta(minutes=half),
                        "water_l": readings.water_l[:, col] / 2,
                        "power_w": readings.power_w[:, col],
                        "door_exits": readings.exits[:, col] if half == 0 else 0.0,
                        "door_entries": readings.entries[:, col] if half == 0 else 0.0,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_backtest_writes_every_detection_with_time_and_reason(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    telemetry = _telemetry(naive_local=suffix == "csv")
    households = pd.DataFrame(
        {
            "household": HOUSEHOLDS,
            "away_from": [None, None, "2026-03-23T09:30:00+08:00"],
            "away_until": [None, None, "2026-03-30T00:00:00+08:00"],
        }
    )
    paths = {name: tmp_path / f"{name}.{suffix}" for name in ("telemetry", "households", "out")}
    if suffix == "csv":
        telemetry.to_csv(paths["telemetry"], index=False)
        households.to_csv(paths["households"], index=False)
    else:
        telemetry.to_parquet(paths["telemetry"], index=False)
        households.to_parquet(paths["households"], index=False)
    assert main(["watch", "backtest", *(f"--{k}={v}" for k, v in paths.items())]) == 0
    assert "2 条住户提醒" in capsys.readouterr().out
    out = pd.read_csv(paths["out"]) if suffix == "csv" else pd.read_parquet(paths["out"])
    readings = routine(24)
    assert out[["household", "kind", "level"]].values.tolist() == [
        ["H-collapse", "no_activity", "family"],
        ["H-collapse", "no_activity", "visit"],
    ]
    assert (
        at(readings, row(INCIDENT_DAY, 14))
        < pd.Timestamp(out["at"].iloc[0])
        <= at(readings, row(INCIDENT_DAY, 22))
    )
    assert out["reason_zh"].iloc[0].startswith("长时间无用水用电迹象")
    assert out["signals"].iloc[0] == "water,power"


def test_backtest_says_what_is_wrong_with_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    telemetry = _telemetry(naive_local=False).drop(columns=["door_exits"])
    telemetry.to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame({"household": HOUSEHOLDS}).to_csv(tmp_path / "h.csv", index=False)
    code = main(
        [
            "watch",
            "backtest",
            f"--telemetry={tmp_path / 't.csv'}",
            f"--households={tmp_path / 'h.csv'}",
            f"--out={tmp_path / 'o.csv'}",
        ]
    )
    assert code == 2
    assert "missing columns door_exits" in capsys.readouterr().out
    assert not (tmp_path / "o.csv").exists()
