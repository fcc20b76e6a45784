"""Consumers: durable pull subscriptions, an idempotent inbox, capped deliveries and parking.

Each consuming service has one durable consumer per producing service it listens to, named
``<consumer>-from-<producer>``. A handler runs in one transaction together with the insertion of
its (event id, consumer) inbox key; the message is acked only after that commit. A redelivered
event finds its key and is acked without running the handler again. A handler that keeps
failing is retried with backoff and, at the delivery cap, parked in the ``dead_letter`` table
and terminated; an operator can list and replay it over HTTP. An event of a type this consumer
handles but in a version it does not know (a producer moved to ``v2`` first) is parked too, never
acked and dropped. The ack wait is short (CONSUMER_ACK_WAIT_SECONDS), so a message in flight to a
crashed consumer comes back soon; a handler still running tells the server so (in-progress acks).

Batches (issue 15): a subscription whose event types have a set-based handler as well
(:meth:`Subscription.on_batch`) handles a fetched batch in ONE transaction: the inbox keys of all
its messages in one statement, each run of consecutive events of a type with a batch handler in one
call of it (the other types by their own handler, in stream order), one commit, then every message
acked. Should that transaction fail (a bad payload, a rule refusal, an exception, the database), it
is rolled back and the batch is handled again one transaction per message, as without batches: the
good messages are handled, the bad one is retried, parked or dropped as always. Messages that
cannot be handled at all (not an envelope, a payload of the wrong shape) are parked on their own
without holding up the batch. Subscriptions without a batch handler go one message at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api
from pydantic import ValidationError
from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.db import affected, dialect_name
from ktt_common.events import Envelope, EventType, stream_name, stream_subjects
from ktt_common.logging import get_logger
from ktt_common.metrics import DEAD_LETTERS, EVENTS_HANDLED
from ktt_common.pace import Pace
from ktt_common.request_context import correlation_id_var

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]
# The set-based form of a Handler: a run of events of one type, in stream order, with their payloads.
BatchHandler = Callable[[AsyncSession, list[tuple[Envelope, Any]]], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be handled (not an envelope, payload of the wrong shape): park it now."""


def unversioned(type_name: str) -> str:
    """``ktt.voucher.AgreementSigned.v2`` -> ``ktt.voucher.AgreementSigned``."""
    base, sep, version = type_name.rpartition(".v")
    return base if sep and version.isdigit() else type_name


@dataclass
class Subscription:
    """What one service consumes from one producer, with an explicit type -> handler map."""

    producer: str
    handlers: dict[str, tuple[EventType[Any], Handler]] = field(default_factory=dict)
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)

    def on(self, event_type: EventType[Any]) -> Callable[[Handler], Handler]:
        if event_type.service != self.producer:
            raise ValueError(f"{event_type.type} is not published by {self.producer}")

        def register(fn: Handler) -> Handler:
            self.handlers[event_type.type] = (event_type, fn)
            return fn

        return register

    def on_batch(self, event_type: EventType[Any]) -> Callable[[BatchHandler], BatchHandler]:
        """Register the set-based form of the handler of ``event_type`` (issue 15). Given a run of
        such events (new to the inbox, in stream order) it must have the effect of the single
        handler run on each in turn, in the caller's transaction. The single handler stays the
        reference: it handles a lone message, every message of a batch whose transaction failed,
        and a replay of a parked one."""
        if event_type.type not in self.handlers:
            raise ValueError(f"register the handler of {event_type.type} before its batch form")

        def register(fn: BatchHandler) -> BatchHandler:
            self.batch_handlers[event_type.type] = fn
            return fn

        return register


@dataclass
class _Prepared:
    """A fetched message whose envelope and payload parsed, ready to be handled."""

    msg: Any
    envelope: Envelope
    event_id: uuid.UUID
    payload: Any
    handler: Handler


def durable_name(consumer_service: str, producer: str) -> str:
    return f"{consumer_service}-from-{producer}"


