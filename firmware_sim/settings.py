"""The simulator's own settings: the same WANGGE_MQTT_HOST/PORT as the platform, plus its own."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WANGGE_", env_file=".env", extra="ignore")

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1884
    sim_keepalive_s: int = 60
    sim_heartbeat_s: float = 300.0
    sim_buffer_limit: int = 10_000
    """Messages a device keeps while offline; when full the oldest is dropped."""
    sim_reconnect_min_s: float = 1.0
    sim_reconnect_max_s: float = 60.0
    sim_network_threads: int = 2
