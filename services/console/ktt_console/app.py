"""The console's web application: log-in, page rendering, and the routes of :mod:`ktt_console.pages`."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ktt_common.auth import Principal
from ktt_common.clock import Clock, SharedFileClock
from ktt_common.identifiers import mask_hetu
from ktt_console import i18n, session
from ktt_console.settings import ConsoleSettings, load_console_settings
from ktt_console.upstream import Upstream

TEMPLATES = Path(__file__).parent / "templates"
OFFICIAL_ROLES = ("city_official", "social_worker")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


class Console:
    """What the routes share: settings, the upstream client, templates, the clock and the CSRF key."""

    def __init__(self, settings: ConsoleSettings, clock: Clock | None, transport: httpx.AsyncBaseTransport | None) -> None:
        self.settings = settings
        self.upstream = Upstream(settings, transport)
        self.env = _environment()
        self.clock = clock or (SharedFileClock(settings.data_dir / "clock.json") if settings.development else Clock())
        self.key = session.Key()


class Viewer:
    """The person on the page: their token (passed through to the services), principal, language."""

    def __init__(self, token: str, principal: Principal, lang: str) -> None:
        self.token = token
        self.principal = principal
        self.lang = lang

    @property
    def role(self) -> str:
        return self.principal.role.value

    @property
    def is_official(self) -> bool:
        return self.role in OFFICIAL_ROLES

    @property
    def is_provider(self) -> bool:
        return self.role == "provider"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def language(request: Request) -> str:
    return i18n.pick_language(request.cookies.get(session.LANG_COOKIE), request.headers.get("accept-language"))


def viewer_of(request: Request) -> Viewer | None:
    console = console_of(request)
    token = session.token_of(request, console.settings)
    if not token:
        return None
    principal = session.principal_of(token, console.settings)
    if principal is None:
        return None
    return Viewer(token, principal, language(request))


# --- formatting ------------------------------------------------------------------------------

def fmt_date(value: Any, lang: str) -> str:
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return mask_hetu(str(value))
    return day.isoformat() if lang == "en" else f"{day.day}.{day.month}.{day.year}"


def fmt_money(cents: Any, lang: str) -> str:
    if cents is None:
        return ""
    euros = int(cents) / 100
    text = f"{euros:,.2f}"
    if lang == "en":
        return f"€{text}"
    return text.replace(",", " ").replace(".", ",") + " €"


def short(value: Any) -> str:
    return str(value or "")[:8]


def render(request: Request, template: str, viewer: Viewer | None, status: int = 200, **context: Any) -> HTMLResponse:
    console = console_of(request)
    lang = viewer.lang if viewer else language(request)
    t = i18n.translator(lang)
    csrf = session.csrf_token(console.key, viewer.token) if viewer else ""
    context.setdefault("title", t(context.get("message_key") or "login.title"))
    html = console.env.get_template(template).render(
        t=t, lang=lang, viewer=viewer, csrf=csrf, path=request.url.path, languages=i18n.LANGUAGES,
        development=console.settings.development, **context)
    # DATA-4: whatever a service answered, nothing shaped like a hetu leaves the console.
    return HTMLResponse(mask_hetu(html), status_code=status)


def create_app(settings: ConsoleSettings | None = None, clock: Clock | None = None,
               transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or load_console_settings()
    console = Console(settings, clock, transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await console.upstream.close()

    app = FastAPI(title="KTT console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                    "script-src 'none'; frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/lang/{code}", include_in_schema=False)
    async def set_language(code: str, request: Request) -> Response:
        back = request.query_params.get("next", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        response = RedirectResponse(back, status_code=303)
        if code in i18n.LANGUAGES:
            response.set_cookie(session.LANG_COOKIE, code, max_age=365 * 86400, samesite="strict", httponly=True,
                                secure=bool(settings.secure_cookie))
        return response

    @app.get("/login", include_in_schema=False)
    async def login_page(request: Request) -> Response:
        return render(request, "login.html", None, roles=session.LOGIN_ROLES, error=None)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not session.same_origin(request):
            return render(request, "error.html", None, status=403, message_key="csrf_refused")
        if not settings.development:  # production: the identity provider's token, never a minted one
            return render(request, "error.html", None, status=403, message_key="login_production")
        form = await request.form()
        role = str(form.get("role", ""))
        provider_id = str(form.get("provider_id", "")).strip()
        client_id = str(form.get("client_id", "")).strip()
        error = None
        if role not in session.LOGIN_ROLES:
            error = "login_pick_role"
        elif role == "provider" and not provider_id:
            error = "login_provider_id"
        if error is None:
            try:
                token = session.mint(settings, role, provider_id if role == "provider" else None, None)
            except ValueError:
                error = "login_pick_role"
            else:
                if session.principal_of(token, settings) is None:  # a provider id the services would refuse
                    error = "login_provider_id"
        if error:
            return render(request, "login.html", None, status=422, roles=session.LOGIN_ROLES, error=error,
                          chosen={"role": role, "provider_id": provider_id, "client_id": client_id})
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(session.COOKIE, token, httponly=True, samesite="strict", secure=bool(settings.secure_cookie),
                            max_age=8 * 3600, path="/")
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(session.COOKIE, path="/")
        return response

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        viewer = viewer_of(request)
        if viewer is None:
            return RedirectResponse("/login", status_code=303)
        if viewer.is_official:
            return RedirectResponse("/deadlines", status_code=303)
        if viewer.is_provider:
            return RedirectResponse("/my/clients", status_code=303)
        return render(request, "error.html", viewer, status=403, message_key="role_not_served")

    from ktt_console import pages

    pages.install(app)
    return app