class ConsumerRunner:
    def __init__(self, rt: Runtime, subscription: Subscription) -> None:
        self.rt = rt
        self.sub = subscription
        self.name = durable_name(rt.settings.service, subscription.producer)
        self.bound = False
        self.stopping = False
        self.progress_acks = 0  # in-progress acks sent (observable by tests and metrics)
        self._pace = Pace(rt.settings.consumer_gather_seconds)  # issue 15: see gather()

    def consumer_config(self) -> api.ConsumerConfig:
        s = self.rt.settings
        return api.ConsumerConfig(
            durable_name=self.name,
            name=self.name,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=s.consumer_ack_wait_seconds,
            # Our own cap parks the message first; the server's cap is a backstop for crash loops.
            max_deliver=s.consumer_max_deliver + 3,
            filter_subject=stream_subjects(self.sub.producer),
            max_ack_pending=1000,
        )

    async def _bind(self) -> Any:
        js = self.rt.bus.js
        assert js is not None
        stream = stream_name(self.sub.producer)
        await js.add_consumer(stream, self.consumer_config())
        return await js.pull_subscribe_bind(durable=self.name, stream=stream)

    async def run(self) -> None:
        """Fetch and handle until :meth:`stop`. Stopping is cooperative: cancelling a task that
        waits inside nats-py's ``fetch`` can leave it stuck, so the loop checks ``stopping``
        between fetches (CONSUMER_FETCH_TIMEOUT_SECONDS each), and cancellation is only the fallback."""
        bus = self.rt.bus
        delay = 0.1
        while not self.stopping:
            if not bus.connected:
                self.bound = False
                await asyncio.sleep(0.1)
                continue
            generation = bus.generation
            try:
                psub = await self._bind()
                self.bound = True
                delay = 0.1
                log.info("consumer_bound", consumer=self.name)
                try:
                    while bus.generation == generation and bus.connected and not self.stopping:
                        try:
                            msgs = await psub.fetch(batch=self.rt.settings.consumer_batch,
                                                    timeout=self.rt.settings.consumer_fetch_timeout_seconds)
                        except (NatsTimeoutError, TimeoutError):
                            continue
                        await self.handle_fetched(await self.gather(psub, msgs))
                finally:
                    # On stop, or when the server restarted or the connection came back: re-bind
                    # next time (pull subscriptions can go quiet after a restart otherwise).
                    try:
                        await psub.unsubscribe()
                    except Exception:
                        pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.bound = False
                log.warning("consumer_error", consumer=self.name, error=str(exc) or type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.bound = False

    def stop(self) -> None:
        self.stopping = True

    async def gather(self, psub: Any, msgs: list[Any]) -> list[Any]:
        """``msgs`` and what follows them within the gathering window (:class:`Pace`: only while messages
        keep coming), up to CONSUMER_BATCH, in stream order; only for a subscription with batch handlers. Each
        further fetch returns as soon as messages are there; the window is far below the ack wait, so the
        messages held need no in-progress acks."""
        window = self._pace.arrived() if self.sub.batch_handlers else 0.0
        size = self.rt.settings.consumer_batch
        deadline = time.monotonic() + window
        try:
            while len(msgs) < size and not self.stopping and (left := deadline - time.monotonic()) > 0.001:
                try:
                    more = await psub.fetch(batch=size - len(msgs), timeout=min(left, self.rt.settings.consumer_fetch_timeout_seconds))
                    msgs = msgs + more
                except (NatsTimeoutError, TimeoutError):
                    break
        except asyncio.CancelledError:
            await asyncio.shield(self._release(msgs))
            raise
        except Exception as exc:  # the connection's trouble: handle what came; the fetch loop sees to the rest
            log.warning("consumer_gather_failed", consumer=self.name, error=str(exc) or type(exc).__name__)
        return msgs

    async def _release(self, msgs: list[Any]) -> None:
        for msg in msgs:
            try:
                await msg.nak()
            except Exception:
                pass

    async def handle_fetched(self, msgs: list[Any]) -> None:
        """Handle one fetch: in one transaction when the subscription has batch handlers and the
        fetch brought more than one message, else one message at a time."""
        if len(msgs) > 1 and self.sub.batch_handlers and not self.stopping:
            try:
                await self.handle_batch(msgs)
            except asyncio.CancelledError:
                # Whatever was not acked comes back (a handled one is then a duplicate in the inbox).
                await asyncio.shield(self._release(msgs))
                raise
            return
        for i, msg in enumerate(msgs):
            if self.stopping:
                # Hand back what this instance fetched but did not handle, so
                # another instance gets it now rather than after ack_wait.
                await self._release(msgs[i:])
                break
            try:
                await self.handle(msg)
            except asyncio.CancelledError:
                await asyncio.shield(self._release(msgs[i:]))
                raise

    async def _keep_alive(self, msgs: list[Any]) -> None:
        """While the handler runs, tell the server every third of the ack wait that it is still
        working, so a long handler is not redelivered to another instance meanwhile."""
        interval = max(self.rt.settings.consumer_ack_wait_seconds / 3, 0.1)
        while True:
            await asyncio.sleep(interval)
            for msg in msgs:
                try:
                    await msg.in_progress()
                except Exception:
                    return  # the connection is gone: the server redelivers after the ack wait
                self.progress_acks += 1

    async def handle_batch(self, msgs: list[Any]) -> None:
        """Handle fetched messages in one transaction, acking each after its commit; on any failure
        of that transaction, handle them again one transaction per message (:meth:`handle`)."""
        service = self.rt.settings.service
        ready: list[_Prepared] = []
        alone: list[Any] = []  # cannot be handled (parked now by handle()), or a type that is not ours
        for msg in msgs:
            prepared = self._prepare(msg.data)
            if prepared is None:
                alone.append(msg)
            else:
                prepared.msg = msg
                ready.append(prepared)
        if ready:
            keep_alive = asyncio.create_task(self._keep_alive([p.msg for p in ready]), name=f"{self.name}-in-progress")
            try:
                handled = await self._process_batch(ready)
            except Exception as exc:
                log.warning("event_batch_failed", consumer=self.name, size=len(ready), error=str(exc) or type(exc).__name__)
                handled = None
            finally:
                keep_alive.cancel()
            if handled is None:
                alone = [p.msg for p in ready] + alone  # stream order among them
            else:
                for p in ready:
                    await p.msg.ack()
                    EVENTS_HANDLED.labels(service, self.name, "handled" if id(p) in handled else "duplicate").inc()
        for msg in alone:
            await self.handle(msg)

    def _prepare(self, data: bytes | str) -> _Prepared | None:
        """The parsed message, or None when it is not one for a batch (handle() parks or ignores it)."""
        try:
            envelope = Envelope.model_validate_json(data)
            entry = self.sub.handlers.get(envelope.type)
            if entry is None:
                return None
            event_type, handler = entry
            return _Prepared(msg=None, envelope=envelope, event_id=uuid.UUID(envelope.id),
                             payload=event_type.parse(envelope), handler=handler)
        except (ValidationError, ValueError):
            return None

    async def _process_batch(self, batch: list[_Prepared]) -> set[int]:
        """One transaction: claim every inbox key in one statement, run the handlers of the new ones
        in order (a run of one type with a batch handler in one call), commit. Returns id() of the
        prepared messages that were handled (the others were duplicates)."""
        async with self.rt.sessionmaker() as session, session.begin():
            claimed = await self._claim_many(session, batch)
            todo: list[_Prepared] = []
            for p in batch:
                if p.event_id in claimed:
                    claimed.discard(p.event_id)  # the same event twice in one fetch: handled once
                    todo.append(p)
            i = 0
            while i < len(todo):
                first = todo[i]
                j = i + 1
                batch_handler = self.sub.batch_handlers.get(first.envelope.type)
                if batch_handler is not None:
                    while j < len(todo) and todo[j].envelope.type == first.envelope.type:
                        j += 1
                    await batch_handler(session, [(p.envelope, p.payload) for p in todo[i:j]])
                else:
                    token = correlation_id_var.set(first.envelope.correlationid)
                    try:
                        await first.handler(session, first.envelope, first.payload)
                    finally:
                        correlation_id_var.reset(token)
                i = j
        return {id(p) for p in todo}

    async def _claim_many(self, session: AsyncSession, batch: list[_Prepared]) -> set[uuid.UUID]:
        """Insert the inbox keys of ``batch`` in one statement; returns the event ids that were new.
        Keys go in sorted order, so two instances claiming overlapping batches lock alike."""
        inbox = self.rt.infra.inbox
        now = dt.datetime.now(dt.UTC)
        types = {p.event_id: p.envelope.type for p in batch}
        ids = sorted(types)
        if dialect_name(session) == "postgresql":
            # One statement text whatever the batch size (prepared once by asyncpg).
            result = await session.execute(text(
                f'INSERT INTO "{inbox.name}" (event_id, consumer, event_type, handled_at) '
                "SELECT u.event_id, :consumer, u.event_type, :now "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) AS u(event_id, event_type) "
                "ON CONFLICT DO NOTHING RETURNING event_id"),
                {"consumer": self.name, "now": now, "ids": ids, "types": [types[i] for i in ids]})
        else:
            # Rows as parameters: one cached statement, sent as one multi-row INSERT (insertmanyvalues).
            result = await session.execute(
                sqlite.insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id),
                [{"event_id": i, "consumer": self.name, "event_type": types[i], "handled_at": now} for i in ids],
            )
        return {uuid.UUID(str(v)) for v in result.scalars()}

    async def handle(self, msg: Any) -> None:
        service = self.rt.settings.service
        deliveries = msg.metadata.num_delivered
        keep_alive = asyncio.create_task(self._keep_alive([msg]), name=f"{self.name}-in-progress")
        try:
            outcome = await self.process_raw(msg.data)
        except Exception as exc:
            cap = self.rt.settings.consumer_max_deliver
            if isinstance(exc, PoisonMessage) or deliveries >= cap:
                await self.park(msg.subject, msg.data, exc, deliveries)
                await msg.term()
                EVENTS_HANDLED.labels(service, self.name, "parked").inc()
            else:
                backoff = self.rt.settings.consumer_backoff_seconds
                wait = backoff[min(deliveries - 1, len(backoff) - 1)] if backoff else 1.0
                log.warning("event_handler_failed", consumer=self.name, delivery=deliveries, retry_in=wait,
                            error=str(exc) or type(exc).__name__)
                await msg.nak(delay=wait)
                EVENTS_HANDLED.labels(service, self.name, "retry").inc()
            return
        finally:
            keep_alive.cancel()
        await msg.ack()
        EVENTS_HANDLED.labels(service, self.name, outcome).inc()

    async def process_raw(self, data: bytes | str) -> str:
        try:
            envelope = Envelope.model_validate_json(data)
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid event envelope: {exc.errors()[:3]}") from None
        return await self.process(envelope)

    async def process(self, envelope: Envelope) -> str:
        """Run the handler for ``envelope`` once: returns 'handled', 'duplicate' or 'ignored'."""
        entry = self.sub.handlers.get(envelope.type)
        if entry is None:
            known = sorted(t for t in self.sub.handlers if unversioned(t) == unversioned(envelope.type))
            if known:
                # Not ours to drop: a producer moved to a version this consumer does not know yet.
                raise PoisonMessage(f"unknown version {envelope.type} of a handled event type (this consumer knows "
                                    f"{', '.join(known)}): parked until a consumer that knows it replays it")
            return "ignored"  # another consumer's business
        event_type, handler = entry
        try:
            payload = event_type.parse(envelope)
        except ValidationError as exc:
            raise PoisonMessage(f"payload does not match {envelope.type}: {exc.errors()[:3]}") from None
        token = correlation_id_var.set(envelope.correlationid)
        try:
            async with self.rt.sessionmaker() as session, session.begin():
                if not await self._claim(session, envelope):
                    return "duplicate"
                await handler(session, envelope, payload)
            return "handled"
        finally:
            correlation_id_var.reset(token)

    async def _claim(self, session: AsyncSession, envelope: Envelope) -> bool:
        """Insert the inbox key; False when this consumer has handled the event already."""
        inbox = self.rt.infra.inbox
        dialect = dialect_name(session)
        ins = postgresql.insert(inbox) if dialect == "postgresql" else sqlite.insert(inbox)
        result = await session.execute(
            ins.values(
                event_id=uuid.UUID(envelope.id), consumer=self.name, event_type=envelope.type,
                handled_at=dt.datetime.now(dt.UTC),
            ).on_conflict_do_nothing()
        )
        return affected(result) == 1

    async def park(self, subject: str, data: bytes, exc: Exception, deliveries: int) -> uuid.UUID:
        dead = self.rt.infra.dead_letter
        event_id = event_type = None
        try:
            env = Envelope.model_validate_json(data)
            event_id, event_type = env.id, env.type
        except ValidationError:
            pass
        letter_id = uuid.uuid4()
        async with self.rt.sessionmaker() as session, session.begin():
            await session.execute(
                insert(dead).values(
                    id=letter_id, consumer=self.name, event_id=event_id, event_type=event_type, subject=subject,
                    payload=data.decode("utf-8", errors="replace"), error=(str(exc) or type(exc).__name__)[:4000],
                    deliveries=deliveries, parked_at=dt.datetime.now(dt.UTC),
                )
            )
        DEAD_LETTERS.labels(self.rt.settings.service, self.name).inc()
        log.error("event_parked", consumer=self.name, event_id=event_id, event_type=event_type,
                  deliveries=deliveries, error=str(exc) or type(exc).__name__)
        return letter_id
