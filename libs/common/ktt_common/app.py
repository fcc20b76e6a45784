"""``create_service_app``: every service's FastAPI application is wired here, in one place.

It adds problem-details error handlers, correlation ids, request metrics and logs,
``/healthz``, ``/readyz``, ``/metrics``, the admin endpoints (jobs, clock, dead letters,
outbox), and a lifespan that starts the bus, the outbox relay and the consumers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.routing import Match

from ktt_common.admin import access_log_router, admin_router
from ktt_common.clock import Clock
from ktt_common.deps import RuntimeDep, SessionDep  # noqa: F401  (re-exported for services)
from ktt_common.errors import Problem, install_error_handlers, problem_response, status_phrase
from ktt_common.idempotency import IdempotencyMiddleware
from ktt_common.logging import configure_logging, get_logger
from ktt_common.metrics import HTTP_LATENCY, HTTP_REQUESTS, refresh_gauges
from ktt_common.openapi import install_openapi, raw_operation_id
from ktt_common.request_context import correlation_id_var
from ktt_common.runtime import Runtime, ServiceSpec
from ktt_common.settings import Settings

log = get_logger("ktt.http")


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
    request through a task group and memory streams, which cost about a millisecond a request (issue 15)."""

    def __init__(self, app: Any, service: str, routes: Any) -> None:
        self.app = app
        self.service = service
        self.routes = routes  # the FastAPI application, for the route templates

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-correlation-id"), b"").decode("latin-1")
        cid = (sent or str(uuid.uuid4()))[:100]
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
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(self.routes, scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(elapsed)
            if route not in ("/metrics", "/healthz", "/readyz"):
                log.info("http_request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1),
                         correlation_id=cid)
            correlation_id_var.reset(token)


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
