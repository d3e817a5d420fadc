"""Settings read from ``COORDINATION_*`` environment variables.

A command room restarts the app under pressure, so a wrong setting must stop
start-up with one line that names the variable, never a traceback later.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from .geo.region import BBox

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "COORDINATION_"


class ConfigError(Exception):
    """A setting is wrong; the message names it and is fit for one terminal line."""


class Settings(BaseSettings):
    """Every knob the app reads; each maps to ``COORDINATION_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    instance_path: Path = ROOT / "instance"
    # Contingency plans and drill scenarios (plans/drills/), reviewed like code.
    plans_path: Path = ROOT / "plans"
    database_url: str | None = None
    redis_url: str | None = None
    socketio_channel: str | None = Field(default=None, min_length=1, max_length=100)
    secret_key: str | None = None
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    map_tile_url: str | None = None
    map_tile_attribution: str = ""
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_window_seconds: int = Field(default=900, ge=10, le=86400)
    login_max_failures_per_ip: int = Field(default=30, ge=1, le=100000)
    # Seconds added per failed sign-in from one address past a third of its allowance.
    login_delay_step_seconds: float = Field(default=0.2, ge=0, le=5)
    proxy_count: int = Field(default=0, ge=0, le=5)
    replay_page_size: int = Field(default=500, ge=10, le=10000)
    head_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Engine.IO heartbeat: a client whose pong is this late is dropped. Long enough to
    # survive a busy minute; a dead connection is still noticed (TCP, the client's timer).
    ping_timeout_seconds: float = Field(default=60.0, ge=5, le=600)
    # Writes one process works on at once; more are refused with 503 + Retry-After.
    max_writes_in_flight: int = Field(default=32, ge=1, le=10000)
    # Positions outside this box (min_lon,min_lat,max_lon,max_lat) are refused.
    region_bbox: str = "97.0,37.2,126.3,53.6"
    # A facility that has not reported for longer shows as "stale" on the map.
    facility_stale_minutes: int = Field(default=240, ge=1, le=60 * 24 * 30)
    # Service radius (km) per facility kind for the coverage view; only these kinds count.
    coverage_radius_km: dict[str, float] = Field(default_factory=lambda: {
        "township_health_centre": 30.0, "ems_station": 30.0})
    # Straight-line ETA of a unit = distance x detour factor / speed (incidents/recommend.py).
    eta_detour_factor: float = Field(default=1.35, ge=1.0, le=5.0)
    eta_speed_kmh: float = Field(default=60.0, gt=1.0, le=200.0)
    # Diseases whose patients need a negative-pressure ambulance (comma-separated
    # ids); unset: the disease catalogue decides (incidents/diseases.py).
    negative_pressure_diseases: str | None = None
    # Reporting deadline when the versioned rules (incidents/deadlines.py) have none.
    report_deadline_hours: float = Field(default=2.0, gt=0, le=24 * 30)
    # This installation's name to the outside world, whatever host name a client
    # used: the CAP <sender> of its exports (and how its own alerts are
    # recognised when they come back) and the domain of iCalendar UIDs.
    site_domain: str = Field(default="coordination.local", min_length=1, max_length=120,
                             pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgres:"):
            value = "postgresql:" + value[len("postgres:") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _check_tiles(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if "{z}" not in value or "{x}" not in value or "{y}" not in value:
            raise ValueError("must contain {z}, {x} and {y}")
        return value

    @field_validator("region_bbox")
    @classmethod
    def _check_region(cls, value: str) -> str:
        from .geo.region import BBox

        BBox.parse(value)
        return value

    @field_validator("coverage_radius_km")
    @classmethod
    def _check_radii(cls, value: dict[str, float]) -> dict[str, float]:
        from .coverage.radii import check_radii

        return check_radii(value)

    @property
    def region(self) -> BBox:
        from .geo.region import BBox

        return BBox.parse(self.region_bbox)

    @property
    def facility_stale_after(self) -> timedelta:
        return timedelta(minutes=self.facility_stale_minutes)


SUPPORTED_LOCALES = ("zh_CN", "en")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read the environment, apply test overrides, and fill derived defaults."""
    try:
        settings = Settings(**(overrides or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ENV_PREFIX + str(err["loc"][0]).upper() if err["loc"] else ENV_PREFIX
        raise ConfigError(f"{name}: {err['msg']}") from None
    try:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{ENV_PREFIX}INSTANCE_PATH: cannot create {exc.filename}") from None
    if settings.database_url is None:
        settings.database_url = f"sqlite:///{settings.instance_path / 'coordination.db'}"
    if not settings.secret_key:
        settings.secret_key = _instance_secret(settings.instance_path)
    if not settings.socketio_channel:
        settings.socketio_channel = default_channel(settings.database_url)
    return settings


def default_channel(database_url: str) -> str:
    """One Redis pub/sub channel per database.

    Pub/sub channels are global across Redis databases, so two deployments on one
    Redis with a fixed channel would hear each other's events and a screen could
    take a foreign event for its own. Processes that share a database share the
    channel; the password is left out so rotating it changes nothing.
    """
    url = make_url(database_url)._replace(password=None).render_as_string(hide_password=False)
    return "coordination-" + hashlib.sha256(url.encode()).hexdigest()[:16]


def redact(url: str) -> str:
    """A URL fit for a log line or error message: no password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _instance_secret(instance: Path) -> str:
    """Keep one generated key per instance so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
