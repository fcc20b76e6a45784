"""The NATS JetStream connection of one service: reconnect forever, streams ensured idempotently.

Streams: one per producing service, ``KTT_<SERVICE>`` over ``ktt.<service>.>``, limits retention
with an age limit, file storage, and a duplicate window far longer than any outbox retry of an
already-published row (the relay marks a row right after the server's ack).
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NoStreamResponseError

from ktt_common.events import stream_name, stream_subjects
from ktt_common.logging import get_logger
from ktt_common.metrics import NATS_CONNECTED
from ktt_common.settings import Settings

log = get_logger(__name__)

# How long a publish waits for JetStream's acknowledgement. A clustered stream that is electing a
# leader, or a busy machine, can take seconds; a publish is idempotent (Nats-Msg-Id), so waiting
# longer costs nothing but time, where giving up early only means sending again.
PUBLISH_ACK_TIMEOUT_SECONDS = 5.0


def stream_config(service: str, settings: Settings) -> api.StreamConfig:
    return api.StreamConfig(
        name=stream_name(service),
        subjects=[stream_subjects(service)],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        max_age=float(settings.stream_max_age_days * 24 * 3600),
        duplicate_window=float(settings.duplicate_window_seconds),
        discard=api.DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,  # KTT_STREAM_REPLICAS: 3 on the clustered deploy (issue 16)
    )


class NatsBus:
    """Owns the NATS connection; publishes raw bytes; tells consumers when to resubscribe."""

    def __init__(self, settings: Settings, streams: set[str]) -> None:
        self.settings = settings
        self.service = settings.service
        self.streams = streams  # own stream plus the producers this service consumes from
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.generation = 0  # bumped on every (re)connect: pull subscriptions must be re-bound
        self._streams_ready = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._streams_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_loop(), name=f"{self.service}-nats-connect")

    async def _connect_loop(self) -> None:
        delay = 0.1
        while not self._closing:
            try:
                self.nc = await nats.connect(
                    # NATS_URL may list several nodes of a cluster, comma-separated (issue 16).
                    [u.strip() for u in self.settings.nats_url.split(",") if u.strip()],
                    name=f"ktt-{self.service}",
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,  # never give up (nats-py's default stops after ~2 min)
                    reconnect_time_wait=0.25,
                    connect_timeout=2,
                    drain_timeout=5,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    error_cb=self._on_error,
                )
                self.js = self.nc.jetstream(timeout=5)
                await self.ensure_streams()
                self.generation += 1
                self._ready.set()
                NATS_CONNECTED.labels(self.service).set(1)
                log.info("nats_connected", url=self.settings.nats_url)
                return
            except Exception as exc:  # connection refused, timeouts, JetStream not ready yet
                if self.nc is not None:
                    try:
                        await self.nc.close()
                    except Exception:
                        pass
                    self.nc = None
                log.warning("nats_connect_failed", error=str(exc) or type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _on_disconnected(self) -> None:
        self._streams_ready = False
        NATS_CONNECTED.labels(self.service).set(0)
        log.warning("nats_disconnected")

    async def _on_reconnected(self) -> None:
        log.info("nats_reconnected")
        # The server may have come back without its store, or (a cluster) without a stream leader
        # yet: ensure the streams in a task of its own that retries until they answer. nats-py awaits
        # this callback inside its reconnect loop, so it must not wait here; and one failed attempt
        # must not leave the service connected but never consuming (the consumers wait for
        # ``connected``, which needs the streams).
        if self._streams_task is None or self._streams_task.done():
            self._streams_task = asyncio.create_task(self._ensure_streams_until_ready(),
                                                     name=f"{self.service}-nats-streams")

    async def _ensure_streams_until_ready(self) -> None:
        delay = 0.25
        while not self._closing:
            if self.nc is None or not self.nc.is_connected:
                await asyncio.sleep(delay)  # disconnected again meanwhile: wait for the next connection
                continue
            try:
                await self.ensure_streams()
            except Exception as exc:
                log.warning("nats_streams_not_ready", error=str(exc) or type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.generation += 1  # consumers re-bind to the (re)connected server
            NATS_CONNECTED.labels(self.service).set(1)
            log.info("nats_streams_ready")
            return

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats_error", error=str(exc) or type(exc).__name__)

    async def close(self) -> None:
        self._closing = True
        for task in (self._task, self._streams_task):
            if task is None:
                continue
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        if self.nc is not None:
            try:
                await self.nc.drain()
            except Exception:
                try:
                    await self.nc.close()
                except Exception:
                    pass
        NATS_CONNECTED.labels(self.service).set(0)

    # -- state ---------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected and self._streams_ready

    async def wait_ready(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return self.connected

    # -- streams and publishing ------------------------------------------------------------
    async def ensure_streams(self) -> None:
        assert self.js is not None
        for service in sorted(self.streams):
            config = stream_config(service, self.settings)
            try:
                await self.js.add_stream(config)
            except BadRequestError:
                # Exists with other settings (e.g. a changed age limit or replica count): bring it
                # to ours. JetStream moves a stream between 1 and 3 replicas in place.
                await self.js.update_stream(config)
        self._streams_ready = True

    async def publish(self, subject: str, data: bytes, msg_id: str) -> api.PubAck:
        if self.js is None or self.nc is None or not self.nc.is_connected:
            raise ConnectionError("NATS is not connected")
        headers = {"Nats-Msg-Id": msg_id}
        try:
            return await self.js.publish(subject, data, headers=headers, timeout=PUBLISH_ACK_TIMEOUT_SECONDS)
        except NoStreamResponseError:
            await self.ensure_streams()
            return await self.js.publish(subject, data, headers=headers, timeout=PUBLISH_ACK_TIMEOUT_SECONDS)

    async def publish_pipelined(self, subject: str, data: bytes, msg_id: str) -> asyncio.Future[api.PubAck]:
        """Send without waiting: the returned future resolves to JetStream's acknowledgement.
        Messages sent one after another on this connection are stored in that order."""
        if self.js is None or self.nc is None or not self.nc.is_connected:
            raise ConnectionError("NATS is not connected")
        return await self.js.publish_async(subject, data, headers={"Nats-Msg-Id": msg_id})

    async def stream_info(self, service: str) -> Any:
        assert self.js is not None
        return await self.js.stream_info(stream_name(service))
