"""ktt_common.auth (JWT issue/decode, the token CLI) and ktt_common.settings (env, guards, defaults)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jwt
import pytest

from ktt_common.auth import Principal, Role, decode_token, issue_token, main
from ktt_common.errors import Unauthorized
from ktt_common.settings import DEV_JWT_SECRET, DEV_PII_KEY, SERVICE_PORTS, Settings, env_prefix, load_settings

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
ISS, AUD = "ktt-test", "ktt"

ENV_VARS = (
    "KTT_ENV", "DATA_DIR", "NATS_URL", "KTT_HOST", "LOG_LEVEL", "LOG_JSON", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE",
    "PII_KEY", "HETU_TEST_MODE",
    *(f"{env_prefix(s)}_DATABASE_URL" for s in SERVICE_PORTS), *(f"{env_prefix(s)}_PORT" for s in SERVICE_PORTS),
    "TOKEN_DATABASE_URL", "TOKEN_PORT",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No KTT variables from the surrounding shell leak into the settings under test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KTT_ENV", "development")  # unset means production (see the tests below)
    return monkeypatch


def production(env: pytest.MonkeyPatch, **over: str) -> None:
    """A complete production environment, with ``over`` changing (or, when empty, removing) variables."""
    values = {"KTT_ENV": "production", "JWT_JWKS_URL": "https://idp.example/jwks.json",
              "JWT_ISSUER": "https://idp.example", "PII_KEY": "a-real-pii-key"}
    values.update(over)
    for name, value in values.items():
        if value:
            env.setenv(name, value)
        else:
            env.delenv(name, raising=False)


def claims(**over: Any) -> dict[str, Any]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    base: dict[str, Any] = {"sub": "u1", "role": "city_official", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 600}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def decode(token: str, **over: Any) -> Principal:
    kwargs: dict[str, Any] = {"issuer": ISS, "audience": AUD}
    kwargs.update(over)
    secret = kwargs.pop("secret", SECRET)
    return decode_token(token, secret, **kwargs)


# --- issue / decode --------------------------------------------------------------------------

def test_provider_token_round_trip() -> None:
    token = issue_token(SECRET, role=Role.PROVIDER, subject="p-user", provider_id="P1", name="Päiväkoti Aurinko",
                        issuer=ISS, audience=AUD)
    assert decode(token) == Principal(subject="p-user", role=Role.PROVIDER, provider_id="P1", client_id=None,
                                      name="Päiväkoti Aurinko")


def test_client_token_round_trip_with_role_as_string() -> None:
    client = "0b5c2a6e-3f4d-4e8a-9c1b-2d3e4f5a6b7c"
    principal = decode(issue_token(SECRET, role="client", client_id=client.upper(), issuer=ISS, audience=AUD))
    assert principal.role is Role.CLIENT
    assert principal.client_id == client  # canonical form
    assert principal.provider_id is None
    assert principal.subject.startswith("client-")


@pytest.mark.parametrize("role", [Role.CITY_OFFICIAL, Role.SOCIAL_WORKER, Role.INTEGRATOR, Role.ADMIN])
def test_roles_without_extra_claims_round_trip(role: Role) -> None:
    principal = decode(issue_token(SECRET, role=role, subject="s", issuer=ISS, audience=AUD))
    assert principal == Principal(subject="s", role=role)


def test_issued_claims_carry_issuer_audience_and_ttl() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = issue_token(SECRET, role="admin", issuer=ISS, audience=AUD, ttl=dt.timedelta(hours=2), now=now)
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["iss"] == ISS and raw["aud"] == AUD and raw["role"] == "admin"
    assert raw["iat"] == int(now.timestamp())
    assert raw["exp"] - raw["iat"] == 7200
    assert "provider_id" not in raw and "client_id" not in raw


def test_provider_token_without_provider_id_refused_at_issue() -> None:
    with pytest.raises(ValueError, match="provider_id"):
        issue_token(SECRET, role=Role.PROVIDER, issuer=ISS, audience=AUD)
    with pytest.raises(ValueError, match="provider_id"):
        issue_token(SECRET, role=Role.PROVIDER, provider_id="", issuer=ISS, audience=AUD)


def test_client_token_without_client_id_refused_at_issue() -> None:
    with pytest.raises(ValueError, match="client_id"):
        issue_token(SECRET, role=Role.CLIENT, issuer=ISS, audience=AUD)


def test_unknown_role_refused_at_issue() -> None:
    with pytest.raises(ValueError):
        issue_token(SECRET, role="superuser", issuer=ISS, audience=AUD)


def test_provider_token_without_provider_id_refused_at_decode() -> None:
    token = jwt.encode(claims(role="provider"), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="provider_id"):
        decode(token)


def test_client_token_without_client_id_refused_at_decode() -> None:
    token = jwt.encode(claims(role="client"), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="client_id"):
        decode(token)


def test_expired_token_refused() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = issue_token(SECRET, role="admin", issuer=ISS, audience=AUD, ttl=dt.timedelta(hours=1), now=past)
    with pytest.raises(Unauthorized, match="expired") as info:
        decode(token)
    assert info.value.status == 401


@pytest.mark.parametrize(
    ("what", "over"),
    [
        ("signature does not verify", {"secret": "another-secret-that-is-long-enough-0123456789abcdef"}),
        ("another audience", {"audience": "someone-else"}),
        ("another issuer", {"issuer": "evil-issuer"}),
    ],
)
def test_token_checked_against_secret_audience_and_issuer(what: str, over: dict[str, Any]) -> None:
    token = issue_token(SECRET, role="admin", issuer=ISS, audience=AUD)
    assert decode(token).role is Role.ADMIN  # valid as issued
    with pytest.raises(Unauthorized, match=what):
        decode(token, **over)


@pytest.mark.parametrize("role", ["superuser", "", None, 7])
def test_unknown_role_refused_at_decode(role: Any) -> None:
    raw = claims()
    raw["role"] = role
    token = jwt.encode(raw, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="no known role"):
        decode(token)


@pytest.mark.parametrize("missing", ["exp", "sub", "iss", "aud"])
def test_required_claims(missing: str) -> None:
    token = jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        decode(token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_malformed_token_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        decode(token)


def test_unsigned_token_refused() -> None:
    token = jwt.encode(claims(role="admin"), None, algorithm="none")
    with pytest.raises(Unauthorized):
        decode(token)


# --- Settings --------------------------------------------------------------------------------

def test_development_mode_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(service="decision")
    assert settings.environment == "development"
    assert settings.jwt_jwks_url is None and settings.jwt_leeway_seconds == 30
    assert settings.development
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.pii_key.get_secret_value() == DEV_PII_KEY
    assert settings.hetu_test_mode is False


def test_unset_environment_is_production(clean_env: pytest.MonkeyPatch) -> None:
    """Issue 12 item 5: fail closed. Without KTT_ENV a service runs as production, which refuses
    the development keys and needs the identity provider."""
    clean_env.delenv("KTT_ENV")
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        Settings(service="decision")
    production(clean_env, KTT_ENV="")
    assert Settings(service="decision").environment == "production"


def test_production_needs_the_identity_providers_jwks_and_issuer(clean_env: pytest.MonkeyPatch) -> None:
    """Issue 12 item 6: production tokens come from the city's identity provider, not the shared key."""
    production(clean_env, JWT_JWKS_URL="")
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        Settings(service="decision")
    production(clean_env, JWT_ISSUER="")  # the development issuer, ktt-dev
    with pytest.raises(ValueError, match="JWT_ISSUER"):
        Settings(service="decision")


