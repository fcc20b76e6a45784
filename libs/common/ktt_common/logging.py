"""Structured JSON logs (structlog) with every hetu masked by one processor (DATA-4).

The standard library's loggers (uvicorn, sqlalchemy, nats) go through the same processor
chain, so nothing reaches the output unmasked.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, cast

import structlog
from structlog.typing import FilteringBoundLogger

from ktt_common.identifiers import HETU_MASK, HETU_PATTERN


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return HETU_PATTERN.sub(HETU_MASK, value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*(_mask(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_mask(v) for v in value)
    return value


def mask_hetu_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask hetu-shaped strings in every field, including the rendered exception."""
    return {k: _mask(v) for k, v in event_dict.items()}


class _MaskedRenderer:
    """Render, then mask the final line: catches a hetu in any field a processor added late."""

    def __init__(self, renderer: Any) -> None:
        self._renderer = renderer

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        return HETU_PATTERN.sub(HETU_MASK, str(self._renderer(logger, method, event_dict)))


class _LineWriter:
    """Writes a rendered line and flushes, as structlog's ``WriteLogger``, with a name (the ``logger`` field,
    as the standard library's loggers have). Without a stream of its own it writes to ``sys.stdout`` as it
    is at the time. A line that cannot be written (a closed or broken stream) is dropped, as the standard
    library's handlers do: a log line never fails the request or job that logs it."""

    _lock = threading.Lock()

    def __init__(self, file: Any, name: str) -> None:
        self._file = file
        self.name = name

    def msg(self, message: str) -> None:
        file = sys.stdout if self._file is None else self._file
        try:
            with self._lock:
                file.write(message + "\n")
                file.flush()
        except (OSError, ValueError):
            pass

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure_logging(service: str, level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    """One JSON line a log call (a console line with ``json=False``), every hetu masked (DATA-4).

    The service's own loggers (:func:`get_logger`) render and write their line themselves; the standard
    library's (uvicorn, sqlalchemy, nats) go through a handler that renders by the same chain. Both mask
    every field before rendering and the whole line after it. The own loggers do not pass through the
    standard library's record, handler and formatter: that was nearly half of a line's ~40 us, and a
    service writes one line per request (issue 15: the line was a fifth of a decision replay's CPU)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_hetu_processor,
    ]
    renderer = _MaskedRenderer(
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False))
    threshold = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=lambda *args: _LineWriter(stream, args[0] if args and args[0] else "root"),
        wrapper_class=structlog.make_filtering_bound_logger(threshold if isinstance(threshold, int) else logging.INFO),
        cache_logger_on_first_use=False,  # a later configure_logging (tests) reaches loggers made before it
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name("ktt")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "ktt"] + [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers = []
        logging.getLogger(noisy).propagate = True
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> FilteringBoundLogger:
    """A structlog logger named ``name``."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))
