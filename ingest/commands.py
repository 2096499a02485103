"""``wangge broker …`` (the project's Mosquitto), ``wangge contract …`` (the MQTT contract),
``wangge ingest`` (the ingest workers) and ``wangge watch …`` (the elderly watch)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gis.contract import export_schemas
from gis.settings import PROJECT_ROOT, Settings, get_settings, require_safe_secrets
from ingest import broker, supervisor
from ingest.broker_inventory import (
    Inventory,
    inventory_from_db,
    synthetic_devices,
    write_credentials_csv,
)
from ingest.metrics import read_all
from ingest.watch.backtest import BacktestInputError, backtest_files
from ingest.watch.config import WatchConfig

SCHEMA_DIR = PROJECT_ROOT / "docs" / "schemas" / "v1"


def _inventory(settings: Settings, load_devices: int) -> Inventory:
    found = inventory_from_db(settings.database_url)
    return Inventory(found.devices + synthetic_devices(load_devices), found.worker_ids)


def _write(settings: Settings, load_devices: int) -> None:
    require_safe_secrets(settings)
    inventory = _inventory(settings, load_devices)
    paths = broker.write_config(settings, inventory.device_ids, inventory.worker_ids)
    print(
        f"已写入 broker 配置 / broker config written: {paths.root} "
        f"({len(inventory.devices)} 台设备 devices, {len(inventory.worker_ids)} 名网格员 workers)"
    )


def _config(args: argparse.Namespace) -> int:
    settings = get_settings()
    _write(settings, args.load_devices)
    if broker.reload(settings):
        print("运行中的 broker 已重新加载凭据 / running broker reloaded its credentials")
    return 0


def _start(args: argparse.Namespace) -> int:
    settings = get_settings()
    _write(settings, args.load_devices)
    if broker.reload(settings):
        print(f"broker 已在运行 / already running (pid {broker.running_pid(settings)}), reloaded")
        return 0
    pid = broker.start(settings)
    print(f"broker 已启动 / started: {settings.mqtt_host}:{settings.mqtt_port} (pid {pid})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    stopped = broker.stop(get_settings())
    print("broker 已停止 / stopped" if stopped else "broker 未在运行 / was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    state = broker.status(get_settings())
    running = f"运行中 / running (pid {state.pid})" if state.running else "未运行 / not running"
    print(f"broker {state.host}:{state.port} {running}; config {state.config}")
    return 0 if state.running else 3


def _credentials(args: argparse.Namespace) -> int:
    settings = get_settings()
    require_safe_secrets(settings)
    inventory = _inventory(settings, args.load_devices)
    count = write_credentials_csv(args.out, inventory.devices, settings.credential_secret)
    print(f"已写出 {count} 台设备的凭据 / wrote credentials of {count} devices to {args.out}")
    return 0


def _export_schemas(args: argparse.Namespace) -> int:
    for path in export_schemas(args.out):
        print(path)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.status:
        snapshots = read_all(settings.run_dir)
        for snapshot in snapshots:
            print(json.dumps(snapshot, ensure_ascii=False))
        if not snapshots:
            print("没有接入进程的指标 / no ingest metrics yet")
        return 0 if snapshots else 3
    require_safe_secrets(settings)
    return supervisor.run(settings, args.workers or settings.ingest_workers)


def _backtest(args: argparse.Namespace) -> int:
    settings = get_settings()
    config = WatchConfig.from_settings(settings)
    try:
        found = backtest_files(
            args.telemetry, args.households, args.out, config, settings.local_timezone
        )
    except (BacktestInputError, FileNotFoundError) as error:
        print(f"回测失败 / backtest failed: {error}")
        return 2
    alerts = int((found["level"] != "device").sum())
    print(
        f"已写出 {len(found)} 条发现 ({alerts} 条住户提醒, {len(found) - alerts} 条设备工单) "
        f"/ wrote {len(found)} findings ({alerts} resident alerts, "
        f"{len(found) - alerts} device tasks) to {args.out}"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    load = argparse.ArgumentParser(add_help=False)
    load.add_argument(
        "--load-devices",
        type=int,
        default=0,
        metavar="N",
        help="另加 N 台压测用虚拟设备 load-000000… / add N synthetic load-test devices",
    )

    cmd = subparsers.add_parser("broker", help="项目自己的 Mosquitto / the project's own broker")
    sub = cmd.add_subparsers(dest="broker_command", metavar="ACTION", required=True)
    sub.add_parser(
        "config", parents=[load], help="从数据库生成配置、密码和 ACL / write config from the DB"
    ).set_defaults(handler=_config)
    sub.add_parser(
        "start", parents=[load], help="生成配置并启动 (已运行则重新加载) / config and start"
    ).set_defaults(handler=_start)
    sub.add_parser("stop", help="停止 / stop").set_defaults(handler=_stop)
    sub.add_parser("status", help="运行状态 / status").set_defaults(handler=_status)
    creds = sub.add_parser(
        "credentials", parents=[load], help="导出设备清单和密码 (CSV) / export device credentials"
    )
    creds.add_argument("--out", type=Path, required=True, help="CSV 文件 / CSV file")
    creds.set_defaults(handler=_credentials)

    contract = subparsers.add_parser("contract", help="MQTT 接口契约 / the MQTT contract")
    csub = contract.add_subparsers(dest="contract_command", metavar="ACTION", required=True)
    export = csub.add_parser(
        "export-schemas", help="由模型导出 JSON Schema / write JSON Schemas from the models"
    )
    export.add_argument("--out", type=Path, default=SCHEMA_DIR, help=f"default {SCHEMA_DIR}")
    export.set_defaults(handler=_export_schemas)

    ingest = subparsers.add_parser(
        "ingest", help="接入进程: 设备消息入库、派单、推送 / run the ingest workers"
    )
    ingest.add_argument(
        "--workers", type=int, default=0, metavar="N", help="工作进程数 / worker processes"
    )
    ingest.add_argument(
        "--status", action="store_true", help="显示各进程计数 / show each worker's counters"
    )
    ingest.set_defaults(handler=_ingest)

    watch = subparsers.add_parser("watch", help="独居老人关怀 / the elderly watch")
    wsub = watch.add_subparsers(dest="watch_command", metavar="ACTION", required=True)
    backtest = wsub.add_parser(
        "backtest",
        help="按事件时间回放历史读数, 写出每条发现 / replay readings, write every finding",
    )
    for name, what in (
        (
            "--telemetry",
            "读数 CSV/Parquet: household, timestamp, water_l, power_w, door_exits, door_entries",
        ),
        ("--households", "住户 CSV/Parquet: household [, away_from, away_until]"),
        ("--out", "发现 CSV/Parquet / findings file"),
    ):
        backtest.add_argument(name, type=Path, required=True, help=what)
    backtest.set_defaults(handler=_backtest)
