"""Structured JSON logs (structlog) with every hetu masked by one processor (DATA-4).

The standard library's loggers (uvicorn, sqlalchemy, nats) go through the same processor
chain, so nothing reaches the output unmasked.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

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


def configure_logging(service: str, level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_hetu_processor,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _MaskedRenderer(renderer),
        ],
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


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
