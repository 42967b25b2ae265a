"""One settings object for the whole application (env prefix SOCSTAT_, .env supported)."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class SettingsError(RuntimeError):
    """Bad configuration; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOCSTAT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "demo", "test", "prod"] = "dev"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str = ""
    secret_key_previous: str = ""
    metrics_token: str = ""
    timezone: str = "Europe/Moscow"
    base_url: str = "http://localhost:3000"

    vk_api_url: str = ""
    vk_tokens: str = ""
    vk_api_version: str = "5.199"
    vk_timeout_seconds: float = Field(default=10.0, gt=0)
    backfill_days: int = Field(default=90, ge=1, le=3650)
    refresh_days: int = Field(default=3, ge=0, le=60)
    collect_interval_hours: float = Field(default=24.0, gt=0, le=24 * 31)
    # Collection across processes: a claim (and a run's heartbeat) lasts this long; a dead
    # worker's sources are claimable again after it. An idle worker looks for due sources
    # every poll interval and claims at most `collect_batch_size` of them at a time.
    collect_lease_seconds: float = Field(default=180.0, ge=3, le=3600)
    collect_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    collect_batch_size: int = Field(default=200, ge=1, le=10000)
    sandbox_port: int = Field(default=8765, ge=1, le=65535)
    reports_catch_up_days: float = Field(default=3.0, ge=0, le=31)

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "socstat@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False

    # off: this process never runs the scheduler (web replicas; `socstat worker` always may)
    scheduler: bool = True
    # how often a process that is not the leader tries the leader lock again
    leader_retry_seconds: float = Field(default=15.0, gt=0, le=3600)
    # `socstat worker` serves /metrics and /healthz here when set (0: not at all)
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    # analytics' in-process copy of the day aggregates (services/analytics/store), per process
    analytics_memory_mb: int = Field(default=512, ge=16, le=65536)

    backup_dir: Path | None = None
    backup_time: str = Field(default="03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    backup_keep_daily: int = Field(default=7, ge=1, le=366)
    backup_keep_weekly: int = Field(default=4, ge=0, le=520)
    backup_keep_monthly: int = Field(default=6, ge=0, le=240)

    outbox_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Requests that send mail (register, password reset, resend, email change), per action.
    rate_limit_ip: str = "20/hour"
    rate_limit_recipient: str = "3/hour"

    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("rate_limit_ip", "rate_limit_recipient")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"expected a limit like '5/hour', got {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @model_validator(mode="after")
    def _secret_required_in_prod(self) -> Settings:
        if self.env == "prod" and len(self.secret_key) < 16:
            raise ValueError(
                "SOCSTAT_SECRET_KEY must be set (16+ characters) when SOCSTAT_ENV=prod"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'socstat.db'}"

    @property
    def previous_secret_keys(self) -> list[str]:
        """Old keys that still decrypt (SOCSTAT_SECRET_KEY_PREVIOUS, comma-separated)."""
        return [key.strip() for key in self.secret_key_previous.split(",") if key.strip()]

    @property
    def demo_mode(self) -> bool:
        """No VK tokens configured: the built-in sandbox serves the VK API."""
        return not self.vk_tokens.strip()

    @property
    def demo_accounts_allowed(self) -> bool:
        """Demo accounts may exist: a dev/demo installation without VK tokens in the env
        (tokens stored in the database are checked by the demo service)."""
        return self.env in ("dev", "demo") and self.demo_mode

    @property
    def effective_vk_api_url(self) -> str:
        if self.vk_api_url:
            return self.vk_api_url.rstrip("/")
        if self.demo_mode:
            return f"http://127.0.0.1:{self.sandbox_port}"
        return "https://api.vk.com"

    @property
    def collect_interval(self) -> timedelta:
        return timedelta(hours=self.collect_interval_hours)

    @property
    def collect_lease(self) -> timedelta:
        return timedelta(seconds=self.collect_lease_seconds)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


def normalize_database_url(url: str) -> str:
    """postgres:// and postgresql:// both mean psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = "_".join(str(part) for part in item["loc"]) or "configuration"
        name = f"SOCSTAT_{field.upper()}" if item["loc"] else "configuration"
        lines.append(f"{name}: {item['msg']}")
    return "; ".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(f"Invalid configuration — {_describe(exc)}") from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
