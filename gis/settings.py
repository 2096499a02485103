"""All of Wangge's settings, in one place (environment variables with the ``WANGGE_`` prefix)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JOIN_TOLERANCE_M = 50.0
"""The spatial join's default reach for points just outside every grid (see below)."""


class WeComSettings(BaseModel):
    """WeCom (企业微信) application message (gettoken + message/send) and group robot."""

    base_url: str = "https://qyapi.weixin.qq.com"
    corp_id: str = ""
    corp_secret: str = ""
    agent_id: int = 0
    robot_key: str = ""
    robot_per_minute: int = 20


class DingTalkSettings(BaseModel):
    """DingTalk custom robot with 加签 (HMAC-SHA256 of timestamp + secret)."""

    base_url: str = "https://oapi.dingtalk.com"
    robot_token: str = ""
    robot_secret: str = ""
    robot_per_minute: int = 20
    block_s: float = 600.0


class AliyunSettings(BaseModel):
    """Aliyun SMS (dysmsapi SendSms) and voice notification (dyvmsapi SingleCallByTts),
    one AccessKey for both."""

    access_key_id: str = ""
    access_key_secret: str = ""
    sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    sms_sign_name: str = ""
    sms_template_code: str = ""
    voice_endpoint: str = "https://dyvmsapi.aliyuncs.com"
    voice_tts_code: str = ""
    voice_show_number: str = ""
    sms_reply_token: str = ""
    """The secret path segment of the SmsUp push URL (/watch/sms/aliyun/<token>): Aliyun
    does not sign its pushes, so only who knows the URL can post replies; empty: off."""


class TencentSettings(BaseModel):
    """Tencent Cloud SMS (SendSms 2021-01-11, TC3-HMAC-SHA256)."""

    sms_endpoint: str = "https://sms.tencentcloudapi.com"
    secret_id: str = ""
    secret_key: str = ""
    sms_app_id: str = ""
    sms_sign_name: str = ""
    sms_template_id: str = ""
    sms_template_params: list[str] = ["title", "place"]
    """Which message params fill the template's {1}, {2} … in order."""
    region: str = "ap-guangzhou"
    sms_reply_token: str = ""
    """The secret path segment of the reply callback URL (/watch/sms/tencent/<token>):
    Tencent does not sign its callbacks; empty: off."""


class WebPushSettings(BaseModel):
    """Web Push with VAPID (only where a push service is reachable)."""

    vapid_private_key: str = ""
    vapid_subject: str = "mailto:ops@wangge.invalid"
    # Push services a subscription may name (a host or its subdomains): the server POSTs to
    # a subscription's endpoint, so a login must not make it post anywhere else.
    allowed_hosts: list[str] = [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "push.services.mozilla.com",
        "notify.windows.com",
        "push.apple.com",
    ]


