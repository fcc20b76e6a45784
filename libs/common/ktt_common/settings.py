"""Settings from environment variables.

Every service reads the same common variables (``KTT_ENV``, ``NATS_URL``, ``DATA_DIR``,
``JWT_SECRET``...) and its own ``<SERVICE>_DATABASE_URL`` and ``<SERVICE>_PORT``.
Development defaults for secrets are refused outside development and test modes.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

DEV_JWT_SECRET = "ktt-development-signing-key-not-for-production"
DEV_PII_KEY = "ktt-development-pii-key-not-for-production"

SERVICE_PORTS: dict[str, int] = {
    "decision": 8001,
    "voucher": 8002,
    "provider-registry": 8003,
    "attendance": 8004,
    "billing": 8005,
}


def env_prefix(service: str) -> str:
    """``provider-registry`` -> ``PROVIDER_REGISTRY``: the prefix of a service's own variables."""
    return service.upper().replace("-", "_")


# Fields that come from the service itself, never from a bare environment variable (a hosting
# platform's PORT or DATABASE_URL must not silently reconfigure a service).
_NOT_FROM_ENV = frozenset({"service", "database_url", "port"})


class _EnvWithoutServiceFields(EnvSettingsSource):
    def __call__(self) -> dict[str, object]:
        return {k: v for k, v in super().__call__().items() if k not in _NOT_FROM_ENV}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)
    # Whether this process holds personal data and so needs the city's PII_KEY outside development. The
    # console (which only reads the services' REST APIs) says no: it is never given the key (least privilege).
    needs_pii_key: ClassVar[bool] = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _EnvWithoutServiceFields(settings_cls), file_secret_settings)

    service: str = "unnamed"
    # Fail closed: unset means production. `make run`, `make token` and the tests set development/test.
    environment: Literal["development", "test", "production"] = Field("production", alias="KTT_ENV")
    data_dir: Path = Field(Path("var"), alias="DATA_DIR")
    nats_url: str = Field("nats://127.0.0.1:4222", alias="NATS_URL")
    database_url: str | None = None
    host: str = Field("127.0.0.1", alias="KTT_HOST")
    port: int = 0
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_json: bool = Field(True, alias="LOG_JSON")
    # Problem details (issue 17): the base URI a problem's `type` is built on (…/rule-violation),
    # and the address clients reach this service at, named in the OpenAPI document's `servers`.
    problem_base_uri: str = Field("https://ktt.turku.example/problems/", min_length=1, alias="KTT_PROBLEM_BASE_URI")
    public_url: str | None = Field(None, alias="KTT_PUBLIC_URL")

    jwt_secret: SecretStr = Field(SecretStr(DEV_JWT_SECRET), alias="JWT_SECRET")
    jwt_issuer: str = Field("ktt-dev", alias="JWT_ISSUER")
    jwt_audience: str = Field("ktt", alias="JWT_AUDIENCE")
    # Production tokens: the city's identity provider signs them (RS256/ES256) with a key its JWKS
    # document publishes. Required outside development; HS256 (JWT_SECRET) is refused there.
    jwt_jwks_url: str | None = Field(None, alias="JWT_JWKS_URL")
    jwt_algorithms: list[Literal["RS256", "ES256"]] = Field(["RS256", "ES256"], min_length=1, alias="JWT_ALGORITHMS")
    jwt_jwks_cache_seconds: float = Field(300.0, ge=0, le=86400, alias="JWT_JWKS_CACHE_SECONDS")
    # Clock skew tolerated on exp and iat (issue 17): the identity provider's clock is not ours.
    jwt_leeway_seconds: float = Field(30.0, ge=0, le=300, alias="JWT_LEEWAY_SECONDS")
    pii_key: SecretStr = Field(SecretStr(DEV_PII_KEY), alias="PII_KEY")
    # Temporary hetu individual numbers 900-999 are accepted only in test mode.
    hetu_test_mode: bool = Field(False, alias="HETU_TEST_MODE")

    # Event bus
    stream_max_age_days: int = Field(400, alias="STREAM_MAX_AGE_DAYS")
    duplicate_window_seconds: int = Field(2 * 24 * 3600, alias="STREAM_DUPLICATE_WINDOW_SECONDS")
    # Copies JetStream keeps of every stream (issue 16): 1 on a single nats-server, 3 on a
    # three-node cluster (deploy/), where a stream survives the loss of one node. At most 5.
    stream_replicas: int = Field(1, ge=1, le=5, alias="KTT_STREAM_REPLICAS")
    consumer_max_deliver: int = Field(5, alias="CONSUMER_MAX_DELIVER")
    consumer_backoff_seconds: list[float] = Field([1.0, 5.0, 30.0, 120.0], alias="CONSUMER_BACKOFF_SECONDS")
    # Short, so a message in flight to a crashed consumer comes back soon; a handler that runs
    # longer tells the server it is still working (in-progress acks every third of this).
    consumer_ack_wait_seconds: float = Field(15.0, ge=1, le=3600, alias="CONSUMER_ACK_WAIT_SECONDS")
    consumer_batch: int = Field(64, alias="CONSUMER_BATCH")
    # How long one pull waits for messages; also the longest a consumer takes to notice a stop.
    consumer_fetch_timeout_seconds: float = Field(1.0, gt=0, alias="CONSUMER_FETCH_TIMEOUT_SECONDS")
    # Issue 15: when a fetch brings fewer than CONSUMER_BATCH messages while messages keep coming, go on
    # fetching this long so that a batch handler gets them together (0: handle each fetch as it comes).
    consumer_gather_seconds: float = Field(0.05, ge=0, le=1.0, alias="CONSUMER_GATHER_SECONDS")
    outbox_poll_seconds: float = Field(1.0, alias="OUTBOX_POLL_SECONDS")
    outbox_batch: int = Field(200, alias="OUTBOX_BATCH")
    # Issue 15: when commits keep coming, the relay waits this long after a wake-up before it claims,
    # so that one round publishes the rows of several commits (0: claim at once).
    outbox_linger_seconds: float = Field(0.05, ge=0, le=1.0, alias="OUTBOX_LINGER_SECONDS")
    # A row that fails this many publish attempts (NATS up) is parked and the relay goes on.
    outbox_max_attempts: int = Field(10, ge=1, alias="OUTBOX_MAX_ATTEMPTS")
    # The relay's lease: one replica publishes; another takes over this long after it died.
    outbox_lease_seconds: float = Field(15.0, gt=0, alias="OUTBOX_LEASE_SECONDS")
    outbox_retention_days: int = Field(7, ge=0, le=3650, alias="OUTBOX_RETENTION_DAYS")
    inbox_retention_days: int = Field(30, ge=1, le=3650, alias="INBOX_RETENTION_DAYS")
    idempotency_retention_days: int = Field(7, ge=1, le=3650, alias="IDEMPOTENCY_RETENTION_DAYS")

    # Daily-job scheduler
    scheduler_enabled: bool = Field(True, alias="SCHEDULER_ENABLED")
    scheduler_poll_seconds: float = Field(60.0, gt=0, alias="SCHEDULER_POLL_SECONDS")
    scheduler_run_at: dt.time = Field(dt.time(0, 15), alias="SCHEDULER_RUN_AT")
    scheduler_catch_up_days: int = Field(31, ge=1, le=3660, alias="SCHEDULER_CATCH_UP_DAYS")
    scheduler_lease_seconds: float = Field(600.0, gt=0, alias="SCHEDULER_LEASE_SECONDS")
    run_background: bool = Field(True, alias="KTT_RUN_BACKGROUND")

    @property
    def development(self) -> bool:
        return self.environment in ("development", "test")

    @model_validator(mode="after")
    def _fill_and_guard(self) -> Settings:
        prefix = env_prefix(self.service)
        if self.database_url is None:
            self.database_url = os.environ.get(f"{prefix}_DATABASE_URL") or (
                f"sqlite+aiosqlite:///{(self.data_dir / (self.service + '.db')).as_posix()}"
            )
        if not self.port:
            self.port = int(os.environ.get(f"{prefix}_PORT", SERVICE_PORTS.get(self.service, 8000)))
        if not self.problem_base_uri.endswith("/"):
            self.problem_base_uri += "/"
        if self.public_url is None:
            self.public_url = f"http://{self.host}:{self.port}"
        if self.inbox_retention_days * 86400 <= self.duplicate_window_seconds:
            raise ValueError("INBOX_RETENTION_DAYS must be longer than STREAM_DUPLICATE_WINDOW_SECONDS")
        if not self.development:
            if not self.jwt_jwks_url:
                raise ValueError("JWT_JWKS_URL: production tokens come from the city's identity provider; give the "
                                 "address of its JWKS document (and JWT_ISSUER, JWT_AUDIENCE). The shared HS256 "
                                 "key is for development only (KTT_ENV=development)")
            if self.jwt_issuer == "ktt-dev":
                raise ValueError("JWT_ISSUER: the development issuer is refused outside development mode; give the "
                                 "identity provider's issuer")
            if self.needs_pii_key and self.pii_key.get_secret_value() == DEV_PII_KEY:
                raise ValueError("PII_KEY: the development key is refused outside development mode")
            if self.hetu_test_mode:
                raise ValueError("HETU_TEST_MODE is refused outside development mode")
        return self


SettingsT = TypeVar("SettingsT", bound=Settings)


def settings_as(settings: Settings, cls: type[SettingsT]) -> SettingsT:
    """A service's settings as its own class (the one its ServiceSpec names as ``settings_cls``)."""
    if not isinstance(settings, cls):
        raise TypeError(f"the {settings.service} service runs with {type(settings).__name__}, not {cls.__name__}")
    return settings


def load_settings(service: str, **overrides: Any) -> Settings:
    return Settings(service=service, **overrides)