def test_production_refuses_the_development_pii_key(clean_env: pytest.MonkeyPatch) -> None:
    production(clean_env, PII_KEY="")
    with pytest.raises(ValueError, match="PII_KEY"):
        Settings(service="decision")


def test_production_with_real_settings_works(clean_env: pytest.MonkeyPatch) -> None:
    production(clean_env, JWT_LEEWAY_SECONDS="5", JWT_ALGORITHMS='["ES256"]')
    settings = Settings(service="decision")
    assert settings.environment == "production"
    assert not settings.development
    assert settings.jwt_jwks_url == "https://idp.example/jwks.json"
    assert settings.jwt_leeway_seconds == 5 and settings.jwt_algorithms == ["ES256"]
    assert settings.pii_key.get_secret_value() == "a-real-pii-key"
    assert "a-real-pii-key" not in repr(settings)  # secrets stay out of reprs and logs


@pytest.mark.parametrize(("name", "value"), [("JWT_LEEWAY_SECONDS", "-1"), ("JWT_LEEWAY_SECONDS", "3600"),
                                             ("JWT_ALGORITHMS", '["HS256"]'), ("JWT_ALGORITHMS", "[]")])
def test_token_settings_are_bounded(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings(service="decision")


def test_production_refuses_hetu_test_mode(clean_env: pytest.MonkeyPatch) -> None:
    production(clean_env)
    clean_env.setenv("HETU_TEST_MODE", "true")
    with pytest.raises(ValueError, match="HETU_TEST_MODE"):
        Settings(service="decision")


@pytest.mark.parametrize("env", ["development", "test"])
def test_hetu_test_mode_allowed_in_development_and_test(clean_env: pytest.MonkeyPatch, env: str) -> None:
    clean_env.setenv("KTT_ENV", env)
    clean_env.setenv("HETU_TEST_MODE", "1")
    settings = Settings(service="decision")
    assert settings.hetu_test_mode is True
    assert settings.development


def test_unknown_environment_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KTT_ENV", "staging")
    with pytest.raises(ValueError):
        Settings(service="decision")


def test_database_url_defaults_to_sqlite_under_data_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("DATA_DIR", str(tmp_path))
    settings = Settings(service="provider-registry")
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'provider-registry.db').as_posix()}"


