"""The console in process, without the browser: message catalogues, a service that is down, production
log-in, CSRF. The services it calls here are down on purpose (a free port nobody listens on)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from ktt_console.app import create_app
from ktt_console.i18n import LANGUAGES, catalogue
from ktt_console.settings import ConsoleSettings

from ktt_common.devrun import free_port
from ktt_common.testing import IDP_AUDIENCE, IDP_ISSUER

DOWN = {f"CONSOLE_{name}_URL": f"http://127.0.0.1:{free_port()}" for name in
        ("DECISION", "VOUCHER", "PROVIDER_REGISTRY", "ATTENDANCE", "BILLING")}


def client_of(settings: ConsoleSettings) -> httpx.AsyncClient:
    app = create_app(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def logged_in(client: httpx.AsyncClient, role: str, provider_id: str = "") -> None:
    r = await client.post("/login", data={"role": role, "provider_id": provider_id})
    assert r.status_code == 303 and "ktt_console_session" in r.cookies, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_every_catalogue_holds_every_message() -> None:
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    assert keys["fi"] == keys["sv"] == keys["en"]
    assert all(text.strip() for lang in LANGUAGES for text in catalogue(lang).values())


async def test_a_service_that_is_down_is_a_readable_message_never_a_500() -> None:
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        await logged_in(client, "city_official")
        for path in ("/deadlines", "/alerts", "/notices", "/units", "/providers", "/settlements", "/clients"):
            r = await client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            assert "ei vastaa juuri nyt" in r.text, path  # fi: "... is not answering right now"
        r = await client.get(f"/settlements/{uuid.uuid4()}")
        assert r.status_code == 503 and "ei vastaa juuri nyt" in r.text
        r = await client.get(f"/clients/{uuid.uuid4()}")
        assert r.status_code == 503 and "ei vastaa juuri nyt" in r.text
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        await logged_in(client, "provider", "P1")
        for path in ("/my/clients", "/my/grid", "/my/reports", "/settlements"):
            r = await client.get(path)
            assert r.status_code == 200 and "ei vastaa juuri nyt" in r.text, path


async def test_forms_need_the_csrf_token_of_the_session_and_the_same_origin() -> None:
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        await logged_in(client, "city_official")
        page = await client.get("/settlements")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        for target in (f"/settlements/{uuid.uuid4()}/approve", f"/disputes/{uuid.uuid4()}/resolve"):
            answer = {"outcome": "rejected", "answer": "Ei aihetta."}
            assert (await client.post(target, data=answer)).status_code == 403
            assert (await client.post(target, data={"csrf": "0" * 40, **answer})).status_code == 403
            assert (await client.post(target, data={"csrf": csrf, **answer},
                                      headers={"Origin": "https://evil.example"})).status_code == 403
            # The right token passes the console's check; billing being down is then the readable answer.
            r = await client.post(target, data={"csrf": csrf, **answer})
            assert r.status_code == 503 and "ei vastaa juuri nyt" in r.text, target
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        await logged_in(client, "provider", "P1")  # answering a dispute is an official's (BIL: disputes.resolve)
        page = await client.get("/settlements")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await client.post(f"/disputes/{uuid.uuid4()}/resolve", data={"csrf": csrf, "outcome": "accepted", "answer": "Kyllä."})
        assert r.status_code == 403


async def test_the_login_form_refuses_roles_it_does_not_serve() -> None:
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        r = await client.post("/login", data={"role": "admin"})
        assert r.status_code == 422 and "ktt_console_session" not in r.cookies
        r = await client.post("/login", data={"role": "provider", "provider_id": ""})
        assert r.status_code == 422 and "ktt_console_session" not in r.cookies
        assert (await client.get("/deadlines")).status_code == 303  # no session: to the log-in page


async def test_production_mints_nothing_and_takes_the_identity_providers_token(identity_provider) -> None:  # type: ignore[no-untyped-def]
    settings = ConsoleSettings(KTT_ENV="production", JWT_JWKS_URL=identity_provider.url, JWT_ISSUER=IDP_ISSUER,
                               JWT_AUDIENCE=IDP_AUDIENCE, PII_KEY="a-production-key-of-the-city-0123456789", **DOWN)
    assert settings.secure_cookie
    async with client_of(settings) as client:
        r = await client.post("/login", data={"role": "city_official"})
        assert r.status_code == 403 and "ktt_console_session" not in r.cookies
        assert "tunnistuspalvelu" in (await client.get("/login")).text
        token = identity_provider.token(role="city_official")
        r = await client.get("/deadlines", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "ei vastaa juuri nyt" in r.text
        # A development token is no login in production, not even as a cookie.
        from ktt_common.auth import issue_token
        from ktt_common.settings import DEV_JWT_SECRET

        client.cookies.set("ktt_console_session", issue_token(DEV_JWT_SECRET, role="city_official"))
        assert (await client.get("/deadlines")).status_code == 303
        r = await client.get("/deadlines", headers={"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role='city_official')}"})
        assert r.status_code == 303


@pytest.mark.parametrize("lang,word", [("fi", "Määräajat"), ("sv", "Tidsfrister"), ("en", "Deadlines")])
async def test_pages_speak_the_chosen_language(lang: str, word: str) -> None:
    async with client_of(ConsoleSettings(KTT_ENV="test", **DOWN)) as client:
        await logged_in(client, "city_official")
        r = await client.get(f"/lang/{lang}?next=/deadlines")
        assert r.status_code == 303 and r.headers["location"] == "/deadlines"
        page = await client.get("/deadlines")
        assert f'<html lang="{lang}">' in page.text and f"<h1>{word}</h1>" in page.text
        assert (await client.get("/lang/fi?next=//evil.example")).headers["location"] == "/"
