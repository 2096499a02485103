"""All of Wangge's settings, in one place (environment variables with the ``WANGGE_`` prefix)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WANGGE_", env_file=".env", extra="ignore")

    # PostgreSQL + PostGIS
    database_url: str = "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge"

    # The project's own Mosquitto (not the system one): its config lives under run_dir.
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1884
    mqtt_ingest_username: str = "wangge-ingest"
    mqtt_ingest_password: str = "wangge-ingest-dev"
    mqtt_admin_username: str = "wangge-admin"
    mqtt_admin_password: str = "wangge-admin-dev"
    mqtt_max_queued_messages: int = 200_000
    # Secret from which per-device and per-worker MQTT passwords are derived (HMAC).
    credential_secret: str = "wangge-dev-secret-change-me"

    # Runtime state (broker config, pid files, logs) — never committed.
    run_dir: Path = PROJECT_ROOT / ".run"
    data_dir: Path = PROJECT_ROOT / "data"

    # Spatial join: points outside every grid go to the nearest grid within this distance.
    join_tolerance_m: float = 50.0

    # Loaders (`wangge load`): how far (m) a grid may stick out of its community, how much
    # (m²) two grids of one community may overlap, and the zone of naive times in files.
    load_containment_tolerance_m: float = 1.0
    load_overlap_tolerance_m2: float = 1.0
    local_timezone: str = "Asia/Shanghai"

    # Work-order deadlines: working hours, public holidays and make-up working days (调休).
    work_calendar_path: Path = PROJECT_ROOT / "gis" / "data" / "work_calendar_cn.json"
    # Reminders for tasks left open: the assignee is reminded once per interval.
    reminder_urgent_minutes: int = 10
    reminder_normal_minutes: int = 240

    # API (`wangge api serve`)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The address workers' apps open task links at (MQTT task messages carry it).
    api_public_url: str = "http://127.0.0.1:8000"
    api_pool_size: int = 20
    api_token_hours: float = 12.0
    api_cookie_secure: bool = False
    api_upload_max_bytes: int = 10 * 1024 * 1024
    api_stream_heartbeat_s: float = 15.0
    # How often the API process sweeps for reminders; 0 turns the sweep off.
    api_reminder_check_s: float = 60.0

    # Operators' map (/map). Base layer: "none" (offline: district and community outlines
    # on a plain background), "local" (a {z}/{x}/{y} tile folder served by the API at
    # /tiles), "tianditu" (天地图, CGCS2000 ≈ WGS84, needs a key) or "amap" (高德, GCJ-02:
    # the map shifts every overlay onto the tiles). Only "none" and "local" work offline.
    map_base_layer: Literal["none", "local", "tianditu", "amap"] = "none"
    map_tile_dir: Path = PROJECT_ROOT / "data" / "tiles"
    map_tile_ext: Literal["png", "jpg", "webp"] = "png"
    map_tile_max_zoom: int = 18
    map_tianditu_key: str = ""
    map_tianditu_url: str = (
        "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
    )
    map_amap_url: str = (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}"
    )

    # Ingest workers (`wangge ingest`): processes, MQTT session, micro-batches.
    ingest_workers: int = 2
    ingest_share_group: str = "wangge-ingest"
    ingest_client_prefix: str = "wangge-ingest"
    ingest_batch_max: int = 500
    # Unacknowledged messages the broker may have in flight to one worker (MQTT 5 Receive
    # Maximum): a batch can never be larger than this.
    ingest_receive_maximum: int = 2000
    ingest_session_expiry_s: int = 7 * 86400
    ingest_registry_refresh_s: float = 60.0
    ingest_metrics_interval_s: float = 10.0
    ingest_outbox_poll_s: float = 0.5
    ingest_timers_poll_s: float = 1.0
    # Fire incidents: detections within this radius and window merge into one incident;
    # camera bearings within the bearing window are intersected.
    fire_merge_radius_m: float = 500.0
    fire_merge_window_s: float = 600.0
    fire_bearing_window_s: float = 300.0
    # Unacknowledged urgent alerts escalate this many minutes after the task was created:
    # grid head, then community cadres and duty desk, then street and departments (消防).
    escalation_minutes: list[float] = [3.0, 10.0, 20.0]
    # Elderly watch: a resident living alone who has not gone out for this many days.
    elderly_no_exit_days: float = 3.0
    elderly_watch_interval_s: float = 60.0
    # Elderly watch that learns each household (ingest/watch, docs/elderly-watch.md).
    # Hours are local (local_timezone); waking hours are [start, end). A gap or run is
    # abnormal past factor × its learned robust quantile + margin (defaults until a slot
    # has min_samples days of history).
    watch_waking_hours: tuple[int, int] = (7, 22)
    watch_gap_factor: float = 1.3
    watch_gap_margin_h: float = 2.0
    watch_min_samples: int = 4
    watch_default_gap_h: float = 10.0
    watch_min_gap_h: float = 3.0
    # no_activity is raised in waking hours and, for an evening that went silent, until
    # this local hour after midnight (later the getting-up check takes over).
    watch_no_activity_night_until: int = 2
    # Getting up: no use by the latest first use of the last days + morning_margin_h (a
    # new household: default_first_use_hour) is "not up" (未起床).
    watch_morning_margin_h: float = 3.0
    watch_default_first_use_hour: int = 10
    watch_up_water_l: float = 15.0
    watch_default_exit_gap_h: float = 72.0
    watch_min_exit_gap_h: float = 60.0
    watch_exit_factor: float = 1.5
    watch_default_out_h: float = 14.0
    # 久未归 is raised only at night: out past the usual + margin in these local hours.
    watch_out_margin_h: float = 3.0
    watch_not_back_hours: tuple[int, int] = (0, 7)
    watch_default_run_h: float = 3.0
    # An hour "uses water" from this many litres, and "runs water" (continuous flow) from
    # flow_min_l; electricity is in use above the learned standby + active_w, standby being
    # the standby_quantile of the power in the unattended (night) hours.
    watch_water_min_l: float = 1.0
    watch_flow_min_l: float = 60.0
    watch_power_active_w: float = 25.0
    watch_standby_quantile: float = 0.9
    watch_unattended_hours: tuple[int, int] = (1, 5)
    # One signal absent while another shows life: power flat at standby becomes a family
    # notice past single_factor × normal (and single_min_h); water at zero becomes a
    # "meter stuck?" device task instead (a resident using power and no water for a day is
    # far likelier a stuck meter than an emergency).
    watch_single_factor: float = 3.0
    watch_single_min_h: float = 24.0
    # A device that sent nothing for this long is offline (a device task); a power meter
    # reading 0 W (no fridge either) this long is stuck or cut off.
    watch_device_offline_h: float = 3.0
    watch_power_stuck_h: float = 3.0
    # Severity ladder: first a family notice, then the grid worker after family_wait_h if
    # the case is still open (family_first=False: straight to the worker).
    watch_family_first: bool = True
    watch_family_wait_h: float = 3.0
    watch_quiet_after_visit_h: float = 24.0
    # Gradual decline: the 7-day mean of active hours below this share of the 28-day mean.
    watch_decline_ratio: float = 0.55
    # SMS to family contacts: "log" (development: log and mark sent) or an HTTP gateway URL.
    sms_sender: str = "log"

    # Demo city
    demo_households: int = 60_000
    demo_seed: int = 20261121

    @property
    def upload_dir(self) -> Path:
        """Where task photos uploaded through the API are stored."""
        return self.run_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
