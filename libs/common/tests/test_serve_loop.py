"""Issue 15: a service started by ``python -m ktt_common.serve`` runs on uvloop's event loop and
httptools' HTTP parser (named, not left to uvicorn's "auto", so that a missing one fails at start)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvicorn
import uvloop
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ktt_common import serve


class _CapturingServer:
    """Stands in for uvicorn.Server: keeps the config serve built and serves nothing."""

    configs: ClassVar[list[uvicorn.Config]] = []

    def __init__(self, config: uvicorn.Config) -> None:
        self.configs.append(config)

    def run(self) -> None:
        pass


def test_a_service_started_by_serve_runs_on_uvloop_and_httptools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTT_ENV", "development")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KTT_WORKERS", raising=False)
    monkeypatch.setattr(_CapturingServer, "configs", [])
    monkeypatch.setattr(serve.uvicorn, "Server", _CapturingServer)
    serve.main(["decision"])
    [config] = _CapturingServer.configs
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.http_protocol_class is not H11Protocol
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_several_workers_get_the_same_loop_and_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setenv("KTT_WORKERS", "2")
    monkeypatch.setenv("KTT_ENV", "development")
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    serve.main(["decision"])
    assert seen["app"] == "ktt_common.serve:app_from_env" and seen["workers"] == 2
    assert (seen["loop"], seen["http"]) == ("uvloop", "httptools")


def test_the_asyncpg_and_nats_clients_work_on_uvloop(start_probe, probe_switch) -> None:
    """The in-process harness run on uvloop: an event goes through the outbox (asyncpg or aiosqlite),
    the relay (nats-py, JetStream) and the probe's consumer."""
    import ktt_probe as probe
    from sqlalchemy import func, select

    from ktt_common.outbox import emit
    from ktt_common.testing import eventually

    async def scenario() -> int:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        async with start_probe() as svc:
            rt = svc.rt
            async with rt.sessionmaker() as session, session.begin():
                env = await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note="uvloop"))

            async def handled() -> int:
                async with rt.sessionmaker() as session:
                    return int((await session.execute(select(func.count()).select_from(probe.effects)
                                                      .where(probe.effects.c.event_id == env.id))).scalar_one())

            result: int = await eventually(handled, what="the event handled on uvloop")
            return result

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()) == 1
