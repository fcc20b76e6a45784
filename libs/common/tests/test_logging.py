"""ktt_common.logging: every log line is JSON and no hetu reaches the output (DATA-4)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from ktt_common.identifiers import HETU_MASK, contains_hetu
from ktt_common.logging import configure_logging, get_logger, mask_hetu_processor

HETU = "131052-308T"
HETU_2023 = "131052A308T"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """configure_logging into a buffer; put the root logger, structlog and its context back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    access = logging.getLogger("uvicorn.access")
    saved_access = (access.handlers[:], access.propagate)
    saved_config = structlog.get_config()
    saved_context = structlog.contextvars.get_contextvars()
    stream = io.StringIO()
    configure_logging("test-service", json=True, stream=stream)
    try:
        yield stream
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        access.handlers, access.propagate = saved_access
        structlog.configure(**saved_config)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**saved_context)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]  # each line is one JSON document


def assert_no_hetu(stream: io.StringIO) -> str:
    text = stream.getvalue()
    assert text  # something was written
    for code in (HETU, HETU_2023, "131052"):
        assert code not in text
    assert not contains_hetu(text)
    assert HETU_MASK in text
    return text


def test_structlog_fields_are_masked(log_output: io.StringIO) -> None:
    get_logger("ktt.test").info("x", hetu=HETU, nested={"a": [HETU_2023]}, pair=(HETU, 1), count=3)
    assert_no_hetu(log_output)
    [record] = lines(log_output)
    assert record["event"] == "x"
    assert record["hetu"] == HETU_MASK
    assert record["nested"] == {"a": [HETU_MASK]}
    assert record["pair"] == [HETU_MASK, 1]
    assert record["count"] == 3
    assert record["level"] == "info"
    assert record["logger"] == "ktt.test"
    assert record["service"] == "test-service"
    assert "timestamp" in record


def test_hetu_in_the_event_message_is_masked(log_output: io.StringIO) -> None:
    get_logger().warning(f"client {HETU} was refused")
    assert_no_hetu(log_output)
    [record] = lines(log_output)
    assert record["event"] == f"client {HETU_MASK} was refused"


def test_hetu_in_bound_context_is_masked(log_output: io.StringIO) -> None:
    get_logger().bind(client=HETU).info("bound")
    structlog.contextvars.bind_contextvars(request_hetu=HETU_2023)
    try:
        get_logger().info("from contextvars")
    finally:
        structlog.contextvars.unbind_contextvars("request_hetu")
    assert_no_hetu(log_output)
    first, second = lines(log_output)
    assert first["client"] == HETU_MASK
    assert second["request_hetu"] == HETU_MASK


def test_stdlib_logger_goes_through_the_mask(log_output: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("client %s failed", HETU)
    logging.getLogger("uvicorn.error").warning(f"client {HETU_2023} failed")
    assert_no_hetu(log_output)
    first, second = lines(log_output)
    assert first["event"] == f"client {HETU_MASK} failed"
    assert second["event"] == f"client {HETU_MASK} failed"
    assert first["logger"] == "uvicorn.error"
    assert first["level"] == "warning"
    assert first["service"] == "test-service"


def test_structlog_exception_with_hetu_is_masked(log_output: io.StringIO) -> None:
    log = get_logger("ktt.test")
    try:
        raise RuntimeError(f"no client {HETU}")
    except RuntimeError:
        log.exception("lookup failed", hetu=HETU)
    assert_no_hetu(log_output)
    [record] = lines(log_output)
    assert record["level"] == "error"
    assert "Traceback" in record["exception"]
    assert f"RuntimeError: no client {HETU_MASK}" in record["exception"]


def test_stdlib_exception_with_hetu_is_masked(log_output: io.StringIO) -> None:
    try:
        raise ValueError(f"bad hetu {HETU_2023}\nsecond line {HETU}")
    except ValueError:
        logging.getLogger("sqlalchemy.engine").exception("query for %s failed", HETU)
    assert_no_hetu(log_output)
    [record] = lines(log_output)
    assert record["event"] == f"query for {HETU_MASK} failed"
    assert "ValueError" in record["exception"]
    assert f"second line {HETU_MASK}" in record["exception"]


def test_hetu_in_a_non_string_value_is_masked_in_the_rendered_line(log_output: io.StringIO) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return f"<Opaque {HETU}>"

    get_logger().info("opaque", thing=Opaque(), ids={HETU_2023})
    assert_no_hetu(log_output)
    [record] = lines(log_output)
    assert HETU_MASK in record["thing"]


def test_every_line_is_json_and_none_holds_a_hetu(log_output: io.StringIO) -> None:
    log = get_logger("ktt.many")
    for i in range(5):
        log.info("event", i=i, hetu=HETU)
        logging.getLogger("nats").error("nats %d %s", i, HETU_2023)
    assert_no_hetu(log_output)
    records = lines(log_output)
    assert len(records) == 10
    assert [r["i"] for r in records if "i" in r] == list(range(5))


def test_configure_logging_twice_keeps_one_handler(log_output: io.StringIO) -> None:
    configure_logging("test-service", json=True, stream=log_output)
    root = logging.getLogger()
    assert [h.get_name() for h in root.handlers].count("ktt") == 1
    get_logger().info("once")
    assert len(lines(log_output)) == 1


def test_level_filters(log_output: io.StringIO) -> None:
    get_logger().debug("hidden", hetu=HETU)
    logging.getLogger("x").debug("hidden too")
    assert log_output.getvalue() == ""
    get_logger().info("shown")
    assert [r["event"] for r in lines(log_output)] == ["shown"]


def test_console_renderer_is_masked_too() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_config = structlog.get_config()
    saved_context = structlog.contextvars.get_contextvars()
    stream = io.StringIO()
    try:
        configure_logging("console", json=False, stream=stream)
        get_logger().info("console", hetu=HETU)
        logging.getLogger("uvicorn.error").info("client %s", HETU_2023)
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**saved_context)
    text = stream.getvalue()
    assert "console" in text
    assert HETU not in text and HETU_2023 not in text
    assert text.count(HETU_MASK) == 2


