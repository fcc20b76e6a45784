"""``create_service_app``: every service's FastAPI application is wired here, in one place.

It adds problem-details error handlers, correlation ids, request metrics and logs,
``/healthz``, ``/readyz``, ``/metrics``, the admin endpoints (jobs, clock, dead letters,
outbox), and a lifespan that starts the bus, the outbox relay and the consumers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uuid_utils
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.routing import Match

from ktt_common.admin import access_log_router, admin_router
from ktt_common.clock import Clock
from ktt_common.deps import RuntimeDep, SessionDep  # noqa: F401  (re-exported for services)
from ktt_common.errors import Problem, install_error_handlers, problem_response, status_phrase
from ktt_common.idempotency import HEADER as _IDEMPOTENCY_HEADER
from ktt_common.idempotency import IdempotencyMiddleware, receive_again
from ktt_common.logging import configure_logging, get_logger
from ktt_common.metrics import HTTP_LATENCY, HTTP_REQUESTS, refresh_gauges
from ktt_common.openapi import install_openapi, raw_operation_id
from ktt_common.request_context import correlation_id_var
from ktt_common.runtime import Runtime, ServiceSpec
from ktt_common.settings import Settings

log = get_logger("ktt.http")
IDEMPOTENCY_HEADER = _IDEMPOTENCY_HEADER.encode("latin-1")


def route_template(app: Any, scope: Any) -> str:
    """The route's template (``/v1/vouchers/{voucher_id}``) for the metrics label, also when routing
    stopped short of an endpoint (a wrong method, a redirect): the path's first full or partial match
    among the app's routes. Only a path no route knows is ``unmatched`` (issue 17 item 6)."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    partial = None
    for candidate in app.router.routes:
        match, _ = candidate.matches(scope)
        if match == Match.FULL and hasattr(candidate, "path"):
            return str(candidate.path)
        if match == Match.PARTIAL and partial is None and hasattr(candidate, "path"):
            partial = candidate.path
    return partial or "unmatched"


class RequestContext:
    """Correlation id (from ``X-Correlation-ID`` or new, echoed on the response), request metrics and
    one log line per request. A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` runs every
    request through a task group and memory streams, which cost about a millisecond a request (issue 15).

    A route may answer some requests early (``answer_early``, e.g. a decision push that repeats a stored
    one, ktt_decision.decisions.reading): once the router has sent a request of a method and exact path to
    such a route, later requests of that method and path are offered to it here, before the idempotency
    middleware, the exception wrappers, the exit stack and the routing (about a fifth of a replay's CPU,
    issue 15). Everything a request shows outside (status, headers, body, correlation id, metrics, log
    line) is the same either way."""

    def __init__(self, app: Any, service: str, routes: Any) -> None:
        self.app = app
        self.service = service
        self.routes = routes  # the FastAPI application, for the route templates
        self.early: dict[tuple[str, str, str], Any] = {}  # (method, root_path, path) -> a route answering early
        self._counters: dict[tuple[str, str, int], Any] = {}  # labelled children: labels() costs ~4 us a call
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-correlation-id"), b"").decode("latin-1")
        cid = (sent or str(uuid_utils.uuid4()))[:100]  # uuid_utils: a tenth of the uuid module's cost (issue 15)
        token = correlation_id_var.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-correlation-id"]
                message = {**message, "headers": [*headers, (b"x-correlation-id", cid.encode("latin-1"))]}
            await send(message)

        try:
            key = (scope["method"], scope.get("root_path", ""), scope["path"])
            route = self.early.get(key)
            if route is not None:
                receive = await answer_early(route, scope, receive, send_with_id)
            if receive is not None:  # not answered early: the full path
                await self.app(scope, receive, send_with_id)
                if route is None:
                    self._learn(key, scope)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status, elapsed, cid)
            correlation_id_var.reset(token)

    def _learn(self, key: tuple[str, str, str], scope: Any) -> None:
        """Note the route the router chose when it answers early and has no path parameters (so one
        entry per route: the table cannot grow with the paths clients send)."""
        route = scope.get("route")
        if (callable(getattr(route, "answer_early", None)) and key[0] in (getattr(route, "methods", None) or ())
                and not getattr(route, "param_convertors", None)):
            self.early[key] = route

    def _record(self, scope: Any, status: int, elapsed: float, cid: str) -> None:
        route = route_template(self.routes, scope)
        method = scope["method"]
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = HTTP_REQUESTS.labels(
                self.service, method, route, str(status))
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[(method, route)] = HTTP_LATENCY.labels(self.service, method, route)
        histogram.observe(elapsed)
        if route not in ("/metrics", "/healthz", "/readyz"):
            log.info("http_request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1),
                     correlation_id=cid)