class Settings(BaseSettings):
    # A channel section (WeComSettings … below) keeps flat environment names:
    # WANGGE_ALIYUN_ACCESS_KEY_ID is settings.aliyun.access_key_id ("_" splits off the
    # section's name, once).
    model_config = SettingsConfigDict(
        env_prefix="WANGGE_",
        env_file=".env",
        extra="ignore",
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

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

    # --- Security: environment and secrets (docs/security.md says how to rotate each) ---
    # Outside "development" nothing starts (API, ingest, broker config) while a secret
    # below, the MQTT service passwords or the credential secret still has its default.
    environment: Literal["development", "production"] = "development"
    # Key of the HMAC that stands for residents' ID numbers (gis.pii): separate from the
    # MQTT credential secret, so rotating device passwords does not orphan the ID lookups.
    pii_secret: str = "wangge-dev-pii-secret-change-me"

    # Runtime state (broker config, pid files, logs) — never committed.
    run_dir: Path = PROJECT_ROOT / ".run"
    data_dir: Path = PROJECT_ROOT / "data"

    # Spatial join: points outside every grid go to the nearest grid within this distance.
    join_tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M

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
    api_upload_max_bytes: int = 10 * 1024 * 1024
    # Decoded size a photo may have (decompression bombs): 40 MP is a large phone photo.
    api_upload_max_pixels: int = 40_000_000
    api_stream_heartbeat_s: float = 15.0
    # How often the API process sweeps for reminders; 0 turns the sweep off.
    api_reminder_check_s: float = 60.0

    # --- API access hardening (api.proxy, api.csrf, api.body_limit, api.throttle) ---
    # Cookies carry `Secure` when this is on, or when a trusted proxy says X-Forwarded-Proto
    # https. Proxies (IP addresses or CIDR networks) whose X-Forwarded-For/-Proto we believe:
    # from anyone else those headers are ignored and the peer address is the client.
    api_cookie_secure: bool = False
    api_trusted_proxies: list[str] = []
    # Origins (scheme://host[:port]) a cookie session's state-changing request may come
    # from, besides api_public_url's.
    api_allowed_origins: list[str] = []
    # Bodies of every route but the photo upload are cut off (413) past this many bytes.
    api_body_max_bytes: int = 1024 * 1024
    # /docs, /redoc and /openapi.json: served only when on (default: in development).
    api_docs_enabled: bool | None = None
    # Login throttle: after `free` failures within the window, each further failure locks
    # the account (or the client address) for base × 2^(n-1) seconds (n = failures past
    # the free ones), at most max. docs/api.md#logging-in
    login_account_free_failures: int = 5
    login_address_free_failures: int = 20
    login_lock_base_s: float = 1.0
    login_lock_max_s: float = 900.0
    login_failure_window_s: float = 900.0
    # Field app (/m/) for grid workers and cadres on their phones.
    # A phone's login ("device session") lasts this long unless logged out (revoked).
    field_device_session_days: float = 90.0
    # A state-changing request's Idempotency-Key and its stored response are kept this long.
    field_idempotency_hours: float = 72.0
    # Resumable uploads: the largest chunk one PUT may carry, the largest upload, and how
    # long an unfinished or unattached upload is kept before the user's next one drops it.
    field_upload_chunk_max_bytes: int = 256 * 1024
    field_upload_max_bytes: int = 2 * 1024 * 1024
    field_upload_expiry_hours: float = 48.0
    # How often the app's outbox retries while offline (besides the browser's online event).
    field_outbox_retry_s: float = 15.0
    # A check-in farther than this from the incident is recorded but flagged as off site.
    field_checkin_near_m: float = 300.0

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
    # Elderly watch in PostgreSQL (ingest/watch_job.py, docs/elderly-watch.md): every
    # ingest process sweeps the due households every sweep_interval_s, sweep_batch at a
    # time (FOR UPDATE SKIP LOCKED), at most sweep_max_hours rollup hours per batch. An hour
    # is complete (swept) lateness_s after its end, so late telemetry within that counts. A
    # newly enrolled household's rollups are read back up to backfill_h hours. Rollup
    # partitions (one a month) are created rollup_months_ahead ahead and dropped after
    # rollup_retention_months. The family's "all fine" link (a random token, stored
    # hashed) is valid notice_link_h hours.
    watch_sweep_interval_s: float = 60.0
    # A sweep run holds the ingest timer thread (escalations wait) at most this long; what
    # is still due goes on at the next tick.
    watch_sweep_slice_s: float = 2.0
    watch_sweep_batch: int = 2000
    watch_sweep_max_hours: int = 168
    watch_lateness_s: float = 900.0
    watch_backfill_h: int = 672
    watch_rollup_months_ahead: int = 2
    watch_rollup_retention_months: int = 13
    watch_notice_link_h: float = 72.0
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
    watch_min_exit_gap_h: float = 72.0
    watch_exit_factor: float = 1.5
    watch_default_out_h: float = 14.0
    # 久未归 is raised only at night: out past the usual + margin in these local hours.
    watch_out_margin_h: float = 3.0
    watch_not_back_hours: tuple[int, int] = (0, 7)
    # A resident who came back from a night out (not announced) within this many days
    # does stay out overnight: 久未归 only once out past night_out_h (a day and a night).
    watch_night_out_memory_days: float = 56.0
    watch_night_out_h: float = 30.0
    watch_default_run_h: float = 3.0
    # An hour "uses water" from this many litres, and "runs water" (continuous flow) from
    # flow_min_l (2 L/min all hour: a tap or shower left running is 4+ L/min; cleaning,
    # a bath or the washing machine stay below); electricity is in use above the learned standby + active_w, standby being
    # the standby_quantile of the power of the last 48 unattended (night) hours.
    watch_water_min_l: float = 1.0
    watch_flow_min_l: float = 120.0
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
    watch_device_offline_h: float = 6.0
    # A door that sent nothing for an hour may have missed a passage: absences are not
    # judged until a passage or use at home, at most this long.
    watch_door_doubt_h: float = 14.0
    watch_power_stuck_h: float = 3.0
    # Severity ladder: first a family notice, then the grid worker after family_wait_h if
    # the case is still open (family_first=False: straight to the worker).
    watch_family_first: bool = True
    watch_family_wait_h: float = 3.0
    watch_quiet_after_visit_h: float = 24.0
    # Gradual decline: water litres AND electricity (Wh above the standby) per hour at home
    # over the last 7 days at home, both below this share of their mean of the weeks before.
    watch_decline_ratio: float = 0.45

    # Outbound channels (gis.channels; docs/channels.md). A channel whose secret is empty
    # is disabled. Endpoints are settings so that tests point them at local servers.
    channel_retry_attempts: int = 4
    channel_retry_base_s: float = 0.5
    wecom: WeComSettings = Field(default_factory=WeComSettings)
    dingtalk: DingTalkSettings = Field(default_factory=DingTalkSettings)
    aliyun: AliyunSettings = Field(default_factory=AliyunSettings)
    tencent: TencentSettings = Field(default_factory=TencentSettings)
    web_push: WebPushSettings = Field(default_factory=WebPushSettings)

    # The urgent ladder (ingest/ladder.py): per recipient of an urgent task, at once the
    # instant channels (the MQTT task push goes out anyway); if not seen within
    # ladder_sms_after_s, SMS; if not accepted within ladder_voice_after_s, a voice call;
    # if still not accepted after ladder_escalate_after_s, the next level of the
    # escalation chain now (whose people then get their own ladder). Only enabled
    # channels are used; 0 for ladder_poll_s turns the ladder off.
    ladder_instant_channels: list[str] = ["web_push", "wecom_app", "wecom_robot", "dingtalk_robot"]
    ladder_sms_channels: list[str] = ["aliyun_sms", "tencent_sms"]
    ladder_voice_channels: list[str] = ["aliyun_voice"]
    ladder_sms_after_s: float = 60.0
    ladder_voice_after_s: float = 120.0
    ladder_escalate_after_s: float = 180.0
    ladder_horizon_s: float = 3600.0
    ladder_poll_s: float = 1.0
    ladder_lease_s: float = 60.0
    # Redistricting (`wangge redistrict`): households per grid (min / max / ideal), the
    # community code of proposals made from files, the buffer (m) around the buildings' hull
    # when no boundary is given, the relative cost of a grid boundary across a road (cheap:
    # grids follow roads), and the spacing (m) of outline points in the building tessellation.
    redistrict_min_households: int = 300
    redistrict_max_households: int = 500
    redistrict_target_households: int = 450
    redistrict_community_code: str = "000000000000"
    redistrict_hull_buffer_m: float = 30.0
    redistrict_road_factor: float = 0.2
    redistrict_sample_step_m: float = 8.0
    # Propose jobs of the API (POST /api/plans/propose): engine runs at once per API process.
    plan_job_workers: int = 1

    # Residents' reports (居民随手拍, Open311 POST requests.json; api/resident_reports.py,
    # docs/residents.md). Rate limits count accepted reports per client address and per
    # phone number within the window. A page submission carries a form token signed with
    # report_form_secret (set it, the same on every API process: the default is random per
    # process) and must not arrive sooner than report_min_fill_s after the page was served.
    # API clients without the page send one of report_api_keys instead.
    report_window_s: float = 3600.0
    report_max_per_address: int = 10
    report_max_per_phone: int = 5
    report_min_fill_s: float = 3.0
    report_form_max_age_s: float = 86400.0
    report_form_secret: str = Field(default_factory=lambda: secrets.token_hex(32))
    report_api_keys: list[str] = []
    report_photo_max_px: int = 1600
    report_photo_quality: int = 80

    # Demo city
    demo_households: int = 60_000
    demo_seed: int = 20261121

    @property
    def docs_enabled(self) -> bool:
        """API docs are on where asked, else only in development."""
        if self.api_docs_enabled is None:
            return self.environment == "development"
        return self.api_docs_enabled

    @property
    def upload_dir(self) -> Path:
        """Where task photos uploaded through the API are stored."""
        return self.run_dir / "uploads"


DEFAULT_SECRETS = ("credential_secret", "pii_secret", "mqtt_ingest_password", "mqtt_admin_password")
"""Settings whose shipped defaults are public (they are in this file)."""


class InsecureSettings(RuntimeError):
    """Raised at start-up outside development while a secret still has its default."""


def require_safe_secrets(settings: Settings) -> None:
    """Refuse to run outside development with a default secret, or with one secret reused
    for two jobs (device passwords and ID hashing must be rotatable separately)."""
    if settings.environment == "development":
        return
    defaults = Settings.model_fields
    unsafe = [name for name in DEFAULT_SECRETS if getattr(settings, name) == defaults[name].default]
    if unsafe:
        names = ", ".join(f"WANGGE_{name.upper()}" for name in unsafe)
        raise InsecureSettings(
            f"生产环境不能使用默认密钥 (default secrets outside development): {names}"
        )
    if settings.credential_secret == settings.pii_secret:
        raise InsecureSettings(
            "WANGGE_CREDENTIAL_SECRET 与 WANGGE_PII_SECRET 不能相同 (must be different secrets)"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