def test_mask_processor_masks_nested_values_and_keeps_types() -> None:
    event = {"event": f"e {HETU}", "d": {"l": [HETU, {"t": (HETU_2023, 2)}]}, "n": 1, "none": None}
    masked = mask_hetu_processor(None, "info", event)
    assert masked == {"event": f"e {HETU_MASK}", "d": {"l": [HETU_MASK, {"t": (HETU_MASK, 2)}]}, "n": 1, "none": None}
    assert isinstance(masked["d"]["l"][1]["t"], tuple)
    assert event["event"] == f"e {HETU}"  # the input is not mutated


def test_regressions_found_in_review(log_output: io.StringIO) -> None:
    """A lower-case century sign, a namedtuple value, and a hetu after an escaped newline in
    an exception's repr: each once escaped the mask or crashed the caller."""
    from collections import namedtuple

    Pair = namedtuple("Pair", "who n")
    log = get_logger("ktt.test")
    log.info("lower", code="131052a308t")
    log.info("namedtuple", pair=Pair(HETU, 1))
    log.info("escaped", err=ValueError("bad\n" + HETU))
    text = log_output.getvalue()
    assert "131052" not in text and len(lines(log_output)) == 3


def test_a_line_that_cannot_be_written_never_fails_the_caller() -> None:
    """The service's own loggers write their line themselves (not through a logging.Handler, which
    swallows a stream error): a broken or closed stream drops the line, and the request that logs goes on."""

    class Broken(io.StringIO):
        attempts = 0

        def write(self, text: str) -> int:
            Broken.attempts += 1
            raise BrokenPipeError("the reader is gone")

    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    closed = io.StringIO()
    try:
        configure_logging("test-service", json=True, stream=Broken())
        get_logger("ktt.test").info("dropped", hetu=HETU)  # raised BrokenPipeError before the writer caught it
        configure_logging("test-service", json=True, stream=closed)
        closed.close()
        get_logger("ktt.test").info("dropped too")  # raised ValueError (I/O on a closed file) before
        after = "went on"
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
    assert Broken.attempts == 1 and after == "went on"  # the line was tried once, then dropped


def test_without_a_stream_lines_go_to_stdout_as_it_is_when_written(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    first, second = io.StringIO(), io.StringIO()
    try:
        monkeypatch.setattr("sys.stdout", first)
        configure_logging("test-service", json=True)
        get_logger("ktt.test").info("one", hetu=HETU)
        monkeypatch.setattr("sys.stdout", second)
        get_logger("ktt.test").info("two")
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
    assert [json.loads(line)["event"] for line in first.getvalue().splitlines()] == ["one"]
    assert [json.loads(line)["event"] for line in second.getvalue().splitlines()] == ["two"]
    assert HETU not in first.getvalue() and HETU_MASK in first.getvalue()
