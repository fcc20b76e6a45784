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
from starlette.routing import Match
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ktt_common.admin import access_log_router, admin_router
from ktt_common.deps import RuntimeDep, SessionDep  # noqa: F401  (re-exported for services)
from ktt_common.clock import Clock
from ktt_common.errors import Problem, install_error_handlers, problem_response, status_phrase
from ktt_common.idempotency import IdempotencyMiddleware
from ktt_common.logging import configure_logging, get_logger
from ktt_common.metrics import HTTP_LATENCY, HTTP_REQUESTS, refresh_gauges
from ktt_common.openapi import install_openapi, raw_operation_id
from ktt_common.request_context import correlation_id_var
from ktt_common.runtime import Runtime, ServiceSpec
from ktt_common.settings import Settings

log = get_logger("ktt.http")


def route_template(app: FastAPI, request: Request) -> str:
    """The route's template (``/v1/vouchers/{voucher_id}``) for the metrics label, also when routing
    stopped short of an endpoint (a wrong method, a redirect): the path's first full or partial match
    among the app's routes. Only a path no route knows is ``unmatched`` (issue 17 item 6)."""
    route = request.scope.get("route")
    if route is not None and hasattr(route, "path"):
        return route.path
    partial = None
    for candidate in app.router.routes:
        match, _ = candidate.matches(request.scope)
        if match == Match.FULL and hasattr(candidate, "path"):
            return candidate.path
        if match == Match.PARTIAL and partial is None and hasattr(candidate, "path"):
            partial = candidate.path
    return partial or "unmatched"


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

    @app.middleware("http")
    async def _context(request: Request, call_next: Any) -> Response:
        cid = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        token = correlation_id_var.set(cid[:100])
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Correlation-ID"] = cid[:100]
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(app, request)
            HTTP_REQUESTS.labels(spec.name, request.method, route, str(status)).inc()
            HTTP_LATENCY.labels(spec.name, request.method, route).observe(elapsed)
            if route not in ("/metrics", "/healthz", "/readyz"):
                log.info("http_request", method=request.method, route=route, status=status,
                         ms=round(elapsed * 1000, 1), correlation_id=cid[:100])
            correlation_id_var.reset(token)

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