def test_service_database_url_env_overrides(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("DATA_DIR", str(tmp_path))
    clean_env.setenv("PROVIDER_REGISTRY_DATABASE_URL", "postgresql+asyncpg://db/providers")
    clean_env.setenv("DECISION_DATABASE_URL", "postgresql+asyncpg://db/decisions")
    assert Settings(service="provider-registry").database_url == "postgresql+asyncpg://db/providers"
    assert Settings(service="decision").database_url == "postgresql+asyncpg://db/decisions"
    assert Settings(service="voucher").database_url.endswith("/voucher.db")


def test_explicit_database_url_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DECISION_DATABASE_URL", "postgresql+asyncpg://db/decisions")
    assert load_settings("decision", database_url="sqlite+aiosqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(("service", "port"), sorted(SERVICE_PORTS.items()))
def test_ports_default_to_service_ports(clean_env: pytest.MonkeyPatch, service: str, port: int) -> None:
    assert Settings(service=service).port == port


def test_port_env_overrides_and_unknown_service_gets_8000(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PROVIDER_REGISTRY_PORT", "9103")
    assert Settings(service="provider-registry").port == 9103
    assert Settings(service="something-else").port == 8000
    assert load_settings("decision", port=1234).port == 1234


def test_env_prefix() -> None:
    assert env_prefix("provider-registry") == "PROVIDER_REGISTRY"
    assert env_prefix("decision") == "DECISION"


def test_common_variables_are_read_from_env(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("NATS_URL", "nats://bus:4222")
    clean_env.setenv("JWT_ISSUER", "turku")
    clean_env.setenv("LOG_JSON", "false")
    settings = load_settings("voucher")
    assert settings.service == "voucher"
    assert settings.nats_url == "nats://bus:4222"
    assert settings.jwt_issuer == "turku"
    assert settings.log_json is False


# --- the token CLI ---------------------------------------------------------------------------

def test_token_cli_prints_a_provider_token_last(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--role", "provider", "--provider-id", "P1"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) >= 2
    assert out[0].startswith("#")
    principal = decode_token(out[-1], DEV_JWT_SECRET, issuer="ktt-dev", audience="ktt")
    assert principal.role is Role.PROVIDER
    assert principal.provider_id == "P1"


def test_token_cli_respects_hours_and_subject(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--role", "city_official", "--subject", "official-1", "--hours", "0.5"])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    principal = decode_token(token, DEV_JWT_SECRET, issuer="ktt-dev", audience="ktt")
    assert principal.subject == "official-1"
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["exp"] - raw["iat"] == 1800


def test_token_cli_provider_without_id_fails(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="provider_id"):
        main(["--role", "provider"])


def test_token_cli_refuses_unknown_role(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--role", "superuser"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
