"""The console's settings: the common ones (KTT_ENV, JWT_*, KTT_HOST) and where the five services are."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pydantic import Field, model_validator

from ktt_common.settings import SERVICE_PORTS, Settings, env_prefix

CONSOLE_PORT = 8000


def _default_url(service: str) -> str:
    host = os.environ.get("KTT_HOST", "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{os.environ.get(f'{env_prefix(service)}_PORT', SERVICE_PORTS[service])}"


class ConsoleSettings(Settings):
    service: str = "console"
    needs_pii_key: ClassVar[bool] = False  # no personal data of its own: never given PII_KEY (deploy/)
    # CONSOLE_<SERVICE>_URL: where the console reaches each service (default: KTT_HOST and <SERVICE>_PORT).
    decision_url: str = Field("", alias="CONSOLE_DECISION_URL")
    voucher_url: str = Field("", alias="CONSOLE_VOUCHER_URL")
    provider_registry_url: str = Field("", alias="CONSOLE_PROVIDER_REGISTRY_URL")
    attendance_url: str = Field("", alias="CONSOLE_ATTENDANCE_URL")
    billing_url: str = Field("", alias="CONSOLE_BILLING_URL")
    # Seconds the console waits for a service before the page says it is unavailable.
    upstream_timeout_seconds: float = Field(10.0, gt=0, le=120, alias="CONSOLE_UPSTREAM_TIMEOUT_SECONDS")
    # Set the Secure flag on the session cookie (behind HTTPS in production; off for plain-HTTP development).
    secure_cookie: bool | None = Field(None, alias="CONSOLE_SECURE_COOKIE")

    @model_validator(mode="after")
    def _service_urls(self) -> ConsoleSettings:
        for service in SERVICE_PORTS:
            name = f"{service.replace('-', '_')}_url"
            if not getattr(self, name):
                setattr(self, name, _default_url(service))
        if self.secure_cookie is None:
            self.secure_cookie = not self.development
        return self

    def url_of(self, service: str) -> str:
        return str(getattr(self, f"{service.replace('-', '_')}_url")).rstrip("/")


def load_console_settings(**overrides: Any) -> ConsoleSettings:
    if not overrides.get("port") and not os.environ.get("CONSOLE_PORT"):
        overrides.setdefault("port", CONSOLE_PORT)
    return ConsoleSettings(**overrides)
