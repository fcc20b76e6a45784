"""Issue 17 item 4: what a test's nats-server holds, checked against the AsyncAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ktt_common.testing.aio import _run_to_completion

if TYPE_CHECKING:
    from ktt_common.testing.servers import NatsServer

# Event types that only tests publish (the probe service registers its own here), so the check
# below knows their payloads too.
TEST_EVENT_TYPES: list[Any] = []
_validator: dict[int, Any] = {}


def event_validator() -> Any:
    """One EventValidator (ktt_contracts.validation) per set of test event types, made once."""
    from ktt_contracts.validation import EventValidator

    key = len(TEST_EVENT_TYPES)
    if key not in _validator:
        _validator[key] = EventValidator(TEST_EVENT_TYPES)
    return _validator[key]


async def _stored_messages(url: str) -> list[tuple[str, int, Any, bytes]]:
    """Every message every stream of the server holds: (stream, seq, headers, data)."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        jsm = nc.jsm()
        found: list[tuple[str, int, Any, bytes]] = []
        for stream in await jsm.streams_info():
            state, name = stream.state, stream.config.name
            if not state.messages or name is None:
                continue
            for seq in range(state.first_seq, state.last_seq + 1):
                try:
                    msg = await jsm.get_msg(name, seq)
                except NotFoundError:  # deleted or purged
                    continue
                found.append((name, seq, msg.headers, msg.data or b""))
        return found
    finally:
        await nc.close()


def check_published_events(server: NatsServer) -> list[str]:
    """Issue 17 item 4: every message the test's nats-server holds against docs/asyncapi.json."""
    if server.proc is None:  # the test left it stopped: its store is still there
        server.start()
    validator = event_validator()
    problems = []
    for stream, seq, headers, data in _run_to_completion(lambda: _stored_messages(server.url)):
        for error in validator.errors(headers, data):
            problems.append(f"{stream} #{seq}: {error}")
    return problems
