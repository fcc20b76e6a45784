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
    return monkeypatch


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
    principal = decode(issue_token(SECRET, role="client", client_id="C9", issuer=ISS, audience=AUD))
    assert principal.role is Role.CLIENT
    assert principal.client_id == "C9"
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
        ("wrong secret", {"secret": "another-secret-that-is-long-enough-0123456789abcdef"}),
        ("wrong audience", {"audience": "someone-else"}),
        ("wrong issuer", {"issuer": "evil-issuer"}),
    ],
)
def test_token_checked_against_secret_audience_and_issuer(what: str, over: dict[str, Any]) -> None:
    token = issue_token(SECRET, role="admin", issuer=ISS, audience=AUD)
    assert decode(token).role is Role.ADMIN  # valid as issued
    with pytest.raises(Unauthorized, match="not valid"):
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

def test_development_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(service="decision")
    assert settings.environment == "development"
    assert settings.development
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.pii_key.get_secret_value() == DEV_PII_KEY
    assert settings.hetu_test_mode is False


def test_production_refuses_the_development_jwt_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KTT_ENV", "production")
    clean_env.setenv("PII_KEY", "a-real-pii-key")
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(service="decision")


def test_production_refuses_the_development_pii_key(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KTT_ENV", "production")
    clean_env.setenv("JWT_SECRET", "a-real-signing-key")
    with pytest.raises(ValueError, match="PII_KEY"):
        Settings(service="decision")


def test_production_with_real_secrets_works(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KTT_ENV", "production")
    clean_env.setenv("JWT_SECRET", "a-real-signing-key")
    clean_env.setenv("PII_KEY", "a-real-pii-key")
    settings = Settings(service="decision")
    assert settings.environment == "production"
    assert not settings.development
    assert settings.jwt_secret.get_secret_value() == "a-real-signing-key"
    assert settings.pii_key.get_secret_value() == "a-real-pii-key"
    assert "a-real-signing-key" not in repr(settings)  # secrets stay out of reprs and logs


def test_production_refuses_hetu_test_mode(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KTT_ENV", "production")
    clean_env.setenv("JWT_SECRET", "a-real-signing-key")
    clean_env.setenv("PII_KEY", "a-real-pii-key")
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
