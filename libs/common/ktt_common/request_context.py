"""Per-request context: the correlation id travels from HTTP headers into events and logs."""

from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
