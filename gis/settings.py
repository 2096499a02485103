"""All of Wangge's settings, in one place (environment variables with the ``WANGGE_`` prefix)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
