"""``wangge sim …``: simulated devices against the broker, from a provisioning file."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from firmware_sim import scenarios
from firmware_sim.cameras import can_see
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import DeviceSpec, read_inventory
from firmware_sim.live import LivePlan, run_live
from firmware_sim.load import run_load
from firmware_sim.settings import SimSettings

EPILOG = """设备清单 / device file: `wangge broker credentials --out devices.csv`
(压测 / for load: add `--load-devices N` there and to `wangge broker start`)."""


def _settings(args: argparse.Namespace) -> SimSettings:
    overrides = {
        "mqtt_host": args.host,
        "mqtt_port": args.port,
        "sim_network_threads": args.threads,
    }
    return SimSettings(**{k: v for k, v in overrides.items() if v is not None})


def _run_fleet(
    specs: Sequence[DeviceSpec], args: argparse.Namespace, scenario: Callable[[Fleet], object]
) -> int:
    """Run the scenario on a fleet of these devices; return how many messages went unacknowledged."""
    with Fleet(specs, _settings(args)) as fleet:
        if not fleet.wait_connected(timeout_s=30):
            print("部分设备未能连接 / some devices did not connect (credentials? broker?)")
        scenario(fleet)
        fleet.wait_drained(timeout_s=30)
        return fleet.unacknowledged()


def _fire(args: argparse.Namespace) -> int:
    cameras = [s for s in read_inventory(args.devices) if can_see(s, args.lon, args.lat)]
    if not cameras:
        print(f"没有摄像头能看到 / no camera can see ({args.lon}, {args.lat})")
        return 1
    kind = f"fire.{args.kind}"
    unsent = _run_fleet(
        cameras,
        args,
        lambda f: scenarios.fire(f, args.lon, args.lat, kind, args.repeat, args.every),
    )
    for camera in cameras:
        mode = "仅方位 / bearing only" if camera.is_tower_camera else "方位+位置 / bearing+position"
        print(f"{camera.id}: {kind} ({mode})")
    print(f"{len(cameras)} 台摄像头已上报 / cameras reported; 未确认 / unacknowledged: {unsent}")
    return 0 if unsent == 0 else 1


def _stay_in(args: argparse.Namespace) -> int:
    devices = scenarios.household_devices(read_inventory(args.devices), args.household)
    counts = {}
    unsent = _run_fleet(
        devices,
        args,
        lambda f: counts.update(
            scenarios.stay_in(f, args.household, args.days, args.stopped_hours)
        ),
    )
    print(
        f"住户 {args.household}: {args.stopped_hours} 小时前起不再出门、不用水电 / "
        f"stopped going out {args.stopped_hours} h ago"
    )
    for type_, count in sorted(counts.items()):
        print(f"  {type_}: {count}")
    print(f"未确认 / unacknowledged: {unsent}")
    return 0 if unsent == 0 else 1


def _load(args: argparse.Namespace) -> int:
    specs = read_inventory(args.devices)[: args.count]
    if len(specs) < args.count:
        print(f"清单只有 {len(specs)} 台设备 / the device file has only {len(specs)} devices")
        return 1
    result = run_load(specs, _settings(args), args.rate, args.duration)
    figures = result.as_dict()
    print(
        f"{result.devices} devices connected in {result.connect_s} s; "
        f"sent {result.sent} at {figures['send_rate']}/s (asked {args.rate}/s), "
        f"acked {result.acked} at {figures['ack_rate']}/s, refused {result.refused}, "
        f"drain {result.drain_s} s, CPU {result.cpu_s} s"
    )
    print(json.dumps(figures))
    return 0 if result.refused == 0 and result.acked == result.sent else 1


def _live(args: argparse.Namespace) -> int:
    plan = LivePlan(
        households=args.households,
        fire_every_s=args.fire_every,
        alarm_every_s=args.alarm_every,
        duration_s=args.duration,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_live(read_inventory(args.devices), _settings(args), plan, stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "sim",
        help="模拟设备 (摄像头、水电表、门禁) / simulated devices",
        epilog=EPILOG,
    )
    sim.add_argument("--devices", type=Path, required=True, help="设备清单 CSV/JSON / device file")
    sim.add_argument("--host", help="broker host (default WANGGE_MQTT_HOST)")
    sim.add_argument("--port", type=int, help="broker port (default WANGGE_MQTT_PORT)")
    sim.add_argument("--threads", type=int, help="network threads (default 2)")
    modes = sim.add_subparsers(dest="sim_mode", metavar="MODE", required=True)

    scenario = modes.add_parser("scenario", help="场景 / scenarios")
    kinds = scenario.add_subparsers(dest="scenario", metavar="SCENARIO", required=True)
    fire = kinds.add_parser(
        "fire", help="火情: 能看到的摄像头上报 / cameras in range report a fire"
    )
    fire.add_argument("--lon", type=float, required=True, help="WGS84")
    fire.add_argument("--lat", type=float, required=True, help="WGS84")
    fire.add_argument("--kind", choices=("smoke", "flame"), default="smoke")
    fire.add_argument("--repeat", type=int, default=1, help="reports per camera")
    fire.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    fire.set_defaults(handler=_fire)
    stay = kinds.add_parser(
        "stay-in", help="独居老人久未出门、不用水电 / a resident stops going out and using water"
    )
    stay.add_argument("--household", required=True, help="住户编码 / household code")
    stay.add_argument("--days", type=float, default=3.0, help="replayed history, days")
    stay.add_argument("--stopped-hours", type=float, default=30.0, help="since when, hours ago")
    stay.set_defaults(handler=_stay_in)

    live = modes.add_parser("live", help="演示: 持续运行的城市 / a living city for the demo")
    live.add_argument("--households", type=int, default=LivePlan.households)
    live.add_argument("--fire-every", type=float, default=LivePlan.fire_every_s, help="seconds")
    live.add_argument("--alarm-every", type=float, default=LivePlan.alarm_every_s, help="seconds")
    live.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = until stopped")
    live.set_defaults(handler=_live)

    load = modes.add_parser("load", help="压测 / load test", epilog=EPILOG)
    load.add_argument("--devices", dest="count", type=int, required=True, help="number of devices")
    load.add_argument("--rate", type=float, required=True, help="messages per second, in total")
    load.add_argument("--duration", type=float, required=True, help="seconds")
    load.set_defaults(handler=_load)