async def answer_early(route: Any, scope: Any, receive: Any, send: Any) -> Any:
    """Offer the request to ``route.answer_early``. None when it answered; else the ``receive`` the full
    path must use (the body again when the route read it). A request with an ``Idempotency-Key`` always
    takes the full path: its answer must be kept by the idempotency middleware (issue 12 item 8). When
    the early answer fails, the full path runs as if it had not been tried, and fails or answers as it does."""
    if any(k == IDEMPOTENCY_HEADER for k, _ in scope["headers"]):
        return receive
    request = Request(scope, receive)
    try:
        response = await route.answer_early(request)
    except Exception as exc:  # the full path below gives the answer (or the error) it gives
        log.warning("early_answer_failed", route=getattr(route, "path", None), error=type(exc).__name__)
        response = None
        if not hasattr(request, "_body") and getattr(request, "_stream_consumed", False):
            raise  # the body is partly read and lost: nothing can answer this request now
    if response is None:
        body = getattr(request, "_body", None)
        return receive if body is None else receive_again(body, receive)
    scope["route"] = route  # as the router would have set it: the route template for the metrics and the log line
    await response(scope, receive, send)
    return None


def create_service_app(
    spec: ServiceSpec, settings: Settings | None = None, *, clock: Clock | None = None, configure_logs: bool = True
) -> FastAPI:
    settings = settings or spec.load_settings()
    if configure_logs:
        configure_logging(spec.name, settings.log_level, settings.log_json)
    runtime = Runtime(spec, settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        log.info("service_started", service=spec.name, port=settings.port, environment=settings.environment)
        try:
            yield
        finally:
            await runtime.stop()
            log.info("service_stopped", service=spec.name)

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        generate_unique_id_function=raw_operation_id,
    )
    app.state.runtime = runtime
    app.state.problem_base = settings.problem_base_uri
    install_error_handlers(app)
    install_openapi(app, settings.public_url)
    app.add_middleware(IdempotencyMiddleware)  # inside the context middleware below (issue 12 item 8)

    app.add_middleware(RequestContext, service=spec.name, routes=app)

    @app.get("/healthz", tags=["health"], summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @app.get("/readyz", tags=["health"], summary="Ready: database and NATS reachable, consumers bound",
             responses={503: {"description": "Not ready; the problem's `checks` names what is not ok"}})
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with runtime.sessionmaker() as s:
                await s.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["nats"] = "ok" if runtime.bus.connected else "disconnected"
        for consumer in runtime.consumers:
            checks[f"consumer:{consumer.name}"] = "ok" if consumer.bound else "not bound"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        problem = Problem(type="about:blank", title=status_phrase(503), status=503, instance=str(request.url.path),
                          detail="not ready: " + ", ".join(k for k, v in checks.items() if v != "ok"))
        return problem_response({**problem.model_dump(exclude_none=True), "checks": checks})

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics (text exposition format)",
             response_class=PlainTextResponse)
    async def metrics() -> Response:
        try:
            await refresh_gauges(runtime)
        except Exception as exc:  # the database is down: serve what there is; /readyz says why
            log.warning("metrics_refresh_failed", error=type(exc).__name__)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(admin_router())
    app.include_router(access_log_router())
    for router in spec.routers:
        app.include_router(router)
    return app
