"""One typed settings object for every finsent process.

Values come from environment variables named ``FINSENT_<FIELD>`` (for example
``FINSENT_DATABASE_URL``) and from an optional ``.env`` file in the working
directory. A bad value stops the process at start with a message that names
the variable and the expected form, instead of failing later inside Kafka or
SQLAlchemy with an unrelated-looking traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.paths import PROJECT_ROOT

ENV_PREFIX = "FINSENT_"

_DURATION = re.compile(r"^(\d+)\s*([smhdwy])$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400}
FOREVER = ("forever", "never", "none")


def parse_duration(value: object) -> timedelta | None:
    """'90d', '12h', '2y' (365 days), '4w' -> timedelta; 'forever' -> None (kept for ever).

    Why a suffix form: retention and look-ahead are set by people in env files, where
    `FINSENT_RETENTION_ARTICLES=90d` reads better than a count of seconds.
    """
    if value is None or isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    if text in FOREVER:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("expected a duration such as 90d, 12h, 4w, 2y (365 days) or 'forever'")
    return timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])


def _retention(value: object) -> timedelta | None:
    duration = parse_duration(value)
    if duration is not None and duration < timedelta(days=1):
        raise ValueError("retention is at least 1d (data leaves a whole day partition at a time) or 'forever'")
    return duration


# A retention period: how long one kind of data is kept; None = for ever.
Retention = Annotated[timedelta | None, BeforeValidator(_retention)]



def _default_data_dir() -> Path:
    """``../shared/datasets`` beside the checkout when it exists, else ``./data``."""
    shared = PROJECT_ROOT.parent / "shared" / "datasets"
    return shared if shared.is_dir() else PROJECT_ROOT / "data"


class Settings(BaseSettings):
    """Everything a finsent process can be configured with.

    Field names map to ``FINSENT_<NAME>`` environment variables.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- Kafka -----------------------------------------------------------
    # Unset: the local broker's listener (kafka_port), so moving the broker moves its clients too.
    kafka_bootstrap_servers: str = Field(
        "",
        description="Comma-separated host:port list of Kafka brokers (default: 127.0.0.1:<kafka_port>).",
    )
    kafka_port: int = Field(19092, ge=1, le=65535, description="Port of the local broker's client listener.")
    kafka_controller_port: int = Field(19093, ge=1, le=65535, description="Port of the local KRaft controller.")
    kafka_version: str = Field("4.1.1", pattern=r"^4\.\d+\.\d+$",
                               description="Apache Kafka 4.x version for `stack up`.")
    kafka_heap: str = Field("512m", pattern=r"^\d+[kmg]$", description="JVM heap of the local broker.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of the news topics created by finsent.")
    news_topic: str = Field("finsent.news", min_length=1, max_length=249,
                            description="Topic the connectors write news to.")
    dead_letter_topic: str = Field("finsent.news.dlq", min_length=1, max_length=249,
                                   description="Topic the worker sends unreadable news messages to, with the reason.")
    scored_topic: str = Field("finsent.scored", min_length=1, max_length=249,
                              description="Topic the worker publishes scored items to, for downstream consumers.")
    worker_group: str = Field("finsent-worker", min_length=1, max_length=200,
                              description="Kafka consumer group shared by all stream workers "
                                          "(scale out by adding workers).")

    # --- PostgreSQL -------------------------------------------------------
    # Unset: the local server's database (postgres_port), so moving the server moves its clients too.
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the PostgreSQL database (default: the local server on postgres_port).",
    )
    postgres_port: int = Field(55432, ge=1, le=65535, description="Port of the local PostgreSQL started by `stack up`.")

    # --- Files ------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="Directory holding the datasets.")
    registry_dir: Path = Field(PROJECT_ROOT / "models", description="Model registry directory.")
    release_dir: Path = Field(PROJECT_ROOT / "release",
                              description="The model release (`finsent models release`): `finsent models ensure` "
                                          "registers and promotes it when the registry has no live version.")
    state_dir: Path = Field(PROJECT_ROOT / ".state", description="Where the local stack keeps data, logs and pids.")
    cache_dir: Path = Field(Path.home() / ".cache" / "finsent",
                            description="Shared cache (Kafka jars) outside the clone.")
    events_dir: Path = Field(PROJECT_ROOT / "tests" / "fixtures" / "events",
                             description="Labelled company events (dev data): dev_events.yaml, event_headlines.csv, "
                                         "judged_event_headlines.csv; the training profiles and `finsent bench "
                                         "events` / `event-types` read them.")

    # --- Runtime ----------------------------------------------------------
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where the model runs.")
    model_backend: Literal["auto", "torch", "onnx"] = Field(
        "auto", description="How the worker runs the model: auto (the int8 ONNX Runtime export on CPU when its "
                            "parity report passes, else torch), torch (CPU or CUDA, the evaluated weights as "
                            "they are) or onnx (the int8 export, CPU only, ~1.7x the torch CPU throughput).")
    dashboard_port: int = Field(8501, ge=1, le=65535)
    dashboard_address: str = Field("127.0.0.1", description="Bind address of the dashboard.")
    dashboard_password_hash: str | None = Field(
        None, description="pbkdf2_sha256$... hash from `finsent dashboard hash-password`; unset = no password.")
    metrics_port: int = Field(9464, ge=1, le=65535, description="Prometheus metrics/health port of the worker.")
    readiness_stall_s: float = Field(
        60.0, gt=0, le=86_400,
        description="The worker's /readyz says degraded when messages wait on the news topic and none has been "
                    "handled (stored and acknowledged) for this many seconds (docs/stream.md).")
    batch_linger_s: float = Field(
        0.05, ge=0, le=5,
        description="The longest the worker waits for more messages before scoring a micro-batch, and only while "
                    "nothing is being scored or stored; `finsent worker --batch-within` caps it (docs/stream.md).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")
    alert_rules: Path = Field(PROJECT_ROOT / "monitor" / "alerts" / "rules.example.yaml",
                              description="Alert rules file read by `finsent alerter` and `finsent alerts`.")
    alertmanager_url: str = Field(
        "", description="Base URL of an Alertmanager (http://host:9093): `finsent alerter` also posts its firing and "
                        "resolved alerts to its v2 API, and the dashboard's Alerts page shows and creates its "
                        "silences there. Empty: off, the embedded notifier only (docs/alerts.md).")
    live_segment: bool = Field(
        True, description="`make run` replays the live segment (monitor.ingest.live_segment) after the history, "
                          "published from now on, so the default alert rules fire on a first run.")
    background_training: bool = Field(
        True, description="`make run` trains the full profile in the background at low priority when the live "
                          "model is not one, and promotes it through the retraining gate if it is better.")
    background_threads: int = Field(1, ge=1, le=256, description="CPU threads of the background training run.")

    # --- Storage: partitions and retention (docs/storage.md) ---------------
    partitions_ahead: Annotated[timedelta, BeforeValidator(parse_duration)] = Field(
        timedelta(days=7),
        description="How far ahead `finsent db partitions ensure` (worker start, retention) creates partitions.")
    retention_articles: Retention = Field(timedelta(days=90), description="Articles and their model outputs.")
    retention_mentions: Retention = Field(timedelta(days=90), description="Entity mentions.")
    retention_minute_aggregates: Retention = Field(timedelta(days=30), description="Minute (60 s) aggregate buckets.")
    retention_hourly_aggregates: Retention = Field(timedelta(days=2 * 365), description="Hourly aggregate buckets.")
    retention_daily_aggregates: Retention = Field(None, description="Daily aggregate buckets.")

    @field_validator("model_backend")
    @classmethod
    def _check_backend(cls, value: str, info: ValidationInfo) -> str:
        if value == "onnx" and info.data.get("device") == "cuda":
            raise ValueError("the onnx backend runs on CPU only: use torch with FINSENT_DEVICE=cuda")
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        if not value:  # unset: the local broker (_local_services_follow_their_ports)
            return value
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("expected host:port[,host:port...], e.g. 127.0.0.1:19092")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:  # unset: the local server (_local_services_follow_their_ports)
            return value
        if not value.startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError("expected a PostgreSQL URL such as postgresql+psycopg2://user@host:5432/dbname")
        return value

    @field_validator("alertmanager_url")
    @classmethod
    def _check_alertmanager_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("expected Alertmanager's base URL, such as http://127.0.0.1:9093 (no query), or empty")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _local_services_follow_their_ports(self) -> Settings:
        """Clients left unset connect to the local services at their configured ports.

        Why: `FINSENT_KAFKA_PORT=29092` alone used to move the broker `stack up` starts while every
        client still dialled 19092 (and the same for PostgreSQL), which reached another checkout's
        services where one ran, or nothing. An explicit URL or server list still wins.
        """
        if not self.kafka_bootstrap_servers:
            self.kafka_bootstrap_servers = f"127.0.0.1:{self.kafka_port}"
        if not self.database_url:
            self.database_url = f"postgresql+psycopg2://finsent@127.0.0.1:{self.postgres_port}/finsent"
        return self

    @field_validator("retention_hourly_aggregates", "retention_daily_aggregates")
    @classmethod
    def _coarser_kept_longer(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        """A coarser aggregate level is kept at least as long as a finer one: it is what remains."""
        finer_name = {"retention_hourly_aggregates": "retention_minute_aggregates",
                      "retention_daily_aggregates": "retention_hourly_aggregates"}[info.field_name or ""]
        if finer_name not in info.data:  # the finer field was invalid: its own error says why
            return value
        finer = info.data[finer_name]
        if value is not None and (finer is None or value < finer):
            raise ValueError(f"must be at least {ENV_PREFIX}{finer_name.upper()} ({finer or 'forever'}): "
                             "the coarser level is what is left when the finer one expires")
        return value

    @property
    def kafka_servers(self) -> list[str]:
        """The bootstrap servers as a list, the form Kafka clients take."""
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",")]


class SettingsError(Exception):
    """Raised with a readable, variable-named message when settings are invalid."""


def describe_validation_error(error: ValidationError, env_prefix: str | None = ENV_PREFIX) -> str:
    """What is wrong, field by field, so the reader can fix it without reading pydantic's output.

    Settings (the default) name each field as the environment variable that sets it,
    ``FINSENT_KAFKA_PORT: expected ... (got 'x')``, one per line under a heading. With
    ``env_prefix=None`` (a news item: a dead letter's detail, a corpus line) it is one
    line of ``field: message`` pairs, e.g. ``published_at: must carry a timezone offset``.
    """
    if env_prefix is None:
        return "; ".join(f"{'.'.join(str(p) for p in item['loc']) or '(message)'}: {item['msg']}"
                         for item in error.errors())
    lines = ["invalid finsent configuration:"]
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "?"
        variable = f"{env_prefix}{field.upper()}"
        given = item.get("input")
        lines.append(f"  {variable}: {item['msg']} (got {given!r})")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise SettingsError naming bad variables."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
